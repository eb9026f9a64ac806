"""Stratified resampling of sorted cases as multinomial counts, chunked to a memory budget.

A rank statistic (AUC, average precision, a ROC point) depends on a
resample only through how many positive and negative cases fall on each
distinct score value. The cases are sorted once (:func:`bin_cases`); each
bootstrap replicate is then drawn as two histograms over the K distinct
scores, and every statistic is computed from cumulative counts of those
histograms: no replicate sorts anything.

Resampling is stratified: cases are drawn with replacement within each
stratum (truth × optional extra stratum such as site), keeping the stratum
sizes fixed (Efron & Tibshirani 1993, §8.2; Davison & Hinkley 1997, §3.7).
A stratum of s cases contributes to a replicate the counts of s uniform
draws among its cases, i.e. a Multinomial(s; 1/s, …, 1/s) draw over its
cases folded onto their score bins. The draws are bounded integers
(Lemire's method on PCG64), which are exact integer arithmetic: the same
seed gives bit-identical replicates on any machine with the same NumPy
(NumPy's float-based ``multinomial`` was also about 5× slower here).

Each stratum draws from its own generator, spawned from the seed
(:class:`numpy.random.SeedSequence`) and consumed replicate after replicate,
so the replicates do not depend on how they are chunked: the chunk size
follows a memory budget and changing the budget changes nothing in the
results (a test checks it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from dxval.stats._arrays import BoolArray, FloatArray, IntArray

#: Bytes of working arrays per chunk of replicates (histograms and draws).
MEMORY_BUDGET = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class BinnedCases:
    """Cases mapped to the ascending distinct score values, grouped by stratum.

    ``group_codes[g]`` holds the score-bin codes of stratum g's cases in
    ascending order; a resample of the stratum is a histogram of draws among
    them.
    """

    values: FloatArray  # shape (K,): distinct scores, ascending
    codes: IntArray  # shape (N,): index into values for each case
    truth: BoolArray  # shape (N,)
    class_codes: tuple[IntArray, IntArray]  # codes of positives / negatives, ascending
    group_codes: tuple[IntArray, ...]  # codes of each stratum's cases, ascending
    group_is_positive: tuple[bool, ...]

    @property
    def bins(self) -> int:
        """Number of distinct score values K."""
        return int(self.values.shape[0])


def strata_codes(strata: ArrayLike | None, length: int) -> IntArray:
    """Integer codes of the extra strata (all zeros when None).

    Raises
    ------
    ValueError
        ``strata`` is not one label per case.
    """
    if strata is None:
        return np.zeros(length, dtype=np.int64)
    labels = np.asarray(strata)
    if labels.ndim != 1 or labels.shape[0] != length:
        raise ValueError(f"strata: expected one label per case ({length}), got {labels.shape}")
    return np.unique(labels, return_inverse=True)[1].astype(np.int64).reshape(-1)


def bin_cases(truth: BoolArray, scores: FloatArray, strata: ArrayLike | None) -> BinnedCases:
    """Sort the cases once: distinct-score bins, and each truth × stratum group's codes."""
    values, inverse = np.unique(scores, return_inverse=True)
    codes = inverse.astype(np.int64).reshape(-1)
    # Bin codes for the draws: int32 halves the memory traffic of the gather.
    code_type = np.int32 if values.shape[0] < 2**31 else np.int64
    extra = strata_codes(strata, truth.shape[0])
    class_codes: list[IntArray] = []
    groups: list[IntArray] = []
    positive: list[bool] = []
    for label in (True, False):
        members = np.flatnonzero(truth == label)
        members = members[np.argsort(codes[members], kind="stable")]
        member_codes = codes[members]
        class_codes.append(member_codes)
        member_strata = extra[members]
        for stratum in np.unique(member_strata):
            groups.append(member_codes[member_strata == stratum].astype(code_type))
            positive.append(label)
    return BinnedCases(
        values=values,
        codes=codes,
        truth=truth,
        class_codes=(class_codes[0], class_codes[1]),
        group_codes=tuple(groups),
        group_is_positive=tuple(positive),
    )


def sorted_classes(truth: BoolArray, scores: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Scores of the positive and of the negative cases, each ascending (two plain sorts).

    Enough for the closed-form AUC variance and average precision: counts
    below, tied with and above a score come from binary searches, so no
    argsort (slower than a sort) carries the truth along.
    """
    return np.sort(scores[truth]), np.sort(scores[~truth])


def observed_histograms(binned: BinnedCases) -> tuple[IntArray, IntArray]:
    """Histograms (shape (1, K)) of positive and negative cases over the score bins."""
    positive = np.bincount(binned.class_codes[0], minlength=binned.bins)
    negative = np.bincount(binned.class_codes[1], minlength=binned.bins)
    return positive[np.newaxis, :], negative[np.newaxis, :]


def chunk_rows(binned: BinnedCases, replicates: int, memory_budget: int) -> int:
    """Replicates per chunk so that the chunk's working arrays fit ``memory_budget`` bytes.

    Per replicate: two int64 histograms over K bins, and the widest stratum's
    draws (uint32) with their gathered bin codes (int32). At least one row.
    """
    widest = max((codes.shape[0] for codes in binned.group_codes), default=0)
    per_row = 16 * binned.bins + 8 * widest
    return max(1, min(replicates, memory_budget // max(per_row, 1)))


def resampled_histograms(
    binned: BinnedCases,
    *,
    replicates: int,
    seed: int,
    memory_budget: int = MEMORY_BUDGET,
) -> Iterator[tuple[IntArray, IntArray]]:
    """Yield (positive, negative) histogram chunks, shape (c, K), for ``replicates`` rows.

    Row r is replicate r: every stratum's cases drawn with replacement, as
    many as it has, counted per distinct score. The rows are the same for
    any ``memory_budget`` (one generator per stratum, consumed in row order).
    """
    bins = binned.bins
    children = np.random.SeedSequence(seed).spawn(len(binned.group_codes))
    generators = [np.random.Generator(np.random.PCG64(child)) for child in children]
    size = chunk_rows(binned, replicates, memory_budget)
    for start in range(0, replicates, size):
        rows = min(size, replicates - start)
        histograms = (
            np.zeros((rows, bins), dtype=np.int64),
            np.zeros((rows, bins), dtype=np.int64),
        )
        for codes, is_positive, generator in zip(
            binned.group_codes, binned.group_is_positive, generators, strict=True
        ):
            target = histograms[0 if is_positive else 1]
            draws = generator.integers(
                0, codes.shape[0], size=(rows, codes.shape[0]), dtype=np.uint32
            )
            drawn_codes = np.take(codes, draws)
            del draws
            # One row at a time: a K-bin histogram stays in cache, unlike a (c·K) one.
            for row in range(rows):
                target[row] += np.bincount(drawn_codes[row], minlength=bins)
        yield histograms


def resampled_auc(
    binned: BinnedCases, *, replicates: int, seed: int, memory_budget: int = MEMORY_BUDGET
) -> FloatArray:
    """Mann-Whitney AUC of ``replicates`` stratified resamples (:func:`resampled_histograms`)."""
    results = [
        auc_from_histograms(positive, negative)
        for positive, negative in resampled_histograms(
            binned, replicates=replicates, seed=seed, memory_budget=memory_budget
        )
    ]
    return np.concatenate(results) if results else np.zeros(0)


def auc_from_histograms(positive: IntArray, negative: IntArray) -> FloatArray:
    """Mann-Whitney AUC (ties count ½) of each row of (c, K) histograms."""
    # 2·(negatives below) + (negatives tied) = 2·(running count) − (negatives tied)
    weights = np.cumsum(negative, axis=1)
    weights *= 2
    weights -= negative
    twice_wins = np.einsum("ij,ij->i", positive, weights)  # exact in int64
    pairs = positive.sum(axis=1) * negative.sum(axis=1)
    return np.asarray(twice_wins / (2.0 * pairs), dtype=np.float64)


def roc_points_from_histograms(
    positive: IntArray, negative: IntArray
) -> tuple[FloatArray, FloatArray]:
    """ROC points (FPR, TPR), shape (c, K + 1), from threshold above all scores downward.

    Column k ≥ 1 is the decision ``score ≥ values[K − k]``; column 0 calls no
    case positive.
    """
    rows = positive.shape[0]
    zero = np.zeros((rows, 1), dtype=np.int64)
    true_positives = np.hstack([zero, np.cumsum(positive[:, ::-1], axis=1)])
    false_positives = np.hstack([zero, np.cumsum(negative[:, ::-1], axis=1)])
    tpr = true_positives / true_positives[:, -1:]
    fpr = false_positives / false_positives[:, -1:]
    return np.asarray(fpr, dtype=np.float64), np.asarray(tpr, dtype=np.float64)
