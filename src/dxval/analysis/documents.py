"""Run the whole analysis and shape ``metrics.json`` and ``criteria.json``.

Both documents are deterministic functions of the protocol and the inputs:
no time, run ID or host appears in them, and every interval is seeded, so a
rerun gives byte-identical files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from dxval.analysis.criteria import (
    RequirementResult,
    RequirementSpec,
    Verdict,
    evaluate_requirements,
)
from dxval.analysis.curves import roc_curves
from dxval.analysis.failure_modes import failure_modes
from dxval.analysis.metrics import HANDLINGS, MetricEngine, StatisticsSettings, population_counts
from dxval.analysis.paired import PairedReference
from dxval.analysis.populations import Population, PopulationIndex
from dxval.analysis.precision import PrecisionResult
from dxval.analysis.robustness import AGAINST, LevelScores, UnperturbedReference, analyse_level
from dxval.analysis.table import CaseTable
from dxval.stats import Estimate

METRICS_SCHEMA = "dxval-metrics/1"
CRITERIA_SCHEMA = "dxval-criteria/1"
_IMPUTED_METRICS = ("sensitivity", "specificity")


@dataclass(frozen=True, slots=True)
class CriteriaSummary:
    """How many criteria passed, failed and were undefined."""

    total: int
    passed: int
    failed: int
    undefined: int

    @property
    def all_met(self) -> bool:
        """True when every criterion passed (undefined counts as not met)."""
        return self.passed == self.total

    def to_dict(self) -> dict[str, object]:
        """JSON-safe record."""
        return {**asdict(self), "all_met": self.all_met}


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    """Everything the analysis produced, with the two evidence documents."""

    requirements: tuple[RequirementResult, ...]
    summary: CriteriaSummary
    metrics_document: dict[str, Any]
    criteria_document: dict[str, Any]


def _population_entry(engine: MetricEngine, population: Population) -> dict[str, Any]:
    counts = population_counts(engine.table, population)
    metrics = engine.metrics(population)
    imputed = {
        handling: {
            name: engine.estimate(population, name, handling=handling).to_dict()
            for name in _IMPUTED_METRICS
        }
        for handling in HANDLINGS
        if handling != "exclude"
    }
    return {
        **population.describe(),
        "cases": counts.cases,
        "evaluable": counts.evaluable,
        "non_evaluable": counts.non_evaluable,
        "positives": counts.positives,
        "negatives": counts.negatives,
        "insufficient": list(counts.insufficient(engine.settings)),
        "metrics": {name: estimate.to_dict() for name, estimate in metrics.items()},
        "non_evaluable_imputed": imputed,
        "calibration": engine.calibration_record(population),
    }


def summarise(requirements: Sequence[RequirementResult]) -> CriteriaSummary:
    """Count criterion verdicts over all requirements."""
    verdicts = [
        criterion.verdict for requirement in requirements for criterion in requirement.criteria
    ]
    return CriteriaSummary(
        total=len(verdicts),
        passed=verdicts.count(Verdict.PASS),
        failed=verdicts.count(Verdict.FAIL),
        undefined=verdicts.count(Verdict.UNDEFINED),
    )


def analyse(
    table: CaseTable,
    populations: PopulationIndex,
    requirements: Sequence[RequirementSpec],
    *,
    settings: StatisticsSettings,
    header: Mapping[str, Any],
    external: Mapping[str, Estimate] | None = None,
    levels: Sequence[LevelScores] = (),
    references: Mapping[str, PairedReference] | None = None,
    precision: PrecisionResult | None = None,
) -> AnalysisResult:
    """Compute every metric for every population, evaluate the criteria, run failure modes.

    Parameters
    ----------
    table:
        All cases, evaluable or not.
    populations:
        From :func:`dxval.analysis.populations.build_populations`.
    requirements:
        The protocol's requirements as plain specs.
    settings:
        The protocol's statistical methods.
    header:
        Protocol identity copied into both documents (ID, version, SHA-256).
    external:
        Estimates of the reader-study metrics (criteria on the ``reader_study``
        population), by metric name.
    levels:
        Case tables of the robustness levels (issue 19), each analysed against
        ``table`` (:mod:`dxval.analysis.robustness`); they go to
        ``metrics.json`` under ``robustness`` and criteria reach their
        differences as ``against: unperturbed``.
    references:
        Paired references of difference criteria (``against: <id>``), by id.
    precision:
        The repeat-group analysis (issue 19): its estimates answer criteria on
        precision metrics and its record goes to ``metrics.json`` ``precision``.
    """
    if precision is not None:
        external = {**(external or {}), **precision.estimates}
    engine = MetricEngine(table, settings)
    analysed = {level.id: analyse_level(table, level, settings) for level in levels}
    if analysed:
        references = {**(references or {}), AGAINST: UnperturbedReference(analysed)}
    results = evaluate_requirements(
        requirements,
        engine,
        populations,
        external=external,
        references=references,
        levels=analysed,
    )
    summary = summarise(results)
    groups = [p for p in populations.populations if p.kind in ("site", "attribute")]
    sites = populations.family("site")
    metrics_document = {
        "schema": METRICS_SCHEMA,
        "protocol": dict(header),
        "settings": asdict(settings),
        "cases": {
            "total": table.size,
            "evaluable": int(table.evaluable.sum()),
            "non_evaluable": int((~table.evaluable).sum()),
        },
        "populations": [_population_entry(engine, p) for p in populations.populations],
        "failure_modes": failure_modes(table, groups, sites, settings),
        "roc_curves": roc_curves(table, [populations.by_key["all"], *sites], settings),
    }
    if precision is not None:  # repeated acquisitions (issue 19)
        metrics_document["precision"] = precision.document
    if analysed:  # robustness levels (issue 19): a population each, paired with "all"
        metrics_document["robustness"] = {
            "against": AGAINST,
            "levels": [
                {**_population_entry(level.engine, level.population), **level.record()}
                for level in analysed.values()
            ],
        }
    criteria_document = {
        "schema": CRITERIA_SCHEMA,
        "protocol": dict(header),
        "summary": summary.to_dict(),
        "requirements": [requirement.to_dict() for requirement in results],
    }
    return AnalysisResult(results, summary, metrics_document, criteria_document)
