"""Vectorised stratified resampling of cases, one histogram row per replicate.

A rank statistic (AUC, average precision, a ROC point) depends on the
resampled cases only through how many positive and negative cases fall on
each distinct score value. Each bootstrap replicate is therefore drawn as a
row of two histograms over the K distinct scores; replicates are drawn in
chunks whose size depends only on the data size, so results are reproducible
for a given seed and the memory stays bounded (about 8 MB per array).

Resampling is stratified: cases are drawn with replacement within each
stratum (truth × optional extra stratum such as site), keeping the stratum
sizes fixed (Efron & Tibshirani 1993, §8.2; Davison & Hinkley 1997, §3.7).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from dxval.stats._arrays import BoolArray, FloatArray, IntArray

CHUNK_ELEMENTS = 1_000_000  # cells per chunk array: 8 MB of int64


@dataclass(frozen=True, slots=True)
class BinnedCases:
    """Cases mapped to the ascending distinct score values, grouped by stratum.

    Within each class the cases are taken in ascending score order; a
    resample is drawn as counts per case of that order ("case histograms"),
    which :func:`code_histograms` folds into counts per distinct score.
    """

    values: FloatArray  # shape (K,): distinct scores, ascending
    codes: IntArray  # shape (N,): index into values for each case
    truth: BoolArray  # shape (N,)
    class_codes: tuple[IntArray, IntArray]  # codes of positives / negatives, ascending
    groups: tuple[IntArray, ...]  # positions (in its class's order) of each stratum's cases
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
    """Map cases to distinct-score bins and split them into truth × stratum groups."""
    values, inverse = np.unique(scores, return_inverse=True)
    codes = inverse.astype(np.int64).reshape(-1)
    extra = strata_codes(strata, truth.shape[0])
    class_codes: list[IntArray] = []
    groups: list[IntArray] = []
    positive: list[bool] = []
    for label in (True, False):
        members = np.flatnonzero(truth == label)
        members = members[np.argsort(codes[members], kind="stable")]
        class_codes.append(codes[members])
        member_strata = extra[members]
        for stratum in np.unique(member_strata):
            groups.append(np.flatnonzero(member_strata == stratum))
            positive.append(label)
    return BinnedCases(
        values=values,
        codes=codes,
        truth=truth,
        class_codes=(class_codes[0], class_codes[1]),
        groups=tuple(groups),
        group_is_positive=tuple(positive),
    )


def observed_histograms(binned: BinnedCases) -> tuple[IntArray, IntArray]:
    """Histograms (shape (1, K)) of positive and negative cases over the score bins."""
    positive = np.bincount(binned.class_codes[0], minlength=binned.bins)
    negative = np.bincount(binned.class_codes[1], minlength=binned.bins)
    return positive[np.newaxis, :], negative[np.newaxis, :]


def chunk_size(binned: BinnedCases, replicates: int) -> int:
    """Replicates per chunk: a function of the data size only (reproducibility)."""
    widest = max(binned.truth.shape[0], binned.bins, 1)
    return max(1, min(replicates, CHUNK_ELEMENTS // widest))


def resampled_case_histograms(
    binned: BinnedCases, *, replicates: int, rng: np.random.Generator
) -> Iterator[tuple[IntArray, IntArray]]:
    """Yield (positive, negative) case-count chunks, shapes (c, m) and (c, n).

    Row r, column i counts how often the i-th case of the class (ascending
    score order) was drawn in replicate r; cases are drawn with replacement
    within each stratum, so every stratum keeps its size.
    """
    size = chunk_size(binned, replicates)
    class_sizes = (binned.class_codes[0].shape[0], binned.class_codes[1].shape[0])
    for start in range(0, replicates, size):
        rows = min(size, replicates - start)
        counts: list[IntArray] = []
        for class_index, is_positive in enumerate((True, False)):
            width = class_sizes[class_index]
            total = np.zeros((rows, width), dtype=np.int64)
            for members, group_positive in zip(
                binned.groups, binned.group_is_positive, strict=True
            ):
                if group_positive is not is_positive:
                    continue
                draws = rng.integers(0, members.shape[0], size=(rows, members.shape[0]))
                if members.shape[0] != width:  # a stratum within the class
                    draws = members[draws]
                draws += np.arange(0, rows * width, width, dtype=np.int64)[:, np.newaxis]
                drawn = np.bincount(draws.ravel(), minlength=rows * width).reshape(rows, width)
                if members.shape[0] == width:
                    total = drawn  # the whole class is one stratum: no sum needed
                else:
                    total += drawn
            counts.append(total)
        yield counts[0], counts[1]


def code_histograms(
    binned: BinnedCases, positive: IntArray, negative: IntArray
) -> tuple[IntArray, IntArray]:
    """Fold case-count chunks into histograms over the K distinct scores, shape (c, K)."""
    folded = []
    for class_codes, counts in zip(binned.class_codes, (positive, negative), strict=True):
        histogram = np.zeros((counts.shape[0], binned.bins), dtype=np.int64)
        if class_codes.size:
            starts = np.flatnonzero(np.diff(class_codes, prepend=-1))
            histogram[:, class_codes[starts]] = np.add.reduceat(counts, starts, axis=1)
        folded.append(histogram)
    return folded[0], folded[1]


def resampled_histograms(
    binned: BinnedCases, *, replicates: int, rng: np.random.Generator
) -> Iterator[tuple[IntArray, IntArray]]:
    """Yield (positive, negative) histogram chunks, shape (c, K), for ``replicates`` rows."""
    for positive, negative in resampled_case_histograms(binned, replicates=replicates, rng=rng):
        yield code_histograms(binned, positive, negative)


def resampled_auc(binned: BinnedCases, *, replicates: int, rng: np.random.Generator) -> FloatArray:
    """Mann-Whitney AUC of ``replicates`` stratified resamples, without per-score histograms.

    With C the running count of resampled negatives in ascending score order,
    a positive whose score lies between negative positions lo (first tie)
    and hi (past the last tie) contributes C[lo] + C[hi] = 2·below + ties.
    """
    positive_codes, negative_codes = binned.class_codes
    first_tie = np.searchsorted(negative_codes, positive_codes, side="left")
    past_tie = np.searchsorted(negative_codes, positive_codes, side="right")
    pairs = positive_codes.shape[0] * negative_codes.shape[0]
    results = []
    for positive, negative in resampled_case_histograms(binned, replicates=replicates, rng=rng):
        running = np.zeros((negative.shape[0], negative.shape[1] + 1), dtype=np.int64)
        np.cumsum(negative, axis=1, out=running[:, 1:])
        placements = np.take(running, first_tie, axis=1)
        placements += np.take(running, past_tie, axis=1)
        twice_wins = np.einsum("ij,ij->i", positive, placements)  # exact in int64
        results.append(twice_wins / (2.0 * pairs))
    return np.concatenate(results) if results else np.zeros(0)


def auc_from_histograms(positive: IntArray, negative: IntArray) -> FloatArray:
    """Mann-Whitney AUC (ties count ½) of each row of (c, K) histograms."""
    below = np.cumsum(negative, axis=1) - negative
    twice_wins = (positive * (2 * below + negative)).sum(axis=1)
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
