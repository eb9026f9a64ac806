"""Agreement of repeated measurements: ICCs, Bland–Altman limits, within-subject SD, kappa.

Precision studies (repeatability: the same subject scored again under the
same conditions; reproducibility: across sites, devices or readers) report
how far repeated scores of one subject agree (FDA draft guidance on
AI-enabled device software functions, 2025, Appendix C). Inputs are a
complete ``ratings`` matrix of shape (n_subjects, n_raters): one row per
subject (patient, lesion, repeat group), one column per rater (reader,
device, acquisition), every cell a finite score.

Implemented:

* ICC(1,1), ICC(2,1), ICC(3,1) of Shrout & Fleiss (1979), with the F-based
  confidence intervals of Shrout & Fleiss (1979, eqs. 6-8) and McGraw & Wong
  (1996, Table 7), the same numbers as R's ``psych::ICC`` and ``irr::icc``;
* the Bland–Altman mean difference and limits of agreement of two raters with
  their approximate confidence intervals (Bland & Altman 1986, 1999);
* the within-subject standard deviation (Bland & Altman 1996);
* Fleiss' kappa of categorical decisions (Fleiss 1971) with a subject-level
  bootstrap percentile interval, and the fraction of subjects whose decisions
  all agree (Wilson interval).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from dxval.stats.proportion import ProportionMethod, proportion_ci
from dxval.stats.results import Estimate, Status, interval_estimate

__all__ = [
    "AnovaMeanSquares",
    "BlandAltman",
    "IccResults",
    "all_agree_fraction",
    "anova_mean_squares",
    "bland_altman",
    "fleiss_kappa",
    "icc",
    "within_subject_sd",
]

ICC1_METHOD = "ICC(1,1) one-way random, single rater (Shrout & Fleiss 1979), F interval"
ICC2_METHOD = (
    "ICC(2,1) two-way random, absolute agreement, single rater (Shrout & Fleiss 1979), "
    "F interval with Satterthwaite df (McGraw & Wong 1996)"
)
ICC3_METHOD = "ICC(3,1) two-way mixed, consistency, single rater (Shrout & Fleiss 1979), F interval"
BIAS_METHOD = "Bland-Altman mean difference (rater 2 - rater 1), t interval"
LIMITS_METHOD = "Bland-Altman 95% limits of agreement, approximate t interval (Bland & Altman 1999)"
WITHIN_SD_METHOD = "within-subject SD sqrt(MSW) (Bland & Altman 1996), chi-square interval"
KAPPA_METHOD = "Fleiss kappa (Fleiss 1971), subject bootstrap percentile interval"
ALL_AGREE_METHOD = "fraction of subjects whose decisions all agree"


def _check_level(confidence_level: float) -> None:
    if not 0.0 < confidence_level < 1.0:
        raise ValueError(f"confidence_level: got {confidence_level}, expected a number in (0, 1)")


def _as_ratings(ratings: npt.ArrayLike) -> npt.NDArray[np.float64]:
    matrix = np.asarray(ratings, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"ratings: got {matrix.ndim} dimensions, expected (subjects, raters)")
    if not np.all(np.isfinite(matrix)):
        raise ValueError("ratings: got a missing or non-finite score, expected a complete matrix")
    return matrix


@dataclass(frozen=True, slots=True)
class AnovaMeanSquares:
    """Mean squares of the two-way ANOVA of a complete ratings matrix (Shrout & Fleiss 1979).

    ``between_subjects`` is BMS, ``within_subjects`` WMS (one-way residual),
    ``between_raters`` JMS and ``residual`` EMS (two-way residual), with
    ``n_subjects`` (n) and ``n_raters`` (k).
    """

    between_subjects: float
    within_subjects: float
    between_raters: float
    residual: float
    n_subjects: int
    n_raters: int


def anova_mean_squares(ratings: npt.ArrayLike) -> AnovaMeanSquares:
    """Return BMS, WMS, JMS and EMS of a complete (n_subjects, n_raters) matrix.

    Parameters
    ----------
    ratings : array_like, shape (n_subjects, n_raters)
        One finite score per subject and rater; n_subjects >= 2, n_raters >= 2.

    Raises
    ------
    ValueError
        Not two-dimensional, a non-finite cell, or fewer than 2 subjects or raters.

    Examples
    --------
    >>> squares = anova_mean_squares([[1.0, 2.0], [3.0, 5.0]])
    >>> round(squares.between_subjects, 6), round(squares.residual, 6)
    (6.25, 0.25)
    """
    matrix = _as_ratings(ratings)
    n_subjects, n_raters = matrix.shape
    if n_subjects < 2 or n_raters < 2:
        raise ValueError(
            f"ratings: got {n_subjects} subjects and {n_raters} raters, expected at least 2 of each"
        )
    grand = matrix.mean()
    subject_means = matrix.mean(axis=1)
    rater_means = matrix.mean(axis=0)
    total = float(((matrix - grand) ** 2).sum())
    subjects = n_raters * float(((subject_means - grand) ** 2).sum())
    raters = n_subjects * float(((rater_means - grand) ** 2).sum())
    residual = total - subjects - raters
    return AnovaMeanSquares(
        between_subjects=subjects / (n_subjects - 1),
        within_subjects=(total - subjects) / (n_subjects * (n_raters - 1)),
        between_raters=raters / (n_raters - 1),
        residual=max(residual, 0.0) / ((n_subjects - 1) * (n_raters - 1)),
        n_subjects=n_subjects,
        n_raters=n_raters,
    )


@dataclass(frozen=True, slots=True)
class IccResults:
    """ICC(1,1), ICC(2,1) and ICC(3,1) of one ratings matrix, with the mean squares."""

    icc1_1: Estimate
    icc2_1: Estimate
    icc3_1: Estimate
    mean_squares: AnovaMeanSquares

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict keyed ``icc1_1``, ``icc2_1``, ``icc3_1``."""
        return {
            "icc1_1": self.icc1_1.to_dict(),
            "icc2_1": self.icc2_1.to_dict(),
            "icc3_1": self.icc3_1.to_dict(),
        }


def _f_quantile(confidence_level: float, numerator: float, denominator: float) -> float:
    from scipy import stats as scipy_stats  # here: importing scipy.stats takes ~1 s

    return float(scipy_stats.f.ppf(1.0 - (1.0 - confidence_level) / 2.0, numerator, denominator))


def _icc1(squares: AnovaMeanSquares, confidence_level: float) -> Estimate:
    n, k = squares.n_subjects, squares.n_raters
    bms, wms = squares.between_subjects, squares.within_subjects
    if wms == 0.0:
        return Estimate.undefined(
            "every subject's scores are identical (within-subject mean square 0)",
            confidence_level=confidence_level,
            method=ICC1_METHOD,
            n=n,
        )
    estimate = (bms - wms) / (bms + (k - 1) * wms)
    statistic = bms / wms
    low_f = statistic / _f_quantile(confidence_level, n - 1, n * (k - 1))
    high_f = statistic * _f_quantile(confidence_level, n * (k - 1), n - 1)
    return interval_estimate(
        estimate,
        (low_f - 1) / (low_f + k - 1),
        (high_f - 1) / (high_f + k - 1),
        confidence_level=confidence_level,
        method=ICC1_METHOD,
        n=n,
        bounds=(-math.inf, math.inf),
    )


def _icc3(squares: AnovaMeanSquares, confidence_level: float) -> Estimate:
    n, k = squares.n_subjects, squares.n_raters
    bms, ems = squares.between_subjects, squares.residual
    if ems == 0.0:
        return Estimate.undefined(
            "no subject-by-rater residual variation (residual mean square 0)",
            confidence_level=confidence_level,
            method=ICC3_METHOD,
            n=n,
        )
    estimate = (bms - ems) / (bms + (k - 1) * ems)
    statistic = bms / ems
    low_f = statistic / _f_quantile(confidence_level, n - 1, (n - 1) * (k - 1))
    high_f = statistic * _f_quantile(confidence_level, (n - 1) * (k - 1), n - 1)
    return interval_estimate(
        estimate,
        (low_f - 1) / (low_f + k - 1),
        (high_f - 1) / (high_f + k - 1),
        confidence_level=confidence_level,
        method=ICC3_METHOD,
        n=n,
        bounds=(-math.inf, math.inf),
    )


def _icc2(squares: AnovaMeanSquares, confidence_level: float) -> Estimate:
    n, k = squares.n_subjects, squares.n_raters
    bms, jms, ems = squares.between_subjects, squares.between_raters, squares.residual
    if ems == 0.0:
        return Estimate.undefined(
            "no subject-by-rater residual variation (residual mean square 0)",
            confidence_level=confidence_level,
            method=ICC2_METHOD,
            n=n,
        )
    estimate = (bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n)
    rater_f = jms / ems
    # Satterthwaite degrees of freedom of the denominator (Shrout & Fleiss 1979, eq. 8).
    shifted = n * (1 + (k - 1) * estimate) - k * estimate
    df_numerator = (k - 1) * (n - 1) * (k * estimate * rater_f + shifted) ** 2
    df_denominator = (n - 1) * k**2 * estimate**2 * rater_f**2 + shifted**2
    if df_denominator <= 0.0 or df_numerator <= 0.0:
        return Estimate.undefined(
            "the Satterthwaite degrees of freedom of the interval are not positive",
            confidence_level=confidence_level,
            method=ICC2_METHOD,
            n=n,
            estimate=estimate,
        )
    satterthwaite = df_numerator / df_denominator
    upper_f = _f_quantile(confidence_level, n - 1, satterthwaite)
    lower_f = _f_quantile(confidence_level, satterthwaite, n - 1)
    spread = k * jms + (k * n - k - n) * ems
    low = n * (bms - upper_f * ems) / (upper_f * spread + n * bms)
    high = n * (lower_f * bms - ems) / (spread + n * lower_f * bms)
    return interval_estimate(
        estimate,
        low,
        high,
        confidence_level=confidence_level,
        method=ICC2_METHOD,
        n=n,
        bounds=(-math.inf, math.inf),
    )


def icc(ratings: npt.ArrayLike, *, confidence_level: float = 0.95) -> IccResults:
    """Intraclass correlations ICC(1,1), ICC(2,1), ICC(3,1) with F-based intervals.

    ICC(1,1) = (BMS − WMS) / (BMS + (k−1)WMS); ICC(2,1) = (BMS − EMS) /
    (BMS + (k−1)EMS + k(JMS − EMS)/n); ICC(3,1) = (BMS − EMS) / (BMS +
    (k−1)EMS) (Shrout & Fleiss 1979, Table 3). Intervals: Shrout & Fleiss
    (1979) eqs. 6-8, McGraw & Wong (1996) Table 7 (cases 1, 2A, 3A); these
    are the single-rater rows of R's ``psych::ICC`` (and ``irr::icc`` with
    ``unit = "single"``).

    Parameters
    ----------
    ratings : array_like, shape (n_subjects, n_raters)
        Complete matrix of finite scores, at least 2 subjects and 2 raters.
    confidence_level : float
        Two-sided level in (0, 1).

    Returns
    -------
    IccResults
        Each ICC is an :class:`~dxval.stats.results.Estimate` with ``n`` the
        number of subjects; undefined (with a reason) when its error mean
        square is 0.

    Raises
    ------
    ValueError
        As :func:`anova_mean_squares`, or a confidence level outside (0, 1).

    Examples
    --------
    >>> ratings = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8],
    ...            [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    >>> result = icc(ratings)
    >>> round(result.icc1_1.estimate, 2), round(result.icc2_1.estimate, 2)
    (0.17, 0.29)
    >>> round(result.icc3_1.estimate, 2), round(result.icc3_1.low, 3)
    (0.71, 0.342)
    """
    _check_level(confidence_level)
    squares = anova_mean_squares(ratings)
    return IccResults(
        icc1_1=_icc1(squares, confidence_level),
        icc2_1=_icc2(squares, confidence_level),
        icc3_1=_icc3(squares, confidence_level),
        mean_squares=squares,
    )


@dataclass(frozen=True, slots=True)
class BlandAltman:
    """Bland–Altman agreement of two raters: mean difference and limits of agreement.

    Differences are rater 2 − rater 1 (second column minus first). The limits
    are mean ± z·SD with z the normal quantile of ``limits_level``; each of the
    three carries its own confidence interval at ``confidence_level``.
    """

    mean_difference: Estimate
    lower_limit: Estimate
    upper_limit: Estimate
    sd_difference: float
    limits_level: float

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "mean_difference": self.mean_difference.to_dict(),
            "lower_limit": self.lower_limit.to_dict(),
            "upper_limit": self.upper_limit.to_dict(),
            "sd_difference": self.sd_difference,
            "limits_level": self.limits_level,
        }


def bland_altman(
    ratings: npt.ArrayLike, *, confidence_level: float = 0.95, limits_level: float = 0.95
) -> BlandAltman:
    """Mean difference and limits of agreement of two raters (Bland & Altman 1986, 1999).

    With d the per-subject differences (column 2 − column 1), mean d̄ and SD s:
    limits d̄ ± z·s, z = Φ⁻¹((1 + limits_level)/2). Intervals use t on n − 1
    degrees of freedom with standard errors s/√n for d̄ and the approximation
    s·√(1/n + z²/(2(n−1))) for each limit (Bland & Altman 1999, §4.2).

    Parameters
    ----------
    ratings : array_like, shape (n_subjects, 2)
        Complete, finite; at least 2 subjects.
    confidence_level, limits_level : float
        Two-sided levels in (0, 1).

    Raises
    ------
    ValueError
        Not exactly 2 raters, or as :func:`anova_mean_squares`.

    Examples
    --------
    >>> result = bland_altman([[1.0, 1.5], [2.0, 2.0], [3.0, 3.1], [4.0, 4.6]])
    >>> round(result.mean_difference.estimate, 3)
    0.3
    """
    _check_level(confidence_level)
    _check_level(limits_level)
    matrix = _as_ratings(ratings)
    if matrix.shape[1] != 2 or matrix.shape[0] < 2:
        raise ValueError(
            f"ratings: got shape {matrix.shape}, expected (n_subjects >= 2, 2) for Bland-Altman"
        )
    differences = matrix[:, 1] - matrix[:, 0]
    n = differences.size
    mean = float(differences.mean())
    sd = float(differences.std(ddof=1))
    from scipy import stats as scipy_stats

    z = float(scipy_stats.norm.ppf((1 + limits_level) / 2))
    limits = (mean - z * sd, mean + z * sd)
    if sd == 0.0:
        reason = "every difference is the same (SD 0): no interval"
        bias = Estimate.undefined(
            reason, confidence_level=confidence_level, method=BIAS_METHOD, n=n, estimate=mean
        )
        lower, upper = (
            Estimate.undefined(
                reason, confidence_level=confidence_level, method=LIMITS_METHOD, n=n, estimate=limit
            )
            for limit in limits
        )
        return BlandAltman(bias, lower, upper, sd, limits_level)
    t = float(scipy_stats.t.ppf((1 + confidence_level) / 2, n - 1))
    bias_error = sd / math.sqrt(n)
    limit_error = sd * math.sqrt(1 / n + z**2 / (2 * (n - 1)))
    unbounded = (-math.inf, math.inf)
    bias = interval_estimate(
        mean,
        mean - t * bias_error,
        mean + t * bias_error,
        confidence_level=confidence_level,
        method=BIAS_METHOD,
        n=n,
        bounds=unbounded,
    )
    lower, upper = (
        interval_estimate(
            limit,
            limit - t * limit_error,
            limit + t * limit_error,
            confidence_level=confidence_level,
            method=LIMITS_METHOD.replace("95%", f"{limits_level:.0%}"),
            n=n,
            bounds=unbounded,
        )
        for limit in limits
    )
    return BlandAltman(bias, lower, upper, sd, limits_level)


def within_subject_sd(ratings: npt.ArrayLike, *, confidence_level: float = 0.95) -> Estimate:
    """Within-subject standard deviation sqrt(WMS) with a chi-square interval.

    WMS is the mean of the per-subject variances (Bland & Altman 1996, "Measurement
    error", BMJ 313:744), on n(k − 1) degrees of freedom; the interval is
    sqrt(df·WMS / χ²) at the two tail quantiles.

    Parameters
    ----------
    ratings : array_like, shape (n_subjects, n_raters)
        Complete, finite; at least 2 subjects and 2 repeats.

    Raises
    ------
    ValueError
        As :func:`anova_mean_squares`.

    Examples
    --------
    >>> round(within_subject_sd([[1.0, 3.0], [2.0, 2.0]]).estimate, 6)
    1.0
    """
    _check_level(confidence_level)
    squares = anova_mean_squares(ratings)
    degrees = squares.n_subjects * (squares.n_raters - 1)
    variance = squares.within_subjects
    estimate = math.sqrt(variance)
    if variance == 0.0:
        return Estimate.undefined(
            "every subject's scores are identical (within-subject SD 0): no interval",
            confidence_level=confidence_level,
            method=WITHIN_SD_METHOD,
            n=squares.n_subjects,
            estimate=0.0,
        )
    tail = (1 - confidence_level) / 2
    from scipy import stats as scipy_stats

    low = math.sqrt(degrees * variance / float(scipy_stats.chi2.ppf(1 - tail, degrees)))
    high = math.sqrt(degrees * variance / float(scipy_stats.chi2.ppf(tail, degrees)))
    return interval_estimate(
        estimate,
        low,
        high,
        confidence_level=confidence_level,
        method=WITHIN_SD_METHOD,
        n=squares.n_subjects,
        bounds=(0.0, math.inf),
    )


def _category_counts(decisions: npt.ArrayLike) -> npt.NDArray[np.float64]:
    matrix = np.asarray(decisions)
    if matrix.ndim != 2 or matrix.shape[0] < 2 or matrix.shape[1] < 2:
        raise ValueError(
            f"decisions: got shape {matrix.shape}, expected (n_subjects >= 2, n_raters >= 2)"
        )
    _, codes = np.unique(matrix, return_inverse=True)
    codes = codes.reshape(matrix.shape)
    categories = int(codes.max()) + 1
    counts = np.zeros((matrix.shape[0], max(categories, 2)))
    for category in range(categories):
        counts[:, category] = (codes == category).sum(axis=1)
    return counts


def _kappa_of_counts(counts: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Fleiss' kappa of one or many (…, subjects, categories) count tables."""
    raters = counts.sum(axis=-1)[..., :1]
    subjects = counts.shape[-2]
    observed = ((counts * (counts - 1)).sum(axis=-1) / (raters * (raters - 1))).mean(axis=-1)
    shares = counts.sum(axis=-2) / (subjects * raters)
    expected = (shares**2).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray((observed - expected) / (1 - expected))


def fleiss_kappa(
    decisions: npt.ArrayLike,
    *,
    confidence_level: float = 0.95,
    replicates: int = 2000,
    seed: int = 20260101,
) -> Estimate:
    """Fleiss' kappa of categorical decisions, with a subject bootstrap percentile interval.

    κ = (P̄ − P̄e) / (1 − P̄e), P̄ the mean pairwise agreement per subject and
    P̄e the chance agreement from the pooled category shares (Fleiss 1971,
    Psychol. Bull. 76:378). Fleiss' large-sample variance holds only under
    κ = 0, so the interval resamples subjects (``replicates`` draws, ``seed``).

    Parameters
    ----------
    decisions : array_like, shape (n_subjects, n_raters)
        One category per subject and rater (booleans, integers or strings).

    Returns
    -------
    Estimate
        Undefined when every decision falls in one category (P̄e = 1).

    Raises
    ------
    ValueError
        Fewer than 2 subjects or raters, or a confidence level outside (0, 1).

    Examples
    --------
    >>> decisions = [[1, 1, 1], [0, 0, 0], [1, 0, 1], [0, 0, 1]]
    >>> round(fleiss_kappa(decisions).estimate, 4)
    0.3333
    """
    _check_level(confidence_level)
    counts = _category_counts(decisions)
    n = counts.shape[0]
    method = KAPPA_METHOD + f" ({replicates} replicates, seed {seed})"
    estimate = float(_kappa_of_counts(counts))
    if not math.isfinite(estimate):
        return Estimate.undefined(
            "every decision falls in one category: chance agreement is 1",
            confidence_level=confidence_level,
            method=method,
            n=n,
        )
    rng = np.random.default_rng(seed)
    draws = _kappa_of_counts(counts[rng.integers(0, n, size=(replicates, n))])
    finite = draws[np.isfinite(draws)]
    if finite.size < replicates:
        return Estimate.undefined(
            f"{replicates - finite.size} of {replicates} resamples had all decisions in one "
            "category: no bootstrap interval",
            confidence_level=confidence_level,
            method=method,
            n=n,
            estimate=estimate,
        )
    tail = (1 - confidence_level) / 2
    low, high = np.quantile(finite, [tail, 1 - tail])
    return interval_estimate(
        estimate,
        float(low),
        float(high),
        confidence_level=confidence_level,
        method=method,
        n=n,
        bounds=(-1.0, 1.0),
    )


def all_agree_fraction(
    decisions: npt.ArrayLike,
    *,
    confidence_level: float = 0.95,
    method: ProportionMethod = ProportionMethod.WILSON,
) -> Estimate:
    """Fraction of subjects whose decisions (rows) all agree, with a proportion interval.

    Parameters
    ----------
    decisions : array_like, shape (n_subjects, n_raters)
        One category per subject and rater.

    Examples
    --------
    >>> all_agree_fraction([[1, 1], [0, 1], [0, 0], [1, 1]]).estimate
    0.75
    """
    matrix = np.asarray(decisions)
    if matrix.ndim != 2 or matrix.shape[1] < 2:
        raise ValueError(f"decisions: got shape {matrix.shape}, expected (n_subjects, >= 2)")
    agreeing = int(np.all(matrix == matrix[:, :1], axis=1).sum())
    result = proportion_ci(
        agreeing, matrix.shape[0], confidence_level=confidence_level, method=method
    )
    if result.status is not Status.OK:
        return result
    return Estimate(
        estimate=result.estimate,
        low=result.low,
        high=result.high,
        confidence_level=confidence_level,
        method=f"{ALL_AGREE_METHOD}, {result.method}",
        n=result.n,
        status=Status.OK,
        numerator=result.numerator,
        denominator=result.denominator,
    )
