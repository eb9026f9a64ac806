"""Fisher's exact test on a 2×2 table, for failure-mode enrichment.

The p-value is two-sided by summing the probabilities of all tables (with
the observed margins) no more likely than the observed one; the odds ratio
is the conditional maximum-likelihood estimate with its exact interval, as
R's ``fisher.test`` reports.

References:
    Fisher RA (1935) The logic of inductive inference. J R Stat Soc 98:39-82.
    Cornfield J (1956) A statistical problem arising from retrospective
    studies. Proc Third Berkeley Symp 4:135-148 (exact interval of the
    conditional odds ratio).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import fisher_exact
from scipy.stats.contingency import odds_ratio

from dxval.stats._arrays import check_confidence_level
from dxval.stats.results import Estimate, Status, TestResult

FISHER_METHOD = "Fisher's exact test, two-sided; conditional MLE odds ratio"


def fisher_exact_test(
    a: int, b: int, c: int, d: int, *, confidence_level: float = 0.95
) -> TestResult:
    """Fisher's exact test of independence in the table [[a, b], [c, d]].

    For enrichment, rows are "in the failure set" / "not", columns "has the
    attribute" / "not": a = failures with the attribute, b = failures
    without, c = other cases with, d = other cases without.

    Parameters
    ----------
    a, b, c, d
        non-negative cell counts.
    confidence_level
        level of the exact odds-ratio interval.

    Returns
    -------
    TestResult
        :class:`TestResult` (no test statistic) with the two-sided p-value and ``effect`` (also
        ``odds_ratio``) the conditional MLE odds ratio; the effect is
        undefined (with reason) when it or its interval is infinite or 0/0.

    Raises
    ------
    ValueError
        a negative count or a level outside (0, 1).

    Examples
    --------
    >>> from dxval.stats import fisher_exact_test
    >>> result = fisher_exact_test(3, 1, 1, 3)
    >>> round(result.p_value, 4)
    0.4857
    """
    level = check_confidence_level(confidence_level)
    cells = [int(value) for value in (a, b, c, d)]
    if min(cells) < 0:
        raise ValueError(f"expected non-negative counts, got {cells}")
    table = np.array(cells, dtype=np.int64).reshape(2, 2)
    n = int(table.sum())
    if min(table.sum(axis=0).min(), table.sum(axis=1).min()) == 0:
        reason = "a row or column of the table is empty: the test is not informative"
        effect = Estimate.undefined(reason, confidence_level=level, method=FISHER_METHOD, n=n)
        return TestResult(FISHER_METHOD, None, 1.0, n, Status.OK, None, effect)
    p_value = float(fisher_exact(table, alternative="two-sided").pvalue)
    result = odds_ratio(table, kind="conditional")
    estimate = float(result.statistic)
    interval = result.confidence_interval(confidence_level=level)
    low, high = float(interval.low), float(interval.high)
    if not all(math.isfinite(value) for value in (estimate, low, high)) or estimate == 0.0:
        effect = Estimate.undefined(
            "a zero cell makes the odds ratio or its interval 0 or infinite",
            confidence_level=level,
            method=FISHER_METHOD,
            n=n,
            estimate=estimate,
        )
    else:
        effect = Estimate(estimate, low, high, level, FISHER_METHOD, n, Status.OK)
    return TestResult(FISHER_METHOD, None, p_value, n, Status.OK, None, effect)
