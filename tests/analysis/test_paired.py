"""Difference criteria (``against:``) and the paired references they read (analysis/paired.py).

Reference values: ../shared/reference/README.md, pROC 1.18.0
``roc.test(r_s100b, r_wfns, method = "delong", paired = TRUE)``:
95% CI of AUC(s100b) − AUC(wfns) [−0.1742144192, −0.01040617696].
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from dxval.analysis import (
    CaseTable,
    CriterionSpec,
    MetricEngine,
    Population,
    PopulationIndex,
    PopulationSpec,
    RequirementSpec,
    StatisticsSettings,
    Verdict,
    evaluate_requirements,
)
from dxval.analysis.paired import PairedScores, compare_paired
from dxval.stats import Estimate
from dxval.stats.results import interval_estimate

ASAH = Path(__file__).parents[1] / "data" / "aSAH.csv"
LOWER, UPPER = -0.1742144192, -0.01040617696


def _wfns() -> np.ndarray:
    with ASAH.open(newline="") as handle:
        return np.array([float(row["wfns"]) for row in csv.DictReader(handle)])


def _evaluate(
    table: CaseTable,
    populations: PopulationIndex,
    settings: StatisticsSettings,
    references: dict[str, object],
    *criteria: CriterionSpec,
) -> list:
    results = evaluate_requirements(
        [RequirementSpec("CMP-1", "text", tuple(criteria))],
        MetricEngine(table, settings),
        populations,
        references=references,  # type: ignore[arg-type]
    )
    return list(results[0].criteria)


@pytest.mark.req("DXV-PCCP-003")
def test_auc_difference_against_a_comparator_passes_and_fails_at_the_delong_bound(
    table: CaseTable, populations: PopulationIndex, settings: StatisticsSettings
) -> None:
    reference = PairedScores.from_table(table, _wfns(), reference_threshold=2.5, label="wfns")
    below, above = _evaluate(
        table,
        populations,
        settings,
        {"wfns": reference},
        CriterionSpec(
            "auc_difference", PopulationSpec("all"), ">=", LOWER - 1e-6, "lower", against="wfns"
        ),
        CriterionSpec(
            "auc_difference", PopulationSpec("all"), ">=", LOWER + 1e-6, "lower", against="wfns"
        ),
    )
    assert below.verdict is Verdict.PASS
    assert above.verdict is Verdict.FAIL
    assert below.observed == pytest.approx(LOWER, rel=1e-9)
    assert below.description == "auc_difference vs wfns, lower 95% bound, all cases"
    assert below.to_dict()["against"] == "wfns"


@pytest.mark.req("DXV-PCCP-003")
def test_family_of_differences_uses_the_multiplicity_adjusted_level(
    table: CaseTable, populations: PopulationIndex, settings: StatisticsSettings
) -> None:
    reference = PairedScores.from_table(table, _wfns(), reference_threshold=2.5, label="wfns")
    (result,) = _evaluate(
        table,
        populations,
        settings,
        {"wfns": reference},
        CriterionSpec(
            "sensitivity_difference",
            PopulationSpec("each", family="site"),
            ">",
            -0.5,
            "lower",
            against="wfns",
        ),
    )
    assert result.multiplicity["family_size"] == 2
    assert result.confidence_level == pytest.approx(0.975)
    for outcome in result.outcomes:
        assert outcome.estimate.confidence_level == pytest.approx(0.975)
        assert outcome.estimate.method.startswith("Newcombe")


class _ConstantReference:
    """A second kind of reference (as ``against: unperturbed`` would add): any object with
    ``difference(population, metric, confidence_level=...)``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, float]] = []

    def difference(
        self, population: Population, metric: str, *, confidence_level: float
    ) -> Estimate:
        self.calls.append((population.key, metric, confidence_level))
        return interval_estimate(
            -0.01,
            -0.03,
            0.01,
            confidence_level=confidence_level,
            method="test",
            n=10,
            bounds=(-1, 1),
        )


def test_any_paired_reference_plugs_into_the_criteria(
    table: CaseTable, populations: PopulationIndex, settings: StatisticsSettings
) -> None:
    other = _ConstantReference()
    (result,) = _evaluate(
        table,
        populations,
        settings,
        {"unperturbed": other},
        CriterionSpec(
            "flip_fraction",
            PopulationSpec("each", family="site"),
            "<=",
            0.02,
            "upper",
            against="unperturbed",
        ),
    )
    assert result.verdict is Verdict.PASS
    assert [call[1] for call in other.calls] == ["flip_fraction", "flip_fraction"]


def test_unknown_reference_is_undefined_never_a_pass(
    table: CaseTable, populations: PopulationIndex, settings: StatisticsSettings
) -> None:
    (result,) = _evaluate(
        table,
        populations,
        settings,
        {},
        CriterionSpec("auc_difference", PopulationSpec("all"), ">=", -1.0, against="missing"),
    )
    assert result.verdict is Verdict.UNDEFINED
    assert "no paired reference 'missing'" in (result.reason or "")


def test_cases_not_scored_by_both_are_left_out_of_the_pair(
    table: CaseTable, populations: PopulationIndex
) -> None:
    scores = _wfns()
    scores[:5] = np.nan
    reference = PairedScores.from_table(table, scores, reference_threshold=2.5, label="wfns")
    everything = populations.by_key["all"]
    comparison = reference.compare(everything, confidence_level=0.95)
    assert comparison.n == table.size - 5
    assert comparison.flips.n == table.size - 5


def test_compare_paired_holds_every_statistic_with_method_level_and_n() -> None:
    truth = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], dtype=bool)
    candidate = np.array([0.1, 0.3, 0.35, 0.4, 0.8, 0.45, 0.6, 0.7, 0.9, 0.95])
    reference = np.array([0.2, 0.1, 0.5, 0.3, 0.6, 0.7, 0.4, 0.8, 0.85, 0.9])
    comparison = compare_paired(
        truth,
        candidate,
        reference,
        candidate_threshold=0.5,
        reference_threshold=0.5,
        confidence_level=0.9,
    )
    document = comparison.to_dict()
    assert (document["n"], document["positives"], document["negatives"]) == (10, 5, 5)
    for key in ("newcombe", "tango"):
        assert document["sensitivity"][key]["confidence_level"] == 0.9
        assert document["sensitivity"][key]["n"] == 5
    assert document["sensitivity"]["mcnemar_exact"]["method"] == "McNemar exact"
    assert document["auc"]["difference"]["confidence_level"] == 0.9
    # at 0.5: 0.35 and 0.45 are negative for the candidate and positive for the reference
    # (0.5, 0.7): two flips to negative; 0.6 is positive, its reference 0.4 not: one to positive
    assert (comparison.flips.to_positive, comparison.flips.to_negative) == (1, 2)
