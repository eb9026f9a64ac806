"""Cross-field protocol checks, each reported at the field to fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dxval.errors import ProtocolError
from dxval.protocol import load_protocol
from dxval.protocol.checks import DECISION_METRICS, show_value

WriteProtocol = Callable[[str], Path]

CRITERION = '{metric: sensitivity, population: all, bound: lower, op: ">=", value: 0.8}'


def _with_criterion(protocol: str, criterion: str) -> str:
    return protocol.replace(CRITERION, criterion)


@pytest.mark.parametrize(
    ("criterion", "expected"),
    [
        (
            '{metric: sensitivity, spread: max_minus_min, op: "<=", value: 0.1}',
            r"criteria\[0\]\.population: got 'all' expected a family \{each: \.\.\.\} for a spread",
        ),
        (
            "{metric: sensitivity, population: {each: site}, spread: max_minus_min, bound: lower, "
            'op: "<=", value: 0.1}',
            r"criteria\[0\]\.bound: got 'lower' expected 'point' for a spread",
        ),
        (
            '{metric: ppv_at_prevalence, op: ">=", value: 0.5}',
            r"criteria\[0\]\.metric: got 'ppv_at_prevalence' expected statistics\.prevalence",
        ),
        (
            '{metric: brier, op: "<=", value: 0.2}',
            r"criteria\[0\]\.metric: got 'brier' expected statistics\.calibration",
        ),
        (
            '{metric: auc, non_evaluable: as_negative, op: ">=", value: 0.7}',
            r"criteria\[0\]\.non_evaluable: got 'as_negative' expected 'exclude' for auc",
        ),
        (
            '{metric: auc, population: {site: Site C}, op: ">=", value: 0.7}',
            r"criteria\[0\]\.population\.site: got 'Site C' expected one of 'Site A', 'Site B'",
        ),
        (
            '{metric: auc, population: {test_set: site-c}, op: ">=", value: 0.7}',
            r"criteria\[0\]\.population\.test_set: got 'site-c' expected one of 'site-a', 'site-b'",
        ),
        (
            '{metric: auc, population: {attribute: race, value: x}, op: ">=", value: 0.7}',
            r"criteria\[0\]\.population\.attribute: got 'race' expected one of 'sex', 'age'",
        ),
        (
            '{metric: auc, population: {each: site, site: Site A}, op: ">=", value: 0.7}',
            r"criteria\[0\]\.population\.site: got 'Site A' expected no site for this family",
        ),
    ],
)
def test_criterion_checks(
    write_protocol: WriteProtocol, valid_protocol: str, criterion: str, expected: str
) -> None:
    path = write_protocol(_with_criterion(valid_protocol, criterion))
    with pytest.raises(ProtocolError, match=rf":21:\d+ requirements\[0\]\.{expected}"):
        load_protocol(path)


def test_truth_labels_must_not_overlap(write_protocol: WriteProtocol, valid_protocol: str) -> None:
    text = valid_protocol.replace("positive: 1, negative: 0", "positive: [1, 2], negative: [0, 2]")
    with pytest.raises(
        ProtocolError, match=r":13:\d+ truth\.negative: got '2' also listed as positive"
    ):
        load_protocol(write_protocol(text))


@pytest.mark.parametrize(
    ("attribute", "expected"),
    [
        ("sex: {column: sex, dicom: PatientSex}", r"attributes\.sex: got column and dicom both"),
        ("sex: {label: Sex}", r"attributes\.sex: got column and dicom both or neither set"),
        (
            "sex: {column: sex, bins: [10, 5]}",
            r"attributes\.sex\.bins: got \[10\.0, 5\.0\] expected",
        ),
        ("site: {column: sex}", r"attributes\.site: got attribute named 'site' expected a name"),
    ],
)
def test_attribute_checks(
    write_protocol: WriteProtocol, valid_protocol: str, attribute: str, expected: str
) -> None:
    text = valid_protocol.replace("sex: {column: sex}", attribute)
    with pytest.raises(ProtocolError, match=rf":15:\d+ {expected}"):
        load_protocol(write_protocol(text))


def test_site_by_must_name_an_attribute(write_protocol: WriteProtocol, valid_protocol: str) -> None:
    text = valid_protocol.replace("requirements:", "analysis: {site_by: [sex, bmi]}\nrequirements:")
    with pytest.raises(
        ProtocolError, match=r":17:\d+ analysis\.site_by\[1\]: got 'bmi' expected an attribute name"
    ):
        load_protocol(write_protocol(text))


def test_duplicate_test_set_ids(write_protocol: WriteProtocol, valid_protocol: str) -> None:
    text = valid_protocol.replace("{id: site-b,", "{id: site-a,")
    with pytest.raises(
        ProtocolError, match=r":12:\d+ test_sets\[1\]\.id: got duplicate ID 'site-a'"
    ):
        load_protocol(write_protocol(text))


def test_preprocessing_in_a_predictions_protocol(
    write_protocol: WriteProtocol, valid_protocol: str
) -> None:
    text = valid_protocol.replace("test_sets:", "preprocessing: [{op: modality_lut}]\ntest_sets:")
    with pytest.raises(
        ProtocolError,
        match=r":10:\d+ preprocessing: got 1 step in a predictions protocol expected no",
    ):
        load_protocol(write_protocol(text))


def test_preprocessing_order_problem_is_located(
    write_protocol: WriteProtocol, valid_protocol: str
) -> None:
    model = (
        "model:\n  path: m.onnx\n  runtime: onnxruntime\n"
        "  input: {name: x, shape: [null, 1]}\n  output: {name: y}\n  operating_point: 0.5\n"
        "preprocessing:\n  - {op: scale}\n  - {op: window, center: 1, width: 2}\n"
    )
    text = valid_protocol.replace(
        "predictions:\n  path: predictions.csv\n  score: score\n  operating_point: 0.5\n", model
    )
    with pytest.raises(
        ProtocolError, match=r":14:5 preprocessing\[1\]: got window: window cannot follow scale"
    ):
        load_protocol(write_protocol(text))


def test_decision_metrics_match_the_analysis() -> None:
    from dxval.analysis import DECISION_METRICS as ANALYSIS_DECISION_METRICS

    assert set(ANALYSIS_DECISION_METRICS) == DECISION_METRICS


def test_show_value_shortens_long_text() -> None:
    assert show_value("x" * 100) == repr("x" * 100)[:57] + "..."
    assert show_value(3) == "3"
