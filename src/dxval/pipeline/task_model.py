"""A segmentation or detection model scored through the locked harness (issue 16 item 5).

A ``task: segmentation`` protocol with a ``model:`` whose output is
``kind: mask`` gets its predicted label maps from the model, not from a
manifest column. The run is the classification run's: the model pin and the
golden check (:func:`dxval.pipeline.score.score_with_model` →
:func:`dxval.inference.score_cases`), the PHI scan and decoder pins over the
model's input files, decode and preprocessing in worker processes, the
prediction cache (label maps stored content-addressed beside its entries)
and one result per case, scored or failed with its reason. The label maps
then go through the same per-case metrics as bundled masks
(:func:`dxval.analysis.tasks.score_model_case`).

The model's input of a case is its row's files (under ``path``) other than
its mask files (the truth column's file): typically a DICOM series, stacked
along the slice normal by the reader. The model's label map must come out on
the truth's voxel grid (after ``model.output.transpose``); it takes the
truth's spacing. dxval does not resample a mask back through a ``resize`` of
the preprocessing: a map of another size is ``shape_mismatch``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from dxval.analysis.detection import TruthCase
from dxval.data import Case, TestSetSource
from dxval.data.locks import case_input_digest
from dxval.data.manifest import ManifestRow
from dxval.evidence import AuditLog
from dxval.evidence.format import PHI_NAME
from dxval.inference.options import InferenceOptions
from dxval.inference.outputs import BoxSpec, kept_boxes
from dxval.pipeline.plan import RunPlan
from dxval.pipeline.score import ModelScores, score_with_model
from dxval.stats.detection import Region

__all__ = [
    "ModelCase",
    "box_resize",
    "model_input",
    "model_marks",
    "model_prediction",
    "record_model_run",
    "score_task_model",
]

Marks = dict[str, tuple[list[Region], list[float]]]


@dataclass(frozen=True, slots=True)
class ModelCase:
    """What the harness needs of one task case: identity, site and its manifest row."""

    case_id: str
    test_set: str
    site: str
    row: ManifestRow
    source: TestSetSource


def _image_files(case: ModelCase, mask_columns: Sequence[str]) -> list[tuple[Path, str]]:
    """The row's files (absolute, relative name) other than the files its mask columns name."""
    folder = case.source.manifest.path.parent
    masks = {
        (folder / case.row.values[column]).resolve()
        for column in mask_columns
        if case.row.values.get(column)
    }
    return [
        (path, name)
        for path, name in zip(case.row.files, case.row.names, strict=True)
        if path.resolve() not in masks
    ]


def model_input(case: ModelCase, mask_columns: Sequence[str]) -> Case:
    """The harness's case: the model's input files and their digest (the cache key)."""
    files = _image_files(case, mask_columns)
    lock = case.source.lock
    digest = None
    if lock is not None and files:
        digests = lock.file_sha256()
        digest = case_input_digest((name, digests[name]) for _, name in files)
    return Case(
        case_id=case.case_id,
        test_set=case.test_set,
        site=case.site,
        truth_label="",
        truth=False,
        attributes={},
        files=tuple(path for path, _ in files),
        input_sha256=digest,
        source=str(case.source.manifest.path),
    )


def score_task_model(
    plan: RunPlan,
    cases: Sequence[ModelCase],
    *,
    options: InferenceOptions,
    cache_dir: Path,
    work_dir: Path,
) -> ModelScores:
    """Run the protocol's mask or box model over every case through the harness.

    ``work_dir`` must outlive the reading of the masks (without a cache they are
    stored there). Raises what :func:`~dxval.pipeline.score.score_with_model`
    raises: exit 2 for an unusable model, a signature or output-shape mismatch or
    refused PHI; exit 3 for a pin or golden-check mismatch.
    """
    assert plan.task is not None
    if plan.task.segmentation is not None:
        columns = [plan.task.segmentation.truth_column]
    else:  # detection: an SR truth is a manifest column; a CSV truth is no case file
        detection = plan.task.detection
        assert detection is not None
        columns = [detection.truth] if detection.format == "sr" else []
    inputs = [model_input(case, columns) for case in cases]
    return score_with_model(
        plan, inputs, options=options, default_cache_dir=cache_dir, work_dir=work_dir
    )


def model_prediction(run: ModelScores, case_id: str) -> NDArray[np.uint16] | str:
    """A case's label map (uint16 array) from the run's mask store, or its failure text.

    The failure text is ``"reason_code: reason"``, as cases.csv splits it.
    """
    failure = run.failures.get(case_id)
    if failure is not None:
        code, reason = failure
        return f"{code}: {reason}"
    digest = run.masks.get(case_id)
    if digest is None or run.mask_store is None:
        return "no_prediction: the harness returned no label map for this case"
    try:
        return run.mask_store.read(digest)
    except ValueError as error:
        return f"unreadable: {error}"


def box_resize(plan: RunPlan) -> tuple[int, int] | None:
    """The (rows, columns) of the preprocessing ``resize`` (the last one), or None."""
    size = None
    for step in plan.preprocessing:
        if getattr(step, "op", None) == "resize":
            rows, columns = step.size  # type: ignore[union-attr]
            size = (int(rows), int(columns))
    return size


def _case_marks(
    row: Sequence[float],
    spec: BoxSpec,
    resize: tuple[int, int] | None,
    size: tuple[float, float] | None,
) -> tuple[list[Region], list[float]] | tuple[None, tuple[str, str]]:
    """One case's kept boxes on the image's pixel grid, or ``(None, (code, reason))``."""
    kept = kept_boxes(row, spec)
    if resize is None:
        x_scale = y_scale = 1.0
    elif size is None:
        if not kept:
            return [], []
        return None, (
            "no_image_geometry",
            "the case has no DICOM image with Rows/Columns to map the boxes back through "
            f"the preprocessing resize {list(resize)}",
        )
    else:
        x_scale, y_scale = size[0] / resize[1], size[1] / resize[0]
    regions, scores = [], []
    for x0, y0, x1, y1, score in kept:
        box = Region.box(x0 * x_scale, y0 * y_scale, x1 * x_scale, y1 * y_scale)
        if size is not None and (min(box.x0, box.y0) < 0 or box.x1 > size[0] or box.y1 > size[1]):
            return None, (
                "box_outside_image",
                f"box ({box.x0:g}, {box.y0:g}, {box.x1:g}, {box.y1:g}) on the image's pixel "
                f"grid; expected within 0..{size[0]:g} x 0..{size[1]:g} pixels",
            )
        regions.append(box)
        scores.append(score)
    return regions, scores


def model_marks(
    plan: RunPlan, run: ModelScores, truth: dict[str, TruthCase]
) -> tuple[Marks, dict[str, tuple[str, str]]]:
    """Each case's marks from a box model's rows, and the cases that failed (with reason).

    A failed case has no marks (its lesions count as missed); a case with no box
    at or above ``score_floor`` has zero marks. Coordinates are mapped from the
    model input's pixels back onto the image's (module docstring).
    """
    assert plan.model is not None
    spec = plan.model.config.output.boxes
    assert spec is not None
    resize = box_resize(plan)
    marks: Marks = {}
    failures: dict[str, tuple[str, str]] = {}
    for case_id, lesion_truth in truth.items():
        failure = run.failures.get(case_id)
        row = run.boxes.get(case_id)
        if failure is None and row is None:
            failure = ("no_prediction", "the harness returned no boxes for this case")
        if failure is not None or row is None:
            failures[case_id] = failure or ("no_prediction", "")
            marks[case_id] = ([], [])
            continue
        regions, found = _case_marks(row, spec, resize, lesion_truth.size)
        if regions is None:
            assert isinstance(found, tuple)
            failures[case_id] = found
            marks[case_id] = ([], [])
            continue
        assert isinstance(found, list)
        marks[case_id] = (regions, found)
    return marks, failures


def record_model_run(audit: AuditLog, run: ModelScores) -> None:
    """Audit events of the model run, as a classification run records them."""
    audit.record("model.loaded", run.runner, "artifact signature checked before any case")
    if run.golden is not None:
        audit.record("model.golden_checked", run.golden, "pinned reference input re-scored")
    cache = {**run.cache, "hit_case_ids": list(run.cache_hit_case_ids)}
    verified = (
        "cached box rows re-checked before use"
        if run.boxes
        else "cached label maps verified by hash before use"
    )
    audit.record("cache.used", cache, verified)
    if run.phi_findings:
        findings = {"findings": len(run.phi_findings), "file": PHI_NAME}
        audit.record("phi.warned", findings, "qc.phi is 'warn': findings recorded, run continues")
