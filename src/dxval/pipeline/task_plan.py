"""The detection or segmentation part of a :class:`~dxval.pipeline.plan.RunPlan` (issue 16).

Plain frozen values taken from the protocol's ``task``, ``detection`` /
``segmentation`` sections and the criteria's ``statistic`` and ``structure``
keys; :mod:`dxval.pipeline.tasks` runs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dxval.analysis import PopulationSpec
from dxval.analysis.tasks import TaskCriterion
from dxval.protocol import Criterion, LoadedProtocol
from dxval.stats.detection import Criterion as LocalisationCriterion
from dxval.stats.detection import Localisation

__all__ = ["DetectionPlan", "SegmentationPlan", "TaskCriterion", "TaskPlan", "task_plan"]


@dataclass(frozen=True, slots=True)
class TaskRequirement:
    """A requirement with its criteria."""

    id: str
    text: str
    criteria: tuple[TaskCriterion, ...]


@dataclass(frozen=True, slots=True)
class DetectionPlan:
    """Lesion truth file (as written, resolved, pinned) and the localisation criterion."""

    truth: str
    resolved: Path
    sha256: str | None
    localisation: Localisation
    format: str = "csv"


@dataclass(frozen=True, slots=True)
class SegmentationPlan:
    """Manifest columns of the two label maps, the structures and the NSD tolerance."""

    truth_column: str
    prediction_column: str
    structures: tuple[tuple[str, int], ...]
    nsd_tolerance_mm: float


@dataclass(frozen=True, slots=True)
class TaskPlan:
    """A detection or segmentation protocol's task: what to read and what to compare."""

    kind: str
    requirements: tuple[TaskRequirement, ...]
    detection: DetectionPlan | None = None
    segmentation: SegmentationPlan | None = None


def _localisation(loaded: LoadedProtocol) -> Localisation:
    section = loaded.protocol.detection
    assert section is not None  # checked at load (dxval.protocol.tasks)
    rule = section.localisation
    if rule.iou is not None:
        return Localisation(LocalisationCriterion.IOU, rule.iou)
    if rule.distance_mm is not None:
        return Localisation(LocalisationCriterion.DISTANCE, rule.distance_mm)
    return Localisation(LocalisationCriterion.INSIDE)


def _criterion(
    criterion: Criterion, population: Callable[[Criterion], PopulationSpec], structures: list[str]
) -> TaskCriterion:
    segmentation = bool(structures)
    return TaskCriterion(
        metric=criterion.metric,
        population=population(criterion),
        op=criterion.op,
        value=criterion.value,
        bound=criterion.bound,
        spread=criterion.spread,
        statistic=(criterion.statistic or "mean") if segmentation else None,
        structure=(criterion.structure or structures[0]) if segmentation else None,
    )


def task_plan(
    loaded: LoadedProtocol, *, population: Callable[[Criterion], PopulationSpec]
) -> TaskPlan | None:
    """The task part of the plan; None for a classification protocol."""
    protocol = loaded.protocol
    if protocol.task == "classification":
        return None
    detection = segmentation = None
    structures: list[str] = []
    if protocol.detection is not None:
        section = protocol.detection
        detection = DetectionPlan(
            section.truth,
            loaded.resolve(section.truth),
            section.sha256,
            _localisation(loaded),
            section.format,
        )
    if protocol.segmentation is not None:
        masks = protocol.segmentation
        structures = list(masks.structures)
        segmentation = SegmentationPlan(
            masks.truth, masks.prediction, tuple(masks.structures.items()), masks.nsd_tolerance_mm
        )
    requirements = tuple(
        TaskRequirement(
            requirement.id,
            requirement.text,
            tuple(_criterion(c, population, structures) for c in requirement.criteria),
        )
        for requirement in protocol.requirements
    )
    return TaskPlan(protocol.task, requirements, detection, segmentation)
