"""Stratified vectorised bootstrap: reproducibility, strata, BCa, agreement with theory."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from tests.reference.asah_data import Asah

from dxval.stats import Status, auc_delong, bootstrap_auc, bootstrap_binary_metric, partial_auc
from dxval.stats._resampling import auc_from_histograms, bin_cases, resampled_histograms
from dxval.stats.bootstrap import auc_jackknife


@pytest.mark.req("DXV-STAT-006")
def test_same_seed_same_interval_other_seed_other_interval(asah: Asah) -> None:
    scores = asah.scores["s100b"]
    first = bootstrap_auc(asah.truth, scores, seed=11, replicates=400)
    assert first == bootstrap_auc(asah.truth, scores, seed=11, replicates=400)
    assert first.low != bootstrap_auc(asah.truth, scores, seed=12, replicates=400).low
    assert "seed 11" in first.method
    assert "400 replicates" in first.method


def test_bootstrap_variance_is_close_to_delong_variance(asah: Asah) -> None:
    scores = asah.scores["wfns"]
    bootstrap = bootstrap_auc(asah.truth, scores, seed=1, replicates=4000)
    delong = auc_delong(asah.truth, scores)
    assert bootstrap.variance == pytest.approx(delong.variance, rel=0.15)
    assert bootstrap.low is not None
    assert bootstrap.high is not None
    assert bootstrap.low < (bootstrap.estimate or 0) < bootstrap.high


def test_histogram_replicates_equal_auc_of_explicit_resamples() -> None:
    rng = np.random.default_rng(0)
    truth = rng.random(60) < 0.4
    scores = rng.integers(0, 12, 60).astype(float)
    binned = bin_cases(truth, scores, None)
    (positive, negative), *_ = list(resampled_histograms(binned, replicates=5, seed=1))
    for row in range(5):
        resampled_truth = np.repeat([True, False], [positive[row].sum(), negative[row].sum()])
        resampled_scores = np.concatenate(
            [np.repeat(binned.values, positive[row]), np.repeat(binned.values, negative[row])]
        )
        assert auc_from_histograms(positive[row : row + 1], negative[row : row + 1])[
            0
        ] == pytest.approx(roc_auc_score(resampled_truth, resampled_scores), rel=1e-12)


@pytest.mark.req("DXV-STAT-006")
def test_strata_keep_their_sizes_in_every_replicate() -> None:
    truth = np.array([True] * 6 + [False] * 9 + [True] * 4 + [False] * 5)
    site = np.array(["a"] * 15 + ["b"] * 9)
    scores = np.where(site == "a", 0.0, 10.0) + np.arange(24) / 100  # site b scores above site a
    binned = bin_cases(truth, scores, site)
    assert len(binned.group_codes) == 4
    site_b_bins = binned.values >= 10.0
    for positive, negative in resampled_histograms(binned, replicates=50, seed=2):
        assert (positive[:, site_b_bins].sum(axis=1) == 4).all()
        assert (negative[:, site_b_bins].sum(axis=1) == 5).all()
        assert (positive.sum(axis=1) == 10).all()


def test_chunks_do_not_depend_on_anything_but_data_size(asah: Asah) -> None:
    binned = bin_cases(asah.truth, asah.scores["ndka"], None)
    rows = sum(
        positive.shape[0] for positive, _ in resampled_histograms(binned, replicates=123, seed=0)
    )
    assert rows == 123


def test_closed_form_auc_jackknife_equals_leaving_each_case_out(asah: Asah) -> None:
    scores = asah.scores["ndka"]
    jackknife = auc_jackknife(asah.truth, scores)
    brute = [
        roc_auc_score(np.delete(asah.truth, index), np.delete(scores, index))
        for index in range(asah.truth.size)
    ]
    np.testing.assert_allclose(np.sort(jackknife.values), np.sort(brute), rtol=1e-12)


def test_bca_differs_from_percentile_and_contains_estimate(asah: Asah) -> None:
    scores = asah.scores["s100b"]
    percentile = bootstrap_auc(asah.truth, scores, seed=4, replicates=1000)
    bca = bootstrap_auc(asah.truth, scores, seed=4, replicates=1000, interval="bca")
    assert bca.low != percentile.low
    assert bca.low is not None
    assert bca.high is not None
    assert bca.low < (bca.estimate or 0) < bca.high
    assert "BCa" in bca.method


def test_sensitivity_bootstrap_has_binomial_variance(asah: Asah) -> None:
    scores = asah.scores["s100b"]
    result = bootstrap_binary_metric(
        asah.truth, scores, metric="sensitivity", threshold=0.205, seed=9, replicates=4000
    )
    sensitivity = 26 / 41
    assert result.estimate == pytest.approx(sensitivity)
    assert result.variance == pytest.approx(sensitivity * (1 - sensitivity) / 41, rel=0.1)


def test_metric_bootstrap_with_site_strata_and_bca(asah: Asah) -> None:
    site = np.where(np.arange(asah.truth.size) % 3 == 0, "a", "b")
    for metric in (
        "specificity",
        "ppv",
        "npv",
        "accuracy",
        "balanced_accuracy",
        "f1",
        "mcc",
        "youden_j",
    ):
        result = bootstrap_binary_metric(
            asah.truth,
            asah.scores["s100b"],
            metric=metric,
            threshold=0.205,
            seed=1,
            replicates=500,
            strata=site,
            interval="bca",
        )
        assert result.status is Status.OK, (metric, result.reason)
        assert result.low is not None
        assert result.high is not None
        assert result.low <= (result.estimate or 0) <= result.high


def test_undefined_metric_and_degenerate_replicates_are_reported() -> None:
    truth = np.array([True, True, False, False, False])
    scores = np.array([0.9, 0.8, 0.1, 0.2, 0.3])
    no_calls = bootstrap_binary_metric(
        truth, scores, metric="ppv", threshold=2.0, seed=1, replicates=50
    )
    assert no_calls.status is Status.UNDEFINED
    assert "zero denominator" in (no_calls.reason or "")
    constant = bootstrap_binary_metric(
        truth, scores, metric="sensitivity", threshold=0.5, seed=1, replicates=50
    )
    assert constant.status is Status.UNDEFINED
    assert constant.estimate == 1.0
    assert "same value" in (constant.reason or "")
    mixed = np.array([True, False, True, False, False, True])
    sometimes = bootstrap_binary_metric(
        mixed,
        np.array([0.9, 0.8, 0.1, 0.2, 0.3, 0.4]),
        metric="ppv",
        threshold=0.85,
        seed=1,
        replicates=200,
    )
    assert sometimes.status is Status.UNDEFINED
    assert "undefined in" in (sometimes.reason or "")


def test_bootstrap_auc_needs_two_cases_per_class() -> None:
    result = bootstrap_auc(np.array([True, False, False]), np.array([0.3, 0.2, 0.1]), seed=1)
    assert result.status is Status.UNDEFINED
    assert "at least 2 positive and 2 negative" in (result.reason or "")


def test_bad_options_are_rejected(asah: Asah) -> None:
    scores = asah.scores["s100b"]
    with pytest.raises(ValueError, match="interval: got 'basic'"):
        bootstrap_auc(asah.truth, scores, seed=1, interval="basic")
    with pytest.raises(ValueError, match="replicates: expected at least 2"):
        bootstrap_auc(asah.truth, scores, seed=1, replicates=1)
    with pytest.raises(ValueError, match="metric: got 'auc'"):
        bootstrap_binary_metric(asah.truth, scores, metric="auc", threshold=0.5, seed=1)
    with pytest.raises(ValueError, match="strata: expected one label per case"):
        bootstrap_auc(asah.truth, scores, seed=1, strata=["a", "b"])


def test_auc_fast_path_equals_histogram_path_with_site_strata(asah: Asah) -> None:
    site = np.where(np.arange(asah.truth.size) % 4 == 0, "north", "south")
    scores = asah.scores["ndka"]
    fast = bootstrap_auc(asah.truth, scores, seed=21, replicates=300, strata=site)
    histogram = partial_auc(
        asah.truth,
        scores,
        seed=21,
        replicates=300,
        strata=site,
        specificity_range=(0.0, 1.0),
        mcclish=False,
    )
    assert (fast.low, fast.high) == pytest.approx((histogram.low, histogram.high), rel=1e-12)
    assert fast.variance == pytest.approx(histogram.variance, rel=1e-9)
