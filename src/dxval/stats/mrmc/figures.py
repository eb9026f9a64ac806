"""Reader × modality figures of merit and the covariance of their errors.

A fully crossed reader study is held as ``scores`` of shape (t, r, n): t
modalities, r readers, n cases, every reader reading every case in every
modality; ``truth`` has shape (n,) (True = positive). The figures of merit
are stacked modality-major: index ``i * r + j`` is modality i, reader j, the
order the Obuchowski–Rockette analysis expects.

Covariance estimators (Hillis 2005, Stat Med 24:1579, section 2.3; Smith &
Hillis 2020, SPIE 11316, table of covariance methods):

- jackknife: leave one case (positive or negative) out, Efron's
  (n−1)/n Σ (θ₍₋ₖ₎ − θ̄₍₋₎)(...) over all n cases; valid for any figure of merit.
- DeLong: S10/n₁ + S01/n₀ from the placement values (DeLong et al. 1988).
- unbiased: the U-statistic estimator of Gallas (2006, Acad Radiol 13:353)
  from the four second-order moments of the success kernels.
"""

from __future__ import annotations

from enum import Enum

import numpy as np

from dxval.stats._arrays import BoolArray, FloatArray
from dxval.stats.delong import structural_components


class CovarianceMethod(str, Enum):
    """How the covariance matrix of the reader × modality figures is estimated."""

    JACKKNIFE = "jackknife"
    DELONG = "delong"
    UNBIASED = "unbiased"


def check_reads(scores: FloatArray, truth: BoolArray) -> tuple[FloatArray, BoolArray]:
    """Return ``scores`` (t, r, n) float64 and ``truth`` (n,) bool after checking them.

    Raises:
        ValueError: wrong shapes, a non-finite score, or fewer than 2 cases
            of either class.
    """
    array = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(truth)
    if array.ndim != 3:
        raise ValueError(f"scores: expected shape (modalities, readers, cases), got {array.shape}")
    if labels.ndim != 1 or labels.shape[0] != array.shape[2]:
        raise ValueError(f"truth: expected shape ({array.shape[2]},), got {labels.shape}")
    if labels.dtype != np.bool_:
        if labels.dtype.kind not in "iu" or not np.isin(labels, (0, 1)).all():
            raise ValueError(f"truth: expected booleans (True = positive), got {labels.dtype}")
        labels = labels.astype(np.bool_)
    if not np.isfinite(array).all():
        raise ValueError("scores: expected finite numbers, got NaN or infinity")
    positives = int(labels.sum())
    if positives < 2 or labels.shape[0] - positives < 2:
        raise ValueError(
            f"truth: expected at least 2 positive and 2 negative cases, got {positives} "
            f"positive and {labels.shape[0] - positives} negative"
        )
    return array, labels


def placements(flat: FloatArray, truth: BoolArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """AUCs (K,), V10 (K, n₁) and V01 (K, n₀) of K score rows on the same cases."""
    components = [structural_components(truth, row) for row in flat]
    aucs = np.array([component.auc for component in components])
    positive = np.vstack([component.positive for component in components])
    negative = np.vstack([component.negative for component in components])
    return aucs, positive, negative


def empirical_auc(scores: FloatArray, truth: BoolArray) -> FloatArray:
    """Empirical (Mann–Whitney, ties ½) AUC of every reader × modality, shape (t, r)."""
    array, labels = check_reads(scores, truth)
    flat = array.reshape(-1, array.shape[2])
    aucs, _, _ = placements(flat, labels)
    return aucs.reshape(array.shape[:2])


def _jackknife(pseudo: FloatArray) -> FloatArray:
    """Efron jackknife covariance of K statistics from their leave-one-out values (K, n)."""
    n = pseudo.shape[1]
    centred = pseudo - pseudo.mean(axis=1, keepdims=True)
    return np.asarray((n - 1) / n * (centred @ centred.T), dtype=np.float64)


def _auc_leave_one_out(
    aucs: FloatArray, positive: FloatArray, negative: FloatArray, truth: BoolArray
) -> FloatArray:
    """AUC of each row with each case removed, shape (K, n), in O(K·n).

    Removing positive i takes its n₀ kernel values (mean V10ᵢ) out of the
    n₁·n₀ pairs; removing negative j takes out n₁ values (mean V01ⱼ).
    """
    n1, n0 = positive.shape[1], negative.shape[1]
    total = aucs[:, None] * (n1 * n0)
    result = np.empty((aucs.shape[0], truth.shape[0]))
    result[:, truth] = (total - n0 * positive) / ((n1 - 1) * n0)
    result[:, ~truth] = (total - n1 * negative) / (n1 * (n0 - 1))
    return result


def _success_kernels(flat: FloatArray, truth: BoolArray) -> FloatArray:
    """ψ(x, y) for every row: 1 if positive score x > negative y, ½ if tied; (K, n₁, n₀)."""
    positive = flat[:, truth][:, :, None]
    negative = flat[:, ~truth][:, None, :]
    return np.asarray(
        (positive > negative).astype(np.float64) + 0.5 * (positive == negative), dtype=np.float64
    )


def unbiased_moments(flat: FloatArray, truth: BoolArray) -> tuple[FloatArray, FloatArray]:
    """Gallas's unbiased covariance of the AUCs of K rows, and their all-different moment.

    For rows a, b with kernels ψₐ, ψ_b (n₁ positives × n₀ negatives) the four
    unbiased moments are M1 = E[ψₐ(x,y)ψ_b(x,y)], M2 = same positive x,
    different negatives, M3 = different positives, same negative y, M4 = all
    different (an unbiased estimate of E[Aₐ]E[A_b]); then
    cov = [M1 + (n₀−1)M2 + (n₁−1)M3 + (n₁−1)(n₀−1)M4]/(n₁n₀) − M4
    (Gallas 2006, Acad Radiol 13:353, eq. 6; Gallas et al. 2009, Commun Stat
    Theory 38:2586, the one-shot estimator).

    Returns:
        (covariance, M4), both (K, K).
    """
    kernels = _success_kernels(flat, truth)
    count, n1, n0 = kernels.shape
    by_pair = kernels.reshape(count, -1)
    sum_same = by_pair @ by_pair.T  # Σ ψₐψ_b over identical (x, y)
    row_sums = kernels.sum(axis=2)  # per positive: Σ over negatives
    column_sums = kernels.sum(axis=1)  # per negative: Σ over positives
    same_positive = row_sums @ row_sums.T
    same_negative = column_sums @ column_sums.T
    totals = by_pair.sum(axis=1)
    everything = np.outer(totals, totals)
    moment1 = sum_same / (n1 * n0)
    moment2 = (same_positive - sum_same) / (n1 * n0 * (n0 - 1))
    moment3 = (same_negative - sum_same) / (n1 * (n1 - 1) * n0)
    moment4 = (everything - same_positive - same_negative + sum_same) / (
        n1 * (n1 - 1) * n0 * (n0 - 1)
    )
    covariance = (
        moment1 + (n0 - 1) * moment2 + (n1 - 1) * moment3 + (n1 - 1) * (n0 - 1) * moment4
    ) / (n1 * n0) - moment4
    return np.asarray(covariance, dtype=np.float64), np.asarray(moment4, dtype=np.float64)


def auc_covariance(
    scores: FloatArray, truth: BoolArray, *, method: CovarianceMethod = CovarianceMethod.JACKKNIFE
) -> tuple[FloatArray, FloatArray]:
    """Empirical AUCs (t, r) and the covariance matrix (t·r, t·r) of their errors.

    Args:
        scores: (t, r, n) reader scores, higher = more likely positive.
        truth: (n,) booleans, at least 2 of each class.
        method: jackknife (default, as MRMCaov), DeLong, or unbiased.

    Raises:
        ValueError: from :func:`check_reads`.
    """
    array, labels = check_reads(scores, truth)
    flat = array.reshape(-1, array.shape[2])
    aucs, positive, negative = placements(flat, labels)
    if method is CovarianceMethod.JACKKNIFE:
        covariance = _jackknife(_auc_leave_one_out(aucs, positive, negative, labels))
    elif method is CovarianceMethod.DELONG:
        covariance = (
            np.atleast_2d(np.cov(positive, ddof=1)) / positive.shape[1]
            + np.atleast_2d(np.cov(negative, ddof=1)) / negative.shape[1]
        )
    else:
        covariance, _ = unbiased_moments(flat, labels)
    return aucs.reshape(array.shape[:2]), covariance


def proportion_covariance(
    decisions: BoolArray, members: BoolArray
) -> tuple[FloatArray, FloatArray]:
    """Proportions (t, r) of positive decisions among ``members`` and their jackknife covariance.

    Sensitivity is the proportion of positive calls among positive cases;
    specificity the proportion of negative calls among negative cases (pass
    ``~decisions``). The jackknife leaves out one member case at a time
    (m − 1)/m Σ (...), as MRMCaov does for ``binary_sens`` / ``binary_spec``;
    a reader's variance is then p(1 − p)/(m − 1).

    Args:
        decisions: (t, r, n) booleans (True = called positive / the event counted).
        members: (n,) booleans: the cases the proportion is over (≥ 2).
    """
    calls = np.asarray(decisions, dtype=np.float64)
    inside = calls.reshape(-1, calls.shape[2])[:, members]
    size = inside.shape[1]
    proportions = inside.mean(axis=1)
    leave_out = (inside.sum(axis=1, keepdims=True) - inside) / (size - 1)
    return proportions.reshape(calls.shape[:2]), _jackknife(leave_out)
