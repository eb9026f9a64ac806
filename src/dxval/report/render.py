"""Render a bundle's views to ``report.pdf``, ``report-submission.pdf`` and ``report.html``.

jinja2 with :class:`~jinja2.StrictUndefined` and autoescape turns the view
index into HTML; WeasyPrint lays it out as a tagged PDF:

* ``report.pdf``: PDF/A-3b (ISO 19005-3) with the bundle's ``protocol.yaml``,
  ``metrics.json``, ``criteria.json``, ``cases.csv`` and ``environment.json``
  embedded as associated files (``/AF``, with their relationship);
* ``report-submission.pdf``: PDF/A-2b (ISO 19005-2), no attachments, for
  submission portals that reject embedded files;
* ``report.html``: the self-contained screen twin (CSS and figures inline),
  its evidence links pointing at the files beside it in the bundle.

Rendering is deterministic: every date in the PDF (info dictionary, XMP,
attachment dates, font subsets through fontTools' ``SOURCE_DATE_EPOCH``) is
the run's start time from ``run.json``; the file identifier is a digest of
the content; fonts are the bundled DejaVu files, never the system's.

Typesetting is :mod:`dxval.report.pdf` (WeasyPrint's layout, both PDFs from
one painting, nothing left out without a word), done in a child process
forked before the bundle is read (:mod:`dxval.report.typesetter`), which
imports WeasyPrint meanwhile and is never torn down; the same bytes as in
one process. The print HTML refers to its figures by URL
(``dxval-figure:figures/<key>.svg``): this process hands the HTML to the
child, then imports matplotlib and draws the figures, which the child takes
when its layout first sizes them (:func:`render_reports`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2

from dxval.evidence.format import ATTACHED_FILES, FIGURES_FOLDER, BundleData, read_bundle
from dxval.evidence.signatures.registry import SignerRegistry
from dxval.report.case_columns import forget_case_columns
from dxval.report.elements import FIGURE_SCHEME, FigureView
from dxval.report.pdf import REPORT_NAME, SUBMISSION_NAME
from dxval.report.template_set import (
    SHIPPED,
    TemplateSet,
    template_environment,
    template_error,
    template_set,
)
from dxval.report.typesetter import TypesetJob, Typesetter
from dxval.report.views import FILE_DESCRIPTIONS, ReportView, TemplatesView, build_report_view
from dxval.report.views_model_card import MODEL_CARD_NAME

TEMPLATES = SHIPPED
HTML_NAME = "report.html"
#: Files written by :func:`render_bundle_reports`; they are renderings, outside the signed set.
RENDERED_NAMES = (REPORT_NAME, SUBMISSION_NAME, HTML_NAME, MODEL_CARD_NAME)


@dataclass(frozen=True, slots=True)
class RenderTarget:
    """What one rendition is: PDF or HTML, with or without attached evidence."""

    kind: str
    label: str
    pdf: bool
    attached: bool
    note: str
    attachments_note: str

    def file_href(self, name: str) -> str:
        """Link to a bundle file: its row in the evidence table (PDF) or the file (HTML)."""
        return f"#file-{name}" if self.pdf else name

    def figure_src(self, figure: FigureView) -> str:
        """An ``<img>`` source of ``figure``: its print URL (PDF) or its data URI (HTML).

        The PDF's figures reach the typesetter after the HTML (:func:`render_reports`).
        """
        return figure.print_url if self.pdf else figure.data_uri


PRINT = RenderTarget(
    kind="pdf",
    label="PDF/A",
    pdf=True,
    attached=True,
    note="Renditions: report.pdf (PDF/A-3b) embeds protocol.yaml, metrics.json, "
    "criteria.json, cases.csv and environment.json as associated files; "
    "report-submission.pdf (PDF/A-2b) has the same pages and no attachments, for submission "
    "portals that reject embedded files; report.html is the screen version.",
    attachments_note="The evidence files marked 'in report.pdf' in section 2 are embedded in "
    "the archival rendition report.pdf as associated files, byte for byte.",
)
SCREEN = RenderTarget(
    kind="html",
    label="HTML",
    pdf=False,
    attached=False,
    note="Screen rendition of report.pdf; evidence links open the files of the bundle folder.",
    attachments_note="Evidence links open the files of the bundle folder.",
)


@dataclass(frozen=True, slots=True)
class RenderedReports:
    """The three renditions and the figures, as bytes, before anything is written."""

    report_pdf: bytes
    submission_pdf: bytes
    html: bytes
    figures: dict[str, bytes]
    model_card: bytes = b""


def render_html(report: ReportView, target: RenderTarget, folder: Path | None = None) -> str:
    """The report as HTML for ``target``, from ``folder`` over the shipped templates.

    Raises
    ------
    TemplateError
        A custom template fails (syntax error, a name the view does not have):
        file and line named (exit 2).
    jinja2.TemplateError
        A shipped template fails (a bug, never silent).
    """
    environment = template_environment(folder)
    try:
        return environment.get_template("report.html").render(report=report, target=target)
    except jinja2.TemplateError as error:
        raise template_error(error, folder) or error from None


def run_time(bundle: BundleData) -> datetime:
    """The run's start time (UTC, whole seconds): the date of every rendition."""
    stamp = bundle.run.started_utc.removesuffix("Z").split(".")[0]
    return datetime.fromisoformat(stamp).replace(tzinfo=timezone.utc)


Progress = Callable[[str], None]


def no_progress(message: str) -> None:
    """Default progress sink: report nothing."""


def templates_view(used: TemplateSet, recorded: dict[str, Any] | None) -> TemplatesView:
    """What the methods section says about the template set that rendered the report."""
    recorded_sha256 = None if recorded is None else recorded.get("sha256")
    if recorded_sha256 is None:
        note = "run.json records no template set (bundle written before dxval recorded it)."
    elif recorded_sha256 == used.sha256:
        note = "The same template set is recorded in run.json (templates)."
    else:
        note = (
            f"Re-rendered with another template set than the one recorded in run.json "
            f"(templates.sha256 {recorded_sha256})."
        )
    return TemplatesView(
        sha256=used.sha256,
        source="shipped with dxval"
        if used.folder is None
        else f"{used.folder} over the shipped templates",
        custom=tuple(item.name for item in used.files if item.custom),
        listing=tuple(used.listing.splitlines()),
        note=note,
    )


def render_reports(
    bundle: BundleData,
    templates: Path | None = None,
    *,
    progress: Progress = no_progress,
    typesetter: Typesetter | None = None,
) -> RenderedReports:
    """Render the three renditions and the SVG figures of ``bundle`` in memory.

    ``templates`` is a folder of templates used over the shipped ones. Nothing
    is returned unless every rendition rendered (no partial report).
    ``progress`` receives a line per stage (views and figures, layout, PDFs).
    ``typesetter``: where the PDFs are typeset (a forked child started before
    the bundle was read, :mod:`dxval.report.typesetter`); by default here.

    Raises
    ------
    TemplateError
        A template fails: syntax error or undefined variable, with file and line (exit 2).
    """
    progress("building the report views and figures")
    used = template_set(templates)
    report = replace(
        build_report_view(bundle), templates=templates_view(used, bundle.run.templates)
    )
    moment = run_time(bundle)
    job = TypesetJob(
        render_html(report, PRINT, templates),
        moment,
        templates,
        bundle.folder,
        ATTACHED_FILES,
        tuple((name, FILE_DESCRIPTIONS.get(name, name)) for name in ATTACHED_FILES),
    )
    del bundle  # its case columns are not needed past the views (issue 18: freed before layout)
    forget_case_columns()
    progress("laying out the pages")
    with ExitStack() as stack:
        if typesetter is None:
            typesetter = stack.enter_context(Typesetter(progress, fork=False))
        typesetter.submit(job)
        # drawn while the child lays the HTML out; it takes each when the layout sizes it
        figures = {figure.filename: figure.svg.encode("utf-8") for figure in report_figures(report)}
        typesetter.send_figures({f"{FIGURE_SCHEME}:{name}": svg for name, svg in figures.items()})
        html = render_html(report, SCREEN, templates).encode("utf-8")
        model_card = render_model_card(report, templates)
        report_pdf, submission_pdf = typesetter.result()
    return RenderedReports(
        report_pdf=report_pdf,
        submission_pdf=submission_pdf,
        html=html,
        figures=figures,
        model_card=model_card,
    )


def report_figures(report: ReportView) -> list[FigureView]:
    """Every figure of the report, in the order of the document."""
    candidates = (
        report.results.roc,
        *report.results.forest,
        report.results.calibration.figure,
        *(() if report.reader_study is None else report.reader_study.figures),
        None if report.comparison is None else report.comparison.forest,
        report.failure_modes.figure,
    )
    return [figure for figure in candidates if figure is not None]


def render_model_card(report: ReportView, folder: Path | None = None) -> bytes:
    """``model-card.md`` of the report's model card (empty when the view has none)."""
    if report.model_card is None:
        return b""
    environment = template_environment(folder)
    try:
        text = environment.get_template("model_card.md").render(card=report.model_card)
    except jinja2.TemplateError as error:
        raise template_error(error, folder) or error from None
    return text.encode("utf-8")


def render_bundle_reports(
    bundle_dir: Path,
    *,
    templates: Path | None = None,
    signers: SignerRegistry | None = None,
    progress: Progress = no_progress,
    typesetter: Typesetter | None = None,
) -> list[Path]:
    """Render ``report.pdf``, ``report-submission.pdf``, ``report.html`` and ``figures/*.svg``.

    Reads the bundle at ``bundle_dir`` (``MANIFEST.sha256`` is not needed, so
    this runs before sealing) and writes the renditions into it, replacing
    earlier ones; stale figures are removed. ``templates``: a folder of
    templates over the shipped ones (:mod:`dxval.report.template_set`).
    ``signers``: the signer registry whose verdicts the signature block shows.
    ``progress``: receives a line per rendering stage. ``typesetter``: the
    child process that typesets the PDFs (:mod:`dxval.report.typesetter`),
    forked by the caller before it imported the report code; by default one
    is forked here, before the bundle is read (a detection or segmentation
    bundle leaves it unused). The caller lists the files in the manifest.
    Returns the written paths, sorted.

    Raises
    ------
    InputError, ProtocolError
        A bundle file is missing or malformed.
    TemplateError
        A template fails (file and line named); nothing is written.
    """
    bundle_dir = Path(bundle_dir)
    from dxval.report.task_report import render_task_reports, task_of

    if task_of(bundle_dir) is not None:  # detection / segmentation bundle (issue 16)
        return render_task_reports(
            bundle_dir, templates=templates, signers=signers, progress=progress
        )
    # the child imports WeasyPrint while this process reads the bundle and builds the views
    with ExitStack() as stack:
        if typesetter is None:
            typesetter = stack.enter_context(Typesetter(progress))
        rendered = render_reports(
            read_bundle(bundle_dir, signers=signers),
            templates,
            progress=progress,
            typesetter=typesetter,
        )
    outputs = {
        REPORT_NAME: rendered.report_pdf,
        SUBMISSION_NAME: rendered.submission_pdf,
        HTML_NAME: rendered.html,
        MODEL_CARD_NAME: rendered.model_card,
        **rendered.figures,
    }
    return write_renditions(bundle_dir, outputs)


def write_renditions(folder: Path, outputs: Mapping[str, bytes]) -> list[Path]:
    """Write each rendition atomically (temporary file, then rename); drop stale figures.

    A figure file of an earlier render that this render did not produce is
    removed, so the figures folder holds exactly the report's figures.
    """
    figures = folder / FIGURES_FOLDER
    if figures.is_dir():
        for stale in figures.glob("*.svg"):
            if f"{FIGURES_FOLDER}/{stale.name}" not in outputs:
                stale.unlink()
    written = []
    for name, content in outputs.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_bytes(content)
        os.replace(temporary, path)
        written.append(path)
    return sorted(written)
