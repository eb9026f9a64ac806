"""Tango's score interval for a paired difference, and decision flips between two models.

Tango's interval inverts the score test of H₀: p₁ − p₂ = Δ for matched
pairs. With b = pairs where only the first member is a success, c = pairs
where only the second is, and n pairs, the statistic is

    T(Δ) = (b − c − nΔ) / √(n·(2·q̃ + Δ(1 − Δ)))

where q̃ is the maximum-likelihood estimate of the probability of the
(second-only) cell under the constraint p₁ − p₂ = Δ:

    q̃ = (√(W² + 8n·c·Δ(1 − Δ)) − W) / (4n),   W = −b − c + (2n − b + c)·Δ.

The interval is every Δ in [−1, 1] with |T(Δ)| ≤ z₁₋α/₂; T decreases in Δ,
so each limit is one root, found here to machine precision by Brent's
method (PropCIs' ``scoreci.mp`` bisects to 1e-7).

A *decision flip* is a case whose call (score ≥ threshold) differs between
two models: to positive (the first model calls it positive, the second
negative) or to negative. The flip fraction is their share of the paired
cases, with a Wilson interval (the flips are a binomial count).

References:
    Tango T (1998) Equivalence test and confidence interval for the
    difference in proportions for the paired-sample design. Stat Med
    17:891-908 (equations 3-5).
    Agresti A, Min Y (2005) Simple improved confidence intervals for
    comparing matched proportions. Stat Med 24:729-740.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from dxval.stats._arrays import as_scores, check_confidence_level, two_sided_z
from dxval.stats.paired import PairedTable, paired_table
from dxval.stats.proportion import INTERVAL_FUNCTIONS, ProportionMethod
from dxval.stats.results import Estimate, interval_estimate

TANGO_METHOD = "Tango score interval, paired (Tango 1998)"
FLIP_METHOD = "decision flips, Wilson score interval"


def _constrained_second_only(table: PairedTable, delta: float) -> float:
    """Restricted MLE of the second-only cell probability given p₁ − p₂ = Δ (Tango 1998)."""
    n, b, c = table.n, table.first_only, table.second_only
    w = -b - c + (2 * n - b + c) * delta
    return (math.sqrt(max(w * w + 8.0 * n * c * delta * (1.0 - delta), 0.0)) - w) / (4.0 * n)


def tango_statistic(table: PairedTable, delta: float) -> float:
    """Tango's score statistic T(Δ) for the paired table (±inf where its variance is zero)."""
    n, b, c = table.n, table.first_only, table.second_only
    numerator = b - c - n * delta
    variance = n * (2.0 * _constrained_second_only(table, delta) + delta * (1.0 - delta))
    if variance <= 0.0:
        return math.copysign(math.inf, numerator) if numerator != 0 else 0.0
    return numerator / math.sqrt(variance)


def _limit(table: PairedTable, target: float, estimate: float, end: float) -> float:
    """The Δ between ``estimate`` and ``end`` (±1) where T(Δ) equals ``target``."""
    from scipy.optimize import brentq

    def gap(delta: float) -> float:
        return tango_statistic(table, delta) - target

    if gap(end) * gap(estimate) > 0.0:  # never crosses before the boundary: the limit is ±1
        return end
    low, high = sorted((estimate, end))
    return float(brentq(gap, low, high, xtol=1e-15, rtol=4.0 * np.finfo(float).eps, maxiter=500))


def tango_difference(
    correct1: ArrayLike, correct2: ArrayLike, *, confidence_level: float = 0.95
) -> Estimate:
    """Difference p₁ − p₂ of two paired proportions with Tango's (1998) score interval.

    Parameters
    ----------
    correct1, correct2
        shape (n,) booleans for the same cases, True where each model is correct.
    confidence_level
        two-sided level in (0, 1).

    Raises
    ------
    ValueError
        malformed inputs or a level outside (0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> first = np.array([1, 1, 1, 0, 1, 1, 0, 1, 1, 1], dtype=bool)
    >>> second = np.array([1, 0, 1, 0, 0, 1, 0, 1, 0, 1], dtype=bool)
    >>> from dxval.stats import tango_difference
    >>> est = tango_difference(first, second)
    >>> round(est.estimate, 2), round(est.low, 4), round(est.high, 4)
    (0.3, -0.0608, 0.6032)
    """
    level = check_confidence_level(confidence_level)
    table = paired_table(correct1, correct2)
    return tango_interval(table, confidence_level=level)


def tango_interval(table: PairedTable, *, confidence_level: float = 0.95) -> Estimate:
    """Tango's score interval of (b − c)/n for a paired 2×2 table (see :func:`tango_difference`)."""
    level = check_confidence_level(confidence_level)
    if table.n == 0:
        return Estimate.undefined(
            "zero denominator: no paired cases", confidence_level=level, method=TANGO_METHOD, n=0
        )
    estimate = (table.first_only - table.second_only) / table.n
    if table.first_only + table.second_only == 0:
        return Estimate.undefined(
            "no discordant pairs: the score interval has zero width",
            confidence_level=level,
            method=TANGO_METHOD,
            n=table.n,
            estimate=estimate,
        )
    z = two_sided_z(level)
    low = _limit(table, z, estimate, -1.0)
    high = _limit(table, -z, estimate, 1.0)
    return interval_estimate(
        estimate,
        low,
        high,
        confidence_level=level,
        method=TANGO_METHOD,
        n=table.n,
        bounds=(-1.0, 1.0),
        numerator=table.first_only - table.second_only,
        denominator=table.n,
    )


@dataclass(frozen=True, slots=True)
class DecisionFlips:
    """Cases whose call changes from one model to another, at each model's threshold.

    ``to_positive``: called positive by the first model and negative by the
    second; ``to_negative`` the reverse. ``fraction`` is (to_positive +
    to_negative)/n with its interval. ``both_positive`` and ``both_negative``
    complete the 2×2 matrix of calls.
    """

    to_positive: int
    to_negative: int
    n: int
    fraction: Estimate
    both_positive: int = 0
    both_negative: int = 0

    @property
    def total(self) -> int:
        """Number of flipped calls."""
        return self.to_positive + self.to_negative

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "to_positive": self.to_positive,
            "to_negative": self.to_negative,
            "total": self.total,
            "both_positive": self.both_positive,
            "both_negative": self.both_negative,
            "n": self.n,
            "fraction": self.fraction.to_dict(),
        }


def decision_flips(
    scores1: ArrayLike,
    scores2: ArrayLike,
    *,
    threshold1: float,
    threshold2: float,
    confidence_level: float = 0.95,
) -> DecisionFlips:
    """Count the calls that differ between two models on the same cases.

    A case is positive for a model when its score ≥ that model's threshold.

    Parameters
    ----------
    scores1, scores2
        shape (n,) finite scores of the first (new) and second (reference) model.
    threshold1, threshold2
        each model's frozen operating point.
    confidence_level
        level of the Wilson interval of the flip fraction.

    Raises
    ------
    ValueError
        malformed inputs or a level outside (0, 1).

    Examples
    --------
    >>> from dxval.stats import decision_flips
    >>> flips = decision_flips([0.2, 0.6, 0.7, 0.1], [0.6, 0.6, 0.2, 0.1],
    ...                        threshold1=0.5, threshold2=0.5)
    >>> flips.to_positive, flips.to_negative, flips.fraction.estimate
    (1, 1, 0.5)
    """
    level = check_confidence_level(confidence_level)
    size = int(np.size(scores1))
    positive1 = as_scores(scores1, length=size, name="scores1") >= threshold1
    positive2 = as_scores(scores2, length=size, name="scores2") >= threshold2
    to_positive = int(np.count_nonzero(positive1 & ~positive2))
    to_negative = int(np.count_nonzero(~positive1 & positive2))
    total = to_positive + to_negative
    if size == 0:
        fraction = Estimate.undefined(
            "zero denominator: no paired cases", confidence_level=level, method=FLIP_METHOD, n=0
        )
    else:
        low, high = INTERVAL_FUNCTIONS[ProportionMethod.WILSON](total, size, level)
        fraction = interval_estimate(
            total / size,
            low,
            high,
            confidence_level=level,
            method=FLIP_METHOD,
            n=size,
            numerator=total,
            denominator=size,
        )
    both_positive = int(np.count_nonzero(positive1 & positive2))
    both_negative = size - total - both_positive
    return DecisionFlips(to_positive, to_negative, size, fraction, both_positive, both_negative)
