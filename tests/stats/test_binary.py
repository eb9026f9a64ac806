"""Decision metrics at an operating point: reference counts, intervals, undefined cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import f1_score as sklearn_f1
from sklearn.metrics import matthews_corrcoef
from tests.reference import asah_proc, binomial
from tests.reference.asah_data import Asah

from dxval.stats import (
    ConfusionCounts,
    Status,
    binary_metrics,
    confusion_counts,
    f1_score,
    likelihood_ratios,
    matthews_correlation,
    predictive_values_at_prevalence,
    youden_index,
)


@pytest.mark.parametrize("row", asah_proc.COUNTS, ids=lambda row: f"{row[0]}@{row[1]}")
@pytest.mark.req("DXV-STAT-004")
def test_counts_at_thresholds_match_proc_coords(
    asah: Asah, row: tuple[str, float, int, int, int, int]
) -> None:
    predictor, threshold, tp, fp, tn, fn = row
    counts = confusion_counts(asah.truth, asah.scores[predictor], threshold)
    assert counts == ConfusionCounts(tp=tp, fp=fp, tn=tn, fn=fn)
    metrics = binary_metrics(asah.truth, asah.scores[predictor], threshold=threshold)
    assert metrics.counts == counts
    assert metrics.sensitivity.numerator == tp
    assert metrics.sensitivity.denominator == tp + fn
    assert metrics.specificity.numerator == tn
    assert metrics.ppv.denominator == tp + fp


def test_sensitivity_and_specificity_intervals_match_binomial_reference(asah: Asah) -> None:
    metrics = binary_metrics(asah.truth, asah.scores["s100b"], threshold=0.205)
    wilson_sensitivity = binomial.WILSON_AND_CLOPPER_PEARSON[(26, 41)][0]
    wilson_specificity = binomial.WILSON_AND_CLOPPER_PEARSON[(58, 72)][0]
    assert metrics.sensitivity.low == pytest.approx(wilson_sensitivity[0], rel=1e-9)
    assert metrics.sensitivity.high == pytest.approx(wilson_sensitivity[1], rel=1e-9)
    assert metrics.specificity.low == pytest.approx(wilson_specificity[0], rel=1e-9)
    assert metrics.specificity.high == pytest.approx(wilson_specificity[1], rel=1e-9)
    exact = binary_metrics(
        asah.truth, asah.scores["s100b"], threshold=0.205, proportion_method="clopper_pearson"
    )
    expected = binomial.WILSON_AND_CLOPPER_PEARSON[(26, 41)][1]
    assert (exact.sensitivity.low, exact.sensitivity.high) == pytest.approx(expected, rel=1e-9)


def test_point_estimates_agree_with_scikit_learn(asah: Asah) -> None:
    scores = asah.scores["s100b"]
    metrics = binary_metrics(asah.truth, scores, threshold=0.205)
    called = scores >= 0.205
    assert metrics.f1.estimate == pytest.approx(sklearn_f1(asah.truth, called), rel=1e-12)
    assert metrics.mcc.estimate == pytest.approx(matthews_corrcoef(asah.truth, called), rel=1e-12)
    assert metrics.balanced_accuracy.estimate == pytest.approx((26 / 41 + 58 / 72) / 2)
    assert metrics.youden_j.estimate == pytest.approx(26 / 41 + 58 / 72 - 1)
    assert metrics.accuracy.estimate == pytest.approx(84 / 113)


def numeric_delta_variance(function: str, counts: ConfusionCounts) -> float:
    """Delta-method variance by central differences under the multinomial model."""
    cells = np.array([counts.tp, counts.fp, counts.fn, counts.tn], dtype=float)
    n = cells.sum()
    proportions = cells / n

    def value(p: np.ndarray) -> float:
        a, b, c, d = p
        if function == "f1":
            return 2 * a / (2 * a + b + c)
        return (a * d - b * c) / math.sqrt((a + b) * (c + d) * (a + c) * (b + d))

    step = 1e-6
    gradient = np.array(
        [
            (value(proportions + step * unit) - value(proportions - step * unit)) / (2 * step)
            for unit in np.eye(4)
        ]
    )
    covariance = (np.diag(proportions) - np.outer(proportions, proportions)) / n
    return float(gradient @ covariance @ gradient)


@pytest.mark.parametrize("counts", [ConfusionCounts(26, 14, 58, 15), ConfusionCounts(90, 3, 40, 7)])
def test_f1_and_mcc_delta_method_variances(counts: ConfusionCounts) -> None:
    f1 = f1_score(counts)
    mcc = matthews_correlation(counts)
    assert f1.variance == pytest.approx(numeric_delta_variance("f1", counts), rel=1e-6)
    assert mcc.variance == pytest.approx(numeric_delta_variance("mcc", counts), rel=1e-6)


def test_likelihood_ratios_log_method_by_hand() -> None:
    counts = ConfusionCounts(tp=26, fp=14, tn=58, fn=15)
    positive, negative = likelihood_ratios(counts)
    se, sp = 26 / 41, 58 / 72
    assert positive.estimate == pytest.approx(se / (1 - sp))
    assert negative.estimate == pytest.approx((1 - se) / sp)
    half = 1.959963984540054 * math.sqrt(1 / 26 - 1 / 41 + 1 / 14 - 1 / 72)
    assert positive.low == pytest.approx(se / (1 - sp) * math.exp(-half), rel=1e-12)
    assert positive.high == pytest.approx(se / (1 - sp) * math.exp(half), rel=1e-12)


def test_predictive_values_at_prevalence_use_bayes_and_logit_interval() -> None:
    counts = ConfusionCounts(tp=26, fp=14, tn=58, fn=15)
    ppv, npv = predictive_values_at_prevalence(counts, 0.1)
    se, sp = 26 / 41, 58 / 72
    expected_ppv = se * 0.1 / (se * 0.1 + (1 - sp) * 0.9)
    assert ppv.estimate == pytest.approx(expected_ppv)
    assert npv.estimate == pytest.approx(sp * 0.9 / (sp * 0.9 + (1 - se) * 0.1))
    variance = (1 - se) / (se * 41) + sp / ((1 - sp) * 72)
    logit = math.log(expected_ppv / (1 - expected_ppv))
    low = 1 / (1 + math.exp(-(logit - 1.959963984540054 * math.sqrt(variance))))
    assert ppv.low == pytest.approx(low, rel=1e-12)
    assert ppv.low is not None
    assert ppv.high is not None
    assert ppv.low < expected_ppv < ppv.high


def test_predictive_values_without_prevalence_are_undefined(asah: Asah) -> None:
    metrics = binary_metrics(asah.truth, asah.scores["s100b"], threshold=0.205)
    assert metrics.ppv_at_prevalence.status is Status.UNDEFINED
    assert metrics.ppv_at_prevalence.reason == "no prevalence stated"
    with_prevalence = binary_metrics(
        asah.truth, asah.scores["s100b"], threshold=0.205, prevalence=0.2
    )
    assert with_prevalence.ppv_at_prevalence.status is Status.OK
    assert set(with_prevalence.as_dict()) == set(with_prevalence.to_dict()) - {
        "threshold",
        "prevalence",
        "counts",
    }


@pytest.mark.req("DXV-STAT-005")
def test_no_positive_cases_gives_undefined_sensitivity_never_nan() -> None:
    truth = np.zeros(6, dtype=bool)
    metrics = binary_metrics(truth, np.linspace(0, 1, 6), threshold=0.5)
    assert metrics.sensitivity.status is Status.UNDEFINED
    assert "zero denominator" in (metrics.sensitivity.reason or "")
    assert metrics.specificity.status is Status.OK
    assert metrics.youden_j.status is Status.UNDEFINED
    assert metrics.mcc.status is Status.UNDEFINED
    assert metrics.lr_positive.status is Status.UNDEFINED
    for estimate in metrics.as_dict().values():
        for value in estimate.to_dict().values():
            assert not (isinstance(value, float) and math.isnan(value))


def test_no_positive_calls_gives_undefined_ppv() -> None:
    truth = np.array([True, False, True, False])
    metrics = binary_metrics(truth, np.array([0.1, 0.2, 0.3, 0.4]), threshold=0.9)
    assert metrics.ppv.status is Status.UNDEFINED
    assert metrics.ppv.denominator == 0
    assert metrics.lr_positive.status is Status.UNDEFINED
    assert "LR+ is 0/0" in (metrics.lr_positive.reason or "")


def test_perfect_decisions_give_undefined_wald_intervals_not_zero_width() -> None:
    counts = ConfusionCounts(tp=10, fp=0, tn=10, fn=0)
    index = youden_index(counts)
    assert index.estimate == 1.0
    assert index.status is Status.UNDEFINED
    assert index.low is None
    assert "zero variance" in (index.reason or "")
    positive, negative = likelihood_ratios(counts)
    assert "LR+ is infinite" in (positive.reason or "")
    assert negative.estimate == 0.0
    assert negative.status is Status.UNDEFINED
    ppv, _ = predictive_values_at_prevalence(counts, 0.3)
    assert ppv.estimate == 1.0
    assert ppv.status is Status.UNDEFINED


def test_prevalence_out_of_range_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"prevalence: expected a number in \(0, 1\)"):
        predictive_values_at_prevalence(ConfusionCounts(1, 1, 1, 1), 1.5)


@pytest.mark.req("DXV-STAT-004")
def test_positive_call_is_score_at_or_above_threshold() -> None:
    counts = confusion_counts(np.array([True, False]), np.array([0.5, 0.5]), 0.5)
    assert counts == ConfusionCounts(tp=1, fp=1, tn=0, fn=0)
