"""Two models' decisions on the same cases: McNemar's test and the paired difference.

For sensitivity the cases are the truly positive ones, for specificity the
truly negative ones; each case is a pair of "correct" flags (model 1,
model 2). With b = cases only model 1 gets right and c = cases only model 2
gets right, the paired difference of the proportions correct is (b − c)/n.

References:
    McNemar Q (1947) Note on the sampling error of the difference between
    correlated proportions or percentages. Psychometrika 12:153-157.
    Newcombe RG (1998) Improved confidence intervals for the difference
    between binomial proportions based on paired data. Stat Med
    17:2635-2650 (method 10: hybrid score interval from Wilson intervals of
    the two margins, corrected by the phi coefficient).
    Fagerland MW, Lydersen S, Laake P (2013) The McNemar test for binary
    matched-pairs data: mid-p and asymptotic are better than exact
    conditional. BMC Med Res Methodol 13:91.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import binom, chi2

from dxval.stats._arrays import as_truth, check_confidence_level, parse_choice
from dxval.stats.proportion import INTERVAL_FUNCTIONS, ProportionMethod
from dxval.stats.results import (
    Estimate,
    MarginHypothesis,
    MarginTest,
    Status,
    TestResult,
    interval_estimate,
    margin_decision,
)

NEWCOMBE_METHOD = "Newcombe hybrid score, paired (Newcombe 1998, method 10)"


class McNemarMethod(str, Enum):
    """Exact (conditional binomial) or asymptotic (chi-squared) McNemar test."""

    EXACT = "exact"
    ASYMPTOTIC = "asymptotic"


@dataclass(frozen=True, slots=True)
class PairedTable:
    """The 2×2 table of paired correct/incorrect flags of two models."""

    both: int  # a: both correct
    first_only: int  # b: only model 1 correct
    second_only: int  # c: only model 2 correct
    neither: int  # d: both wrong

    @property
    def n(self) -> int:
        """Number of paired cases."""
        return self.both + self.first_only + self.second_only + self.neither


def paired_table(correct1: ArrayLike, correct2: ArrayLike) -> PairedTable:
    """Tabulate paired boolean flags (shape (n,) each: True = that model is correct).

    Raises
    ------
    ValueError
        malformed or unequal-length inputs.

    Examples
    --------
    >>> import numpy as np
    >>> first = np.array([1, 1, 1, 0, 1, 1, 0, 1, 1, 1], dtype=bool)
    >>> second = np.array([1, 0, 1, 0, 0, 1, 0, 1, 0, 1], dtype=bool)
    >>> from dxval.stats import paired_table
    >>> paired_table(first, second)
    PairedTable(both=5, first_only=3, second_only=0, neither=2)
    """
    first = as_truth(correct1, name="correct1")
    second = as_truth(correct2, name="correct2")
    if first.shape != second.shape:
        raise ValueError(
            f"correct1, correct2: expected equal lengths, got {first.shape}, {second.shape}"
        )
    return PairedTable(
        both=int(np.count_nonzero(first & second)),
        first_only=int(np.count_nonzero(first & ~second)),
        second_only=int(np.count_nonzero(~first & second)),
        neither=int(np.count_nonzero(~first & ~second)),
    )


def mcnemar_test(
    correct1: ArrayLike,
    correct2: ArrayLike,
    *,
    method: McNemarMethod | str = McNemarMethod.EXACT,
    continuity_correction: bool = True,
    confidence_level: float = 0.95,
) -> TestResult:
    """McNemar's test that two models have the same proportion correct on the same cases.

    Exact: two-sided p = min(1, 2·P(X ≤ min(b, c))), X ~ Binomial(b + c, ½).
    Asymptotic: χ² = (|b − c| − 1)²/(b + c) with continuity correction, else
    (b − c)²/(b + c), on 1 degree of freedom (McNemar 1947). The effect is
    the paired difference with Newcombe's interval at ``confidence_level``.

    Parameters
    ----------
    correct1, correct2
        shape (n,) booleans, True where each model is correct.
    method
        ``"exact"`` or ``"asymptotic"``.
    continuity_correction
        for the asymptotic test (R's ``mcnemar.test`` default).
    confidence_level
        level of the interval of the effect.

    Raises
    ------
    ValueError
        malformed inputs or an unknown method.

    Examples
    --------
    >>> import numpy as np
    >>> first = np.array([1, 1, 1, 0, 1, 1, 0, 1, 1, 1], dtype=bool)
    >>> second = np.array([1, 0, 1, 0, 0, 1, 0, 1, 0, 1], dtype=bool)
    >>> from dxval.stats import mcnemar_test
    >>> result = mcnemar_test(first, second)
    >>> round(result.p_value, 4), result.method
    (0.25, 'McNemar exact')
    """
    chosen: McNemarMethod = parse_choice(McNemarMethod, method, name="method")
    table = paired_table(correct1, correct2)
    b, c = table.first_only, table.second_only
    label = f"McNemar {chosen.value}" + (
        " with continuity correction"
        if chosen is McNemarMethod.ASYMPTOTIC and continuity_correction
        else ""
    )
    effect = paired_difference(correct1, correct2, confidence_level=confidence_level)
    if b + c == 0:
        return TestResult(
            label, None, None, table.n, Status.UNDEFINED, "no discordant pairs", effect
        )
    if chosen is McNemarMethod.EXACT:
        statistic = float(min(b, c))
        p_value = min(1.0, 2.0 * float(binom.cdf(min(b, c), b + c, 0.5)))
    else:
        shift = 1.0 if continuity_correction else 0.0
        statistic = max(abs(b - c) - shift, 0.0) ** 2 / (b + c)
        p_value = float(chi2.sf(statistic, 1))
    return TestResult(label, statistic, p_value, table.n, Status.OK, None, effect)


def _newcombe_interval(table: PairedTable, confidence_level: float) -> tuple[float, float]:
    """Newcombe's (1998) method 10 limits for p₁ − p₂ from a paired table."""
    n = table.n
    wilson = INTERVAL_FUNCTIONS[ProportionMethod.WILSON]
    p1, p2 = (table.both + table.first_only) / n, (table.both + table.second_only) / n
    first_low, first_high = wilson(table.both + table.first_only, n, confidence_level)
    second_low, second_high = wilson(table.both + table.second_only, n, confidence_level)
    margins = (
        (table.both + table.first_only)
        * (table.second_only + table.neither)
        * (table.both + table.second_only)
        * (table.first_only + table.neither)
    )
    phi = (
        0.0
        if margins == 0
        else (table.both * table.neither - table.first_only * table.second_only)
        / math.sqrt(margins)
    )
    difference = p1 - p2
    lower_distance = math.sqrt(
        max(
            (p1 - first_low) ** 2
            - 2.0 * phi * (p1 - first_low) * (second_high - p2)
            + (second_high - p2) ** 2,
            0.0,
        )
    )
    upper_distance = math.sqrt(
        max(
            (first_high - p1) ** 2
            - 2.0 * phi * (first_high - p1) * (p2 - second_low)
            + (p2 - second_low) ** 2,
            0.0,
        )
    )
    return difference - lower_distance, difference + upper_distance


def paired_difference(
    correct1: ArrayLike, correct2: ArrayLike, *, confidence_level: float = 0.95
) -> Estimate:
    """Difference p₁ − p₂ of two paired proportions with Newcombe's hybrid score interval.

    Used for the difference in sensitivity (pass the correct flags on the
    truly positive cases) or specificity (on the truly negative cases) of two
    models on the same cases (Newcombe 1998, method 10).

    Parameters
    ----------
    correct1, correct2
        shape (n,) booleans, True where each model is correct.
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
    >>> from dxval.stats import paired_difference
    >>> est = paired_difference(first, second)
    >>> round(est.estimate, 2), round(est.low, 4), round(est.high, 4)
    (0.3, 0.0106, 0.5284)
    """
    level = check_confidence_level(confidence_level)
    table = paired_table(correct1, correct2)
    if table.n == 0:
        return Estimate.undefined(
            "zero denominator: no paired cases", confidence_level=level, method=NEWCOMBE_METHOD, n=0
        )
    low, high = _newcombe_interval(table, level)
    difference = (table.first_only - table.second_only) / table.n
    if low == high:
        return Estimate.undefined(
            "zero-width interval",
            confidence_level=level,
            method=NEWCOMBE_METHOD,
            n=table.n,
            estimate=difference,
        )
    return interval_estimate(
        difference,
        low,
        high,
        confidence_level=level,
        method=NEWCOMBE_METHOD,
        n=table.n,
        bounds=(-1.0, 1.0),
    )


def paired_margin_test(
    correct_new: ArrayLike,
    correct_reference: ArrayLike,
    *,
    margin: float,
    hypothesis: MarginHypothesis | str = MarginHypothesis.NON_INFERIORITY,
    confidence_level: float = 0.95,
) -> MarginTest:
    """Non-inferiority (or superiority) of a paired difference in proportions against a margin.

    The claim is supported when the lower Newcombe (1998, method 10) bound
    of p_new − p_reference exceeds −margin (non-inferiority) or +margin
    (superiority).

    Raises
    ------
    ValueError
        malformed inputs, a negative margin, an unknown hypothesis.

    Examples
    --------
    >>> import numpy as np
    >>> first = np.array([1, 1, 1, 0, 1, 1, 0, 1, 1, 1], dtype=bool)
    >>> second = np.array([1, 0, 1, 0, 0, 1, 0, 1, 0, 1], dtype=bool)
    >>> from dxval.stats import paired_margin_test
    >>> result = paired_margin_test(first, second, margin=0.05)
    >>> round(result.difference.estimate, 2), result.claim_supported
    (0.3, True)
    """
    chosen: MarginHypothesis = parse_choice(MarginHypothesis, hypothesis, name="hypothesis")
    if not margin >= 0.0:
        raise ValueError(f"margin: expected a non-negative number, got {margin}")
    difference = paired_difference(
        correct_new, correct_reference, confidence_level=confidence_level
    )
    decision = margin_decision(difference, margin=margin, hypothesis=chosen)
    return MarginTest(
        difference,
        float(margin),
        chosen,
        decision,
        f"{NEWCOMBE_METHOD}, {chosen.value} margin {margin:g}",
        Status.OK if decision is not None else Status.UNDEFINED,
        reason=difference.reason,
    )
