"""Fisher's exact test for failure-mode enrichment."""

from __future__ import annotations

import pytest
from scipy.stats import fisher_exact

from dxval.stats import Status, fisher_exact_test


def test_two_sided_p_value_and_conditional_odds_ratio() -> None:
    # R: fisher.test(matrix(c(3, 1, 1, 3), 2)): p = 0.4857, conditional MLE OR 6.408309
    result = fisher_exact_test(3, 1, 1, 3)
    assert result.p_value == pytest.approx(0.4857142857, rel=1e-9)
    assert result.odds_ratio is not None
    assert result.odds_ratio.estimate == pytest.approx(6.408309, rel=1e-5)
    assert result.odds_ratio.low == pytest.approx(0.2117329, rel=1e-4)
    assert result.status is Status.OK
    assert result.statistic is None


def test_tea_tasting_table_matches_scipy() -> None:
    result = fisher_exact_test(8, 2, 1, 5)
    assert result.p_value == pytest.approx(fisher_exact([[8, 2], [1, 5]]).pvalue, rel=1e-12)
    assert result.to_dict()["effect"]["status"] == "ok"


def test_zero_cell_gives_undefined_odds_ratio_with_p_value() -> None:
    result = fisher_exact_test(10, 0, 2, 8)
    assert result.p_value is not None
    assert result.p_value < 0.001
    assert result.odds_ratio is not None
    assert result.odds_ratio.status is Status.UNDEFINED
    assert "zero cell" in (result.odds_ratio.reason or "")


def test_empty_margin_and_negative_count() -> None:
    result = fisher_exact_test(0, 0, 2, 8)
    assert result.status is Status.UNDEFINED  # no p = 1 presented as a real p-value
    assert result.p_value is None
    assert "empty" in (result.reason or "")
    assert result.to_dict()["p_value"] is None
    assert result.odds_ratio is not None
    assert "empty" in (result.odds_ratio.reason or "")
    with pytest.raises(ValueError, match="expected non-negative counts"):
        fisher_exact_test(-1, 0, 2, 8)
