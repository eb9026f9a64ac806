"""The comparison stage: comparators scored on the candidate's cases, paired analysis, PCCP.

For a protocol with ``comparators:`` (issue 13), :func:`score_comparators`
gives every comparator a score per case of the candidate's case table: a
predictions comparator from its pinned CSV (exactly the candidate's cases,
else exit 2 naming the case), a model comparator through the same locked
harness, prediction cache and PHI preflight as the candidate
(:func:`dxval.pipeline.score.score_with_model` on the plan with the
comparator's model and preprocessing). :func:`paired_references` turns them
into the :class:`~dxval.analysis.paired.PairedScores` that difference
criteria (``against: <id>``) read, and :func:`comparison_document` is the
bundle's ``comparison.json``: every paired statistic for every population
(all cases, each site, each subgroup), flips included. :func:`pccp_record`
is the ``pccp`` entry of ``run.json``: the modification, and whether it may
be implemented (not when a criterion is not met).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dxval.analysis import CaseTable, PopulationIndex
from dxval.analysis.paired import PairedScores
from dxval.data import Case, check_coverage, read_predictions
from dxval.errors import InputError
from dxval.evidence import AuditLog
from dxval.inference.options import InferenceOptions
from dxval.pipeline.plan import ComparatorPlan, RunPlan
from dxval.pipeline.score import ModelScores, score_with_model

__all__ = [
    "COMPARISON_SCHEMA",
    "NOT_IMPLEMENTED",
    "ComparatorScores",
    "comparison_document",
    "paired_references",
    "pccp_record",
    "score_comparators",
]

COMPARISON_SCHEMA = "dxval-comparison/1"
#: What the bundle states when a criterion of a PCCP run is not met (FDA PCCP guidance).
NOT_IMPLEMENTED = "modification not to be implemented"


@dataclass(frozen=True, slots=True)
class ComparatorScores:
    """One comparator's scores in case-table order (NaN: not scored) and its harness run."""

    comparator: ComparatorPlan
    scores: npt.NDArray[np.float64]
    run: ModelScores | None
    failures: dict[str, tuple[str, str]]


def _prediction_scores(
    comparator: ComparatorPlan, cases: Sequence[Case]
) -> dict[str, float | None]:
    section = comparator.predictions
    assert section is not None  # only called for predictions comparators
    try:
        predictions = read_predictions(
            section.resolved,
            case_id_column=section.case_id,
            score_column=section.score,
            failure_reason_column=section.failure_reason,
        )
        check_coverage(section.resolved, predictions, (case.case_id for case in cases))
    except InputError as error:
        raise InputError(f"comparator {comparator.id}: {error}") from None
    return {case_id: prediction.score for case_id, prediction in predictions.items()}


def score_comparators(
    plan: RunPlan,
    cases: Sequence[Case],
    table: CaseTable,
    *,
    options: InferenceOptions,
    cache_dir: Path,
    audit: AuditLog,
) -> tuple[ComparatorScores, ...]:
    """Score every comparator on the candidate's cases; record each run in ``audit``.

    Raises
    ------
    InputError
        A predictions comparator lacks a case of the manifests or has an extra
        one (exit 2, the case named).
    UsageError, IntegrityError
        As :func:`~dxval.pipeline.score.score_with_model` for a model comparator.
    """
    results = []
    order = [str(case_id) for case_id in table.case_ids]
    for comparator in plan.comparators:
        run = None
        if comparator.model is not None:
            model_plan = replace(
                plan,
                model=comparator.model,
                predictions=None,
                preprocessing=comparator.preprocessing,
            )
            run = score_with_model(model_plan, cases, options=options, default_cache_dir=cache_dir)
            by_case, failures = run.scores, dict(run.failures)
            audit.record(
                "comparator.scored",
                {
                    "id": comparator.id,
                    "role": comparator.role,
                    "model": comparator.model.path,
                    "runner": run.runner,
                    "cache": {**run.cache, "hit_case_ids": list(run.cache_hit_case_ids)},
                },
                "comparator model scored on the candidate's cases by the locked harness",
            )
        else:
            by_case, failures = _prediction_scores(comparator, cases), {}
            audit.record(
                "comparator.scored",
                {"id": comparator.id, "role": comparator.role, "cases": len(by_case)},
                "comparator scores read from its pinned predictions file",
            )
        scores = np.array(
            [np.nan if by_case.get(case_id) is None else by_case[case_id] for case_id in order],
            dtype=np.float64,
        )
        results.append(ComparatorScores(comparator, scores, run, failures))
    return tuple(results)


def paired_references(
    table: CaseTable, comparators: Sequence[ComparatorScores]
) -> dict[str, PairedScores]:
    """The paired reference of each comparator, by id (what ``against: <id>`` names)."""
    return {
        item.comparator.id: PairedScores.from_table(
            table,
            item.scores,
            reference_threshold=item.comparator.operating_point,
            label=item.comparator.id,
        )
        for item in comparators
    }


def comparison_document(
    plan: RunPlan,
    populations: PopulationIndex,
    comparators: Sequence[ComparatorScores],
    references: Mapping[str, PairedScores],
) -> dict[str, Any]:
    """``comparison.json``: candidate − each comparator on every population.

    Populations are all cases, each site, each test set and each subgroup
    (attribute level, and site × attribute where the protocol asks), at the
    protocol's confidence level (unadjusted: the criteria record their own
    multiplicity-adjusted levels in ``criteria.json``).
    """
    level = plan.statistics.confidence_level
    entries = []
    for item in comparators:
        comparator = item.comparator
        reference = references[comparator.id]
        source = comparator.model if comparator.model is not None else comparator.predictions
        assert source is not None  # exactly one: protocol checks
        entries.append(
            {
                "id": comparator.id,
                "role": comparator.role,
                "description": comparator.description,
                "source": "model" if comparator.model is not None else "predictions",
                "path": source.path,
                "operating_point": comparator.operating_point,
                "not_scored": int(np.isnan(item.scores).sum()),
                "populations": [
                    {
                        **population.describe(),
                        "paired_cases": int(reference.paired_mask(population).sum()),
                        **reference.compare(population, confidence_level=level).to_dict(),
                    }
                    for population in populations.populations
                ],
            }
        )
    return {
        "schema": COMPARISON_SCHEMA,
        "protocol": {"id": plan.protocol_id, "version": plan.version, "sha256": plan.digest},
        "candidate": {"operating_point": plan.operating_point},
        "difference": "candidate - comparator",
        "confidence_level": level,
        "comparators": entries,
    }


def pccp_record(plan: RunPlan, *, all_met: bool) -> dict[str, Any] | None:
    """The ``pccp`` entry of ``run.json``: the modification and the decision on it."""
    if plan.pccp is None:
        return None
    return {
        **dict(plan.pccp),
        "comparators": [
            {"id": comparator.id, "role": comparator.role} for comparator in plan.comparators
        ],
        "decision": "modification may be implemented" if all_met else NOT_IMPLEMENTED,
        "implement": all_met,
    }
