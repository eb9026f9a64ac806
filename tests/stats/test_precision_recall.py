"""Average precision (step-wise): scikit-learn reference values, jackknife, bootstrap."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score
from sklearn.metrics import precision_recall_curve as sklearn_curve
from tests.reference import asah_sklearn
from tests.reference.asah_data import Asah

from dxval.stats import Status, average_precision, precision_recall_curve
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
