"""The protocol schema: strict types, documented fields, JSON Schema export."""

from __future__ import annotations

import json
import typing
from typing import Any

import pytest
from pydantic import ValidationError

from dxval.analysis import ALL_METRICS
from dxval.cli import main
from dxval.protocol import MetricName, Protocol, json_schema, json_schema_text
from dxval.protocol.sections import Truth


def _properties(node: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every (name, property schema) pair anywhere in a JSON Schema."""
    found = []
    if isinstance(node, dict):
        for name, prop in (node.get("properties") or {}).items():
            found.append((name, prop))
        for value in node.values():
            found.extend(_properties(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_properties(value))
    return found


def _documented(prop: dict[str, Any], definitions: dict[str, Any]) -> bool:
    """A description on the property, or (pydantic drops a duplicate) on the model it refers to."""
    if prop.get("description"):
        return True
    reference = prop.get("$ref", "")
    return bool(definitions.get(reference.rsplit("/", 1)[-1], {}).get("description"))


@pytest.mark.req("DXV-PROT-004")
def test_every_field_is_documented() -> None:
    schema = json_schema()
    properties = _properties(schema)
    assert len(properties) > 60
    undocumented = [name for name, prop in properties if not _documented(prop, schema["$defs"])]
    assert undocumented == []


@pytest.mark.req("DXV-PROT-004")
def test_schema_forbids_unknown_keys_everywhere() -> None:
    definitions = json_schema()["$defs"]
    for name, definition in definitions.items():
        if definition.get("type") == "object" and "properties" in definition:
            assert definition.get("additionalProperties") is False, name


@pytest.mark.req("DXV-PROT-004")
def test_schema_command_prints_parseable_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(json_schema_text())
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert printed["properties"]["dxval"]["const"] == 1


def test_metric_vocabulary_matches_the_analysis() -> None:
    from dxval.protocol.checks import READER_STUDY_METRICS as CHECKED
    from dxval.stats.vocabulary import (
        DETECTION_METRICS,
        DIFFERENCE_METRICS,
        LATENCY_METRICS,
        PRECISION_METRICS,
        READER_STUDY_METRICS,
        SEGMENTATION_METRICS,
    )

    expected = (
        ALL_METRICS
        + READER_STUDY_METRICS
        + DETECTION_METRICS
        + SEGMENTATION_METRICS
        + DIFFERENCE_METRICS
        + PRECISION_METRICS
        + LATENCY_METRICS
    )
    assert typing.get_args(MetricName) == expected
    assert CHECKED is READER_STUDY_METRICS


def test_truth_labels_accept_scalars_and_lists_as_text() -> None:
    truth = Truth.model_validate(
        {"column": "y", "positive": 1, "negative": ["0", 2], "reference_standard": "x"}
    )
    assert truth.positive == ["1"]
    assert truth.negative == ["0", "2"]


def test_truth_labels_reject_booleans() -> None:
    with pytest.raises(ValidationError, match="positive"):
        Truth.model_validate(
            {"column": "y", "positive": True, "negative": "0", "reference_standard": "x"}
        )


def test_protocol_model_is_frozen() -> None:
    assert Protocol.model_config.get("frozen") is True
    assert Protocol.model_config.get("extra") == "forbid"


def test_protocol_metric_names_are_exactly_the_analysed_metrics() -> None:
    """The schema's closed vocabulary (for editors) and the analysis engine stay in step."""
    from typing import get_args

    from dxval.analysis import ALL_METRICS
    from dxval.protocol.criteria import MetricName
    from dxval.stats.vocabulary import (
        DETECTION_METRICS,
        DIFFERENCE_METRICS,
        LATENCY_METRICS,
        PRECISION_METRICS,
        READER_STUDY_METRICS,
        SEGMENTATION_METRICS,
    )

    analysed = set(ALL_METRICS) | set(READER_STUDY_METRICS) | set(DIFFERENCE_METRICS)
    analysed |= set(PRECISION_METRICS) | set(DETECTION_METRICS) | set(SEGMENTATION_METRICS)
    analysed |= set(LATENCY_METRICS)  # estimated by dxval.pipeline.latency from the timings
    assert set(get_args(MetricName)) == analysed
