"""The exact conditional odds-ratio interval, computed over a window of its support (issue 18).

Reference: scipy.stats.contingency.odds_ratio(kind="conditional").confidence_interval,
which follows R's fisher.test (Cornfield 1956), on tables small enough for it.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats.contingency import odds_ratio

from dxval.stats import fisher_exact_test
from dxval.stats.contingency import conditional_odds_ratio_interval


@pytest.mark.req("DXV-SPEED-008")
def test_interval_equals_scipys_on_small_and_medium_tables() -> None:
    rng = np.random.default_rng(11)
    tables = [np.array(t).reshape(2, 2) for t in ([3, 1, 1, 3], [0, 5, 3, 2], [7, 2, 0, 9])]
    tables += [rng.integers(0, 80, 4).reshape(2, 2) for _ in range(30)]
    tables += [np.array([[600, 5400], [1400, 12600]])]
    for table in tables:
        if min(table.sum(axis=0).min(), table.sum(axis=1).min()) == 0:
            continue
        for level in (0.9, 0.95):
            reference = odds_ratio(table, kind="conditional").confidence_interval(level)
            low, high = conditional_odds_ratio_interval(table, level)
            for got, expected in ((low, reference.low), (high, reference.high)):
                if np.isfinite(expected) and expected > 0:
                    assert got == pytest.approx(expected, rel=1e-9)
                else:
                    assert got == expected


@pytest.mark.req("DXV-SPEED-008")
def test_window_leaves_the_interval_unchanged_on_large_tables() -> None:
    for table in ([[3000, 27000], [7000, 63000]], [[5, 20000], [1, 40000]], [[0, 900], [40, 60]]):
        cells = np.array(table)
        windowed = conditional_odds_ratio_interval(cells, 0.95)
        whole = conditional_odds_ratio_interval(cells, 0.95, window_sds=None)
        assert windowed == pytest.approx(whole, rel=1e-12)


@pytest.mark.req("DXV-SPEED-008")
def test_a_million_case_table_gives_a_narrow_interval_around_the_odds_ratio() -> None:
    result = fisher_exact_test(30_000, 270_000, 70_000, 630_000)  # odds ratio exactly 1
    assert result.effect.estimate == pytest.approx(1.0, abs=1e-9)
    assert result.effect.low == pytest.approx(0.98581, abs=1e-5)
    assert result.effect.high == pytest.approx(1.01438, abs=1e-5)
    # Woolf's interval exp(±1.96·√Σ1/cell) agrees to the 4th decimal at this size:
    half = 1.959963984540054 * np.sqrt(sum(1 / x for x in (30_000, 270_000, 70_000, 630_000)))
    assert result.effect.low == pytest.approx(np.exp(-half), abs=1e-4)
