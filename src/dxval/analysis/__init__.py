"""Populations, metrics for every population, acceptance criteria and failure modes.

Public entry points: :class:`CaseTable` / :class:`CaseRecord` (the input),
:func:`build_populations`, :class:`StatisticsSettings`, :class:`MetricEngine`,
:func:`evaluate_requirements` with :class:`RequirementSpec` /
:class:`CriterionSpec` / :class:`PopulationSpec`, :func:`failure_modes`, and
:func:`analyse`, which runs all of them and shapes ``metrics.json`` and
``criteria.json``.
"""

from __future__ import annotations

from dxval.analysis.criteria import (
    CriterionResult,
    CriterionSpec,
    PopulationOutcome,
    PopulationSpec,
    RequirementResult,
    RequirementSpec,
    Verdict,
    evaluate_requirements,
    resolve_populations,
)
from dxval.analysis.documents import (
    CRITERIA_SCHEMA,
    METRICS_SCHEMA,
    AnalysisResult,
    CriteriaSummary,
    analyse,
    summarise,
)
from dxval.analysis.failure_modes import failure_modes, score_distributions
from dxval.analysis.metrics import (
    HANDLINGS,
    MetricEngine,
    PopulationCounts,
    StatisticsSettings,
    population_counts,
)
from dxval.analysis.populations import (
    MISSING_LEVEL,
    AttributeSpec,
    Population,
    PopulationIndex,
    band_labels,
    band_of,
    build_populations,
    parse_dicom_age,
)
from dxval.analysis.table import CaseRecord, CaseTable
from dxval.stats.vocabulary import ALL_METRICS, DECISION_METRICS

__all__ = [
    "ALL_METRICS",
    "CRITERIA_SCHEMA",
    "DECISION_METRICS",
    "HANDLINGS",
    "METRICS_SCHEMA",
    "MISSING_LEVEL",
    "AnalysisResult",
    "AttributeSpec",
    "CaseRecord",
    "CaseTable",
    "CriteriaSummary",
    "CriterionResult",
    "CriterionSpec",
    "MetricEngine",
    "Population",
    "PopulationCounts",
    "PopulationIndex",
    "PopulationOutcome",
    "PopulationSpec",
    "RequirementResult",
    "RequirementSpec",
    "StatisticsSettings",
    "Verdict",
    "analyse",
    "band_labels",
    "band_of",
    "build_populations",
    "evaluate_requirements",
    "failure_modes",
    "parse_dicom_age",
    "population_counts",
    "resolve_populations",
    "score_distributions",
    "summarise",
]
