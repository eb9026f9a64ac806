"""The report of a detection or segmentation bundle (issue 16): HTML, PDF and figures.

A task bundle has ``detection.json`` or ``segmentation.json`` in place of
``metrics.json``; this module builds its view from the bundle files only
(``run.json``, ``protocol.yaml``, ``criteria.json`` and the task document) and
renders ``task_report.html`` with the same template environment, fonts and
PDF writer as the classification report. The 510(k) summary paragraph states
the localisation criterion (detection) or the structures and tolerance
(segmentation) together with the results, as FDA's CADe guidance and
segmentation submissions expect them stated.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2

from dxval.errors import InputError
from dxval.evidence.format import (
    CRITERIA_NAME,
    DETECTION_NAME,
    FIGURES_FOLDER,
    RUN_NAME,
    SEGMENTATION_NAME,
    CriteriaDocument,
    DetectionRecord,
    EstimateRecord,
    RunRecord,
    SegmentationRecord,
    read_record,
)
from dxval.protocol import load_protocol
from dxval.report import formatting as fmt
from dxval.report.elements import FigureView
from dxval.report.render import HTML_NAME, PRINT, REPORT_NAME, SCREEN, layout, write_pdf
from dxval.report.template_set import template_environment, template_error
from dxval.report.views_detection import DetectionView, build_detection
from dxval.report.views_segmentation import SegmentationView, build_segmentation

__all__ = ["TaskReportView", "build_task_report", "render_task_reports", "task_of"]

TASK_ROOT = "task_report.html"


@dataclass(frozen=True, slots=True)
class CriterionLine:
    """One criterion of the requirement table."""

    requirement_id: str
    text: str
    name: str
    description: str
    observed: str
    required: str
    verdict: str
    verdict_class: str
    populations: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True, slots=True)
class TaskReportView:
    """Everything ``task_report.html`` shows."""

    task: str
    title: str
    protocol_id: str
    protocol_version: str
    run_id: str
    created: str
    dxval_version: str
    device: str
    intended_use: str
    independence: str
    outcome: str
    outcome_class: str
    message: str | None
    cases: str
    criteria: tuple[CriterionLine, ...]
    detection: DetectionView | None
    segmentation: SegmentationView | None
    summary_510k: tuple[str, ...]
    files: tuple[str, ...]

    @property
    def figures(self) -> tuple[FigureView, ...]:
        """The figures written to ``figures/``."""
        section = self.detection or self.segmentation
        return () if section is None else (section.figure,)


def task_of(folder: Path) -> str | None:
    """The ``task`` a bundle's ``run.json`` names (None for a classification bundle)."""
    try:
        run = json.loads((folder / RUN_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    task = run.get("task") if isinstance(run, dict) else None
    return task if task in ("detection", "segmentation") else None


def _criteria(document: CriteriaDocument) -> tuple[CriterionLine, ...]:
    lines = []
    for requirement in document.requirements:
        for criterion in requirement.criteria:
            lines.append(
                CriterionLine(
                    requirement.id,
                    requirement.text,
                    criterion.name,
                    criterion.description,
                    fmt.number(criterion.observed),
                    criterion.required,
                    criterion.verdict.upper(),
                    criterion.verdict,
                    tuple(
                        (
                            outcome.label,
                            fmt.number(outcome.observed),
                            fmt.estimate_text(outcome.estimate),
                        )
                        for outcome in criterion.populations
                    ),
                )
            )
    return tuple(lines)


def _detection_summary(view: DetectionView, record: DetectionRecord, device: str) -> list[str]:
    overall = record.populations[0]
    statistics = overall.statistics
    return [
        f"{device} was tested standalone on {overall.cases} cases ({overall.abnormal_cases} "
        f"with at least one lesion, {overall.lesions} lesions) from "
        f"{sum(1 for p in record.populations if p.kind == 'site')} sites. The localisation "
        f"criterion, fixed in the protocol before the analysis, was: {view.localisation}; "
        f"{view.matching}. Marks scoring at least {view.operating_point} are the device output.",
        f"At this operating point the lesion-level sensitivity was "
        f"{fmt.estimate_text(statistics['lesion_sensitivity'], digits=3)} with "
        f"{fmt.estimate_text(statistics['fp_per_image'], digits=3)} false positives per image "
        f"({fmt.estimate_text(statistics['fp_per_normal_image'], digits=3)} per normal image); "
        f"the FROC summary (mean sensitivity at 1/8 to 8 false positives per image) was "
        f"{fmt.estimate_text(statistics['froc_cpm'], digits=3)} and the wAFROC figure of merit "
        f"{fmt.estimate_text(statistics['wafroc_fom'], digits=3)} ({view.level} bootstrap "
        "intervals over cases, stratified by truth). A case without any mark counts with its "
        "lesions missed.",
    ]


def _segmentation_summary(
    view: SegmentationView, record: SegmentationRecord, device: str
) -> list[str]:
    overall = record.populations[0]
    sentences = []
    for name in record.structures:
        metrics = overall.structures[name]
        dice = fmt.estimate_text(EstimateRecord.model_validate(metrics["dice"]["mean"]), digits=3)
        hd95 = fmt.estimate_text(EstimateRecord.model_validate(metrics["hd95"]["median"]), digits=2)
        sentences.append(f"{name}: mean Dice {dice}, median HD95 {hd95} mm")
    return [
        f"{device} was tested standalone on {overall.cases} cases from "
        f"{sum(1 for p in record.populations if p.kind == 'site')} sites, comparing its "
        f"label maps with the reference masks structure by structure (Dice, IoU, HD, HD95, "
        f"ASSD and NSD at {view.tolerance} as defined by Metrics Reloaded; distances in mm from "
        "each file's voxel spacing).",
        "Results over all cases ("
        + view.level
        + " percentile bootstrap intervals over cases): "
        + "; ".join(sentences)
        + ". A case without a predicted mask is scored against an empty mask (Dice 0), never "
        "dropped.",
    ]


def build_task_report(folder: Path) -> TaskReportView:
    """The view of the task bundle at ``folder`` (bundle files only, nothing recomputed).

    Raises
    ------
    InputError
        A bundle file is missing or malformed, or the bundle is not a task bundle.
    """
    task = task_of(folder)
    if task is None:
        raise InputError(f"{folder / RUN_NAME}: not a detection or segmentation bundle")
    run = read_record(folder, RUN_NAME, RunRecord)
    criteria = read_record(folder, CRITERIA_NAME, CriteriaDocument)
    protocol = load_protocol(folder / "protocol.yaml").protocol
    device = f"{protocol.device.name} {protocol.device.version}"
    detection = segmentation = None
    if task == "detection":
        detection_record = read_record(folder, DETECTION_NAME, DetectionRecord)
        detection = build_detection(detection_record, figure_number=1)
        summary = _detection_summary(detection, detection_record, device)
    else:
        segmentation_record = read_record(folder, SEGMENTATION_NAME, SegmentationRecord)
        segmentation = build_segmentation(segmentation_record, figure_number=1)
        summary = _segmentation_summary(segmentation, segmentation_record, device)
    counts = run.cases
    verdict = {0: ("PASS", "pass"), 1: ("FAIL", "fail")}.get(run.exit_code, ("INCOMPLETE", "fail"))
    return TaskReportView(
        task=task,
        title=protocol.title,
        protocol_id=run.protocol.id,
        protocol_version=run.protocol.version,
        run_id=run.run_id,
        created=fmt.utc_text(run.finished_utc),
        dxval_version=run.dxval_version,
        device=device,
        intended_use=protocol.device.intended_use,
        independence=protocol.independence or "not stated in the protocol",
        outcome=verdict[0],
        outcome_class=verdict[1],
        message=run.message,
        cases=f"{counts.get('total', 0)} cases: {counts.get('scored', 0)} scored, "
        f"{counts.get('failed', 0)} non-evaluable",
        criteria=_criteria(criteria),
        detection=detection,
        segmentation=segmentation,
        summary_510k=tuple(summary),
        files=tuple(sorted(p.name for p in folder.iterdir() if p.is_file())),
    )


def _html(view: TaskReportView, target: Any) -> str:
    environment = template_environment(None)
    try:
        return environment.get_template(TASK_ROOT).render(report=view, target=target)
    except jinja2.TemplateError as error:
        raise template_error(error, None) or error from None


def render_task_reports(folder: Path) -> list[Path]:
    """Write ``report.pdf``, ``report.html`` and ``figures/*.svg`` of a task bundle."""
    folder = Path(folder)
    view = build_task_report(folder)
    run = read_record(folder, RUN_NAME, RunRecord)
    stamp = run.started_utc.removesuffix("Z").split(".")[0]
    moment = datetime.fromisoformat(stamp).replace(tzinfo=timezone.utc)
    document = layout(_html(view, PRINT), moment)
    outputs = {
        REPORT_NAME: write_pdf(document, variant="pdf/a-2b", attachments=[], moment=moment),
        HTML_NAME: _html(view, SCREEN).encode("utf-8"),
        **{figure.filename: figure.svg.encode("utf-8") for figure in view.figures},
    }
    written = []
    for name, content in outputs.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_bytes(content)
        os.replace(temporary, path)
        written.append(path)
    assert (folder / FIGURES_FOLDER).is_dir()
    return sorted(written)
