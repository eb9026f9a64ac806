"""AUC and DeLong variance: pROC reference values, the textbook formula, degenerate data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm
from tests.reference import asah_proc
from tests.reference.asah_data import Asah

from dxval.stats import (
    MarginHypothesis,
    Status,
    auc_delong,
    auc_margin_test,
    delong_paired_test,
    delong_unpaired_test,
    structural_components,
)

RELATIVE = asah_proc.RELATIVE_TOLERANCE


@pytest.mark.parametrize("predictor", sorted(asah_proc.AUC))
@pytest.mark.req("DXV-STAT-001")
def test_auc_and_variance_match_proc(asah: Asah, predictor: str) -> None:
    result = auc_delong(asah.truth, asah.scores[predictor])
    assert result.status is Status.OK
    assert result.estimate == pytest.approx(asah_proc.AUC[predictor], rel=RELATIVE)
    assert result.variance == pytest.approx(asah_proc.DELONG_VARIANCE[predictor], rel=RELATIVE)
    assert result.n == asah_proc.N_POSITIVE + asah_proc.N_NEGATIVE


@pytest.mark.parametrize(("predictor", "level"), sorted(asah_proc.DELONG_CI))
@pytest.mark.req("DXV-STAT-001")
def test_delong_ci_matches_proc(asah: Asah, predictor: str, level: float) -> None:
    result = auc_delong(asah.truth, asah.scores[predictor], confidence_level=level)
    low, high = asah_proc.DELONG_CI[(predictor, level)]
    assert result.low == pytest.approx(low, rel=RELATIVE)
    assert result.high == pytest.approx(high, rel=RELATIVE)
    assert result.confidence_level == level
    assert "DeLong" in result.method


@pytest.mark.parametrize("pair", sorted(asah_proc.PAIRED_DELONG))
@pytest.mark.req("DXV-STAT-003")
def test_paired_delong_matches_proc_roc_test(asah: Asah, pair: tuple[str, str]) -> None:
    first, second = pair
    expected = asah_proc.PAIRED_DELONG[pair]
    result = delong_paired_test(asah.truth, asah.scores[first], asah.scores[second])
    assert result.status is Status.OK
    assert result.z == pytest.approx(expected["z"], rel=RELATIVE)
    assert result.p_value == pytest.approx(expected["p_value"], rel=RELATIVE)
    assert result.difference.low == pytest.approx(expected["ci"][0], rel=RELATIVE)
    assert result.difference.high == pytest.approx(expected["ci"][1], rel=RELATIVE)
    assert result.auc1.estimate == pytest.approx(asah_proc.AUC[first], rel=RELATIVE)
    assert result.auc2.estimate == pytest.approx(asah_proc.AUC[second], rel=RELATIVE)


def textbook_delong(truth: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """DeLong et al. (1988) by the O(m·n) kernel ψ(x, y) = 1[x > y] + ½·1[x = y]."""
    positive, negative = scores[truth], scores[~truth]
    kernel = (positive[:, None] > negative[None, :]) + 0.5 * (
        positive[:, None] == negative[None, :]
    )
    v10, v01 = kernel.mean(axis=1), kernel.mean(axis=0)
    variance = v10.var(ddof=1) / positive.size + v01.var(ddof=1) / negative.size
    return float(kernel.mean()), float(variance)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.integers(0, 6)), min_size=4, max_size=40).filter(
        lambda cases: 2 <= sum(label for label, _ in cases) <= len(cases) - 2
    )
)
def test_fast_delong_equals_textbook_formula_with_ties(cases: list[tuple[bool, int]]) -> None:
    truth = np.array([label for label, _ in cases])
    scores = np.array([float(score) for _, score in cases])
    auc, variance = textbook_delong(truth, scores)
    components = structural_components(truth, scores)
    assert components.auc == pytest.approx(auc, rel=1e-12, abs=1e-15)
    result = auc_delong(truth, scores)
    assert result.estimate == pytest.approx(auc, rel=1e-12, abs=1e-15)
    assert (result.variance or 0.0) == pytest.approx(variance, rel=1e-9, abs=1e-15)


def test_structural_components_are_in_case_order() -> None:
    truth = np.array([True, False, True, False, True])
    scores = np.array([0.9, 0.1, 0.2, 0.5, 0.5])
    components = structural_components(truth, scores)
    # positives 0.9, 0.2, 0.5 against negatives 0.1, 0.5
    np.testing.assert_allclose(components.positive, [1.0, 0.5, 0.75])
    # negatives 0.1, 0.5: 1 - share of positives scoring above (ties ½)
    np.testing.assert_allclose(components.negative, [1.0, 1 - 1.5 / 3])


@pytest.mark.req("DXV-STAT-005")
def test_no_positive_cases_is_undefined_with_reason() -> None:
    result = auc_delong(np.zeros(5, dtype=bool), np.arange(5.0))
    assert result.status is Status.UNDEFINED
    assert result.estimate is None
    assert result.low is None
    assert "no positive cases" in (result.reason or "")


def test_no_negative_cases_is_undefined_with_reason() -> None:
    result = auc_delong(np.ones(4, dtype=bool), np.arange(4.0))
    assert result.status is Status.UNDEFINED
    assert "no negative cases" in (result.reason or "")


@pytest.mark.req("DXV-STAT-005")
def test_perfect_separation_reports_zero_variance_not_zero_width_ci() -> None:
    truth = np.array([False, False, False, True, True, True])
    result = auc_delong(truth, np.arange(6.0))
    assert result.status is Status.UNDEFINED
    assert result.estimate == 1.0
    assert result.low is None
    assert result.high is None
    assert "zero DeLong variance" in (result.reason or "")
    assert result.to_dict()["low"] is None


def test_single_positive_case_has_no_variance() -> None:
    truth = np.array([True, False, False, False])
    result = auc_delong(truth, np.array([0.3, 0.1, 0.5, 0.2]))
    assert result.status is Status.UNDEFINED
    assert result.estimate == pytest.approx(2 / 3)
    assert "at least 2 positive" in (result.reason or "")


def test_score_compared_with_itself_is_undefined_with_zero_difference(asah: Asah) -> None:
    scores = asah.scores["s100b"]
    result = delong_paired_test(asah.truth, scores, scores)
    assert result.status is Status.UNDEFINED
    assert result.difference.estimate == 0.0
    assert result.z is None
    assert result.difference.low is None


def test_unpaired_test_uses_sum_of_variances(asah: Asah) -> None:
    first = auc_delong(asah.truth, asah.scores["s100b"])
    second = auc_delong(asah.truth, asah.scores["wfns"])
    result = delong_unpaired_test(asah.truth, asah.scores["s100b"], asah.truth, asah.scores["wfns"])
    expected_z = (first.estimate - second.estimate) / np.sqrt(first.variance + second.variance)  # type: ignore[operator]
    assert result.z == pytest.approx(expected_z, rel=1e-12)
    assert result.p_value is not None
    assert result.p_value > 0.05  # ignoring the pairing loses the significance


def test_unpaired_test_with_an_undefined_auc_is_undefined() -> None:
    truth = np.array([True, True, False, False])
    scores = np.array([0.2, 0.9, 0.5, 0.1])
    result = delong_unpaired_test(truth, scores, np.ones(4, dtype=bool), scores)
    assert result.status is Status.UNDEFINED
    assert "no negative cases" in (result.reason or "")


def test_non_inferiority_against_margin(asah: Asah) -> None:
    # wfns minus s100b is +0.092 (CI 0.010 to 0.174): non-inferior at 0.05, superior at 0
    result = auc_margin_test(asah.truth, asah.scores["wfns"], asah.scores["s100b"], margin=0.05)
    assert result.claim_supported is True
    assert result.p_value is not None
    assert result.p_value < 0.025
    superiority = auc_margin_test(
        asah.truth,
        asah.scores["wfns"],
        asah.scores["s100b"],
        margin=0.0,
        hypothesis=MarginHypothesis.SUPERIORITY,
    )
    assert superiority.claim_supported is True
    assert superiority.p_value == pytest.approx(
        asah_proc.PAIRED_DELONG[("s100b", "wfns")]["p_value"] / 2, rel=1e-9
    )
    strict = auc_margin_test(asah.truth, asah.scores["s100b"], asah.scores["wfns"], margin=0.05)
    assert strict.claim_supported is False


def test_margin_test_rejects_negative_margin_and_unknown_hypothesis(asah: Asah) -> None:
    with pytest.raises(ValueError, match="margin: expected a non-negative number"):
        auc_margin_test(asah.truth, asah.scores["wfns"], asah.scores["s100b"], margin=-0.1)
    with pytest.raises(ValueError, match="hypothesis: got 'equivalence'"):
        auc_margin_test(
            asah.truth,
            asah.scores["wfns"],
            asah.scores["s100b"],
            margin=0.1,
            hypothesis="equivalence",
        )


def test_malformed_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"scores\[1\]: expected a finite number"):
        auc_delong(np.array([True, False]), np.array([0.1, np.nan]))
    with pytest.raises(ValueError, match="expected booleans"):
        auc_delong(np.array([0.5, 1.0]), np.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="expected a 1-D array of length 2"):
        auc_delong(np.array([True, False]), np.array([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match="confidence_level"):
        auc_delong(np.array([True, False]), np.array([0.1, 0.2]), confidence_level=95)


def test_delong_coverage_for_binormal_auc_0_8_with_100_plus_100_cases() -> None:
    rng = np.random.default_rng(20261126)
    separation = np.sqrt(2.0) * norm.ppf(0.8)  # AUC = Φ(δ/√2) = 0.8 for N(δ,1) vs N(0,1)
    simulations, per_class = 2000, 100
    positives = rng.normal(separation, 1.0, size=(simulations, per_class))
    negatives = rng.normal(0.0, 1.0, size=(simulations, per_class))
    truth = np.repeat([True, False], per_class)
    covered = 0
    for positive, negative in zip(positives, negatives, strict=True):
        result = auc_delong(truth, np.concatenate([positive, negative]))
        covered += (result.low or 1.0) <= 0.8 <= (result.high or 0.0)
    coverage = covered / simulations
    assert 0.92 <= coverage <= 0.97
