"""Sample quantiles by nearest rank, with a distribution-free (order-statistic) interval.

The latency study (issue 19) states a percentile of per-case times, e.g. the
95th percentile at most 30 s. Times are skewed and heavy-tailed, so nothing
is assumed about their distribution:

- **Point estimate**: the nearest-rank sample quantile, the order statistic
  ``x_(k)`` with ``k = ceil(n p)`` (at least 1): Hyndman & Fan (1996)
  definition 1, the inverse of the empirical distribution function; R's
  ``quantile(x, p, type = 1)`` and numpy's ``quantile(x, p,
  method="inverted_cdf")``. It is always an observed time. ``n p`` is rounded
  with R's fuzz of 4 machine epsilons (R ``quantile.default``), so 0.95 × 20
  is rank 19, not 20.
- **Interval**: the exact distribution-free interval ``[x_(l), x_(u)]`` for
  the population p-quantile ξ_p (Conover 1999, *Practical Nonparametric
  Statistics*, 3rd ed., §3.2; Hahn & Meeker 1991, §5.2). With B ~ Binomial(n,
  p) the number of observations below ξ_p, ``P(x_(l) > ξ_p) = P(B ≤ l − 1)``
  and ``P(x_(u) < ξ_p) = P(B ≥ u)``; ``l`` is the largest rank with
  ``P(B ≤ l − 1) ≤ α/2`` and ``u`` the smallest with ``P(B ≥ u) ≤ α/2``, so
  each tail has at most α/2 and the coverage ``P(l ≤ B ≤ u − 1)`` (recorded)
  is at least 1 − α for any continuous distribution. When ``(1 − p)^n > α/2``
  there is no such ``l`` (too few observations for a lower bound), and when
  ``p^n > α/2`` no ``u``: that bound is undefined, with the reason and the
  smallest n that would give it. This is the interval of
  ``scipy.stats.quantile_test(...).confidence_interval()``; for p = 0.95 at a
  one-sided 95% level (a two-sided 90% interval's upper end) it reproduces
  Wilks' (1941) rule that the maximum of 59 observations bounds the 95th
  percentile.
- The sample **maximum** has no distribution-free interval for the
  population maximum; it is reported as an observed value with n.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from dxval.stats.results import Estimate, Status

__all__ = [
    "NEAREST_RANK",
    "ORDER_STATISTIC",
    "QuantileInterval",
    "nearest_rank",
    "quantile_estimate",
    "quantile_interval",
    "sample_maximum",
]

#: Method names recorded with every estimate.
NEAREST_RANK = "nearest rank (Hyndman-Fan type 1, R quantile type=1)"
ORDER_STATISTIC = "distribution-free order-statistic interval (binomial, Conover 1999 3.2)"

# R quantile.default's fuzz: n * p within 4 machine epsilons of an integer is that integer.
_FUZZ = 4 * np.finfo(np.float64).eps


def _checked(values: ArrayLike) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"values: got shape {array.shape}, expected a 1-D array")
    if not np.all(np.isfinite(array)):
        raise ValueError("values: expected finite numbers")
    return array


def _rank(n: int, p: float) -> int:
    """The 1-based nearest rank ``ceil(n p)`` with R's fuzz, clipped to 1..n."""
    product = n * p
    whole = math.floor(product + _FUZZ)
    rank = whole + (1 if product > whole + _FUZZ else 0)
    return min(max(rank, 1), n)


def nearest_rank(values: ArrayLike, p: float) -> float:
    """The nearest-rank p-quantile of ``values`` (shape ``(n,)``, n ≥ 1): ``x_(ceil(n p))``.

    Raises
    ------
    ValueError
        ``p`` outside [0, 1], no values, or a value that is not finite.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p: got {p}, expected a probability in [0, 1]")
    array = _checked(values)
    if array.size == 0:
        raise ValueError("values: expected at least one value")
    return float(np.sort(array)[_rank(array.size, p) - 1])


@dataclass(frozen=True, slots=True)
class QuantileInterval:
    """Ranks of the order-statistic interval (1-based; ``None``: no such bound) and its coverage."""

    lower_rank: int | None
    upper_rank: int | None
    coverage: float | None


def _smallest_n(tail: float, half_alpha: float) -> int:
    """The smallest n with ``tail ** n <= half_alpha`` (``tail`` = 1 − p or p)."""
    return math.ceil(math.log(half_alpha) / math.log(tail))


def quantile_interval(n: int, p: float, *, confidence_level: float) -> QuantileInterval:
    """Order-statistic ranks of the two-sided interval for the p-quantile (see the module doc).

    Parameters
    ----------
    n:
        Sample size (≥ 1).
    p:
        The quantile, 0 < p < 1.
    confidence_level:
        Two-sided level 1 − α, 0 < level < 1.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p: got {p}, expected 0 < p < 1")
    if not 0.0 < confidence_level < 1.0:
        raise ValueError(f"confidence_level: got {confidence_level}, expected 0 < level < 1")
    half_alpha = (1.0 - confidence_level) / 2.0
    below = np.arange(n)  # B <= rank - 1 for rank = 1..n
    lower_ok = np.flatnonzero(stats.binom.cdf(below, n, p) <= half_alpha)
    upper_ok = np.flatnonzero(stats.binom.sf(below, n, p) <= half_alpha)  # P(B >= rank)
    lower = int(lower_ok[-1]) + 1 if lower_ok.size else None
    upper = int(upper_ok[0]) + 1 if upper_ok.size else None
    coverage = None
    if lower is not None and upper is not None:
        coverage = float(stats.binom.cdf(upper - 1, n, p) - stats.binom.cdf(lower - 1, n, p))
    return QuantileInterval(lower, upper, coverage)


def quantile_estimate(values: ArrayLike, p: float, *, confidence_level: float) -> Estimate:
    """Nearest-rank p-quantile with its distribution-free interval, as an :class:`Estimate`.

    ``n`` is the number of values; ``numerator`` the rank of the point
    estimate. A bound that does not exist for this n makes the estimate
    undefined (the point estimate is kept) with the reason, naming the
    smallest n that gives it. No values: undefined, no point estimate.
    """
    array = _checked(values)
    method = f"{NEAREST_RANK}; {ORDER_STATISTIC}"
    n = int(array.size)
    if n == 0:
        return Estimate.undefined(
            "no timed cases", confidence_level=confidence_level, method=method, n=0
        )
    ordered = np.sort(array)
    rank = _rank(n, p)
    point = float(ordered[rank - 1])
    ranks = quantile_interval(n, p, confidence_level=confidence_level)
    half_alpha = (1.0 - confidence_level) / 2.0
    missing = []
    if ranks.lower_rank is None:
        missing.append(f"a lower bound needs n >= {_smallest_n(1.0 - p, half_alpha)}")
    if ranks.upper_rank is None:
        missing.append(f"an upper bound needs n >= {_smallest_n(p, half_alpha)}")
    low = None if ranks.lower_rank is None else float(ordered[ranks.lower_rank - 1])
    high = None if ranks.upper_rank is None else float(ordered[ranks.upper_rank - 1])
    return Estimate(
        estimate=point,
        low=low,
        high=high,
        confidence_level=confidence_level,
        method=method,
        n=n,
        status=Status.UNDEFINED if missing else Status.OK,
        reason=f"{'; '.join(missing)} (n = {n})" if missing else None,
        numerator=rank,
        denominator=n,
    )


def sample_maximum(values: ArrayLike, *, confidence_level: float) -> Estimate:
    """The largest value, with n; no interval exists for a population maximum (undefined bounds)."""
    array = _checked(values)
    method = "sample maximum (no distribution-free interval)"
    if array.size == 0:
        return Estimate.undefined(
            "no timed cases", confidence_level=confidence_level, method=method, n=0
        )
    return Estimate.undefined(
        "the sample maximum has no confidence interval; compare the point value",
        confidence_level=confidence_level,
        method=method,
        n=int(array.size),
        estimate=float(array.max()),
    )
