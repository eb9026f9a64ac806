"""One metric vocabulary (stats.vocabulary), from which every other list derives."""

from __future__ import annotations

from typing import get_args

from dxval.analysis import ALL_METRICS as ANALYSED
from dxval.protocol import MetricName
from dxval.stats import BinaryMetricName, BinaryMetrics
from dxval.stats.vocabulary import (
    ALL_METRICS,
    CRITERION_METRICS,
    DECISION_METRICS,
    DETECTION_METRICS,
    DIFFERENCE_METRICS,
    LATENCY_METRICS,
    PRECISION_METRICS,
    READER_STUDY_METRICS,
    RESAMPLED_DECISION_METRICS,
    SEGMENTATION_METRICS,
)


def test_every_list_is_the_vocabulary() -> None:
    assert (
        get_args(MetricName)
        == CRITERION_METRICS
        == (
            *ALL_METRICS,
            *READER_STUDY_METRICS,
            *DETECTION_METRICS,
            *SEGMENTATION_METRICS,
            *DIFFERENCE_METRICS,
            *PRECISION_METRICS,
            *LATENCY_METRICS,
        )
    )
    assert ANALYSED == ALL_METRICS
    assert len(set(CRITERION_METRICS)) == len(CRITERION_METRICS)


def test_resampled_metrics_are_the_bootstrap_enum() -> None:
    assert tuple(member.value for member in BinaryMetricName) == RESAMPLED_DECISION_METRICS
    assert set(RESAMPLED_DECISION_METRICS) <= set(DECISION_METRICS)


def test_binary_metrics_fields_are_the_decision_metrics() -> None:
    fields = set(BinaryMetrics.__dataclass_fields__)
    assert set(DECISION_METRICS) <= fields


def test_task_metrics_are_the_statistics_modules_names() -> None:
    from dxval.stats.detection import DETECTION_STATISTICS
    from dxval.stats.segmentation import SEGMENTATION_METRICS as COMPUTED

    assert tuple(DETECTION_STATISTICS) == DETECTION_METRICS
    assert COMPUTED == SEGMENTATION_METRICS
