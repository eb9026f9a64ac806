"""Average precision (step-wise): scikit-learn reference values, jackknife, bootstrap."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest
from sklearn.metrics import average_precision_score
from sklearn.metrics import precision_recall_curve as sklearn_curve
from tests.reference import asah_sklearn
from tests.reference.asah_data import Asah

from dxval.stats import (
    Status,
    average_precision,
    average_precision_logit,
    precision_recall_curve,
)
from dxval.stats._resampling import bin_cases, observed_histograms
from dxval.stats.precision_recall import average_precision_jackknife


@pytest.mark.parametrize("predictor", sorted(asah_sklearn.AVERAGE_PRECISION))
@pytest.mark.req("DXV-STAT-007")
def test_average_precision_matches_scikit_learn_reference(asah: Asah, predictor: str) -> None:
    result = average_precision(asah.truth, asah.scores[predictor], seed=1, replicates=200)
    expected = asah_sklearn.AVERAGE_PRECISION[predictor]
    assert result.estimate == pytest.approx(expected, rel=1e-9)
    assert result.estimate != pytest.approx(asah_sklearn.TRAPEZOIDAL_PR_AUC[predictor], rel=1e-3)
    assert "average precision (step-wise)" in result.method
    assert result.status is Status.OK
    assert result.low is not None
    assert result.high is not None
    assert 0.0 <= result.low <= result.high <= 1.0


def test_curve_matches_scikit_learn(asah: Asah) -> None:
    scores = asah.scores["wfns"]
    curve = precision_recall_curve(asah.truth, scores)
    precision, recall, thresholds = sklearn_curve(asah.truth, scores)
    order = np.argsort(thresholds)[::-1]
    np.testing.assert_allclose(curve.thresholds, thresholds[order])
    np.testing.assert_allclose(curve.precision, precision[:-1][order])
    np.testing.assert_allclose(curve.recall, recall[:-1][order])


@pytest.mark.parametrize("predictor", ["s100b", "wfns"])
def test_closed_form_jackknife_equals_leaving_each_case_out(asah: Asah, predictor: str) -> None:
    scores = asah.scores[predictor]
    binned = bin_cases(asah.truth, scores, None)
    positive, negative = observed_histograms(binned)
    jackknife = average_precision_jackknife(positive[0], negative[0])
    brute = []
    for index in range(asah.truth.size):
        keep = np.arange(asah.truth.size) != index
        brute.append(average_precision_score(asah.truth[keep], scores[keep]))
    assert jackknife.weights.sum() == asah.truth.size
    weighted = np.sort(np.repeat(jackknife.values, jackknife.weights.astype(int)))
    np.testing.assert_allclose(weighted, np.sort(brute), rtol=1e-12)


def test_bca_interval_and_seed_reproducibility(asah: Asah) -> None:
    first = average_precision(
        asah.truth, asah.scores["s100b"], seed=7, replicates=500, interval="bca"
    )
    again = average_precision(
        asah.truth, asah.scores["s100b"], seed=7, replicates=500, interval="bca"
    )
    other = average_precision(
        asah.truth, asah.scores["s100b"], seed=8, replicates=500, interval="bca"
    )
    assert first == again
    assert first.low != other.low
    assert "BCa" in first.method


def test_too_few_positives_is_undefined() -> None:
    truth = np.array([True, False, False])
    result = average_precision(truth, np.array([0.9, 0.2, 0.1]), seed=1)
    assert result.status is Status.UNDEFINED
    assert "at least 2 positive" in (result.reason or "")


def test_curve_without_positives_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least one positive case"):
        precision_recall_curve(np.zeros(3, dtype=bool), np.arange(3.0))


def _boyd_logit_reference(
    truth: np.ndarray, scores: np.ndarray, level: float
) -> tuple[float, float, float]:
    """The logit interval written from its definition, independently of dxval.

    Boyd K, Eng KH, Page CD (2013) Area under the precision-recall curve: point
    estimates and confidence intervals. ECML PKDD, LNCS 8190, 451-466, section
    4 ("logit" interval): with η = logit(θ̂) and τ = 1/sqrt(n·θ̂·(1 − θ̂)), n the
    number of positive examples, the interval is
    [e^(η − zτ)/(1 + e^(η − zτ)), e^(η + zτ)/(1 + e^(η + zτ))]. The point
    estimate θ̂ is scikit-learn's step-wise average precision.
    """
    estimate = float(average_precision_score(truth, scores))
    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    eta = math.log(estimate / (1.0 - estimate))
    tau = 1.0 / math.sqrt(int(np.sum(truth)) * estimate * (1.0 - estimate))
    low, high = (math.exp(eta + sign * z * tau) for sign in (-1.0, 1.0))
    return estimate, low / (1.0 + low), high / (1.0 + high)


@pytest.mark.parametrize("predictor", sorted(asah_sklearn.AVERAGE_PRECISION))
@pytest.mark.parametrize("level", [0.95, 0.9])
@pytest.mark.req("DXV-SPEED-001")
def test_logit_interval_matches_independent_implementation(
    asah: Asah, predictor: str, level: float
) -> None:
    result = average_precision_logit(asah.truth, asah.scores[predictor], confidence_level=level)
    estimate, low, high = _boyd_logit_reference(asah.truth, asah.scores[predictor], level)
    assert result.status is Status.OK
    assert result.estimate == pytest.approx(asah_sklearn.AVERAGE_PRECISION[predictor], rel=1e-9)
    assert (result.estimate, result.low, result.high) == pytest.approx(
        (estimate, low, high), rel=1e-12
    )
    assert "logit interval (Boyd, Eng & Page 2013)" in result.method
    assert result.confidence_level == level
    assert result.n == asah.truth.shape[0]


@pytest.mark.req("DXV-SPEED-001")
def test_logit_interval_on_ties_and_large_input_matches_reference() -> None:
    rng = np.random.default_rng(11)
    truth = rng.random(20_000) < 0.1
    scores = np.round(rng.normal(truth.astype(float), 1.0), 1)  # many ties
    result = average_precision_logit(truth, scores)
    assert (result.estimate, result.low, result.high) == pytest.approx(
        _boyd_logit_reference(truth, scores, 0.95), rel=1e-9
    )


@pytest.mark.req("DXV-SPEED-001")
def test_logit_interval_undefined_cases() -> None:
    perfect = average_precision_logit([1, 1, 0, 0], [0.9, 0.8, 0.1, 0.2])
    assert perfect.status is Status.UNDEFINED
    assert perfect.estimate == 1.0
    assert perfect.low is None
    assert "not defined at 0 or 1" in (perfect.reason or "")
    single_class = average_precision_logit([0, 0, 0], [0.1, 0.2, 0.3])
    assert single_class.status is Status.UNDEFINED
    assert single_class.estimate is None
