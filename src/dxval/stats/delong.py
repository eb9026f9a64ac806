"""AUC (Mann-Whitney with midranks) and its DeLong variance, for one or two scores.

The structural components are computed by the fast algorithm of Sun & Xu
(2014) from three midrank vectors after a single sort, O(N log N). The
variance uses (m − 1) and (n − 1) denominators, as pROC does, so results
match ``pROC::ci.auc(method = "delong")`` and ``pROC::roc.test(method = "delong")``.

References:
    DeLong ER, DeLong DM, Clarke-Pearson DL (1988) Comparing the areas under
    two or more correlated receiver operating characteristic curves: a
    nonparametric approach. Biometrics 44:837-845.
    Sun X, Xu W (2014) Fast implementation of DeLong's algorithm for
    comparing the areas under correlated receiver operating characteristic
    curves. IEEE Signal Process Lett 21:1389-1393.
    Hanley JA, McNeil BJ (1982) The meaning and use of the area under a
    receiver operating characteristic (ROC) curve. Radiology 143:29-36.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from dxval.stats._arrays import (
    BoolArray,
    FloatArray,
    as_scores,
    as_truth,
    check_confidence_level,
    normal_cdf,
    parse_choice,
    two_sided_z,
)
from dxval.stats._resampling import sorted_classes
from dxval.stats.results import (
    Estimate,
    MarginHypothesis,
    MarginTest,
    Status,
    finite_or_none,
    interval_estimate,
    margin_decision,
)

DELONG_METHOD = "DeLong (Sun & Xu 2014)"


@dataclass(frozen=True, slots=True)
class StructuralComponents:
    """DeLong's placement values: V10 per positive case, V01 per negative case.

    AUC = mean(V10) = mean(V01); both arrays are in input case order.
    """

    auc: float
    positive: FloatArray
    negative: FloatArray


def sorted_midranks(sorted_values: FloatArray) -> FloatArray:
    """Midranks (1-based, ties averaged) of an ascending array, in that order."""
    size = sorted_values.shape[0]
    starts_group = np.empty(size, dtype=np.bool_)
    starts_group[:1] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=starts_group[1:])
    starts = np.flatnonzero(starts_group)
    ends = np.append(starts[1:], size)
    return np.repeat((starts + ends + 1) / 2.0, ends - starts)


def structural_components(
    truth: BoolArray, scores: FloatArray, *, case_order: bool = True
) -> StructuralComponents:
    """DeLong structural components by Sun & Xu's midrank algorithm.

    V10ᵢ = (Tzᵢ − Txᵢ)/n for positive i and V01ⱼ = 1 − (Tzⱼ − Tyⱼ)/m for
    negative j, where Tz, Tx, Ty are midranks among all, positive and negative
    cases. One sort serves all three rankings.

    Parameters
    ----------
    truth
        shape (N,), booleans with m ≥ 1 positives and n ≥ 1 negatives.
    scores
        shape (N,), finite floats.
    case_order
        return V10/V01 in input case order (needed to pair two
        scores); False leaves them in score order, which is cheaper.

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], dtype=bool)
    >>> scores = np.array([0.1, 0.3, 0.35, 0.4, 0.8, 0.45, 0.6, 0.7, 0.9, 0.95])
    >>> from dxval.stats import structural_components
    >>> components = structural_components(truth, scores)
    >>> round(components.auc, 2), components.positive.round(2).tolist()
    (0.88, [0.8, 0.8, 0.8, 1.0, 1.0])
    """
    order = np.argsort(scores)
    sorted_scores = scores[order]
    sorted_truth = truth[order]
    combined = sorted_midranks(sorted_scores)
    positive_scores = sorted_scores[sorted_truth]
    negative_scores = sorted_scores[~sorted_truth]
    m, n = positive_scores.shape[0], negative_scores.shape[0]
    positive_ranks = combined[sorted_truth]
    positive = (positive_ranks - sorted_midranks(positive_scores)) / n
    negative = 1.0 - (combined[~sorted_truth] - sorted_midranks(negative_scores)) / m
    auc = (positive_ranks.sum() - m * (m + 1) / 2.0) / (m * n)
    if case_order:
        positive = _to_case_order(positive, order[sorted_truth], truth)
        negative = _to_case_order(negative, order[~sorted_truth], ~truth)
    return StructuralComponents(auc=float(auc), positive=positive, negative=negative)


def _to_case_order(values: FloatArray, case_indices: Any, members: BoolArray) -> FloatArray:
    """Reorder per-class values (given in score order) into input case order."""
    position_in_class = np.cumsum(members) - 1
    result = np.empty_like(values)
    result[position_in_class[case_indices]] = values
    return result


def _class_sizes_reason(truth: BoolArray) -> str | None:
    """Why an AUC cannot be computed, or None if both classes are present."""
    if not truth.any():
        return "no positive cases: the AUC needs both classes"
    if truth.all():
        return "no negative cases: the AUC needs both classes"
    return None


def _variance_reason(truth: BoolArray) -> str | None:
    """Why a DeLong variance cannot be computed (fewer than 2 cases in a class)."""
    positives = int(np.count_nonzero(truth))
    if positives < 2 or truth.shape[0] - positives < 2:
        return "the DeLong variance needs at least 2 positive and 2 negative cases"
    return None


def delong_covariance(components: list[StructuralComponents]) -> FloatArray:
    """DeLong covariance matrix of the AUCs of K scores on the same cases.

    S = S10/m + S01/n with S10, S01 the sample covariance matrices (ddof 1)
    of the V10 and V01 vectors; shape (K, K).
    """
    positive = np.vstack([component.positive for component in components])
    negative = np.vstack([component.negative for component in components])
    s10 = np.atleast_2d(np.cov(positive, ddof=1))
    s01 = np.atleast_2d(np.cov(negative, ddof=1))
    return np.asarray(s10 / positive.shape[1] + s01 / negative.shape[1], dtype=np.float64)


def auc_delong(
    truth: ArrayLike,
    scores: ArrayLike,
    *,
    confidence_level: float = 0.95,
    sorted_scores: tuple[FloatArray, FloatArray] | None = None,
) -> Estimate:
    """AUC with its DeLong variance and Wald interval clipped to [0, 1].

    AUC is the Mann-Whitney statistic with midranks (ties count one half),
    i.e. P(score₊ > score₋) + ½ P(score₊ = score₋), for positive calls made at
    score ≥ threshold (pROC ``direction = "<"``).

    Parameters
    ----------
    truth
        shape (N,), booleans (True = positive).
    scores
        shape (N,), finite floats (higher = more likely positive).
    confidence_level
        two-sided level in (0, 1).
    sorted_scores
        the positive and the negative scores, each ascending, as
        ``sorted_classes(truth, scores)`` gives them: a caller that sorted
        all cases once passes each subset's (same values, so the same result).

    Returns
    -------
    Estimate
        Estimate with ``variance`` set; undefined (with reason) when a class
        is empty, a class has a single case, or the variance is zero (perfect
        separation, or all scores tied).

    Raises
    ------
    ValueError
        malformed inputs or a level outside (0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], dtype=bool)
    >>> scores = np.array([0.1, 0.3, 0.35, 0.4, 0.8, 0.45, 0.6, 0.7, 0.9, 0.95])
    >>> from dxval.stats import auc_delong
    >>> auc = auc_delong(truth, scores)
    >>> round(auc.estimate, 2), round(auc.low, 4), round(auc.high, 4)
    (0.88, 0.626, 1.0)
    >>> auc.method
    'DeLong (Sun & Xu 2014)'
    """
    truth_array = as_truth(truth)
    score_array = as_scores(scores, length=truth_array.shape[0])
    level = check_confidence_level(confidence_level)
    size = truth_array.shape[0]
    reason = _class_sizes_reason(truth_array)
    if reason is not None:
        return Estimate.undefined(reason, confidence_level=level, method=DELONG_METHOD, n=size)
    auc, positive, negative = _placements(truth_array, score_array, sorted_scores)
    reason = _variance_reason(truth_array)
    if reason is not None:
        return Estimate.undefined(
            reason, confidence_level=level, method=DELONG_METHOD, n=size, estimate=auc
        )
    variance = float(
        np.var(positive, ddof=1) / positive.shape[0] + np.var(negative, ddof=1) / negative.shape[0]
    )
    return _wald_auc(auc, variance, confidence_level=level, n=size)


def _placements(
    truth: BoolArray,
    scores: FloatArray,
    sorted_scores: tuple[FloatArray, FloatArray] | None = None,
) -> tuple[float, FloatArray, FloatArray]:
    """AUC and the structural components V10, V01 (score order) from two sorts.

    V10ᵢ = (negatives below + ½ negatives tied)/n for positive i, V01ⱼ =
    (positives above + ½ positives tied)/m for negative j: the same vectors as
    :func:`structural_components` (Sun & Xu's midranks), counted by binary
    search in the other class's sorted scores; the AUC from integer counts.
    """
    positive_scores, negative_scores = sorted_scores or sorted_classes(truth, scores)
    m, n = positive_scores.shape[0], negative_scores.shape[0]
    twice_below = np.searchsorted(negative_scores, positive_scores, side="left")
    twice_below += np.searchsorted(negative_scores, positive_scores, side="right")
    twice_above = np.searchsorted(positive_scores, negative_scores, side="left")
    twice_above += np.searchsorted(positive_scores, negative_scores, side="right")
    auc = float(twice_below.sum()) / (2.0 * m * n)  # integer sum: exact below 2^53
    return auc, twice_below / (2.0 * n), (2 * m - twice_above) / (2.0 * m)


def _wald_auc(auc: float, variance: float, *, confidence_level: float, n: int) -> Estimate:
    """Wald interval for an AUC; zero variance is a status, not a zero-width interval."""
    if not variance > 0.0:
        return Estimate.undefined(
            "zero DeLong variance (perfect separation or all scores tied): "
            "no interval can be computed",
            confidence_level=confidence_level,
            method=DELONG_METHOD,
            n=n,
            estimate=auc,
            variance=variance,
        )
    half_width = two_sided_z(confidence_level) * math.sqrt(variance)
    return interval_estimate(
        auc,
        auc - half_width,
        auc + half_width,
        confidence_level=confidence_level,
        method=DELONG_METHOD,
        n=n,
        variance=variance,
    )


@dataclass(frozen=True, slots=True)
class AucComparison:
    """Two AUCs compared by DeLong's test: Z, two-sided p and the CI of AUC1 − AUC2."""

    auc1: Estimate
    auc2: Estimate
    difference: Estimate
    z: float | None
    p_value: float | None
    method: str
    status: Status
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "auc1": self.auc1.to_dict(),
            "auc2": self.auc2.to_dict(),
            "difference": self.difference.to_dict(),
            "z": finite_or_none(self.z),
            "p_value": finite_or_none(self.p_value),
            "method": self.method,
            "status": self.status.value,
            "reason": self.reason,
        }


def _compare(
    auc1: Estimate,
    auc2: Estimate,
    variance: float,
    *,
    confidence_level: float,
    method: str,
    n: int,
) -> AucComparison:
    """Z test and Wald CI of AUC1 − AUC2 with the given variance of the difference."""
    difference = (auc1.estimate or 0.0) - (auc2.estimate or 0.0)  # both exist: callers check
    if not variance > 0.0:
        reason = "zero variance of the AUC difference: no test or interval can be computed"
        estimate = Estimate.undefined(
            reason, confidence_level=confidence_level, method=method, n=n, estimate=difference
        )
        return AucComparison(auc1, auc2, estimate, None, None, method, Status.UNDEFINED, reason)
    sd = math.sqrt(variance)
    half_width = two_sided_z(confidence_level) * sd
    z = difference / sd
    estimate = interval_estimate(
        difference,
        difference - half_width,
        difference + half_width,
        confidence_level=confidence_level,
        method=method,
        n=n,
        bounds=(-1.0, 1.0),
        variance=variance,
    )
    p_value = 2.0 * normal_cdf(-abs(z))
    return AucComparison(auc1, auc2, estimate, z, p_value, method, Status.OK)


def _undefined_comparison(
    reason: str, *, confidence_level: float, method: str, n: int, auc1: Estimate, auc2: Estimate
) -> AucComparison:
    difference = Estimate.undefined(reason, confidence_level=confidence_level, method=method, n=n)
    return AucComparison(auc1, auc2, difference, None, None, method, Status.UNDEFINED, reason)


def delong_paired_test(
    truth: ArrayLike,
    scores1: ArrayLike,
    scores2: ArrayLike,
    *,
    confidence_level: float = 0.95,
) -> AucComparison:
    """DeLong's test of two correlated AUCs (two scores on the same cases).

    z = (AUC1 − AUC2)/√(Var1 + Var2 − 2 Cov); two-sided p = 2Φ(−|z|); the
    CI of the difference is diff ± z₍₁₋α/₂₎·sd, as ``pROC::roc.test(paired =
    TRUE, method = "delong")`` (DeLong et al. 1988; Sun & Xu 2014).

    Parameters
    ----------
    truth
        shape (N,), booleans.
    scores1, scores2
        shape (N,) each, finite floats for the same cases.
    confidence_level
        two-sided level for the CI of the difference.

    Raises
    ------
    ValueError
        malformed inputs or a level outside (0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], dtype=bool)
    >>> scores = np.array([0.1, 0.3, 0.35, 0.4, 0.8, 0.45, 0.6, 0.7, 0.9, 0.95])
    >>> other = np.array([0.2, 0.1, 0.5, 0.3, 0.6, 0.7, 0.4, 0.8, 0.85, 0.9])
    >>> from dxval.stats import delong_paired_test
    >>> result = delong_paired_test(truth, scores, other)
    >>> round(result.auc1.estimate, 2), round(result.auc2.estimate, 2), round(result.p_value, 4)
    (0.88, 0.92, 0.7456)
    """
    truth_array = as_truth(truth)
    size = truth_array.shape[0]
    first = as_scores(scores1, length=size, name="scores1")
    second = as_scores(scores2, length=size, name="scores2")
    level = check_confidence_level(confidence_level)
    method = f"{DELONG_METHOD}, paired"
    auc1 = auc_delong(truth_array, first, confidence_level=level)
    auc2 = auc_delong(truth_array, second, confidence_level=level)
    reason = _class_sizes_reason(truth_array) or _variance_reason(truth_array)
    if reason is not None:
        return _undefined_comparison(
            reason, confidence_level=level, method=method, n=size, auc1=auc1, auc2=auc2
        )
    components = [structural_components(truth_array, scores) for scores in (first, second)]
    covariance = delong_covariance(components)
    variance = float(covariance[0, 0] + covariance[1, 1] - 2.0 * covariance[0, 1])
    return _compare(auc1, auc2, variance, confidence_level=level, method=method, n=size)


def delong_unpaired_test(
    truth1: ArrayLike,
    scores1: ArrayLike,
    truth2: ArrayLike,
    scores2: ArrayLike,
    *,
    confidence_level: float = 0.95,
) -> AucComparison:
    """Compare two AUCs from independent case sets: z = (AUC1 − AUC2)/√(Var1 + Var2).

    As ``pROC::roc.test(paired = FALSE, method = "delong")`` (DeLong et al. 1988).

    Raises
    ------
    ValueError
        malformed inputs or a level outside (0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], dtype=bool)
    >>> scores = np.array([0.1, 0.3, 0.35, 0.4, 0.8, 0.45, 0.6, 0.7, 0.9, 0.95])
    >>> other = np.array([0.2, 0.1, 0.5, 0.3, 0.6, 0.7, 0.4, 0.8, 0.85, 0.9])
    >>> from dxval.stats import delong_unpaired_test
    >>> result = delong_unpaired_test(truth, scores, truth, other)
    >>> round(result.difference.estimate, 2), round(result.p_value, 4)
    (-0.04, 0.8026)
    """
    level = check_confidence_level(confidence_level)
    method = f"{DELONG_METHOD}, unpaired"
    auc1 = auc_delong(truth1, scores1, confidence_level=level)
    auc2 = auc_delong(truth2, scores2, confidence_level=level)
    size = auc1.n + auc2.n
    if auc1.variance is None or auc2.variance is None:
        return _undefined_comparison(
            auc1.reason or auc2.reason or "undefined AUC",
            confidence_level=level,
            method=method,
            n=size,
            auc1=auc1,
            auc2=auc2,
        )
    return _compare(
        auc1, auc2, auc1.variance + auc2.variance, confidence_level=level, method=method, n=size
    )


def auc_margin_test(
    truth: ArrayLike,
    scores_new: ArrayLike,
    scores_reference: ArrayLike,
    *,
    margin: float,
    hypothesis: MarginHypothesis | str = MarginHypothesis.NON_INFERIORITY,
    confidence_level: float = 0.95,
) -> MarginTest:
    """Non-inferiority or superiority of ΔAUC = AUC_new − AUC_reference against a margin.

    Uses the paired DeLong variance. Non-inferiority: H0 Δ ≤ −margin,
    z = (Δ + margin)/sd; superiority: H0 Δ ≤ margin, z = (Δ − margin)/sd;
    one-sided p = Φ(−z). The claim is supported when the lower bound of the
    two-sided ``confidence_level`` interval clears the margin (equivalently
    p < (1 − CL)/2), the convention of FDA's guidance on non-inferiority trials.

    Parameters
    ----------
    truth
        shape (N,), booleans.
    scores_new, scores_reference
        shape (N,) each, scores on the same cases.
    margin
        non-negative margin δ on the AUC scale.
    hypothesis
        :class:`MarginHypothesis` value.
    confidence_level
        two-sided level in (0, 1).

    Raises
    ------
    ValueError
        malformed inputs, a negative margin, an unknown hypothesis.

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], dtype=bool)
    >>> scores = np.array([0.1, 0.3, 0.35, 0.4, 0.8, 0.45, 0.6, 0.7, 0.9, 0.95])
    >>> other = np.array([0.2, 0.1, 0.5, 0.3, 0.6, 0.7, 0.4, 0.8, 0.85, 0.9])
    >>> from dxval.stats import auc_margin_test
    >>> result = auc_margin_test(truth, scores, other, margin=0.1)
    >>> round(result.difference.estimate, 2), result.claim_supported
    (-0.04, False)
    """
    chosen: MarginHypothesis = parse_choice(MarginHypothesis, hypothesis, name="hypothesis")
    if not margin >= 0.0:
        raise ValueError(f"margin: expected a non-negative number, got {margin}")
    comparison = delong_paired_test(
        truth, scores_new, scores_reference, confidence_level=confidence_level
    )
    difference = comparison.difference
    method = f"{comparison.method}, {chosen.value} margin {margin:g}"
    if difference.estimate is None or difference.variance is None or difference.low is None:
        return MarginTest(
            difference, margin, chosen, None, method, Status.UNDEFINED, reason=comparison.reason
        )
    shift = margin if chosen is MarginHypothesis.NON_INFERIORITY else -margin
    statistic = (difference.estimate + shift) / math.sqrt(difference.variance)
    return MarginTest(
        difference,
        margin,
        chosen,
        margin_decision(difference, margin=margin, hypothesis=chosen),
        method,
        Status.OK,
        statistic=statistic,
        p_value=normal_cdf(-statistic),
    )
