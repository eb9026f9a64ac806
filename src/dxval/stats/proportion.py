"""Confidence intervals for a binomial proportion.

One small function per method behind a dispatch table; every interval is
clipped to [0, 1] and pinned to the exact boundary values the methods define
(Wilson's lower bound is exactly 0 at x = 0, Jeffreys' upper bound exactly 1
at x = n).

References:
    Wilson EB (1927) Probable inference, the law of succession, and
    statistical inference. JASA 22:209-212.
    Newcombe RG (1998) Two-sided confidence intervals for the single
    proportion: comparison of seven methods. Stat Med 17:857-872 (method 4,
    Wilson with continuity correction).
    Clopper CJ, Pearson ES (1934) The use of confidence or fiducial limits
    illustrated in the case of the binomial. Biometrika 26:404-413.
    Agresti A, Coull BA (1998) Approximate is better than "exact" for interval
    estimation of binomial proportions. Am Stat 52:119-126.
    Brown LD, Cai TT, DasGupta A (2001) Interval estimation for a binomial
    proportion. Stat Sci 16:101-133 (Jeffreys interval, boundary rule).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import Enum

from scipy.stats import beta

from dxval.stats._arrays import check_confidence_level, parse_choice, two_sided_z
from dxval.stats.results import Estimate, interval_estimate


class ProportionMethod(str, Enum):
    """Closed vocabulary of proportion CI methods."""

    WILSON = "wilson"
    WILSON_CC = "wilson_cc"
    CLOPPER_PEARSON = "clopper_pearson"
    AGRESTI_COULL = "agresti_coull"
    JEFFREYS = "jeffreys"


METHOD_LABELS: dict[ProportionMethod, str] = {
    ProportionMethod.WILSON: "Wilson score",
    ProportionMethod.WILSON_CC: "Wilson score with continuity correction",
    ProportionMethod.CLOPPER_PEARSON: "Clopper-Pearson exact",
    ProportionMethod.AGRESTI_COULL: "Agresti-Coull",
    ProportionMethod.JEFFREYS: "Jeffreys",
}

Interval = tuple[float, float]


def _wilson(count: int, nobs: int, confidence_level: float) -> Interval:
    """Wilson (1927) score interval."""
    z = two_sided_z(confidence_level)
    proportion = count / nobs
    denominator = 1.0 + z * z / nobs
    centre = (proportion + z * z / (2.0 * nobs)) / denominator
    half_width = (
        z * math.sqrt(proportion * (1.0 - proportion) / nobs + z * z / (4.0 * nobs * nobs))
    ) / denominator
    low = 0.0 if count == 0 else centre - half_width
    high = 1.0 if count == nobs else centre + half_width
    return low, high


def _wilson_cc(count: int, nobs: int, confidence_level: float) -> Interval:
    """Wilson interval with continuity correction, Newcombe (1998) method 4."""
    z = two_sided_z(confidence_level)
    proportion = count / nobs
    denominator = 2.0 * (nobs + z * z)
    base = 2.0 * nobs * proportion + z * z
    low = 0.0
    if count > 0:
        root = z * z - 2.0 - 1.0 / nobs + 4.0 * proportion * (nobs * (1.0 - proportion) + 1.0)
        low = (base - 1.0 - z * math.sqrt(root)) / denominator
    high = 1.0
    if count < nobs:
        root = z * z + 2.0 - 1.0 / nobs + 4.0 * proportion * (nobs * (1.0 - proportion) - 1.0)
        high = (base + 1.0 + z * math.sqrt(root)) / denominator
    return low, high


def _clopper_pearson(count: int, nobs: int, confidence_level: float) -> Interval:
    """Clopper-Pearson (1934) interval from beta quantiles."""
    alpha = 1.0 - confidence_level
    low = 0.0 if count == 0 else float(beta.ppf(alpha / 2.0, count, nobs - count + 1))
    high = 1.0 if count == nobs else float(beta.ppf(1.0 - alpha / 2.0, count + 1, nobs - count))
    return low, high


def _agresti_coull(count: int, nobs: int, confidence_level: float) -> Interval:
    """Agresti-Coull (1998) interval: Wald on x + z^2/2 successes of n + z^2."""
    z = two_sided_z(confidence_level)
    adjusted_nobs = nobs + z * z
    adjusted = (count + z * z / 2.0) / adjusted_nobs
    half_width = z * math.sqrt(adjusted * (1.0 - adjusted) / adjusted_nobs)
    return adjusted - half_width, adjusted + half_width


def _jeffreys(count: int, nobs: int, confidence_level: float) -> Interval:
    """Jeffreys equal-tailed interval with the Brown-Cai-DasGupta boundary rule."""
    alpha = 1.0 - confidence_level
    low = 0.0 if count == 0 else float(beta.ppf(alpha / 2.0, count + 0.5, nobs - count + 0.5))
    high = (
        1.0
        if count == nobs
        else float(beta.ppf(1.0 - alpha / 2.0, count + 0.5, nobs - count + 0.5))
    )
    return low, high


INTERVAL_FUNCTIONS: dict[ProportionMethod, Callable[[int, int, float], Interval]] = {
    ProportionMethod.WILSON: _wilson,
    ProportionMethod.WILSON_CC: _wilson_cc,
    ProportionMethod.CLOPPER_PEARSON: _clopper_pearson,
    ProportionMethod.AGRESTI_COULL: _agresti_coull,
    ProportionMethod.JEFFREYS: _jeffreys,
}


def proportion_ci(
    count: int,
    nobs: int,
    *,
    confidence_level: float = 0.95,
    method: ProportionMethod | str = ProportionMethod.WILSON,
) -> Estimate:
    """Estimate the proportion ``count / nobs`` with a two-sided confidence interval.

    Parameters
    ----------
    count
        number of successes x, 0 <= x <= nobs.
    nobs
        number of trials n; n = 0 gives an undefined result.
    confidence_level
        two-sided level in (0, 1).
    method
        one of :class:`ProportionMethod` (wilson, wilson_cc,
        clopper_pearson, agresti_coull, jeffreys); see the module
        docstring for the paper each implements.

    Returns
    -------
    Estimate
        An :class:`Estimate` with numerator, denominator and n = nobs; the
        interval clipped to [0, 1].

    Raises
    ------
    ValueError
        an unknown method, a level outside (0, 1), or counts that
        are negative or exceed ``nobs``.

    Examples
    --------
    >>> from dxval.stats import proportion_ci
    >>> ci = proportion_ci(81, 95, method='wilson')
    >>> round(ci.estimate, 4), round(ci.low, 4), round(ci.high, 4)
    (0.8526, 0.7677, 0.9101)
    >>> ci.method, ci.n
    ('Wilson score', 95)
    """
    chosen: ProportionMethod = parse_choice(ProportionMethod, method, name="method")
    level = check_confidence_level(confidence_level)
    count, nobs = int(count), int(nobs)
    if nobs < 0 or not 0 <= count <= max(nobs, 0):
        raise ValueError(f"expected 0 <= count <= nobs, got count={count}, nobs={nobs}")
    label = METHOD_LABELS[chosen]
    if nobs == 0:
        return Estimate.undefined(
            "zero denominator: no cases to estimate the proportion from",
            confidence_level=level,
            method=label,
            n=0,
            numerator=0,
            denominator=0,
        )
    low, high = INTERVAL_FUNCTIONS[chosen](count, nobs, level)
    return interval_estimate(
        count / nobs,
        low,
        high,
        confidence_level=level,
        method=label,
        n=nobs,
        numerator=count,
        denominator=nobs,
    )
