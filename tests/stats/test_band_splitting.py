"""The ROC band drawn by binomial splitting is the stratified case bootstrap (issue 18).

Reference 1 (exact): on a small data set every stratified resample is
enumerated (each stratum's Multinomial(s; 1/s, …) count vectors over its
cases, with their probabilities), the statistic of each resample is computed
with dxval's case-bootstrap statistic (``rates_by_cut`` +
``cut_for_target_specificity``, the one of :func:`dxval.stats.sensitivity_band`)
and the exact bootstrap distribution is compared with the distribution of
200,000 splitting replicates. Tolerance basis: the Dvoretzky–Kiefer–Wolfowitz
inequality (Massart 1990), P(sup|F_R − F| > ε) ≤ 2·exp(−2Rε²); ε = 0.006 at
R = 200,000 has probability below 1e-6 of a false failure. The same test
shows that the unstratified bootstrap's exact distribution is further than
that from the stratified one, so a sampler that ignored the strata would fail.

Reference 2 (Monte-Carlo): on 20,000 cases the band agrees with the case
bootstrap (:func:`dxval.stats.sensitivity_band`, whose agreement with pROC
is tested in tests/stats/test_resampling.py) within 0.004: both are 2,000
percentile replicates of the same statistic, so their bounds differ by
Monte-Carlo error only — the SE of a 2.5 % percentile of B = 2,000 is
≈ 0.06σ (σ ≈ 0.008 here), two independent runs differ by ≈ 0.0007; 0.004 is
more than five of those.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from dxval.stats import sensitivity_band
from dxval.stats.band import (
    sensitivity_band_by_splitting,
    sensitivity_replicates_by_splitting,
)
from dxval.stats.operating_point import cut_for_target_specificity, rates_by_cut

SPECIFICITIES = tuple(round(0.1 * step, 1) for step in range(11))
TARGETS = (0.0, 0.3, 0.5, 0.8, 1.0)


def _compositions(total: int, parts: int) -> list[tuple[int, ...]]:
    """Every vector of ``parts`` non-negative counts summing to ``total``."""
    found = []
    for bars in itertools.combinations(range(total + parts - 1), parts - 1):
        edges = (-1, *bars, total + parts - 1)
        found.append(tuple(b - a - 1 for a, b in itertools.pairwise(edges)))
    return found


def _resamples(codes: list[int], bins: int) -> list[tuple[float, np.ndarray]]:
    """Each resample of a stratum: its probability and its histogram over the bins."""
    size = len(codes)
    out = []
    for counts in _compositions(size, size):
        probability = math.factorial(size) / math.prod(math.factorial(c) for c in counts)
        histogram = np.zeros(bins, dtype=np.int64)
        for code, count in zip(codes, counts, strict=True):
            histogram[code] += count
        out.append((probability / size**size, histogram))
    return out


def _exact_distribution(
    strata: dict[bool, list[list[int]]], bins: int
) -> dict[float, list[tuple[float, float]]]:
    """Target → [(sensitivity, probability)] of the stratified bootstrap, by enumeration."""
    per_class: dict[bool, list[tuple[float, np.ndarray]]] = {}
    for label, groups in strata.items():
        combined = [(1.0, np.zeros(bins, dtype=np.int64))]
        for codes in groups:
            combined = [(p * q, h + g) for p, h in combined for q, g in _resamples(codes, bins)]
        per_class[label] = combined
    positives = np.array([h for _, h in per_class[True]])
    negatives = np.array([h for _, h in per_class[False]])
    p_positive = np.array([p for p, _ in per_class[True]])
    p_negative = np.array([p for p, _ in per_class[False]])
    result = {}
    for target in TARGETS:
        # the sensitivity depends on the positives' histogram and the negatives' cut
        with np.errstate(invalid="ignore"):  # only the specificity is used
            _, specificity = rates_by_cut(np.zeros_like(negatives), negatives)
        cuts = cut_for_target_specificity(specificity, target)
        below = np.concatenate([np.zeros((len(positives), 1)), np.cumsum(positives, axis=1)], 1)
        total = below[0, -1]
        pairs: dict[float, float] = {}
        for cut in np.unique(cuts):
            weight = float(p_negative[cuts == cut].sum())
            for value, p in zip(1.0 - below[:, cut] / total, p_positive, strict=True):
                key = round(float(value), 12)
                pairs[key] = pairs.get(key, 0.0) + weight * p
        result[target] = sorted(pairs.items())
    return result


def _largest_cdf_gap(sample: np.ndarray, exact: list[tuple[float, float]]) -> float:
    values = np.array([v for v, _ in exact])
    cdf = np.cumsum([p for _, p in exact])
    empirical = np.searchsorted(np.sort(np.round(sample, 12)), values, side="right") / sample.size
    return float(np.max(np.abs(empirical - cdf)))


# codes 0..4 are score bins; ties within and across classes
_SCORES = np.array([0.1, 0.2, 0.2, 0.3, 0.5, 0.1, 0.3, 0.2, 0.4, 0.5, 0.2, 0.3])
_TRUTH = np.array([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1], dtype=bool)
_SITES = np.array(["a", "a", "a", "a", "b", "b", "b", "a", "a", "a", "b", "b"])


def _codes(truth: bool, site: str) -> list[int]:
    values = np.unique(_SCORES)
    chosen = (truth == _TRUTH) & (site == _SITES)
    return sorted(np.searchsorted(values, _SCORES[chosen]).tolist())


@pytest.mark.req("DXV-SCALESTATS-002")
def test_splitting_draws_the_exact_stratified_bootstrap_distribution() -> None:
    strata = {label: [_codes(label, "a"), _codes(label, "b")] for label in (True, False)}
    exact = _exact_distribution(strata, bins=5)
    _, drawn = sensitivity_replicates_by_splitting(
        _TRUTH, _SCORES, TARGETS, seed=11, replicates=200_000, strata=_SITES
    )
    unstratified = _exact_distribution(
        {label: [_codes(label, "a") + _codes(label, "b")] for label in (True, False)}, bins=5
    )
    separated = []
    for column, target in enumerate(TARGETS):
        assert _largest_cdf_gap(drawn[:, column], exact[target]) < 0.006, target
        values = sorted({v for v, _ in exact[target]} | {v for v, _ in unstratified[target]})
        cdf_a = np.array([sum(p for v, p in exact[target] if v <= x) for x in values])
        cdf_b = np.array([sum(p for v, p in unstratified[target] if v <= x) for x in values])
        separated.append(float(np.max(np.abs(cdf_a - cdf_b))))
    assert max(separated) > 0.02  # the test can tell the strata apart


@pytest.mark.req("DXV-SCALESTATS-002")
def test_splitting_band_agrees_with_the_case_bootstrap() -> None:
    rng = np.random.default_rng(1)
    truth = rng.random(20_000) < 0.3
    scores = np.round(rng.normal(size=20_000) + truth, 3)
    sites = rng.choice(np.array(["A", "B"]), size=20_000)
    case = sensitivity_band(truth, scores, SPECIFICITIES, seed=3, replicates=2000, strata=sites)
    split = sensitivity_band_by_splitting(
        truth, scores, SPECIFICITIES, seed=3, replicates=2000, strata=sites
    )
    for one, other in zip(case, split, strict=True):
        assert one.estimate == other.estimate  # the same observed statistic
        assert one.status == other.status
        if one.low is not None and other.low is not None and one.high and other.high:
            assert abs(one.low - other.low) < 0.004
            assert abs(one.high - other.high) < 0.004
        assert other.n == 20_000


@pytest.mark.req("DXV-SCALESTATS-002")
def test_splitting_band_is_seeded_and_cheap_at_a_million_cases() -> None:
    rng = np.random.default_rng(2)
    truth = rng.random(1_000_000) < 0.3
    scores = rng.normal(size=1_000_000) + truth  # a million distinct scores
    first = sensitivity_band_by_splitting(truth, scores, SPECIFICITIES, seed=5, replicates=500)
    again = sensitivity_band_by_splitting(truth, scores, SPECIFICITIES, seed=5, replicates=500)
    assert first == again
    assert all(point.low is None or point.low <= point.estimate for point in first)


def test_splitting_band_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="specificity"):
        sensitivity_band_by_splitting([True, False], [0.1, 0.2], [1.5], seed=1)
    with pytest.raises(ValueError, match="both"):
        sensitivity_band_by_splitting([True, True], [0.1, 0.2], [0.5], seed=1)
    with pytest.raises(ValueError, match="replicates"):
        sensitivity_band_by_splitting([True, False], [0.1, 0.2], [0.5], seed=1, replicates=1)


# pROC 1.18.0 (Debian r-cran-proc), on the 20,000 cases generated below (written as CSV, scores
# with 3 decimals):
#   d <- read.csv('band20k.csv'); r <- roc(d$y, d$s, levels=c(0,1), direction='<')
#   set.seed(1); ci.se(r, specificities=seq(0, 1, 0.1), method='bootstrap', boot.n=2000,
#                      boot.stratified=TRUE)
# (2.5 %, 97.5 %) per specificity 0.1 … 1; at specificity 0 pROC gives [1, 1], dxval "undefined"
# (every replicate equal: no interval).
PROC_CI_SE = (
    (0.985662491760, 0.99110085695452),
    (0.964897824654, 0.97475362557680),
    (0.930658206987, 0.94330916282136),
    (0.887442320369, 0.90474672462096),
    (0.829545566908, 0.85047379696770),
    (0.758075148319, 0.78206098738111),
    (0.671083141068, 0.69924412217095),
    (0.539222148978, 0.57061703471764),
    (0.372116018457, 0.40491793012525),
    (0.000000000000, 0.00494808833223),
)


@pytest.mark.req("DXV-SCALESTATS-002")
def test_splitting_band_agrees_with_proc_ci_se() -> None:
    """Within 0.004 of pROC's stratified ``ci.se`` (basis: module docstring, Monte-Carlo error).

    pROC interpolates linearly between curve points at a specificity it does not
    reach exactly, dxval takes the lowest cut reaching it: the two statistics
    differ by at most one positive case (1/5,966 here), far below the tolerance.
    """
    rng = np.random.default_rng(1)
    truth = rng.random(20_000) < 0.3
    scores = np.round(rng.normal(size=20_000) + truth, 3)
    band = sensitivity_band_by_splitting(truth, scores, SPECIFICITIES, seed=3, replicates=2000)
    assert band[0].status.value == "undefined"
    for point, (low, high) in zip(band[1:], PROC_CI_SE, strict=True):
        assert point.low is not None
        assert point.high is not None
        assert abs(point.low - low) < 0.004
        assert abs(point.high - high) < 0.004
