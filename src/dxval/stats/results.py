"""Result records shared by every statistic: frozen, self-describing, JSON-safe.

Every reported number carries its method, confidence level and sample size
(DESIGN.md, "Statistics conventions"). A quantity that does not exist for the
data at hand (no positives, a zero denominator, a zero variance) is reported
with :attr:`Status.UNDEFINED` and a reason, never as NaN and never as a
zero-width interval presented as real.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Status(str, Enum):
    """Whether a statistic (and its interval) exists for the data."""

    OK = "ok"
    UNDEFINED = "undefined"


def finite_or_none(value: float | None) -> float | None:
    """Return ``value`` as a plain float, or None when it is None, NaN or infinite."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


@dataclass(frozen=True, slots=True)
class Estimate:
    """A point estimate with its confidence interval and how it was made.

    ``status`` is :attr:`Status.OK` when estimate, low and high all exist. With
    :attr:`Status.UNDEFINED`, ``reason`` says why; the point estimate may still
    be present (for example an AUC of 1 under perfect separation, whose DeLong
    variance is zero), but ``low`` and ``high`` are then None.
    """

    estimate: float | None
    low: float | None
    high: float | None
    confidence_level: float
    method: str
    n: int
    status: Status
    reason: str | None = None
    numerator: int | None = None
    denominator: int | None = None
    variance: float | None = None

    @classmethod
    def undefined(
        cls,
        reason: str,
        *,
        confidence_level: float,
        method: str,
        n: int,
        estimate: float | None = None,
        numerator: int | None = None,
        denominator: int | None = None,
        variance: float | None = None,
    ) -> Estimate:
        """Build an undefined result: no interval, ``reason`` saying why."""
        return cls(
            estimate=finite_or_none(estimate),
            low=None,
            high=None,
            confidence_level=confidence_level,
            method=method,
            n=n,
            status=Status.UNDEFINED,
            reason=reason,
            numerator=numerator,
            denominator=denominator,
            variance=finite_or_none(variance),
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict (None for missing values, never NaN or infinity)."""
        return {
            "estimate": finite_or_none(self.estimate),
            "low": finite_or_none(self.low),
            "high": finite_or_none(self.high),
            "confidence_level": self.confidence_level,
            "method": self.method,
            "n": self.n,
            "status": self.status.value,
            "reason": self.reason,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "variance": finite_or_none(self.variance),
        }


def interval_estimate(
    estimate: float,
    low: float,
    high: float,
    *,
    confidence_level: float,
    method: str,
    n: int,
    bounds: tuple[float, float] = (0.0, 1.0),
    numerator: int | None = None,
    denominator: int | None = None,
    variance: float | None = None,
) -> Estimate:
    """Build an OK estimate with its interval clipped to ``bounds``.

    Raises
    ------
    ValueError
        if any of the three numbers is not finite (a caller bug:
        callers decide undefinedness before calling).
    """
    if not all(math.isfinite(value) for value in (estimate, low, high)):
        raise ValueError(f"non-finite interval ({estimate}, {low}, {high}) for {method}")
    lower_bound, upper_bound = bounds
    return Estimate(
        estimate=float(estimate),
        low=float(min(max(low, lower_bound), upper_bound)),
        high=float(max(min(high, upper_bound), lower_bound)),
        confidence_level=confidence_level,
        method=method,
        n=n,
        status=Status.OK,
        numerator=numerator,
        denominator=denominator,
        variance=finite_or_none(variance),
    )


@dataclass(frozen=True, slots=True)
class TestResult:
    """A hypothesis test: statistic, p-value and an optional effect estimate.

    ``effect`` holds the estimate the test is about (the conditional odds ratio
    of Fisher's exact test, the paired difference for McNemar's test).
    """

    __test__ = False  # tell pytest this is not a test class

    method: str
    statistic: float | None
    p_value: float | None
    n: int
    status: Status
    reason: str | None = None
    effect: Estimate | None = None

    @property
    def odds_ratio(self) -> Estimate | None:
        """The effect estimate under the name Fisher's exact test gives it."""
        return self.effect

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "method": self.method,
            "statistic": finite_or_none(self.statistic),
            "p_value": finite_or_none(self.p_value),
            "n": self.n,
            "status": self.status.value,
            "reason": self.reason,
            "effect": None if self.effect is None else self.effect.to_dict(),
        }


class MarginHypothesis(str, Enum):
    """What a margin test sets out to show about a difference new − reference."""

    NON_INFERIORITY = "non_inferiority"  # H0: difference ≤ −margin
    SUPERIORITY = "superiority"  # H0: difference ≤ +margin (margin 0: plain superiority)


@dataclass(frozen=True, slots=True)
class MarginTest:
    """A non-inferiority or superiority decision on a difference against a margin.

    The claim is supported when the lower bound of the two-sided interval at
    ``difference.confidence_level`` exceeds −margin (non-inferiority) or
    +margin (superiority); this is the one-sided test at level (1 − CL)/2.
    ``statistic`` and ``p_value`` (one-sided) are given where the method has
    them; ``claim_supported`` is None when the interval is undefined.
    """

    difference: Estimate
    margin: float
    hypothesis: MarginHypothesis
    claim_supported: bool | None
    method: str
    status: Status
    statistic: float | None = None
    p_value: float | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "difference": self.difference.to_dict(),
            "margin": self.margin,
            "hypothesis": self.hypothesis.value,
            "claim_supported": self.claim_supported,
            "method": self.method,
            "status": self.status.value,
            "statistic": finite_or_none(self.statistic),
            "p_value": finite_or_none(self.p_value),
            "reason": self.reason,
        }


def margin_decision(
    difference: Estimate, *, margin: float, hypothesis: MarginHypothesis
) -> bool | None:
    """Whether the interval's lower bound clears the margin; None if it is undefined."""
    if difference.low is None:
        return None
    bound = -margin if hypothesis is MarginHypothesis.NON_INFERIORITY else margin
    return difference.low > bound
