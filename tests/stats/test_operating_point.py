"""Operating-point selection: Youden (pROC midpoint convention) and target rates."""

from __future__ import annotations

import numpy as np
import pytest
from tests.reference import asah_proc
from tests.reference.asah_data import Asah

from dxval.stats import OperatingPointCriterion, binary_metrics, select_operating_point


def test_youden_threshold_matches_proc_midpoint(asah: Asah) -> None:
    point = select_operating_point(asah.truth, asah.scores["s100b"])
    assert point.threshold == pytest.approx(asah_proc.YOUDEN_THRESHOLD["s100b"], rel=1e-9)
    assert point.criterion is OperatingPointCriterion.YOUDEN
    metrics = binary_metrics(asah.truth, asah.scores["s100b"], threshold=point.threshold)
    assert point.sensitivity == metrics.sensitivity.estimate
    assert point.specificity == metrics.specificity.estimate
    assert point.to_dict()["youden_j"] == pytest.approx(point.sensitivity + point.specificity - 1)


def test_youden_maximises_j_over_every_threshold(asah: Asah) -> None:
    scores = asah.scores["wfns"]
    point = select_operating_point(asah.truth, scores)
    best = max(
        binary_metrics(asah.truth, scores, threshold=value).youden_j.estimate or -1.0
        for value in np.unique(scores)
    )
    assert point.youden_j == pytest.approx(best)


def test_target_sensitivity_picks_the_most_specific_threshold_reaching_it(asah: Asah) -> None:
    scores = asah.scores["s100b"]
    point = select_operating_point(asah.truth, scores, criterion="target_sensitivity", target=0.9)
    assert point.sensitivity >= 0.9
    values = np.unique(scores)
    first_called = values[values >= point.threshold].min()
    higher = values[values > first_called]  # thresholds that call fewer cases positive
    assert all(
        binary_metrics(asah.truth, scores, threshold=value).sensitivity.estimate < 0.9  # type: ignore[operator]
        for value in higher
    )


def test_target_specificity_picks_the_most_sensitive_threshold_reaching_it(asah: Asah) -> None:
    scores = asah.scores["s100b"]
    point = select_operating_point(
        asah.truth, scores, criterion=OperatingPointCriterion.TARGET_SPECIFICITY, target=0.9
    )
    assert point.specificity >= 0.9
    lower = np.unique(scores)[np.unique(scores) < point.threshold]
    assert all(
        binary_metrics(asah.truth, scores, threshold=value).specificity.estimate < 0.9  # type: ignore[operator]
        for value in lower
    )


def test_extreme_targets_give_finite_thresholds() -> None:
    truth = np.array([True, False, True, False])
    scores = np.array([0.9, 0.5, 0.2, 0.6])
    everything = select_operating_point(truth, scores, criterion="target_sensitivity", target=1.0)
    assert everything.threshold == 0.2  # every case called positive: the lowest score
    assert everything.specificity == 0.0
    most_specific = select_operating_point(
        truth, scores, criterion="target_specificity", target=1.0
    )
    assert most_specific.threshold == pytest.approx(0.75)
    assert most_specific.sensitivity == 0.5
    inverted = select_operating_point(
        np.array([False, True]), np.array([0.9, 0.1]), criterion="target_specificity", target=1.0
    )
    assert inverted.threshold == np.nextafter(0.9, 1.0)  # no case called positive
    assert inverted.sensitivity == 0.0


def test_bad_requests_are_rejected(asah: Asah) -> None:
    scores = asah.scores["s100b"]
    with pytest.raises(ValueError, match="target: the target_sensitivity criterion needs"):
        select_operating_point(asah.truth, scores, criterion="target_sensitivity")
    with pytest.raises(ValueError, match="target: not used with the youden criterion"):
        select_operating_point(asah.truth, scores, target=0.5)
    with pytest.raises(ValueError, match="criterion: got 'best'"):
        select_operating_point(asah.truth, scores, criterion="best")
    with pytest.raises(ValueError, match="needs both classes"):
        select_operating_point(np.ones(3, dtype=bool), np.arange(3.0))
