"""Failure-mode tests with an empty row or column are undefined and left out of the family.

The adjusted p-values of the defined groups are checked against statsmodels
(an independent implementation of Holm 1979 and Bonferroni):

    from statsmodels.stats.multitest import multipletests
    multipletests(defined_p_values, method="holm")[1]

run on the defined p-values only; the raw p-values against
``scipy.stats.fisher_exact(table, alternative="two-sided")``.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from scipy import stats as scipy_stats

from dxval.analysis import CaseTable, PopulationIndex, StatisticsSettings, failure_modes
from dxval.analysis.populations import Population


def _multipletests(p_values: list[float], method: str) -> list[float]:
    with warnings.catch_warnings():
        # statsmodels 0.14 imports pandas helpers that newer pandas deprecate
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        from statsmodels.stats.multitest import multipletests

    return [float(value) for value in multipletests(p_values, method=method)[1]]


def _groups(table: CaseTable, populations: PopulationIndex) -> list[Population]:
    """The WFNS levels, plus a group of no case and a group of every case (empty rows)."""
    nobody = Population("nobody", "No case", "attribute", np.zeros(table.size, dtype=bool))
    everybody = Population("everybody", "Every case", "attribute", np.ones(table.size, dtype=bool))
    levels = populations.family("attribute", attribute="wfns")
    return [levels[0], nobody, *levels[1:], everybody]


def _scipy_p(table: CaseTable, group: Population, truth_class: bool) -> float:
    called = table.called_positive()
    class_mask = table.evaluable & (table.truth == truth_class)
    error = class_mask & (called != truth_class)
    inside, outside = group.mask & class_mask, ~group.mask & class_mask
    cells = [
        [int((inside & error).sum()), int((inside & ~error).sum())],
        [int((outside & error).sum()), int((outside & ~error).sum())],
    ]
    return float(scipy_stats.fisher_exact(cells, alternative="two-sided").pvalue)


@pytest.mark.req("DXV-ANAL-008")
@pytest.mark.parametrize("method", ["holm", "bonferroni"])
def test_adjusted_p_values_over_the_defined_tests_match_statsmodels(
    table: CaseTable, populations: PopulationIndex, settings: StatisticsSettings, method: str
) -> None:
    groups = _groups(table, populations)
    result = failure_modes(table, groups, [], replace(settings, multiplicity=method))
    for name, truth_class in (("false_negative", True), ("false_positive", False)):
        rows: list[dict[str, Any]] = result[name]["groups"]
        defined = [row for row in rows if row["fisher_exact"]["status"] == "ok"]
        assert [row["population"] for row in rows if row not in defined] == [
            "nobody",
            "everybody",
        ]
        assert len(defined) == len(groups) - 2 >= 4
        raw = [row["fisher_exact"]["p_value"] for row in defined]
        by_key = {group.key: group for group in groups}
        assert raw == pytest.approx(
            [_scipy_p(table, by_key[row["population"]], truth_class) for row in defined],
            rel=1e-9,
        )
        # statsmodels: multipletests(defined p-values only, method=...)[1]
        expected = _multipletests(raw, method)
        assert [row["p_value_adjusted"] for row in defined] == pytest.approx(expected, rel=1e-12)
        # Counting the two undefined tests as p = 1 would change the result (K = 6, not 4).
        inflated = _multipletests([*raw, 1.0, 1.0], method)[: len(raw)]
        assert inflated != pytest.approx(expected, rel=1e-12)
        assert result[name]["multiplicity"] == {
            "method": method,
            "family_size": len(defined),
            "undefined_tests": 2,
        }


@pytest.mark.req("DXV-ANAL-008")
def test_empty_table_group_is_undefined_not_p_one(
    table: CaseTable, populations: PopulationIndex, settings: StatisticsSettings
) -> None:
    result = failure_modes(table, _groups(table, populations), [], settings)
    for name in ("false_negative", "false_positive"):
        rows = {row["population"]: row for row in result[name]["groups"]}
        for key, cases in (("nobody", 0), ("everybody", result[name]["overall"]["cases"])):
            row = rows[key]
            assert row["cases"] == cases
            test = row["fisher_exact"]
            assert test["status"] == "undefined"
            assert test["p_value"] is None
            assert row["p_value_adjusted"] is None
            assert test["reason"] == (
                "a row or column of the table is empty: the test is not informative"
            )
    assert "left out of the family" in result["method"]


@pytest.mark.req("DXV-ANAL-008")
def test_a_family_of_undefined_tests_only_has_size_zero(
    table: CaseTable, settings: StatisticsSettings
) -> None:
    nobody = Population("nobody", "No case", "attribute", np.zeros(table.size, dtype=bool))
    result = failure_modes(table, [nobody], [], settings)
    assert result["false_negative"]["multiplicity"] == {
        "method": "holm",
        "family_size": 0,
        "undefined_tests": 1,
    }
    assert result["false_negative"]["groups"][0]["p_value_adjusted"] is None
