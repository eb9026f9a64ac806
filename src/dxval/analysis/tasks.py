"""Detection and segmentation analyses of a protocol: per-population estimates and criteria.

A ``task: detection`` protocol matches each case's marks to its lesions
(:func:`dxval.stats.detection.match_case`, greedy by decreasing score, one
mark per lesion) and computes the detection statistics of every population
(all cases, each site, each subgroup level) with bootstrap intervals over
cases stratified by truth. A ``task: segmentation`` protocol scores every
case and structure (:func:`dxval.stats.segmentation.segmentation_metrics`)
and summarises each population by the mean or median over cases with a
percentile bootstrap interval. Criteria are then evaluated as for a
classification protocol: the worst member of a family, or the spread, with
intervals at the Bonferroni level for bounds over K > 1 populations.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dxval.analysis.criteria import (
    CriterionResult,
    CriterionSpec,
    PopulationOutcome,
    PopulationSpec,
    RequirementResult,
    Verdict,
    _combine,
    _spread,
    _worst,
    resolve_populations,
)
from dxval.analysis.populations import Population, PopulationIndex
from dxval.data.masks import LabelMap, grid_problem, read_label_map, structure_mask
from dxval.errors import InputError
from dxval.stats import Estimate, adjusted_confidence_level
from dxval.stats.detection import (
    DETECTION_STATISTICS,
    CaseMatch,
    FrocData,
    detection_statistics,
)
from dxval.stats.segmentation import (
    SegmentationResult,
    _bounds,
    bootstrap_location,
    segmentation_metrics,
)

__all__ = [
    "DetectionEstimates",
    "SegmentationEstimates",
    "StructureOutcome",
    "TaskCriterion",
    "evaluate_task_requirements",
    "score_model_case",
    "score_segmentation_case",
]

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}


@dataclass(frozen=True, slots=True)
class TaskCriterion:
    """What the evaluation needs of a criterion (see :class:`dxval.pipeline.task_plan`)."""

    metric: str
    population: PopulationSpec
    op: str
    value: float
    bound: str
    spread: str | None
    statistic: str | None
    structure: str | None


@dataclass(frozen=True, slots=True)
class Bootstrap:
    """Bootstrap settings of the protocol."""

    replicates: int
    seed: int


class DetectionEstimates:
    """Detection statistics per (population, confidence level), computed once each.

    ``matches`` are the cases in table order; a population's mask selects
    its cases. ``threshold`` is the operating point on the mark scores.
    """

    def __init__(
        self, matches: Sequence[CaseMatch], *, threshold: float, bootstrap: Bootstrap
    ) -> None:
        self.matches = list(matches)
        self.threshold = threshold
        self.bootstrap = bootstrap
        self._cache: dict[tuple[str, float], dict[str, Estimate]] = {}

    def statistics(self, population: Population, level: float) -> dict[str, Estimate]:
        """Every detection statistic of ``population`` at ``level``."""
        key = (population.key, level)
        if key not in self._cache:
            chosen = [
                match for match, keep in zip(self.matches, population.mask, strict=True) if keep
            ]
            self._cache[key] = detection_statistics(
                FrocData.from_cases(chosen),
                threshold=self.threshold,
                confidence_level=level,
                replicates=self.bootstrap.replicates,
                seed=self.bootstrap.seed,
            )
        return self._cache[key]

    def estimate(self, criterion: TaskCriterion, population: Population, level: float) -> Estimate:
        """The estimate a criterion compares."""
        return self.statistics(population, level)[criterion.metric]


@dataclass(frozen=True, slots=True)
class StructureOutcome:
    """One case and structure: metrics, or the reason code why there are none."""

    case_id: str
    structure: str
    result: SegmentationResult | None
    reason: str | None

    @property
    def status(self) -> str:
        """``scored`` (every metric exists), ``undefined`` (some do not) or ``error``."""
        if self.result is None:
            return "error"
        return "undefined" if self.result.reason is not None else "scored"

    @property
    def reason_code(self) -> str | None:
        """The reason code: the error, or why a metric is undefined."""
        if self.result is None:
            return None if self.reason is None else self.reason.split(":", 1)[0]
        return self.result.reason


def _unknown_structure(names: Mapping[int, str], label: int, role: str) -> str | None:
    if names and label not in names:
        known = ", ".join(f"{number} {name!r}" for number, name in sorted(names.items()))
        return f"unknown_structure: label {label} not in the {role} ({known})"
    return None


def score_segmentation_case(
    case_id: str,
    truth_path: Path,
    prediction_path: Path | None,
    structures: Sequence[tuple[str, int]],
    *,
    tolerance: float,
) -> list[StructureOutcome]:
    """Score one case, structure by structure (its two label maps in memory once).

    A missing prediction (``None``) is an empty prediction: every structure
    present in the truth is missed (Dice 0, distances undefined with reason
    ``empty_prediction``), never dropped. Unreadable files and grids that
    differ give every structure a reason (``unreadable``, ``shape_mismatch``,
    ``spacing_mismatch``, ``geometry_mismatch``) and no metrics.
    """
    try:
        truth = read_label_map(truth_path)
        prediction = None if prediction_path is None else read_label_map(prediction_path)
    except InputError as error:
        return [
            StructureOutcome(case_id, name, None, f"unreadable: {error}") for name, _ in structures
        ]
    return _score_label_maps(case_id, truth, prediction, structures, tolerance=tolerance)


def score_model_case(
    case_id: str,
    truth_path: Path,
    prediction: np.ndarray | str,
    structures: Sequence[tuple[str, int]],
    *,
    tolerance: float,
) -> list[StructureOutcome]:
    """Score one case whose prediction is a model's label map (issue 16 item 5).

    The same metrics as :func:`score_segmentation_case`. ``prediction`` is the
    label map the harness stored, on the truth's axis order; it carries no
    spacing of its own and takes the truth's (a model output on another grid
    is ``shape_mismatch``). A string is the harness's failure
    (``"reason_code: reason"``): every structure is non-evaluable with it.
    """
    try:
        truth = read_label_map(truth_path)
    except InputError as error:
        return [
            StructureOutcome(case_id, name, None, f"unreadable: {error}") for name, _ in structures
        ]
    if isinstance(prediction, str):
        return [StructureOutcome(case_id, name, None, prediction) for name, _ in structures]
    predicted = LabelMap(prediction, truth.spacing, source="model")
    return _score_label_maps(case_id, truth, predicted, structures, tolerance=tolerance)


def _score_label_maps(
    case_id: str,
    truth: LabelMap,
    prediction: LabelMap | None,
    structures: Sequence[tuple[str, int]],
    *,
    tolerance: float,
) -> list[StructureOutcome]:
    problem = None if prediction is None else grid_problem(truth, prediction)
    if problem is not None:
        return [StructureOutcome(case_id, name, None, problem) for name, _ in structures]
    outcomes = []
    for name, label in structures:
        unknown = _unknown_structure(truth.names, label, "truth") or (
            None
            if prediction is None
            else _unknown_structure(prediction.names, label, "prediction")
        )
        if unknown is not None:
            outcomes.append(StructureOutcome(case_id, name, None, unknown))
            continue
        truth_mask = structure_mask(truth, label)
        predicted = (
            np.zeros_like(truth_mask) if prediction is None else structure_mask(prediction, label)
        )
        result = segmentation_metrics(truth_mask, predicted, truth.spacing, tolerance=tolerance)
        outcomes.append(StructureOutcome(case_id, name, result, None))
    return outcomes


class SegmentationEstimates:
    """Mean/median of a metric per (population, structure, level) with bootstrap intervals.

    ``outcomes`` maps a structure name to its outcomes in case-table order.
    """

    def __init__(
        self, outcomes: Mapping[str, Sequence[StructureOutcome]], *, bootstrap: Bootstrap
    ) -> None:
        self.outcomes = {name: list(values) for name, values in outcomes.items()}
        self.bootstrap = bootstrap

    def values(self, structure: str, metric: str, mask: np.ndarray) -> tuple[np.ndarray, int]:
        """The defined per-case values in ``mask`` and how many cases have none."""
        present, missing = [], 0
        for outcome, keep in zip(self.outcomes[structure], mask, strict=True):
            if not keep:
                continue
            value = None if outcome.result is None else outcome.result.value(metric)
            if value is None:
                missing += 1
            else:
                present.append(value)
        return np.asarray(present, dtype=np.float64), missing

    def summary(
        self, population: Population, structure: str, metric: str, statistic: str, level: float
    ) -> Estimate:
        """The mean or median of ``metric`` over the population's cases."""
        values, _ = self.values(structure, metric, population.mask)
        return bootstrap_location(
            values,
            statistic=statistic,
            confidence_level=level,
            replicates=self.bootstrap.replicates,
            seed=self.bootstrap.seed,
            bounds=_bounds(metric),
        )

    def estimate(self, criterion: TaskCriterion, population: Population, level: float) -> Estimate:
        """The estimate a criterion compares."""
        assert criterion.structure is not None  # set by the task plan
        assert criterion.statistic is not None
        return self.summary(
            population, criterion.structure, criterion.metric, criterion.statistic, level
        )


Lookup = Callable[[TaskCriterion, Population, float], Estimate]


def _outcome(
    lookup: Lookup, criterion: TaskCriterion, population: Population, level: float
) -> PopulationOutcome:
    estimate = lookup(criterion, population, level)
    bound = "point" if criterion.spread is not None else criterion.bound
    value = {"point": estimate.estimate, "lower": estimate.low, "upper": estimate.high}[bound]
    reason = None if value is not None else (estimate.reason or f"no {bound} value")
    verdict: Verdict | None
    if value is None:
        verdict = Verdict.UNDEFINED
    elif criterion.spread is not None:
        verdict = None
    else:
        verdict = Verdict.PASS if _OPERATORS[criterion.op](value, criterion.value) else Verdict.FAIL
    return PopulationOutcome(population, estimate, value, verdict, reason, ())


def _describe(criterion: TaskCriterion, spec: CriterionSpec, level: float) -> str:
    text = spec.describe(level)
    if criterion.structure is not None:
        head, _, tail = text.partition(", ")
        text = f"{head} ({criterion.statistic} over cases, structure {criterion.structure}), {tail}"
    return text


def _criterion(
    lookup: Lookup,
    index: PopulationIndex,
    criterion: TaskCriterion,
    *,
    requirement_id: str,
    position: int,
    confidence_level: float,
    multiplicity: str,
) -> CriterionResult:
    spec = CriterionSpec(
        criterion.metric, criterion.population, criterion.op, criterion.value,
        criterion.bound, criterion.spread,
    )  # fmt: skip
    populations = resolve_populations(spec.population, index)
    k = len(populations)
    applies = spec.bound != "point" and spec.spread is None and k > 1
    method = multiplicity if applies else "none"
    level = adjusted_confidence_level(confidence_level, max(k, 1), method=method)
    outcomes = tuple(_outcome(lookup, criterion, population, level) for population in populations)
    if not populations:
        observed, verdict = None, Verdict.UNDEFINED
        reason: str | None = f"no cases in {spec.population.describe()}"
    elif spec.spread is not None:
        observed, verdict, reason = _spread(outcomes, spec)
    else:
        observed, verdict, reason = _worst(outcomes, spec)
    return CriterionResult(
        requirement_id=requirement_id,
        index=position,
        spec=spec,
        verdict=verdict,
        observed=observed,
        reason=reason,
        description=_describe(criterion, spec, level),
        confidence_level=level,
        multiplicity={
            "method": method,
            "family_size": k,
            "family_confidence_level": confidence_level,
            "adjusted_confidence_level": level,
            "note": "Holm has no interval form; intervals use the Bonferroni level"
            if applies and method == "holm"
            else None,
        },
        outcomes=outcomes,
    )


def evaluate_task_requirements(
    requirements: Sequence[tuple[str, str, Sequence[TaskCriterion]]],
    index: PopulationIndex,
    lookup: Lookup,
    *,
    confidence_level: float,
    multiplicity: str,
) -> tuple[RequirementResult, ...]:
    """Evaluate every criterion of ``(id, text, criteria)`` requirements, in protocol order."""
    results = []
    for requirement_id, text, criteria in requirements:
        single = len(criteria) == 1
        evaluated = tuple(
            _criterion(
                lookup,
                index,
                criterion,
                requirement_id=requirement_id,
                position=-1 if single else position,
                confidence_level=confidence_level,
                multiplicity=multiplicity,
            )
            for position, criterion in enumerate(criteria)
        )
        verdict = _combine([criterion.verdict for criterion in evaluated])
        results.append(RequirementResult(requirement_id, text, verdict, evaluated))
    return tuple(results)


#: Detection statistic names in report order (the protocol vocabulary uses the same).
DETECTION_NAMES = tuple(DETECTION_STATISTICS)
