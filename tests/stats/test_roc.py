"""ROC curve, AUC invariances (property tests), partial AUC, rates at a fixed other rate."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score
from tests.reference import asah_proc
from tests.reference.asah_data import Asah

from dxval.stats import (
    Status,
    auc_delong,
    bootstrap_auc,
    delong_paired_test,
    partial_auc,
    roc_curve,
    sensitivity_at_specificity,
    specificity_at_sensitivity,
)
from dxval.stats.roc import area_between

CASES = st.lists(st.tuples(st.booleans(), st.integers(-5, 5)), min_size=4, max_size=60).filter(
    lambda cases: 2 <= sum(label for label, _ in cases) <= len(cases) - 2
)


def split(cases: list[tuple[bool, int]]) -> tuple[np.ndarray, np.ndarray]:
    return np.array([label for label, _ in cases]), np.array([float(v) for _, v in cases])


@settings(max_examples=60, deadline=None)
@given(CASES.flatmap(lambda cases: st.tuples(st.just(cases), st.permutations(range(len(cases))))))
def test_auc_is_unchanged_by_case_order(drawn: tuple[list[tuple[bool, int]], list[int]]) -> None:
    cases, permutation = drawn
    truth, scores = split(cases)
    order = np.array(permutation)
    first, second = auc_delong(truth, scores), auc_delong(truth[order], scores[order])
    assert second.estimate == pytest.approx(first.estimate, rel=1e-12)
    assert (second.variance or 0.0) == pytest.approx(first.variance or 0.0, rel=1e-9, abs=1e-15)


@settings(max_examples=60, deadline=None)
@given(CASES)
def test_auc_is_unchanged_by_strictly_increasing_transforms(cases: list[tuple[bool, int]]) -> None:
    truth, scores = split(cases)
    reference = auc_delong(truth, scores)
    for transformed in (np.exp(scores / 3.0), scores**3 + 2.0 * scores, 10.0 * scores - 7.0):
        result = auc_delong(truth, transformed)
        assert result.estimate == pytest.approx(reference.estimate, rel=1e-12)
        assert (result.variance or 0.0) == pytest.approx(
            reference.variance or 0.0, rel=1e-9, abs=1e-15
        )


@settings(max_examples=60, deadline=None)
@given(CASES)
def test_label_swap_gives_one_minus_auc(cases: list[tuple[bool, int]]) -> None:
    truth, scores = split(cases)
    result, swapped = auc_delong(truth, scores), auc_delong(~truth, scores)
    assert swapped.estimate == pytest.approx(1.0 - (result.estimate or 0.0), abs=1e-12)
    assert roc_auc_score(truth, scores) == pytest.approx(result.estimate, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(CASES, st.floats(0.5, 0.999))
def test_auc_interval_contains_estimate_within_unit_interval(
    cases: list[tuple[bool, int]], level: float
) -> None:
    truth, scores = split(cases)
    result = auc_delong(truth, scores, confidence_level=level)
    assert result.estimate is not None
    if result.status is Status.OK:
        assert result.low is not None
        assert result.high is not None
        assert 0.0 <= result.low <= result.estimate <= result.high <= 1.0
        assert result.low < result.high
    else:
        assert result.low is None
        assert result.high is None
        assert result.reason


@settings(max_examples=50, deadline=None)
@given(CASES)
def test_score_compared_with_itself_gives_difference_zero(cases: list[tuple[bool, int]]) -> None:
    truth, scores = split(cases)
    comparison = delong_paired_test(truth, scores, scores)
    assert comparison.difference.estimate == 0.0
    assert comparison.status is Status.UNDEFINED
    assert comparison.p_value is None


def test_roc_curve_area_is_the_mann_whitney_auc(asah: Asah) -> None:
    for predictor, expected in asah_proc.AUC.items():
        curve = roc_curve(asah.truth, asah.scores[predictor])
        area = np.trapezoid(curve.true_positive_rate, curve.false_positive_rate)
        assert area == pytest.approx(expected, rel=1e-9)
        assert curve.thresholds[0] == np.inf
        assert curve.to_dict()["thresholds"][0] is None
        assert (curve.false_positive_rate[-1], curve.true_positive_rate[-1]) == (1.0, 1.0)


def test_partial_auc_over_full_range_is_the_auc_with_the_same_bootstrap(asah: Asah) -> None:
    scores = asah.scores["s100b"]
    full = partial_auc(
        asah.truth, scores, seed=3, replicates=300, specificity_range=(0.0, 1.0), mcclish=False
    )
    auc = bootstrap_auc(asah.truth, scores, seed=3, replicates=300)
    assert full.estimate == pytest.approx(asah_proc.AUC["s100b"], rel=1e-9)
    assert (full.low, full.high) == pytest.approx((auc.low, auc.high), rel=1e-12)


def test_partial_auc_equals_numerical_integration_and_mcclish_formula(asah: Asah) -> None:
    scores = asah.scores["s100b"]
    curve = roc_curve(asah.truth, scores)
    grid = np.linspace(0.0, 0.2, 200_001)
    # on each vertical step the curve takes its upper value; integrate the polyline
    heights = np.interp(grid, curve.false_positive_rate, curve.true_positive_rate)
    numeric = np.trapezoid(heights, grid)
    raw = partial_auc(asah.truth, scores, seed=1, replicates=50, mcclish=False)
    assert raw.estimate == pytest.approx(numeric, rel=1e-6)
    corrected = partial_auc(asah.truth, scores, seed=1, replicates=50)
    minimum, maximum = 0.2**2 / 2, 0.2
    expected = (1 + (numeric - minimum) / (maximum - minimum)) / 2
    assert corrected.estimate == pytest.approx(expected, rel=1e-6)
    assert "McClish" in corrected.method


def test_area_between_handles_vertical_and_partial_segments() -> None:
    fpr = np.array([[0.0, 0.0, 0.5, 1.0]])
    tpr = np.array([[0.0, 0.6, 0.8, 1.0]])
    assert area_between(fpr, tpr, 0.0, 1.0)[0] == pytest.approx(0.5 * 0.7 + 0.5 * 0.9)
    assert area_between(fpr, tpr, 0.25, 0.75)[0] == pytest.approx(0.25 * 0.75 + 0.25 * 0.85)


def test_sensitivity_at_fixed_specificity(asah: Asah) -> None:
    scores = asah.scores["s100b"]
    result = sensitivity_at_specificity(asah.truth, scores, 0.9, seed=5, replicates=500)
    assert result.estimate == pytest.approx(16 / 41)  # threshold 0.435: TP 16, TN 65
    assert result.status is Status.OK
    assert result.low is not None
    assert result.high is not None
    assert result.low < result.estimate < result.high
    other = specificity_at_sensitivity(asah.truth, scores, 0.9, seed=5, replicates=500)
    assert other.estimate == pytest.approx(16 / 72)


def test_bad_ranges_and_single_class_are_rejected(asah: Asah) -> None:
    with pytest.raises(ValueError, match="specificity_range: expected"):
        partial_auc(asah.truth, asah.scores["s100b"], seed=1, specificity_range=(0.9, 0.8))
    with pytest.raises(ValueError, match="needs both positive and negative"):
        roc_curve(np.ones(3, dtype=bool), np.arange(3.0))
    with pytest.raises(ValueError, match=r"target specificity: expected a number in \[0, 1\]"):
        sensitivity_at_specificity(asah.truth, asah.scores["s100b"], 90, seed=1)
