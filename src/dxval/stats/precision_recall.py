"""Precision-recall curve and average precision (step-wise), with a bootstrap interval.

Average precision is AP = Σₖ (Rₖ − Rₖ₋₁)·Pₖ over the distinct thresholds in
descending order: the step-wise sum that scikit-learn's
``average_precision_score`` computes. It is not the trapezoidal area under
the PR curve (which over-states it through linear interpolation between
points); the method name says which one is reported.

References:
    Su W, Yuan Y, Zhu M (2015) A relationship between the average precision
    and the area under the ROC curve. ICTIR '15, 349-352.
    Boyd K, Eng KH, Page CD (2013) Area under the precision-recall curve:
    point estimates and confidence intervals. ECML PKDD, 451-466.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from dxval.stats._arrays import (
    FloatArray,
    IntArray,
    as_scores,
    as_truth,
    check_confidence_level,
    parse_choice,
    two_sided_z,
)
from dxval.stats._resampling import (
    BinnedCases,
    bin_cases,
    observed_histograms,
    resampled_histograms,
    sorted_classes,
)
from dxval.stats.bootstrap import (
    BootstrapInterval,
    Jackknife,
    bootstrap_interval,
    bootstrap_method_label,
)
from dxval.stats.results import Estimate, interval_estimate

AVERAGE_PRECISION_METHOD = "average precision (step-wise)"
LOGIT_INTERVAL_LABEL = "logit interval (Boyd, Eng & Page 2013)"


@dataclass(frozen=True, slots=True, eq=False)
class PrecisionRecallCurve:
    """Precision and recall at each distinct threshold, descending (score ≥ threshold)."""

    thresholds: FloatArray
    precision: FloatArray
    recall: FloatArray
    n_positive: int
    n_negative: int

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "thresholds": self.thresholds.tolist(),
            "precision": self.precision.tolist(),
            "recall": self.recall.tolist(),
            "n_positive": self.n_positive,
            "n_negative": self.n_negative,
        }


def _descending_totals(histogram: IntArray) -> IntArray:
    """Cases at or above each bin, shape (c, K)."""
    return np.cumsum(histogram[:, ::-1], axis=1)[:, ::-1]


def average_precision_from_histograms(positive: IntArray, negative: IntArray) -> FloatArray:
    """Step-wise average precision of each row of (c, K) histograms."""
    true_positives = _descending_totals(positive)
    called = true_positives + _descending_totals(negative)
    precision = np.divide(true_positives, called, out=np.zeros(called.shape), where=called > 0)
    return np.asarray((positive * precision).sum(axis=1) / positive.sum(axis=1), dtype=np.float64)


def precision_recall_curve(truth: ArrayLike, scores: ArrayLike) -> PrecisionRecallCurve:
    """Precision and recall for the decisions score ≥ t at each distinct score t, descending.

    Parameters
    ----------
    truth
        shape (N,), booleans with at least one positive.
    scores
        shape (N,), finite floats.

    Raises
    ------
    ValueError
        malformed inputs or no positive case.

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], dtype=bool)
    >>> scores = np.array([0.1, 0.3, 0.35, 0.4, 0.8, 0.45, 0.6, 0.7, 0.9, 0.95])
    >>> from dxval.stats import precision_recall_curve
    >>> curve = precision_recall_curve(truth, scores)
    >>> curve.precision[:3].round(3).tolist(), curve.recall[:3].round(3).tolist()
    ([1.0, 1.0, 0.667], [0.2, 0.4, 0.4])
    """
    binned = _binned_with_positives(truth, scores)
    positive, negative = observed_histograms(binned)
    true_positives = _descending_totals(positive)[0]
    called = true_positives + _descending_totals(negative)[0]
    return PrecisionRecallCurve(
        thresholds=binned.values[::-1].copy(),
        precision=(true_positives / called)[::-1].copy(),
        recall=(true_positives / positive.sum())[::-1].copy(),
        n_positive=int(positive.sum()),
        n_negative=int(negative.sum()),
    )


def _binned_with_positives(
    truth: ArrayLike, scores: ArrayLike, strata: ArrayLike | None = None
) -> BinnedCases:
    truth_array = as_truth(truth)
    score_array = as_scores(scores, length=truth_array.shape[0])
    if not truth_array.any():
        raise ValueError("truth: precision and recall need at least one positive case")
    return bin_cases(truth_array, score_array, strata)


def average_precision_jackknife(positive: IntArray, negative: IntArray) -> Jackknife:
    """Leave-one-out average precision in closed form, one value per (bin, class).

    Removing a case at bin k lowers the totals at and above every cut ≤ k by
    one, so each leave-one-out AP is a prefix sum plus a suffix sum: O(K).

    Parameters
    ----------
    positive, negative
        shape (K,) histograms of the original data (m ≥ 2).
    """
    m = float(positive.sum())
    true_positives = _descending_totals(positive[np.newaxis, :])[0].astype(np.float64)
    called = true_positives + _descending_totals(negative[np.newaxis, :])[0]

    def ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
        return np.divide(
            numerator, denominator, out=np.zeros(numerator.shape), where=denominator > 0
        )

    kept = positive * ratio(true_positives, called)
    suffix_kept = np.cumsum(kept[::-1])[::-1] - kept  # Σ over bins above k
    less_positive = positive * ratio(true_positives - 1.0, called - 1.0)
    prefix_less_positive = np.cumsum(less_positive) - less_positive  # Σ over bins below k
    own = (positive - 1.0) * ratio(true_positives - 1.0, called - 1.0)
    without_positive = (suffix_kept + own + prefix_less_positive) / (m - 1.0)
    less_negative = positive * ratio(true_positives, called - 1.0)
    without_negative = (suffix_kept + np.cumsum(less_negative)) / m
    return Jackknife(
        values=np.concatenate([without_positive[positive > 0], without_negative[negative > 0]]),
        weights=np.concatenate([positive[positive > 0], negative[negative > 0]]).astype(float),
    )


def average_precision(
    truth: ArrayLike,
    scores: ArrayLike,
    *,
    seed: int,
    replicates: int = 2000,
    strata: ArrayLike | None = None,
    confidence_level: float = 0.95,
    interval: BootstrapInterval | str = BootstrapInterval.PERCENTILE,
) -> Estimate:
    """Average precision (step-wise) with a stratified bootstrap interval.

    Parameters
    ----------
    truth
        shape (N,), booleans.
    scores
        shape (N,), finite floats.
    seed
        bootstrap seed.
    replicates
        R ≥ 2 bootstrap replicates.
    strata
        shape (N,) further stratum labels (e.g. site), or None.
    confidence_level
        two-sided level in (0, 1).
    interval
        ``"percentile"`` or ``"bca"`` (jackknife in closed form).

    Returns
    -------
    Estimate
        Estimate (undefined with reason when there are fewer than 2 positive
        cases or no negative case).

    Raises
    ------
    ValueError
        malformed inputs or options.

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], dtype=bool)
    >>> scores = np.array([0.1, 0.3, 0.35, 0.4, 0.8, 0.45, 0.6, 0.7, 0.9, 0.95])
    >>> from dxval.stats import average_precision
    >>> ap = average_precision(truth, scores, seed=1, replicates=200)
    >>> round(ap.estimate, 4), ap.low <= ap.estimate <= ap.high
    (0.8767, True)
    """
    truth_array = as_truth(truth)
    score_array = as_scores(scores, length=truth_array.shape[0])
    level = check_confidence_level(confidence_level)
    chosen: BootstrapInterval = parse_choice(BootstrapInterval, interval, name="interval")
    if int(replicates) < 2:
        raise ValueError(f"replicates: expected at least 2, got {replicates}")
    method = f"{AVERAGE_PRECISION_METHOD}, {bootstrap_method_label(chosen, replicates, seed)}"
    size = truth_array.shape[0]
    positives = int(np.count_nonzero(truth_array))
    if positives < 2 or positives == size:
        return Estimate.undefined(
            "average precision with an interval needs at least 2 positive cases and "
            "1 negative case",
            confidence_level=level,
            method=method,
            n=size,
        )
    binned = bin_cases(truth_array, score_array, strata)
    positive, negative = observed_histograms(binned)
    estimate = float(average_precision_from_histograms(positive, negative)[0])
    values = np.concatenate(
        [
            average_precision_from_histograms(resampled_positive, resampled_negative)
            for resampled_positive, resampled_negative in resampled_histograms(
                binned, replicates=int(replicates), seed=seed
            )
        ]
    )
    jackknife = (
        average_precision_jackknife(positive[0], negative[0])
        if chosen is BootstrapInterval.BCA
        else None
    )
    return bootstrap_interval(
        values,
        estimate,
        confidence_level=level,
        interval=chosen,
        method=method,
        n=size,
        jackknife=jackknife,
    )


def average_precision_logit(
    truth: ArrayLike,
    scores: ArrayLike,
    *,
    confidence_level: float = 0.95,
    sorted_scores: tuple[FloatArray, FloatArray] | None = None,
) -> Estimate:
    """Average precision (step-wise) with the logit interval of Boyd, Eng & Page (2013).

    The interval treats logit(AP) as normal with standard error
    τ = 1 / sqrt(n₊ · AP · (1 − AP)), n₊ the number of positive cases, and maps
    logit(AP) ± z·τ back through the logistic function (Boyd et al. 2013,
    section 4, "logit" interval; one of the two intervals they recommend).
    Closed form: each class sorted once (binary searches count the cases at or
    above each positive score), no resampling.

    Parameters
    ----------
    truth : array_like, shape (N,)
        Booleans.
    scores : array_like, shape (N,)
        Finite floats.
    confidence_level : float
        Two-sided level in (0, 1).
    sorted_scores : (FloatArray, FloatArray), optional
        The positive and the negative scores, each ascending, as
        ``sorted_classes(truth, scores)`` gives them (a caller that sorted all
        cases once passes each subset's; same values, same result).

    Returns
    -------
    Estimate
        Undefined with a reason when there is no positive or no negative
        case, or when AP is 0 or 1 (the logit is then infinite; the point
        estimate is kept).

    Raises
    ------
    ValueError
        Malformed inputs.

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], dtype=bool)
    >>> scores = np.array([0.1, 0.3, 0.35, 0.4, 0.8, 0.45, 0.6, 0.7, 0.9, 0.95])
    >>> from dxval.stats import average_precision_logit
    >>> result = average_precision_logit(truth, scores)
    >>> round(result.estimate, 4), round(result.low, 4), round(result.high, 4)
    (0.8767, 0.3308, 0.9903)
    """
    truth_array = as_truth(truth)
    score_array = as_scores(scores, length=truth_array.shape[0])
    level = check_confidence_level(confidence_level)
    method = f"{AVERAGE_PRECISION_METHOD}, {LOGIT_INTERVAL_LABEL}"
    size = truth_array.shape[0]
    positives = int(np.count_nonzero(truth_array))
    if positives in {0, size}:
        return Estimate.undefined(
            "average precision needs at least 1 positive case and 1 negative case",
            confidence_level=level,
            method=method,
            n=size,
        )
    classes = sorted_scores or sorted_classes(truth_array, score_array)
    estimate = _average_precision_sorted(*classes)
    if not 0.0 < estimate < 1.0:
        return Estimate.undefined(
            f"average precision is {estimate:g}: its logit interval is not defined at 0 or 1",
            confidence_level=level,
            method=method,
            n=size,
            estimate=estimate,
        )
    centre = math.log(estimate / (1.0 - estimate))
    half_width = two_sided_z(level) / math.sqrt(positives * estimate * (1.0 - estimate))
    return interval_estimate(
        estimate,
        _logistic(centre - half_width),
        _logistic(centre + half_width),
        confidence_level=level,
        method=method,
        n=size,
    )


def _average_precision_sorted(positive_scores: FloatArray, negative_scores: FloatArray) -> float:
    """Step-wise AP from each class's ascending scores (no histogram over all scores).

    AP = (1/m) Σ over distinct positive scores v of (positives at v) ·
    TP(≥ v) / (TP(≥ v) + FP(≥ v)): :func:`average_precision_from_histograms`
    restricted to the bins that hold a positive (the others weigh zero).
    """
    m = positive_scores.shape[0]
    starts = np.flatnonzero(np.diff(positive_scores, prepend=-np.inf))
    at_value = np.diff(np.append(starts, m))
    true_positives = m - starts
    false_positives = negative_scores.shape[0] - np.searchsorted(
        negative_scores, positive_scores[starts], side="left"
    )
    precision = true_positives / (true_positives + false_positives)
    return float(np.dot(at_value, precision) / m)


def _logistic(value: float) -> float:
    """1 / (1 + e^−x) without overflow for large |x|."""
    if value >= 0.0:
        return 1.0 / (1.0 + math.exp(-value))
    exponential = math.exp(value)
    return exponential / (1.0 + exponential)
