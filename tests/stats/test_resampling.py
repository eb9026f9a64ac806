"""Bootstrap replicates as per-stratum counts over the once-sorted cases (issue 18, item 2)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from dxval.stats import bootstrap_auc
from dxval.stats._resampling import (
    auc_from_histograms,
    bin_cases,
    chunk_rows,
    resampled_auc,
    resampled_histograms,
)


def _cases(size: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.random(size) < 0.3
    scores = np.round(rng.normal(size=size) + truth, 2)  # rounded: many ties
    sites = rng.choice(np.array(["a", "b", "c"]), size=size)
    return truth, scores, sites


def _all_rows(binned, replicates: int, seed: int, budget: int) -> tuple[np.ndarray, np.ndarray]:
    chunks = list(
        resampled_histograms(binned, replicates=replicates, seed=seed, memory_budget=budget)
    )
    return np.vstack([c[0] for c in chunks]), np.vstack([c[1] for c in chunks])


@pytest.mark.req("DXV-SPEED-005")
def test_replicates_do_not_depend_on_the_memory_budget() -> None:
    truth, scores, sites = _cases(3_000, seed=3)
    binned = bin_cases(truth, scores, sites)
    assert chunk_rows(binned, 97, memory_budget=1) == 1
    assert chunk_rows(binned, 97, memory_budget=10**9) == 97
    one_row = _all_rows(binned, 97, seed=5, budget=1)
    some_rows = _all_rows(binned, 97, seed=5, budget=40 * binned.bins * 16)
    all_rows = _all_rows(binned, 97, seed=5, budget=10**9)
    for other in (some_rows, all_rows):
        assert np.array_equal(one_row[0], other[0])
        assert np.array_equal(one_row[1], other[1])
    other_seed = _all_rows(binned, 97, seed=6, budget=10**9)
    assert not np.array_equal(one_row[1], other_seed[1])


@pytest.mark.req("DXV-SPEED-005")
def test_every_stratum_keeps_its_size_and_draws_only_its_own_scores() -> None:
    truth, scores, sites = _cases(2_000, seed=4)
    sites_scores = np.where(sites == "a", scores, scores + 100.0)  # site a below the others
    binned = bin_cases(truth, sites_scores, sites)
    site_a_bins = binned.values < 50.0
    for label, index in ((True, 0), (False, 1)):
        in_a = int(np.count_nonzero((truth == label) & (sites == "a")))
        for chunk in resampled_histograms(binned, replicates=50, seed=1, memory_budget=10**5):
            histogram = chunk[index]
            assert (histogram[:, site_a_bins].sum(axis=1) == in_a).all()
            assert (histogram.sum(axis=1) == np.count_nonzero(truth == label)).all()


def test_counts_have_the_multinomial_mean_and_variance() -> None:
    """Each case of a stratum of s is drawn Binomial(s, 1/s) times: mean 1, variance 1 − 1/s."""
    truth = np.zeros(40, dtype=bool)
    truth[:10] = True
    scores = np.arange(40, dtype=float)  # one case per bin
    binned = bin_cases(truth, scores, None)
    positive, negative = _all_rows(binned, 20_000, seed=9, budget=10**9)
    # Monte-Carlo error of a mean of 20,000 counts: sqrt(0.9 / 20,000) ≈ 0.007.
    assert positive[:, :10].mean(axis=0) == pytest.approx(np.ones(10), abs=0.03)
    assert positive[:, :10].var(axis=0) == pytest.approx(np.full(10, 0.9), abs=0.05)
    assert negative[:, 10:].var(axis=0) == pytest.approx(np.full(30, 1 - 1 / 30), abs=0.05)
    assert positive[:, 10:].sum() == 0
    assert negative[:, :10].sum() == 0


@pytest.mark.req("DXV-SPEED-005")
def test_same_seed_gives_the_same_replicates_on_any_machine() -> None:
    """Pinned digest of the first replicates: integer draws (Lemire on PCG64) are exact.

    The digest was taken on the x86-64 build machine (NumPy 2.4); an
    architecture or platform that drew differently would fail here.
    """
    truth, scores, sites = _cases(500, seed=1)
    binned = bin_cases(truth, scores, sites)
    positive, negative = _all_rows(binned, 20, seed=20261126, budget=10**9)
    digest = hashlib.sha256(
        positive.astype("<i8").tobytes() + negative.astype("<i8").tobytes()
    ).hexdigest()
    assert digest == PINNED_DIGEST


PINNED_DIGEST = "70a9c05d6e3e4a04c374c67327fb24a9fa601d35e5602a76973de5d5204ee052"


def test_auc_of_the_histograms_is_the_auc_of_the_expanded_resample() -> None:
    truth, scores, _ = _cases(300, seed=2)
    binned = bin_cases(truth, scores, None)
    positive, negative = _all_rows(binned, 3, seed=4, budget=10**9)
    values = resampled_auc(binned, replicates=3, seed=4)
    for row in range(3):
        pos_scores = np.repeat(binned.values, positive[row])
        neg_scores = np.repeat(binned.values, negative[row])
        wins = (pos_scores[:, None] > neg_scores[None, :]).sum()
        ties = (pos_scores[:, None] == neg_scores[None, :]).sum()
        expected = (wins + 0.5 * ties) / (pos_scores.size * neg_scores.size)
        assert values[row] == pytest.approx(expected, rel=1e-12)
        assert (
            auc_from_histograms(positive[row : row + 1], negative[row : row + 1])[0]
            == (values[row])
        )


def test_bootstrap_auc_interval_is_the_percentiles_of_one_row_chunks() -> None:
    truth, scores, sites = _cases(1_000, seed=8)
    default = bootstrap_auc(truth, scores, seed=3, replicates=200, strata=sites)
    binned = bin_cases(truth, scores, sites)
    values = resampled_auc(binned, replicates=200, seed=3, memory_budget=1)
    low, high = np.quantile(values, [0.025, 0.975])
    assert (default.low, default.high) == (low, high)


@pytest.mark.req("DXV-SPEED-005")
def test_stratified_bootstrap_interval_agrees_with_proc_within_0_002() -> None:
    """pROC 1.18.0 (Debian r-cran-proc), on the same 100,000 cases written as CSV (4 decimals):

        d <- read.csv('cases.csv'); r <- roc(d$y, d$s, levels=c(0, 1), direction='<')
        set.seed(1); ci.auc(r, method='bootstrap', boot.n=2000, boot.stratified=TRUE)
        -> 0.7581782529 (2.5%)  0.7646560889 (97.5%)

    The draws differ (R's generator vs PCG64), so the bounds differ by Monte-Carlo
    error alone: a 2.5% percentile bound of B = 2,000 replicates has standard error
    ≈ σ·sqrt(0.025·0.975/B)/φ(1.96) ≈ 0.06·σ (σ ≈ 0.0016, the AUC's standard error
    here), so two independent runs differ by ≈ 0.085·σ ≈ 0.00014; 0.002 is over ten
    of those, while a wrongly stratified or biased resample (e.g. unstratified, or
    a bound off by one replicate's worth of width) would show at σ scale.
    """
    rng = np.random.default_rng(2)  # the data of benchmarks/bench_cli.py, step 2
    truth = rng.random(100_000) < 0.3
    scores = np.round(rng.normal(size=100_000) + truth.astype(float), 4)
    result = bootstrap_auc(truth, scores, seed=20261126, replicates=2000)
    assert result.low == pytest.approx(0.7581782529, abs=0.002)
    assert result.high == pytest.approx(0.7646560889, abs=0.002)
    # Tighter than the tolerance in practice (≈ 5e-5 when this was written):
    assert max(abs(result.low - 0.7581782529), abs(result.high - 0.7646560889)) < 0.0005
