"""Stratified, seeded, vectorised bootstrap intervals: percentile and BCa.

Replicates are drawn with a seeded :class:`numpy.random.Generator`, within
strata of truth (and optionally a further stratum such as site), without a
Python loop per replicate: AUC replicates come from resampled score
histograms (:mod:`dxval.stats._resampling`); decision metrics from binomial
draws of the called-positive count within each stratum, which has exactly the
distribution of the count in a resample of that stratum's cases.

References:
    Efron B (1987) Better bootstrap confidence intervals. JASA 82:171-185
    (BCa: bias correction z₀ and jackknife acceleration a).
    Efron B, Tibshirani RJ (1993) An Introduction to the Bootstrap, ch. 13-14.
    Davison AC, Hinkley DV (1997) Bootstrap Methods and their Application,
    §3.7 (stratified resampling), §5.3 (BCa; z₀ = Φ⁻¹(#{θ* < θ̂}/R) as in
    R's ``boot.ci``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import numpy as np
from numpy.typing import ArrayLike

from dxval.stats._arrays import (
    FloatArray,
    as_scores,
    as_truth,
    check_confidence_level,
    parse_choice,
)
from dxval.stats._resampling import (
    auc_from_histograms,
    bin_cases,
    observed_histograms,
    resampled_auc,
    strata_codes,
)
from dxval.stats.delong import structural_components
from dxval.stats.results import Estimate, interval_estimate


class BootstrapInterval(str, Enum):
    """Closed vocabulary of bootstrap interval types."""

    PERCENTILE = "percentile"
    BCA = "bca"


class BinaryMetricName(str, Enum):
    """Decision metrics that :func:`bootstrap_binary_metric` can resample.

    Exactly :data:`dxval.stats.vocabulary.RESAMPLED_DECISION_METRICS` (a test checks it).
    """

    SENSITIVITY = "sensitivity"
    SPECIFICITY = "specificity"
    PPV = "ppv"
    NPV = "npv"
    ACCURACY = "accuracy"
    BALANCED_ACCURACY = "balanced_accuracy"
    F1 = "f1"
    MCC = "mcc"
    YOUDEN_J = "youden_j"


@dataclass(frozen=True, slots=True)
class Jackknife:
    """Leave-one-out values of a statistic with their multiplicities (for BCa)."""

    values: FloatArray
    weights: FloatArray


def bootstrap_method_label(interval: BootstrapInterval, replicates: int, seed: int) -> str:
    """The method text of a bootstrap interval: type, replicates and seed."""
    kind = "BCa" if interval is BootstrapInterval.BCA else "percentile"
    return f"stratified bootstrap {kind}, {replicates} replicates, seed {seed}"


def _acceleration(jackknife: Jackknife) -> float:
    """Efron's (1987) acceleration from (weighted) jackknife values."""
    weights = jackknife.weights
    mean = float(np.sum(weights * jackknife.values) / np.sum(weights))
    deviations = mean - jackknife.values
    spread = float(np.sum(weights * deviations**2))
    if spread == 0.0:
        return 0.0
    return float(np.sum(weights * deviations**3) / (6.0 * spread**1.5))


def bootstrap_interval(
    replicate_values: FloatArray,
    estimate: float,
    *,
    confidence_level: float,
    interval: BootstrapInterval,
    method: str,
    n: int,
    jackknife: Jackknife | None = None,
    bounds: tuple[float, float] = (0.0, 1.0),
) -> Estimate:
    """Turn bootstrap replicates of a statistic into a percentile or BCa interval.

    Quantiles are linear interpolations of the order statistics (R type 7).
    Undefined (with reason) when a replicate has no value, when all
    replicates are equal, or when BCa's bias correction is infinite.

    Parameters
    ----------
    replicate_values
        shape (R,), NaN where the statistic did not exist.
    estimate
        the statistic on the original data.
    jackknife
        leave-one-out values, required for BCa.

    Raises
    ------
    ValueError
        BCa without jackknife values.
    """
    undefined_count = int(np.count_nonzero(np.isnan(replicate_values)))
    variance = float(np.var(replicate_values, ddof=1)) if replicate_values.size > 1 else None

    def undefined(reason: str) -> Estimate:
        return Estimate.undefined(
            reason,
            confidence_level=confidence_level,
            method=method,
            n=n,
            estimate=estimate,
            variance=variance,
        )

    if undefined_count:
        return undefined(
            f"the statistic is undefined in {undefined_count} of "
            f"{replicate_values.size} bootstrap replicates"
        )
    if np.ptp(replicate_values) == 0.0:
        return undefined("every bootstrap replicate has the same value: no interval")
    alpha = 1.0 - confidence_level
    probabilities = np.array([alpha / 2.0, 1.0 - alpha / 2.0])
    if interval is BootstrapInterval.BCA:
        from scipy.special import ndtr, ndtri  # BCa only: the percentile path needs no scipy

        if jackknife is None:
            raise ValueError("BCa needs the jackknife values of the statistic")
        below = float(np.mean(replicate_values < estimate))
        if below in (0.0, 1.0):
            return undefined("BCa bias correction is infinite: every replicate on one side")
        bias = float(ndtri(below))
        acceleration = _acceleration(jackknife)
        normal = ndtri(probabilities)
        probabilities = ndtr(bias + (bias + normal) / (1.0 - acceleration * (bias + normal)))
    low, high = np.quantile(replicate_values, probabilities)
    return interval_estimate(
        estimate,
        float(low),
        float(high),
        confidence_level=confidence_level,
        method=method,
        n=n,
        bounds=bounds,
        variance=variance,
    )


def _check_replicates(replicates: int) -> int:
    if int(replicates) < 2:
        raise ValueError(f"replicates: expected at least 2, got {replicates}")
    return int(replicates)


def auc_jackknife(truth: np.ndarray, scores: FloatArray) -> Jackknife:
    """Leave-one-out AUCs in closed form from DeLong's placement values.

    Removing positive i gives (m·AUC − V10ᵢ)/(m − 1); removing negative j gives
    (n·AUC − V01ⱼ)/(n − 1) (needs m, n ≥ 2).
    """
    components = structural_components(truth, scores, case_order=False)
    m, n = components.positive.shape[0], components.negative.shape[0]
    values = np.concatenate(
        [
            (m * components.auc - components.positive) / (m - 1),
            (n * components.auc - components.negative) / (n - 1),
        ]
    )
    return Jackknife(values=values, weights=np.ones_like(values))


def bootstrap_auc(
    truth: ArrayLike,
    scores: ArrayLike,
    *,
    seed: int,
    replicates: int = 2000,
    strata: ArrayLike | None = None,
    confidence_level: float = 0.95,
    interval: BootstrapInterval | str = BootstrapInterval.PERCENTILE,
) -> Estimate:
    """AUC with a stratified bootstrap interval (percentile or BCa), fully vectorised.

    Parameters
    ----------
    truth
        shape (N,), booleans.
    scores
        shape (N,), finite floats.
    seed
        seed of the :class:`numpy.random.Generator` (PCG64).
    replicates
        number of bootstrap replicates R ≥ 2.
    strata
        shape (N,) labels of a further stratum (e.g. site), or None.
    confidence_level
        two-sided level in (0, 1).
    interval
        ``"percentile"`` or ``"bca"`` (Efron 1987).

    Returns
    -------
    Estimate
        Estimate whose ``variance`` is the variance of the replicates.

    Raises
    ------
    ValueError
        malformed inputs or options.

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], dtype=bool)
    >>> scores = np.array([0.1, 0.3, 0.35, 0.4, 0.8, 0.45, 0.6, 0.7, 0.9, 0.95])
    >>> from dxval.stats import bootstrap_auc
    >>> auc = bootstrap_auc(truth, scores, seed=20261126, replicates=500)
    >>> round(auc.estimate, 2), auc.low <= auc.estimate <= auc.high, auc.n
    (0.88, True, 10)
    """
    truth_array = as_truth(truth)
    score_array = as_scores(scores, length=truth_array.shape[0])
    level = check_confidence_level(confidence_level)
    chosen: BootstrapInterval = parse_choice(BootstrapInterval, interval, name="interval")
    count = _check_replicates(replicates)
    method = f"AUC (Mann-Whitney), {bootstrap_method_label(chosen, count, seed)}"
    size = truth_array.shape[0]
    positives = int(np.count_nonzero(truth_array))
    if min(positives, size - positives) < 2:
        return Estimate.undefined(
            "the bootstrap AUC needs at least 2 positive and 2 negative cases",
            confidence_level=level,
            method=method,
            n=size,
        )
    binned = bin_cases(truth_array, score_array, strata)
    estimate = float(auc_from_histograms(*observed_histograms(binned))[0])
    values = resampled_auc(binned, replicates=count, seed=seed)
    jackknife = auc_jackknife(truth_array, score_array) if chosen is BootstrapInterval.BCA else None
    return bootstrap_interval(
        values,
        estimate,
        confidence_level=level,
        interval=chosen,
        method=method,
        n=size,
        jackknife=jackknife,
    )


CountsFunction = Callable[[FloatArray, FloatArray, FloatArray, FloatArray], FloatArray]


def _ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """Element-wise ratio, NaN where the denominator is zero."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan
        )


def _youden(tp: FloatArray, fp: FloatArray, tn: FloatArray, fn: FloatArray) -> FloatArray:
    return _ratio(tp, tp + fn) + _ratio(tn, tn + fp) - 1.0


def _mcc(tp: FloatArray, fp: FloatArray, tn: FloatArray, fn: FloatArray) -> FloatArray:
    margins = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)
    return _ratio(tp * tn - fp * fn, np.sqrt(margins))


COUNT_METRICS: dict[BinaryMetricName, tuple[CountsFunction, tuple[float, float]]] = {
    BinaryMetricName.SENSITIVITY: (lambda tp, fp, tn, fn: _ratio(tp, tp + fn), (0.0, 1.0)),
    BinaryMetricName.SPECIFICITY: (lambda tp, fp, tn, fn: _ratio(tn, tn + fp), (0.0, 1.0)),
    BinaryMetricName.PPV: (lambda tp, fp, tn, fn: _ratio(tp, tp + fp), (0.0, 1.0)),
    BinaryMetricName.NPV: (lambda tp, fp, tn, fn: _ratio(tn, tn + fn), (0.0, 1.0)),
    BinaryMetricName.ACCURACY: (
        lambda tp, fp, tn, fn: _ratio(tp + tn, tp + fp + tn + fn),
        (0.0, 1.0),
    ),
    BinaryMetricName.BALANCED_ACCURACY: (
        lambda tp, fp, tn, fn: (_youden(tp, fp, tn, fn) + 1.0) / 2.0,
        (0.0, 1.0),
    ),
    BinaryMetricName.F1: (lambda tp, fp, tn, fn: _ratio(2 * tp, 2 * tp + fp + fn), (0.0, 1.0)),
    BinaryMetricName.MCC: (_mcc, (-1.0, 1.0)),
    BinaryMetricName.YOUDEN_J: (_youden, (-1.0, 1.0)),
}


def _counts_jackknife(function: CountsFunction, counts: FloatArray) -> Jackknife:
    """Leave-one-out values: removing a case lowers its cell by one (4 distinct values)."""
    cells = np.eye(4)
    left_out = counts[np.newaxis, :] - cells
    values = function(*(left_out[:, column] for column in range(4)))
    keep = (counts > 0) & ~np.isnan(values)
    return Jackknife(values=values[keep], weights=counts[keep])


def bootstrap_binary_metric(
    truth: ArrayLike,
    scores: ArrayLike,
    *,
    metric: BinaryMetricName | str,
    threshold: float,
    seed: int,
    replicates: int = 2000,
    strata: ArrayLike | None = None,
    confidence_level: float = 0.95,
    interval: BootstrapInterval | str = BootstrapInterval.PERCENTILE,
) -> Estimate:
    """A decision metric at ``threshold`` with a stratified bootstrap interval, vectorised.

    Within each stratum (truth × optional extra stratum) of size s with c
    called-positive cases, the called-positive count of a resample is drawn
    as Binomial(s, c/s); TP, FP, TN, FN of each replicate are sums over strata.

    Parameters
    ----------
    truth
        shape (N,), booleans.
    scores
        shape (N,), finite floats; positive call ⇔ score ≥ threshold.
    metric
        a :class:`BinaryMetricName`.
    threshold
        the operating point.
    seed
        seed of the :class:`numpy.random.Generator`.
    replicates
        R ≥ 2.
    strata
        shape (N,) labels of a further stratum (e.g. site), or None.
    confidence_level
        two-sided level in (0, 1).
    interval
        ``"percentile"`` or ``"bca"``.

    Raises
    ------
    ValueError
        malformed inputs or options.

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], dtype=bool)
    >>> scores = np.array([0.1, 0.3, 0.35, 0.4, 0.8, 0.45, 0.6, 0.7, 0.9, 0.95])
    >>> from dxval.stats import bootstrap_binary_metric
    >>> options = dict(threshold=0.5, seed=7, replicates=500)
    >>> est = bootstrap_binary_metric(truth, scores, metric='sensitivity', **options)
    >>> round(est.estimate, 2), est.low <= est.estimate <= est.high
    (0.8, True)
    """
    truth_array = as_truth(truth)
    called = as_scores(scores, length=truth_array.shape[0]) >= float(threshold)
    level = check_confidence_level(confidence_level)
    chosen: BootstrapInterval = parse_choice(BootstrapInterval, interval, name="interval")
    name: BinaryMetricName = parse_choice(BinaryMetricName, metric, name="metric")
    count = _check_replicates(replicates)
    function, bounds = COUNT_METRICS[name]
    method = f"{name.value}, {bootstrap_method_label(chosen, count, seed)}"
    extra = strata_codes(strata, truth_array.shape[0])
    rng = np.random.default_rng(seed)
    called_counts = {True: np.zeros(count), False: np.zeros(count)}
    class_sizes = {True: 0, False: 0}
    for stratum in np.unique(extra):
        for label in (True, False):
            members = (extra == stratum) & (truth_array == label)
            size = int(np.count_nonzero(members))
            if size:
                called_rate = np.count_nonzero(called & members) / size
                called_counts[label] += rng.binomial(size, called_rate, count)
                class_sizes[label] += size
    tp, fp = called_counts[True], called_counts[False]
    fn, tn = class_sizes[True] - tp, class_sizes[False] - fp
    observed = np.array(
        [
            np.count_nonzero(called & truth_array),
            np.count_nonzero(called & ~truth_array),
            np.count_nonzero(~called & ~truth_array),
            np.count_nonzero(~called & truth_array),
        ],
        dtype=np.float64,
    )
    estimate = float(function(*(observed[[column]] for column in range(4)))[0])
    if np.isnan(estimate):
        return Estimate.undefined(
            f"{name.value} is undefined for these counts (zero denominator)",
            confidence_level=level,
            method=method,
            n=truth_array.shape[0],
        )
    jackknife = _counts_jackknife(function, observed) if chosen is BootstrapInterval.BCA else None
    return bootstrap_interval(
        function(tp, fp, tn, fn),
        estimate,
        confidence_level=level,
        interval=chosen,
        method=method,
        n=truth_array.shape[0],
        jackknife=jackknife,
        bounds=bounds,
    )
