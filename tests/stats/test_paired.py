"""Two models on the same cases: McNemar's test and Newcombe's paired difference interval."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest, chi2

from dxval.stats import (
    MarginHypothesis,
    PairedTable,
    Status,
    mcnemar_test,
    paired_difference,
    paired_margin_test,
    paired_table,
)
from dxval.stats.paired import _newcombe_interval


def flags(table: PairedTable) -> tuple[np.ndarray, np.ndarray]:
    first = np.repeat(
        [True, True, False, False], [table.both, table.first_only, table.second_only, table.neither]
    )
    second = np.repeat(
        [True, False, True, False], [table.both, table.first_only, table.second_only, table.neither]
    )
    return first, second


def test_table_counts() -> None:
    first, second = flags(PairedTable(5, 3, 2, 7))
    assert paired_table(first, second) == PairedTable(5, 3, 2, 7)


def test_exact_mcnemar_is_the_binomial_test_on_discordant_pairs() -> None:
    first, second = flags(PairedTable(30, 12, 3, 10))
    result = mcnemar_test(first, second)
    assert result.p_value == pytest.approx(binomtest(3, 15, 0.5).pvalue, rel=1e-12)
    assert result.status is Status.OK
    assert result.effect is not None
    assert result.effect.estimate == pytest.approx(9 / 55)


def test_asymptotic_mcnemar_with_and_without_continuity_correction() -> None:
    first, second = flags(PairedTable(30, 12, 3, 10))
    corrected = mcnemar_test(first, second, method="asymptotic")
    assert corrected.statistic == pytest.approx((9 - 1) ** 2 / 15)
    assert corrected.p_value == pytest.approx(chi2.sf(64 / 15, 1))
    plain = mcnemar_test(first, second, method="asymptotic", continuity_correction=False)
    assert plain.statistic == pytest.approx(81 / 15)
    assert "continuity" not in plain.method


def test_no_discordant_pairs_is_undefined() -> None:
    first, second = flags(PairedTable(10, 0, 0, 4))
    result = mcnemar_test(first, second)
    assert result.status is Status.UNDEFINED
    assert result.p_value is None
    assert result.reason == "no discordant pairs"


def test_newcombe_interval_contains_estimate_and_flips_with_the_models() -> None:
    table = PairedTable(30, 12, 3, 10)
    first, second = flags(table)
    forward, backward = paired_difference(first, second), paired_difference(second, first)
    assert forward.low is not None
    assert forward.high is not None
    assert forward.low < (forward.estimate or 0) < forward.high
    assert backward.low == pytest.approx(-forward.high)
    assert backward.high == pytest.approx(-forward.low)
    assert "Newcombe" in forward.method


def test_newcombe_interval_has_near_nominal_coverage() -> None:
    rng = np.random.default_rng(20261126)
    cells = np.array([0.6, 0.2, 0.1, 0.1])  # p1 = 0.8, p2 = 0.7
    tables = rng.multinomial(60, cells, size=3000)
    covered = 0
    for both, first_only, second_only, neither in tables:
        low, high = _newcombe_interval(PairedTable(both, first_only, second_only, neither), 0.95)
        covered += low <= 0.1 <= high
    assert 0.93 <= covered / len(tables) <= 0.975


def test_non_inferiority_of_paired_sensitivity() -> None:
    first, second = flags(PairedTable(70, 6, 4, 20))
    result = paired_margin_test(first, second, margin=0.1)
    assert result.claim_supported is True
    assert result.hypothesis is MarginHypothesis.NON_INFERIORITY
    superiority = paired_margin_test(first, second, margin=0.0, hypothesis="superiority")
    assert superiority.claim_supported is False
    assert result.to_dict()["claim_supported"] is True


def test_empty_and_unequal_inputs() -> None:
    empty = paired_difference(np.array([], dtype=bool), np.array([], dtype=bool))
    assert empty.status is Status.UNDEFINED
    assert "no paired cases" in (empty.reason or "")
    undecided = paired_margin_test(np.array([], dtype=bool), np.array([], dtype=bool), margin=0.1)
    assert undecided.claim_supported is None
    assert undecided.status is Status.UNDEFINED
    with pytest.raises(ValueError, match="expected equal lengths"):
        paired_table(np.array([True]), np.array([True, False]))
    with pytest.raises(ValueError, match="margin: expected a non-negative number"):
        paired_margin_test(np.array([True]), np.array([True]), margin=-1)
