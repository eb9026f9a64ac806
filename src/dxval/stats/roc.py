"""ROC curve, partial AUC (McClish), and sensitivity/specificity at a fixed other rate.

The empirical ROC curve joins the points (FPR, TPR) of the decisions
``score ≥ t`` for every distinct score t; tied scores give diagonal
segments, so the trapezoidal area equals the Mann-Whitney AUC with midranks.
Bootstrap intervals here are stratified, seeded and vectorised
(:mod:`dxval.stats._resampling`) and percentile only.

References:
    Hanley JA, McNeil BJ (1982) The meaning and use of the area under a
    receiver operating characteristic (ROC) curve. Radiology 143:29-36.
    McClish DK (1989) Analyzing a portion of the ROC curve. Med Decis Making
    9:190-195 (standardised partial AUC: ½(1 + (pAUC − min)/(max − min))).
    Robin X et al. (2011) pROC, BMC Bioinformatics 12:77 (``auc(...,
    partial.auc, partial.auc.focus = "specificity", partial.auc.correct = TRUE)``,
    ``ci.se``, ``ci.sp``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    check_fraction,
)
from dxval.stats._resampling import (
    BinnedCases,
    bin_cases,
    observed_histograms,
    resampled_histograms,
    roc_points_from_histograms,
)
from dxval.stats.bootstrap import BootstrapInterval, bootstrap_interval, bootstrap_method_label
from dxval.stats.operating_point import (
    cut_for_target_sensitivity,
    cut_for_target_specificity,
    rates_by_cut,
)
from dxval.stats.results import Estimate


@dataclass(frozen=True, slots=True, eq=False)
class RocCurve:
    """Empirical ROC curve; point i is the decision score ≥ ``thresholds[i]``.

    ``thresholds`` is descending with ``thresholds[0] = +inf`` (no case
    called positive); shape (K + 1,) for K distinct scores, like the three
    rate arrays.
    """

    thresholds: FloatArray
    false_positive_rate: FloatArray
    true_positive_rate: FloatArray
    n_positive: int
    n_negative: int

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict (the infinite first threshold as None)."""
        return {
            "thresholds": [None, *self.thresholds[1:].tolist()],
            "false_positive_rate": self.false_positive_rate.tolist(),
            "true_positive_rate": self.true_positive_rate.tolist(),
            "n_positive": self.n_positive,
            "n_negative": self.n_negative,
        }


def _binned_two_classes(truth: ArrayLike, scores: ArrayLike, strata: Any = None) -> BinnedCases:
    truth_array = as_truth(truth)
    score_array = as_scores(scores, length=truth_array.shape[0])
    positives = int(np.count_nonzero(truth_array))
    if positives in (0, truth_array.shape[0]):
        raise ValueError("truth: a ROC curve needs both positive and negative cases")
    return bin_cases(truth_array, score_array, strata)


def roc_curve(truth: ArrayLike, scores: ArrayLike) -> RocCurve:
    """The empirical ROC curve of ``scores`` against ``truth``.

    Parameters
    ----------
    truth
        shape (N,), booleans with both classes present.
    scores
        shape (N,), finite floats.

    Raises
    ------
    ValueError
        malformed inputs or a single class.

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], dtype=bool)
    >>> scores = np.array([0.1, 0.3, 0.35, 0.4, 0.8, 0.45, 0.6, 0.7, 0.9, 0.95])
    >>> from dxval.stats import roc_curve
    >>> curve = roc_curve(truth, scores)
    >>> curve.false_positive_rate.round(2).tolist()
    [0.0, 0.0, 0.0, 0.2, 0.2, 0.2, 0.2, 0.4, 0.6, 0.8, 1.0]
    >>> curve.true_positive_rate.round(2).tolist()
    [0.0, 0.2, 0.4, 0.4, 0.6, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0]
    """
    truth_array = as_truth(truth)
    score_array = as_scores(scores, length=truth_array.shape[0])
    if int(np.count_nonzero(truth_array)) in (0, truth_array.shape[0]):
        raise ValueError("truth: a ROC curve needs both positive and negative cases")
    # one sort: distinct scores and each case's bin; histograms by bincount (no per-class sort)
    values, inverse = np.unique(score_array, return_inverse=True)
    codes = inverse.reshape(-1)
    positive = np.bincount(codes[truth_array], minlength=values.shape[0])[np.newaxis, :]
    negative = np.bincount(codes[~truth_array], minlength=values.shape[0])[np.newaxis, :]
    fpr, tpr = roc_points_from_histograms(positive, negative)
    thresholds = np.concatenate([[np.inf], values[::-1]])
    return RocCurve(
        thresholds=thresholds,
        false_positive_rate=fpr[0],
        true_positive_rate=tpr[0],
        n_positive=int(positive.sum()),
        n_negative=int(negative.sum()),
    )


def area_between(fpr: FloatArray, tpr: FloatArray, lower: float, upper: float) -> FloatArray:
    """Area under each row's piecewise-linear ROC curve for FPR in [lower, upper].

    Parameters
    ----------
    fpr, tpr
        shape (c, P), non-decreasing along each row.
    """
    x0, x1, y0, y1 = fpr[:, :-1], fpr[:, 1:], tpr[:, :-1], tpr[:, 1:]
    start, end = np.clip(x0, lower, upper), np.clip(x1, lower, upper)
    width = end - start
    run = np.where(x1 > x0, x1 - x0, 1.0)
    slope = np.where(x1 > x0, (y1 - y0) / run, 0.0)
    height_start = y0 + slope * (start - x0)
    height_end = y0 + slope * (end - x0)
    return np.asarray(np.sum(width * (height_start + height_end) / 2.0, axis=1), dtype=np.float64)


def _fpr_range(specificity_range: tuple[float, float]) -> tuple[float, float]:
    low, high = (check_fraction(value, name="specificity_range") for value in specificity_range)
    if not low < high:
        raise ValueError(
            f"specificity_range: expected (low, high) with low < high, got {specificity_range}"
        )
    return 1.0 - high, 1.0 - low


def _bootstrap_rows(
    binned: BinnedCases,
    statistic: Callable[[IntArray, IntArray], FloatArray],
    *,
    replicates: int,
    seed: int,
) -> FloatArray:
    return np.concatenate(
        [
            statistic(positive, negative)
            for positive, negative in resampled_histograms(binned, replicates=replicates, seed=seed)
        ]
    )


def partial_auc(
    truth: ArrayLike,
    scores: ArrayLike,
    *,
    seed: int,
    specificity_range: tuple[float, float] = (0.8, 1.0),
    mcclish: bool = True,
    replicates: int = 2000,
    strata: ArrayLike | None = None,
    confidence_level: float = 0.95,
) -> Estimate:
    """Partial AUC over a specificity range, McClish-standardised by default.

    pAUC is the area under the empirical ROC curve for FPR in
    [1 − high, 1 − low], with linear interpolation at the range ends. With
    ``mcclish`` it is standardised as ½(1 + (pAUC − min)/(max − min)), min the
    area under the chance diagonal and max the range width (McClish 1989), so
    0.5 is chance and 1 perfect. The interval is a stratified bootstrap
    percentile interval.

    Parameters
    ----------
    truth
        shape (N,), booleans with both classes present.
    scores
        shape (N,), finite floats.
    seed
        bootstrap seed.
    specificity_range
        (low, high) within [0, 1].
    mcclish
        apply McClish's standardisation.
    replicates
        bootstrap replicates R ≥ 2.
    strata
        shape (N,) further stratum labels, or None.
    confidence_level
        two-sided level in (0, 1).

    Raises
    ------
    ValueError
        malformed inputs, a single class, a bad range.

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], dtype=bool)
    >>> scores = np.array([0.1, 0.3, 0.35, 0.4, 0.8, 0.45, 0.6, 0.7, 0.9, 0.95])
    >>> from dxval.stats import partial_auc
    >>> est = partial_auc(truth, scores, seed=3, specificity_range=(0.8, 1.0))
    >>> round(est.estimate, 4), est.n
    (0.6667, 10)
    """
    level = check_confidence_level(confidence_level)
    binned = _binned_two_classes(truth, scores, strata)
    lower, upper = _fpr_range(specificity_range)
    minimum, maximum = (upper**2 - lower**2) / 2.0, upper - lower

    def statistic(positive: IntArray, negative: IntArray) -> FloatArray:
        area = area_between(*roc_points_from_histograms(positive, negative), lower, upper)
        return (1.0 + (area - minimum) / (maximum - minimum)) / 2.0 if mcclish else area

    estimate = float(statistic(*observed_histograms(binned))[0])
    label = "McClish-standardised partial AUC" if mcclish else "partial AUC"
    method = (
        f"{label}, specificity {specificity_range[0]:g}-{specificity_range[1]:g}, "
        f"{bootstrap_method_label(BootstrapInterval.PERCENTILE, replicates, seed)}"
    )
    values = _bootstrap_rows(binned, statistic, replicates=int(replicates), seed=seed)
    return bootstrap_interval(
        values,
        estimate,
        confidence_level=level,
        interval=BootstrapInterval.PERCENTILE,
        method=method,
        n=binned.truth.shape[0],
    )


def _rate_at_fixed_rate(
    truth: ArrayLike,
    scores: ArrayLike,
    target: float,
    *,
    fixed: str,
    seed: int,
    replicates: int,
    strata: ArrayLike | None,
    confidence_level: float,
) -> Estimate:
    level = check_confidence_level(confidence_level)
    rate = check_fraction(target, name=f"target {fixed}")
    binned = _binned_two_classes(truth, scores, strata)

    def statistic(positive: IntArray, negative: IntArray) -> FloatArray:
        sensitivity, specificity = rates_by_cut(positive, negative)
        rows = np.arange(sensitivity.shape[0])
        if fixed == "specificity":
            return sensitivity[rows, cut_for_target_specificity(specificity, rate)]
        return specificity[rows, cut_for_target_sensitivity(sensitivity, rate)]

    reported = "sensitivity" if fixed == "specificity" else "specificity"
    method = (
        f"empirical {reported} at {fixed} ≥ {rate:g}, "
        f"{bootstrap_method_label(BootstrapInterval.PERCENTILE, replicates, seed)}"
    )
    return bootstrap_interval(
        _bootstrap_rows(binned, statistic, replicates=int(replicates), seed=seed),
        float(statistic(*observed_histograms(binned))[0]),
        confidence_level=level,
        interval=BootstrapInterval.PERCENTILE,
        method=method,
        n=binned.truth.shape[0],
    )


def sensitivity_band(
    truth: ArrayLike,
    scores: ArrayLike,
    specificities: Sequence[float],
    *,
    seed: int,
    replicates: int = 2000,
    strata: ArrayLike | None = None,
    confidence_level: float = 0.95,
) -> list[Estimate]:
    """:func:`sensitivity_at_specificity` at each of ``specificities``, from one set of replicates.

    Each estimate equals ``sensitivity_at_specificity(..., specificity, seed=seed, ...)``
    (the same seed draws the same replicates), but the replicates are drawn once
    and every specificity is read from each of them: the ROC confidence band's
    cost is one bootstrap instead of one per point.

    Raises
    ------
    ValueError
        malformed inputs, a single class, a rate outside [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], dtype=bool)
    >>> scores = np.array([0.1, 0.3, 0.35, 0.4, 0.8, 0.45, 0.6, 0.7, 0.9, 0.95])
    >>> from dxval.stats import sensitivity_band
    >>> band = sensitivity_band(truth, scores, [0.6, 0.8], seed=5, replicates=200)
    >>> [round(point.estimate, 2) for point in band]
    [1.0, 1.0]
    """
    level = check_confidence_level(confidence_level)
    rates = [check_fraction(value, name="target specificity") for value in specificities]
    binned = _binned_two_classes(truth, scores, strata)

    def statistic(positive: IntArray, negative: IntArray) -> FloatArray:
        sensitivity, specificity = rates_by_cut(positive, negative)
        rows = np.arange(sensitivity.shape[0])
        return np.column_stack(
            [sensitivity[rows, cut_for_target_specificity(specificity, rate)] for rate in rates]
        )

    values = _bootstrap_rows(binned, statistic, replicates=int(replicates), seed=seed)
    observed = statistic(*observed_histograms(binned))[0]
    label = bootstrap_method_label(BootstrapInterval.PERCENTILE, replicates, seed)
    return [
        bootstrap_interval(
            values[:, column],
            float(observed[column]),
            confidence_level=level,
            interval=BootstrapInterval.PERCENTILE,
            method=f"empirical sensitivity at specificity ≥ {rate:g}, {label}",
            n=binned.truth.shape[0],
        )
        for column, rate in enumerate(rates)
    ]


def sensitivity_at_specificity(
    truth: ArrayLike,
    scores: ArrayLike,
    specificity: float,
    *,
    seed: int,
    replicates: int = 2000,
    strata: ArrayLike | None = None,
    confidence_level: float = 0.95,
) -> Estimate:
    """The highest empirical sensitivity among thresholds with specificity ≥ ``specificity``.

    The threshold is re-chosen in every bootstrap replicate, so the interval
    includes the uncertainty of the threshold (as ``pROC::ci.se``).

    Raises
    ------
    ValueError
        malformed inputs, a single class, a rate outside [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], dtype=bool)
    >>> scores = np.array([0.1, 0.3, 0.35, 0.4, 0.8, 0.45, 0.6, 0.7, 0.9, 0.95])
    >>> from dxval.stats import sensitivity_at_specificity
    >>> est = sensitivity_at_specificity(truth, scores, 0.8, seed=5, replicates=200)
    >>> round(est.estimate, 2)
    1.0
    """
    return _rate_at_fixed_rate(
        truth,
        scores,
        specificity,
        fixed="specificity",
        seed=seed,
        replicates=replicates,
        strata=strata,
        confidence_level=confidence_level,
    )


def specificity_at_sensitivity(
    truth: ArrayLike,
    scores: ArrayLike,
    sensitivity: float,
    *,
    seed: int,
    replicates: int = 2000,
    strata: ArrayLike | None = None,
    confidence_level: float = 0.95,
) -> Estimate:
    """The highest empirical specificity among thresholds with sensitivity ≥ ``sensitivity``.

    The threshold is re-chosen in every bootstrap replicate (as ``pROC::ci.sp``).

    Raises
    ------
    ValueError
        malformed inputs, a single class, a rate outside [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], dtype=bool)
    >>> scores = np.array([0.1, 0.3, 0.35, 0.4, 0.8, 0.45, 0.6, 0.7, 0.9, 0.95])
    >>> from dxval.stats import specificity_at_sensitivity
    >>> est = specificity_at_sensitivity(truth, scores, 0.8, seed=5, replicates=200)
    >>> round(est.estimate, 2)
    0.8
    """
    return _rate_at_fixed_rate(
        truth,
        scores,
        sensitivity,
        fixed="sensitivity",
        seed=seed,
        replicates=replicates,
        strata=strata,
        confidence_level=confidence_level,
    )
