"""A robustness level analysed against the unperturbed run: its metrics and paired differences.

Each level of the protocol's ``robustness:`` study (issue 19) scored the same
cases again with their pixels perturbed. The level is a population of its own
(every metric with its interval, as for the unperturbed cases), and the
**paired** differences, level − unperturbed, on the cases evaluable in both
runs:

* ``auc_difference``: paired DeLong test of the two AUCs (DeLong et al. 1988;
  as ``pROC::roc.test(paired = TRUE)``), :func:`dxval.stats.delong_paired_test`;
* ``sensitivity_difference`` / ``specificity_difference``: paired difference
  of the proportions correct among the truly positive / negative cases with
  Newcombe's (1998, method 10) hybrid score interval,
  :func:`dxval.stats.paired_difference`;
* ``flip_fraction``: the fraction of cases whose decision (score ≥ operating
  point) changed, with the protocol's proportion interval, and the counts of
  flips to positive and to negative.

An identical scoring (the identity level, e.g. noise 0) gives differences of
exactly 0 and no flip; its ΔAUC has zero variance and is reported with its
point estimate 0 and an undefined interval, never a NaN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dxval.analysis.metrics import MetricEngine, StatisticsSettings
from dxval.analysis.populations import Population
from dxval.analysis.table import CaseTable
from dxval.stats import (
    AucComparison,
    Estimate,
    delong_paired_test,
    paired_difference,
    proportion_ci,
)

__all__ = ["AGAINST", "LevelAnalysis", "LevelScores", "analyse_level", "level_population"]

#: What every robustness difference is taken against.
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
    """A level's metric engine, its population, and its paired differences to the original."""

    id: str
    perturbation: Mapping[str, Any]
    engine: MetricEngine
    population: Population
    differences: Mapping[str, Estimate]
    comparison: AucComparison | None
    flips: Mapping[str, int] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """JSON-safe paired part of the level's ``metrics.json`` entry."""
        comparison = self.comparison
        return {
            "level": self.id,
            "perturbation": dict(self.perturbation),
            "against": AGAINST,
            "differences": {name: value.to_dict() for name, value in self.differences.items()},
            "auc_test": None
            if comparison is None
            else {
                "z": comparison.z,
                "p_value": comparison.p_value,
                "method": comparison.method,
                "status": comparison.status.value,
                "reason": comparison.reason,
            },
            "flips": dict(self.flips),
        }


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
    """Metrics of one level and its paired differences (level − unperturbed).

    Parameters
    ----------
    base:
        The unperturbed run's case table.
    level:
        The level's case table (same cases, same order) and identity.
    settings:
        The protocol's statistical methods (level, proportion interval, operating point).

    Raises
    ------
    ValueError
        The level's cases are not the unperturbed run's cases in the same order.
    """
    _check_same_cases(base, level.table, level.id)
    confidence_level = settings.confidence_level
    both = base.evaluable & level.table.evaluable
    truth = base.truth[both]
    original, perturbed = base.scores[both], level.table.scores[both]
    threshold = settings.operating_point
    called_original, called_perturbed = original >= threshold, perturbed >= threshold
    correct_original = called_original == truth
    correct_perturbed = called_perturbed == truth
    comparison = delong_paired_test(truth, perturbed, original, confidence_level=confidence_level)
    to_positive = int(np.count_nonzero(called_perturbed & ~called_original))
    to_negative = int(np.count_nonzero(~called_perturbed & called_original))
    differences = {
        "auc_difference": comparison.difference,
        "sensitivity_difference": paired_difference(
            correct_perturbed[truth], correct_original[truth], confidence_level=confidence_level
        ),
        "specificity_difference": paired_difference(
            correct_perturbed[~truth], correct_original[~truth], confidence_level=confidence_level
        ),
        "flip_fraction": proportion_ci(
            to_positive + to_negative,
            int(truth.shape[0]),
            confidence_level=confidence_level,
            method=settings.proportion_method,
        ),
    }
    return LevelAnalysis(
        id=level.id,
        perturbation=level.perturbation,
        engine=MetricEngine(level.table, settings),
        population=level_population(level.id, level.table.size),
        differences=differences,
        comparison=comparison,
        flips={
            "paired_cases": int(truth.shape[0]),
            "to_positive": to_positive,
            "to_negative": to_negative,
            "total": to_positive + to_negative,
        },
    )
