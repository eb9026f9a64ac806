"""Task types of a protocol (``task: classification | detection | segmentation``).

A classification protocol (the default) scores each case once; its truth is
a label column of the manifests. A detection protocol compares the
device's marks (the ``predictions`` CSV, one row per mark) with the lesions
of ``detection.truth`` under a localisation criterion stated in advance
(FDA, *Clinical Performance Assessment: Considerations for Computer-Assisted
Detection Devices Applied to Radiology Images*, 2022, section V.B). A
segmentation protocol compares predicted label maps with truth label maps,
both listed in the manifests, structure by structure (Maier-Hein et al.,
*Metrics Reloaded*, Nat. Methods 2024).

Each task has its own criteria vocabulary; :func:`task_problems` reports a
criterion whose metric does not fit the task (exit 2 at load, located at the
criterion's line) and the sections a task needs or refuses.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from dxval.protocol.sections import Identifier, Section, Sha256Hex
from dxval.stats.vocabulary import (
    CALIBRATION_METRICS,
    DECISION_METRICS,
    DETECTION_METRICS,
    DIFFERENCE_METRICS,
    LATENCY_METRICS,
    PRECISION_METRICS,
    RANKING_METRICS,
    READER_STUDY_METRICS,
    RUN_METRICS,
    SEGMENTATION_METRICS,
)

if TYPE_CHECKING:
    from dxval.protocol.schema import Protocol

Task = Literal["classification", "detection", "segmentation"]

#: The metrics a criterion may name, per task.
TASK_METRICS: dict[str, tuple[str, ...]] = {
    "classification": (
        *DECISION_METRICS,
        *RANKING_METRICS,
        *CALIBRATION_METRICS,
        *RUN_METRICS,
        *READER_STUDY_METRICS,
        *DIFFERENCE_METRICS,
        *PRECISION_METRICS,
        *LATENCY_METRICS,
    ),
    "detection": DETECTION_METRICS,
    "segmentation": SEGMENTATION_METRICS,
}

Problem = tuple[tuple[str | int, ...], str, str]
"""A protocol problem as (location, got, expected); :mod:`dxval.protocol.checks` wraps it."""


class Localisation(Section):
    """When a mark hits a lesion: exactly one of ``iou``, ``distance_mm``, ``inside``."""

    iou: float | None = Field(
        default=None, gt=0.0, le=1.0, description="Box IoU at least this value (boxes only)."
    )
    distance_mm: float | None = Field(
        default=None,
        gt=0.0,
        description="Centre distance at most this many mm; pixel spacing from the truth file "
        "(spacing_x, spacing_y columns).",
    )
    inside: Literal[True] | None = Field(
        default=None, description="The mark's centre lies inside the lesion's box."
    )


class DetectionSection(Section):
    """Lesion truth and localisation rule of a ``task: detection`` protocol."""

    truth: str = Field(
        description="format csv: the lesion truth file, relative to the protocol, with "
        "columns case_id, lesion_id, a box x0,y0,x1,y1 or a point x,y, optional z, width, "
        "height, spacing_x, spacing_y, weight (a case absent from it, or with an empty "
        "lesion_id, is normal). format sr: the manifest column naming each case's DICOM SR "
        "(TID 1500) file, under the row's path so the test-set pin covers it (empty: normal)."
    )
    sha256: Sha256Hex | None = Field(
        default=None, description="SHA-256 of the CSV truth file; written by `dxval lock`."
    )
    format: Literal["csv", "sr"] = Field(
        default="csv",
        description="csv, or sr: DICOM SR TID 1500 Measurement Reports (planar ROI groups).",
    )
    localisation: Localisation = Field(description="The localisation criterion.")


class SegmentationSection(Section):
    """Label maps and structures of a ``task: segmentation`` protocol."""

    truth: str = Field(
        default="truth_mask",
        description="Manifest column: the truth label map (DICOM SEG, NIfTI or .npz), "
        "relative to the manifest; the file must lie under the row's `path` so the "
        "test-set pin covers it.",
    )
    prediction: str = Field(
        default="prediction_mask",
        description="Manifest column: the predicted label map, under the row's `path` too.",
    )
    structures: dict[Identifier, Annotated[int, Field(ge=1)]] = Field(
        min_length=1, description="Structure name → label value in both label maps, e.g. liver: 1."
    )
    nsd_tolerance_mm: float = Field(
        gt=0.0, description="Normalised surface distance tolerance τ in mm."
    )


def _score_study_problems(protocol: Protocol) -> Iterator[Problem]:
    """Paired comparison, robustness and precision studies analyse one score per case."""
    task = protocol.task
    if protocol.comparators:
        yield (("comparators",), "comparator models", f"none for task: {task}")
    if protocol.robustness is not None:
        yield (("robustness",), "a robustness study", f"none for task: {task}")
    if protocol.precision is not None:
        yield (("precision",), "a precision study", f"none for task: {task}")


def _source_problems(protocol: Protocol) -> Iterator[Problem]:
    task = protocol.task
    if task == "classification":
        if protocol.truth is None:
            yield ((), "no truth section", "a truth section (label column) for classification")
        for name in ("detection", "segmentation"):
            if getattr(protocol, name) is not None:
                yield ((name,), f"a {name} section", f"task: {name}, or no {name} section")
        return
    if protocol.truth is not None:
        yield (("truth",), f"a truth section in a {task} protocol", f"the truth in {task}.truth")
    other = "segmentation" if task == "detection" else "detection"
    if getattr(protocol, other) is not None:
        yield ((other,), f"a {other} section", f"no {other} section for task: {task}")
    if getattr(protocol, task) is None:
        yield ((), f"no {task} section", f"a {task} section for task: {task}")
    # a model in a task protocol: its output kind is checked by dxval.protocol.model_outputs
    if protocol.reader_study is not None:
        yield (("reader_study",), "a reader study", f"none for task: {task}")
    yield from _score_study_problems(protocol)
    if task == "detection" and protocol.predictions is None and protocol.model is None:
        yield ((), "no predictions section", "predictions: the marks CSV")
    if task == "segmentation" and protocol.predictions is not None:
        yield (
            ("predictions",),
            "a predictions section",
            "none: predicted masks are listed in the manifests (segmentation.prediction)",
        )


def _localisation_problems(protocol: Protocol) -> Iterator[Problem]:
    section = protocol.detection
    if protocol.task != "detection" or section is None:
        return
    if section.format == "sr" and section.sha256 is not None:
        yield (
            ("detection", "sha256"),
            "a sha256 for SR truth",
            "none: each case's SR file is pinned with its test set (under the row's path)",
        )
    chosen = [
        name for name in ("iou", "distance_mm", "inside") if getattr(section.localisation, name)
    ]
    if len(chosen) != 1:
        yield (
            ("detection", "localisation"),
            ", ".join(chosen) or "no criterion",
            "exactly one of iou, distance_mm, inside",
        )


def _criterion_problems(protocol: Protocol) -> Iterator[Problem]:
    task = protocol.task
    allowed = TASK_METRICS[task]
    structures = [] if protocol.segmentation is None else list(protocol.segmentation.structures)
    for requirement_index, requirement in enumerate(protocol.requirements):
        for criterion_index, criterion in enumerate(requirement.criteria):
            here = ("requirements", requirement_index, "criteria", criterion_index)
            if criterion.metric not in allowed:
                yield (
                    (*here, "metric"),
                    f"{criterion.metric!r} in a {task} protocol",
                    f"a {task} metric: {', '.join(allowed)}",
                )
            segmentation = task == "segmentation" and criterion.metric in SEGMENTATION_METRICS
            if criterion.statistic is not None and not segmentation:
                yield ((*here, "statistic"), repr(criterion.statistic), "no statistic")
            if criterion.structure is not None and not segmentation:
                yield ((*here, "structure"), repr(criterion.structure), "no structure")
            if segmentation and criterion.structure is None and len(structures) != 1:
                yield ((*here,), "no structure", f"structure: one of {', '.join(structures)}")
            if segmentation and criterion.structure not in (None, *structures):
                yield (
                    (*here, "structure"),
                    f"unknown structure {criterion.structure!r}",
                    f"one of {', '.join(structures)} (segmentation.structures)",
                )


def task_problems(protocol: Protocol) -> Iterator[Problem]:
    """Every task problem of a schema-valid protocol, as (location, got, expected)."""
    yield from _source_problems(protocol)
    yield from _localisation_problems(protocol)
    yield from _criterion_problems(protocol)
