"""A robustness level analysed against the unperturbed run: its metrics and paired differences.

Each level of the protocol's ``robustness:`` study (issue 19) scored the same
cases again with their pixels perturbed. The level is a population of its own
(every metric with its interval, as for the unperturbed cases), and the
**paired** differences, level − unperturbed, on the cases evaluable in both
runs come from the one paired implementation of model comparison
(:func:`dxval.analysis.paired.compare_paired`, issue 13): ΔAUC by DeLong's
paired test (as ``pROC::roc.test(paired = TRUE)``), Δsensitivity and
Δspecificity with Newcombe's (1998, method 10) and Tango's score intervals and
McNemar's tests, and the decision flips (positive ⇔ score ≥ the operating
point, the same threshold in both runs) to positive and to negative.

Criteria reach the differences through the paired-reference mechanism of
:mod:`dxval.analysis.criteria`: :class:`UnperturbedReference` is registered
under ``against: unperturbed`` and answers for ``{perturbation: ID}``
populations. An identical scoring (the identity level, e.g. noise 0) gives
differences of exactly 0 and no flip; its ΔAUC has zero variance and is
reported with its point estimate 0 and an undefined interval, never a NaN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from dxval.analysis.metrics import MetricEngine, StatisticsSettings
from dxval.analysis.paired import PairedComparison, PairedScores
from dxval.analysis.populations import Population
from dxval.analysis.table import CaseTable
from dxval.stats import Estimate
from dxval.stats.vocabulary import DIFFERENCE_METRICS

__all__ = [
    "AGAINST",
    "LevelAnalysis",
    "LevelScores",
    "UnperturbedReference",
    "analyse_level",
    "level_population",
]

#: What every robustness difference is taken against (the ``against:`` id of a criterion).
AGAINST = "unperturbed"


@dataclass(frozen=True, slots=True)
class LevelScores:
    """One level's identity (ID and perturbation record) and its case table.

    ``table`` has the unperturbed table's cases in the same order.
    """

    id: str
    perturbation: Mapping[str, Any]
    table: CaseTable


@dataclass(frozen=True, slots=True)
class LevelAnalysis:
    """A level's metric engine and population, and its pairing with the unperturbed run."""

    id: str
    perturbation: Mapping[str, Any]
    engine: MetricEngine
    population: Population
    paired: PairedScores
    comparison: PairedComparison

    def record(self) -> dict[str, Any]:
        """JSON-safe paired part of the level's ``metrics.json`` entry."""
        return {
            "level": self.id,
            "perturbation": dict(self.perturbation),
            "against": AGAINST,
            "differences": {
                name: self.comparison.estimate(name).to_dict() for name in DIFFERENCE_METRICS
            },
            "comparison": self.comparison.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class UnperturbedReference:
    """The paired reference ``unperturbed`` of difference criteria on robustness levels.

    Implements :class:`dxval.analysis.paired.PairedReference`: the difference
    on a ``{perturbation: ID}`` population is that level − the unperturbed
    run; any other population has no perturbed scores (undefined, with why).
    """

    levels: Mapping[str, LevelAnalysis]

    def difference(
        self, population: Population, metric: str, *, confidence_level: float
    ) -> Estimate:
        """Level − unperturbed of ``metric`` (one of DIFFERENCE_METRICS) on a level's population."""
        level = (
            self.levels.get(population.level or "") if population.kind == "perturbation" else None
        )
        if level is None:
            return Estimate.undefined(
                f"{population.label}: no perturbed scores; against: {AGAINST} compares a "
                "{perturbation: ID} population",
                confidence_level=confidence_level,
                method="paired difference",
                n=0,
            )
        return level.paired.difference(population, metric, confidence_level=confidence_level)


def level_population(level_id: str, size: int) -> Population:
    """The population of every case scored at one level (key ``perturbation:<id>``)."""
    return Population(
        key=f"perturbation:{level_id}",
        label=f"perturbation {level_id}",
        kind="perturbation",
        mask=np.ones(size, dtype=np.bool_),
        level=level_id,
    )


def _check_same_cases(base: CaseTable, level: CaseTable, level_id: str) -> None:
    if base.size != level.size or not np.array_equal(base.case_ids, level.case_ids):
        raise ValueError(f"robustness level {level_id}: its cases differ from the unperturbed run")


def analyse_level(
    base: CaseTable, level: LevelScores, settings: StatisticsSettings
) -> LevelAnalysis:
    """Metrics of one level and its paired comparison (level − unperturbed).

    Parameters
    ----------
    base:
        The unperturbed run's case table.
    level:
        The level's case table (same cases, same order) and identity.
    settings:
        The protocol's statistical methods (confidence level, operating point).

    Raises
    ------
    ValueError
        The level's cases are not the unperturbed run's cases in the same order.
    """
    _check_same_cases(base, level.table, level.id)
    population = level_population(level.id, level.table.size)
    paired = PairedScores.from_table(
        level.table,
        base.scores,
        reference_threshold=base.operating_point,
        label=f"robustness level {level.id}",
    )
    return LevelAnalysis(
        id=level.id,
        perturbation=level.perturbation,
        engine=MetricEngine(level.table, settings),
        population=population,
        paired=paired,
        comparison=paired.compare(population, confidence_level=settings.confidence_level),
    )
