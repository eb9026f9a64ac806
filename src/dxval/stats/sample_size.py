"""Sample sizes: sensitivity against a performance goal, AUC precision, AUC against chance.

References:
    Flahault A, Cadilhac M, Thomas G (2005) Sample size calculation should
    be performed for design accuracy in diagnostic test studies. J Clin
    Epidemiol 58:859-862 (exact binomial search for the lower confidence
    bound of sensitivity against a goal).
    Hanley JA, McNeil BJ (1982) The meaning and use of the area under a
    receiver operating characteristic (ROC) curve. Radiology 143:29-36
    (variance of the AUC: Q₁ = A/(2 − A), Q₂ = 2A²/(1 + A)).
    Obuchowski NA (1998) Sample size calculations in studies of test
    accuracy. Stat Methods Med Res 7:371-392 (binormal variance function
    V(A) = 0.0099·e^(−a²/2)·[(5a² + 8) + (a² + 8)/κ], a = √2·Φ⁻¹(A)).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from scipy.special import ndtri
from scipy.stats import binom

from dxval.stats._arrays import check_confidence_level, check_fraction, parse_choice, two_sided_z
from dxval.stats.proportion import INTERVAL_FUNCTIONS, METHOD_LABELS, ProportionMethod

SEARCH_LIMIT = 1_000_000


class AucSampleSizeMethod(str, Enum):
    """Variance model for the AUC-against-chance sample size."""

    HANLEY_MCNEIL = "hanley_mcneil"
    OBUCHOWSKI = "obuchowski"


@dataclass(frozen=True, slots=True)
class SampleSize:
    """A required sample size and what it achieves.

    ``quantity`` names what ``achieved`` and ``target`` measure ("power" or
    "half_width"); ``critical_count`` is, for the sensitivity design, the
    fewest true positives whose lower bound clears the goal.
    """

    n_positive: int
    n_negative: int
    quantity: str
    achieved: float
    target: float
    method: str
    critical_count: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "n_positive": self.n_positive,
            "n_negative": self.n_negative,
            "quantity": self.quantity,
            "achieved": self.achieved,
            "target": self.target,
            "method": self.method,
            "critical_count": self.critical_count,
        }


def sensitivity_sample_size(
    expected: float,
    goal: float,
    *,
    power: float = 0.8,
    confidence_level: float = 0.95,
    method: ProportionMethod | str = ProportionMethod.CLOPPER_PEARSON,
    max_positives: int = 100_000,
) -> SampleSize:
    """Positives needed so the lower confidence bound of sensitivity exceeds ``goal``.

    For each n the critical count x꜀(n) is the smallest x whose lower bound
    (two-sided ``confidence_level`` interval by ``method``) exceeds the goal;
    power(n) = P(X ≥ x꜀(n)) for X ~ Binomial(n, expected). The search is
    exact; power is saw-toothed in n, and the smallest n reaching ``power``
    is returned (Flahault et al. 2005).

    Parameters
    ----------
    expected
        anticipated sensitivity, > goal.
    goal
        performance goal the lower bound must exceed.
    power
        required probability of success.
    confidence_level
        two-sided level of the interval.
    method
        proportion CI method (:class:`ProportionMethod`).
    max_positives
        search limit.

    Raises
    ------
    ValueError
        expected ≤ goal, values out of range, or no n up to
        ``max_positives`` reaching the power.

    Examples
    --------
    >>> from dxval.stats import sensitivity_sample_size
    >>> size = sensitivity_sample_size(0.90, 0.80, power=0.8)
    >>> size.n_positive
    107
    """
    chosen: ProportionMethod = parse_choice(ProportionMethod, method, name="method")
    level = check_confidence_level(confidence_level)
    expected = check_fraction(expected, name="expected", closed=False)
    goal = check_fraction(goal, name="goal")
    target = check_fraction(power, name="power", closed=False)
    if not expected > goal:
        raise ValueError(f"expected ({expected}) must exceed the goal ({goal})")
    interval = INTERVAL_FUNCTIONS[chosen]
    critical = 0
    for n in range(1, int(max_positives) + 1):
        while critical <= n and interval(critical, n, level)[0] <= goal:
            critical += 1
        if critical > n:
            continue
        achieved = float(binom.sf(critical - 1, n, expected))
        if achieved >= target:
            return SampleSize(
                n_positive=n,
                n_negative=0,
                quantity="power",
                achieved=achieved,
                target=target,
                method=f"exact binomial search, {METHOD_LABELS[chosen]} lower bound",
                critical_count=critical,
            )
    raise ValueError(f"no sample size up to {max_positives} positives reaches power {power}")


def hanley_mcneil_variance(auc: float, n_positive: int, n_negative: int) -> float:
    """Hanley & McNeil (1982) variance of the AUC for m positives and n negatives."""
    q1, q2 = auc / (2.0 - auc), 2.0 * auc * auc / (1.0 + auc)
    return (
        auc * (1.0 - auc)
        + (n_positive - 1) * (q1 - auc * auc)
        + (n_negative - 1) * (q2 - auc * auc)
    ) / (n_positive * n_negative)


def obuchowski_variance(auc: float, n_positive: int, negatives_per_positive: float) -> float:
    """Obuchowski (1998) binormal (b = 1) variance of the AUC with m positives, κ = n/m."""
    a = math.sqrt(2.0) * float(ndtri(auc))
    unit = (
        0.0099
        * math.exp(-a * a / 2.0)
        * ((5.0 * a * a + 8.0) + (a * a + 8.0) / negatives_per_positive)
    )
    return unit / n_positive


def _smallest(satisfies: Callable[[int], bool]) -> int:
    """Smallest m ≥ 2 with ``satisfies(m)`` for a condition monotone in m."""
    high = 2
    while not satisfies(high):
        high *= 2
        if high > SEARCH_LIMIT:
            raise ValueError(f"no sample size up to {SEARCH_LIMIT} positives satisfies the design")
    low = high // 2 if high > 2 else 1
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if satisfies(middle) else (middle, high)
    return high


def _negatives(n_positive: int, negatives_per_positive: float) -> int:
    return max(1, math.ceil(n_positive * negatives_per_positive - 1e-9))


def auc_sample_size_for_width(
    expected_auc: float,
    half_width: float,
    *,
    confidence_level: float = 0.95,
    negatives_per_positive: float = 1.0,
) -> SampleSize:
    """Cases needed for the AUC interval half-width z·√Var ≤ ``half_width`` (Hanley & McNeil 1982).

    Parameters
    ----------
    expected_auc
        anticipated AUC in (0.5, 1).
    half_width
        required half-width of the two-sided interval.
    confidence_level
        two-sided level.
    negatives_per_positive
        κ = n₋/n₊ (n₋ rounded up).

    Raises
    ------
    ValueError
        values out of range.

    Examples
    --------
    >>> from dxval.stats import auc_sample_size_for_width
    >>> size = auc_sample_size_for_width(0.85, 0.05)
    >>> size.n_positive, size.n_negative
    (117, 117)
    """
    auc = check_fraction(expected_auc, name="expected_auc", closed=False)
    width = check_fraction(half_width, name="half_width", closed=False)
    if not negatives_per_positive > 0:
        raise ValueError(f"negatives_per_positive: expected > 0, got {negatives_per_positive}")
    z = two_sided_z(confidence_level)

    def achieved(m: int) -> float:
        return z * math.sqrt(hanley_mcneil_variance(auc, m, _negatives(m, negatives_per_positive)))

    m = _smallest(lambda m: achieved(m) <= width)
    return SampleSize(
        n_positive=m,
        n_negative=_negatives(m, negatives_per_positive),
        quantity="half_width",
        achieved=achieved(m),
        target=width,
        method="Hanley & McNeil (1982) variance, Wald interval",
    )


def auc_sample_size_vs_chance(
    expected_auc: float,
    *,
    power: float = 0.8,
    significance: float = 0.05,
    negatives_per_positive: float = 1.0,
    method: AucSampleSizeMethod | str = AucSampleSizeMethod.OBUCHOWSKI,
) -> SampleSize:
    """Cases needed to show AUC > 0.5 with a two-sided level-``significance`` z test.

    Requires (A − 0.5) ≥ z₁₋α/₂·√V(0.5) + z_power·√V(A), with V from
    Obuchowski's (1998) binormal variance function or Hanley & McNeil (1982).

    Parameters
    ----------
    expected_auc
        anticipated AUC in (0.5, 1).
    power
        required power in (0, 1).
    significance
        two-sided type I error in (0, 1).
    negatives_per_positive
        κ = n₋/n₊.
    method
        ``"obuchowski"`` or ``"hanley_mcneil"``.

    Raises
    ------
    ValueError
        values out of range or an unknown method.

    Examples
    --------
    >>> from dxval.stats import auc_sample_size_vs_chance
    >>> size = auc_sample_size_vs_chance(0.70, power=0.8, significance=0.05)
    >>> size.n_positive, size.n_negative
    (31, 31)
    """
    chosen: AucSampleSizeMethod = parse_choice(AucSampleSizeMethod, method, name="method")
    auc = check_fraction(expected_auc, name="expected_auc", closed=False)
    if not auc > 0.5:
        raise ValueError(f"expected_auc: expected a value above 0.5, got {expected_auc}")
    target = check_fraction(power, name="power", closed=False)
    alpha = check_fraction(significance, name="significance", closed=False)
    kappa = float(negatives_per_positive)
    if not kappa > 0:
        raise ValueError(f"negatives_per_positive: expected > 0, got {negatives_per_positive}")
    z_alpha = float(ndtri(1.0 - alpha / 2.0))

    def variance(value: float, m: int) -> float:
        if chosen is AucSampleSizeMethod.OBUCHOWSKI:
            return obuchowski_variance(value, m, kappa)
        return hanley_mcneil_variance(value, m, _negatives(m, kappa))

    def achieved(m: int) -> float:
        shortfall = (auc - 0.5) - z_alpha * math.sqrt(variance(0.5, m))
        return float(0.5 * math.erfc(-shortfall / math.sqrt(variance(auc, m)) / math.sqrt(2.0)))

    m = _smallest(lambda m: achieved(m) >= target)
    label = (
        "Obuchowski (1998)"
        if chosen is AucSampleSizeMethod.OBUCHOWSKI
        else "Hanley & McNeil (1982)"
    )
    return SampleSize(
        n_positive=m,
        n_negative=_negatives(m, kappa),
        quantity="power",
        achieved=achieved(m),
        target=target,
        method=f"{label} variance, two-sided z test against AUC 0.5",
    )
