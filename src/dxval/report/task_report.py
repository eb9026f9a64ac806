"""The report of a detection or segmentation bundle (issue 16): HTML, PDF and figures.

A task bundle has ``detection.json`` or ``segmentation.json`` in place of
``metrics.json``; this module builds its view from the bundle files only
(``run.json``, ``protocol.yaml``, ``criteria.json`` and the task document) and
renders ``task_report.html`` with the same template environment, fonts and
PDF writer as the classification report. The 510(k) summary paragraph states
the localisation criterion (detection) or the structures and tolerance
(segmentation) together with the results, as FDA's CADe guidance and
segmentation submissions expect them stated.

The renditions are those of a classification bundle: ``report.pdf``
(PDF/A-3b with the evidence files of :data:`TASK_ATTACHED_FILES` embedded),
``report-submission.pdf`` (PDF/A-2b, no attachments) and ``report.html``; the
cover carries the signature block of ``signatures/`` (21 CFR 11.50) and a
``--templates`` folder is used over the shipped templates. The document
shell (``base.html``), the signature block and the evidence-file table are
the classification report's own partials.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2

from dxval.data.hashing import sha256_bytes
from dxval.errors import InputError
from dxval.evidence.format import (
    CRITERIA_NAME,
    DETECTION_NAME,
    LOCK_NAME,
    RUN_NAME,
    SEGMENTATION_NAME,
    TASK_ATTACHED_FILES,
    CriteriaDocument,
    DetectionRecord,
    EstimateRecord,
    RunRecord,
    SegmentationRecord,
    read_json_object,
    read_record,
    read_signature_entries,
)
from dxval.evidence.signatures.digest import is_evidence_file
from dxval.evidence.signatures.registry import SignerRegistry
from dxval.protocol import load_protocol
from dxval.report import formatting as fmt
from dxval.report.elements import Field, FigureView
from dxval.report.pdf import (
    REPORT_NAME,
    SUBMISSION_NAME,
    evidence_attachments,
    layout,
    write_both_pdfs,
)
from dxval.report.render import (
    HTML_NAME,
    PRINT,
    SCREEN,
    Progress,
    RenderTarget,
    no_progress,
    templates_view,
    write_renditions,
)
from dxval.report.template_set import template_environment, template_error, template_set
from dxval.report.views import (
    FILE_DESCRIPTIONS,
    DocumentView,
    EvidenceFileView,
    SignatureView,
    TemplatesView,
    signature_view,
)
from dxval.report.views_detection import DetectionView, build_detection
from dxval.report.views_segmentation import SegmentationView, build_segmentation

__all__ = [
    "TASK_REPORT_ROOTS",
    "TaskReportView",
    "build_task_report",
    "render_task_html",
    "render_task_reports",
    "task_of",
]

TASK_ROOT = "task_report.html"
#: The template a task report starts from (its template set: :func:`template_set` roots).
TASK_REPORT_ROOTS = (TASK_ROOT,)


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

    document: DocumentView
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
    criteria_summary: str
    detection: DetectionView | None
    segmentation: SegmentationView | None
    summary_510k: tuple[str, ...]
    files: tuple[EvidenceFileView, ...]
    run_fields: tuple[Field, ...] = ()
    digests: tuple[Field, ...] = ()
    signatures: tuple[SignatureView, ...] = ()
    templates: TemplatesView | None = None

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


def _criteria_summary(document: CriteriaDocument, run: RunRecord) -> str:
    """The cover's count line, worded as the classification cover's."""
    summary = document.summary
    return (
        f"{summary['passed']} of {summary['total']} criteria met, {summary['failed']} not met, "
        f"{summary['undefined']} undefined; run {run.status}, exit code {run.exit_code}"
    )


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


def _document(run: RunRecord) -> DocumentView:
    """Document identity, by the classification report's rule: ``<protocol>-VR-<run>``."""
    return DocumentView(
        document_id=f"{run.protocol.id}-VR-{run.run_id}",
        title=f"Validation report: {run.protocol.title}",
        heading=run.protocol.title,
        run_id=run.run_id,
        protocol_id=run.protocol.id,
        protocol_version=run.protocol.version,
        created=run.started_utc.split(".")[0].removesuffix("Z") + "Z",
        date_text=fmt.utc_text(run.started_utc),
        dxval_version=run.dxval_version,
    )


def _run_fields(run: RunRecord) -> tuple[Field, ...]:
    return (
        Field("Protocol", f"{run.protocol.id} version {run.protocol.version}"),
        Field("Run ID", run.run_id, mono=True),
        Field("Started", fmt.utc_text(run.started_utc)),
        Field("Finished", fmt.utc_text(run.finished_utc)),
        Field("Executed by", f"{run.user or fmt.DASH} on {run.host or fmt.DASH}"),
        Field("dxval version", run.dxval_version),
    )


def _digests(run: RunRecord, lock: dict[str, Any]) -> tuple[Field, ...]:
    """The pinned digests of ``lock.json``: protocol, model or marks, lesion truth, test sets."""
    fields = [Field("Protocol SHA-256", run.protocol.sha256, mono=True)]
    sources = (
        ("model", "Model"),
        ("predictions", "Predictions file"),
        ("detection_truth", "Lesion truth"),
    )
    for key, label in sources:
        source = lock.get(key)
        if isinstance(source, dict):
            fields.append(Field(f"{label} ({source.get('path')}) SHA-256", source["sha256"], True))
    for test_set in lock.get("test_sets") or []:
        fields.append(
            Field(f"Test set {test_set['test_set']} lock SHA-256", test_set["sha256"], mono=True)
        )
    return tuple(fields)


def _files(folder: Path, attached: tuple[str, ...]) -> tuple[EvidenceFileView, ...]:
    """The bundle's evidence files (renderings, manifest and signatures excluded), sorted."""
    views = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or not is_evidence_file(path.name):
            continue
        content = path.read_bytes()
        views.append(
            EvidenceFileView(
                name=path.name,
                description=FILE_DESCRIPTIONS.get(path.name, ""),
                sha256=sha256_bytes(content),
                size=f"{len(content):,} bytes",
                attached=path.name in attached,
            )
        )
    return tuple(views)


def build_task_report(folder: Path, *, signers: SignerRegistry | None = None) -> TaskReportView:
    """The view of the task bundle at ``folder`` (bundle files only, nothing recomputed).

    ``signers``: a signer registry; the signature block then shows each
    signature's registry verdict (as for a classification bundle).

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
        document=_document(run),
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
        criteria_summary=_criteria_summary(criteria, run),
        detection=detection,
        segmentation=segmentation,
        summary_510k=tuple(summary),
        files=_files(folder, TASK_ATTACHED_FILES[task]),
        run_fields=_run_fields(run),
        digests=_digests(run, read_json_object(folder / LOCK_NAME)),
        signatures=tuple(
            signature_view(entry) for entry in read_signature_entries(folder, signers=signers)
        ),
    )


def _targets(task: str) -> tuple[RenderTarget, RenderTarget]:
    """The PDF and HTML targets, their notes naming the files a task bundle attaches."""
    attached = TASK_ATTACHED_FILES[task]
    listed = ", ".join(attached[:-1]) + f" and {attached[-1]}"
    pdf = replace(
        PRINT,
        note=f"Renditions: report.pdf (PDF/A-3b) embeds {listed} as associated files; "
        "report-submission.pdf (PDF/A-2b) has the same pages and no attachments, for "
        "submission portals that reject embedded files; report.html is the screen version.",
        attachments_note="The evidence files marked 'in report.pdf' are embedded in the "
        "archival rendition report.pdf as associated files, byte for byte.",
    )
    return pdf, SCREEN


def _run_time(run: RunRecord) -> datetime:
    """The run's start time (UTC, whole seconds): the date of every rendition, as for
    :func:`dxval.report.render.run_time`."""
    stamp = run.started_utc.removesuffix("Z").split(".")[0]
    return datetime.fromisoformat(stamp).replace(tzinfo=timezone.utc)


def render_task_html(view: TaskReportView, target: RenderTarget, folder: Path | None = None) -> str:
    """The task report as HTML for ``target``, from ``folder`` over the shipped templates.

    Raises
    ------
    TemplateError
        A custom template fails (file and line named, exit 2).
    jinja2.TemplateError
        A shipped template fails (a bug, never silent).
    """
    environment = template_environment(folder)
    try:
        return environment.get_template(TASK_ROOT).render(report=view, target=target)
    except jinja2.TemplateError as error:
        raise template_error(error, folder) or error from None


def render_task_reports(
    folder: Path,
    *,
    templates: Path | None = None,
    signers: SignerRegistry | None = None,
    progress: Progress = no_progress,
) -> list[Path]:
    """Write ``report.pdf``, ``report-submission.pdf``, ``report.html`` and ``figures/*.svg``.

    As :func:`dxval.report.render_bundle_reports` for a classification
    bundle: ``templates`` is a folder of templates over the shipped ones,
    ``signers`` the registry whose verdicts the signature block shows.
    Nothing is written unless every rendition rendered; stale figures are
    removed. Returns the written paths, sorted.

    Raises
    ------
    InputError
        A bundle file is missing or malformed.
    TemplateError
        A template fails (file and line named); nothing is written.
    """
    folder = Path(folder)
    progress("building the report views and figures")
    used = template_set(templates, TASK_REPORT_ROOTS)
    run = read_record(folder, RUN_NAME, RunRecord)
    view = replace(
        build_task_report(folder, signers=signers), templates=templates_view(used, run.templates)
    )
    moment = _run_time(run)
    pdf_target, screen_target = _targets(view.task)
    # before the layout: the files are compressed on worker threads meanwhile
    attachments = evidence_attachments(
        folder, moment, TASK_ATTACHED_FILES[view.task], FILE_DESCRIPTIONS
    )
    progress("laying out the pages")
    document = layout(render_task_html(view, pdf_target, templates), moment, templates)
    html = render_task_html(view, screen_target, templates).encode("utf-8")
    progress(f"writing report.pdf and report-submission.pdf ({len(document.pages)} pages)")
    report_pdf, submission_pdf = write_both_pdfs(document, attachments=attachments, moment=moment)
    outputs = {
        REPORT_NAME: report_pdf,
        SUBMISSION_NAME: submission_pdf,
        HTML_NAME: html,
        **{figure.filename: figure.svg.encode("utf-8") for figure in view.figures},
    }
    return write_renditions(folder, outputs)
