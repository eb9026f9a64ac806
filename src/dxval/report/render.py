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

Speed: one WeasyPrint layout serves both PDF renditions; each PDF is then
painted and written on its own, so where the platform can fork a
single-threaded process onto a second core the submission PDF is written in
a child process while this one writes ``report.pdf`` (the bytes are the same
as written one after the other; any failure of the child falls back to
writing it here). Profile of a re-render of the demo bundle before this
(2 cores): imports 24%, layout 33%, painting and writing the two PDFs 34%
(font subsetting under 1%), views and figures 6%.
"""

from __future__ import annotations

import base64
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import jinja2

from dxval.evidence.format import ATTACHED_FILES, FIGURES_FOLDER, BundleData, read_bundle
from dxval.evidence.signatures.registry import SignerRegistry
from dxval.report.template_set import (
    SHIPPED,
    TemplateSet,
    template_environment,
    template_error,
    template_set,
    url_fetcher,
)
from dxval.report.views import FILE_DESCRIPTIONS, ReportView, TemplatesView, build_report_view
from dxval.report.views_model_card import MODEL_CARD_NAME

TEMPLATES = SHIPPED
REPORT_NAME = "report.pdf"
SUBMISSION_NAME = "report-submission.pdf"
HTML_NAME = "report.html"
#: Files written by :func:`render_bundle_reports`; they are renderings, outside the signed set.
RENDERED_NAMES = (REPORT_NAME, SUBMISSION_NAME, HTML_NAME, MODEL_CARD_NAME)
_MEDIA_TYPES = {".yaml": "application/yaml", ".json": "application/json", ".csv": "text/csv"}
_RELATIONSHIPS = {"protocol.yaml": "Source", "environment.json": "Supplement"}


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


@contextmanager
def source_date_epoch(moment: datetime) -> Iterator[None]:
    """Set ``SOURCE_DATE_EPOCH`` (reproducible-builds.org) for the duration of a render."""
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(int(moment.timestamp()))
    try:
        yield
    finally:
        if previous is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous


def evidence_attachments(
    folder: Path, moment: datetime, names: Sequence[str] = ATTACHED_FILES
) -> list[Any]:
    """The bundle files ``names`` as PDF/A-3 associated files, with fixed MIME types and dates."""
    from weasyprint import Attachment

    naive = moment.replace(tzinfo=None)
    attachments: list[Any] = []
    for name in names:
        content = (folder / name).read_bytes()
        media = _MEDIA_TYPES[Path(name).suffix]
        url = f"data:{media};base64,{base64.b64encode(content).decode('ascii')}"
        attachments.append(
            Attachment(
                url=url,
                name=name,
                description=FILE_DESCRIPTIONS.get(name, name),
                created=naive,
                modified=naive,
                relationship=_RELATIONSHIPS.get(name, "Data"),
            )
        )
    return attachments


def layout(html: str, moment: datetime, folder: Path | None = None) -> Any:
    """Lay out ``html`` with WeasyPrint (a ``weasyprint.Document``), fonts from ``@font-face``.

    Fonts and other assets are resolved in ``folder`` and then in the bundled
    templates (``templates/fonts``); the layout is shared by both PDF renditions.
    """
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    base = folder if folder is not None else TEMPLATES
    with source_date_epoch(moment):
        return HTML(
            string=html, base_url=str(base) + os.sep, url_fetcher=url_fetcher(folder)
        ).render(font_config=FontConfiguration())


def write_pdf(document: Any, *, variant: str, attachments: list[Any], moment: datetime) -> bytes:
    """Write a laid-out ``document`` as a tagged PDF of ``variant`` (e.g. ``pdf/a-3b``).

    ``moment`` pins every date (see :func:`source_date_epoch`).
    """
    with source_date_epoch(moment):
        pdf: bytes = document.write_pdf(
            pdf_variant=variant, pdf_tags=True, attachments=attachments or None
        )
    return pdf


Progress = Callable[[str], None]


def no_progress(message: str) -> None:
    """Default progress sink: report nothing."""


def _second_core() -> bool:
    """Whether writing the second PDF in a forked child can run beside this process.

    Needs Linux's ``fork`` (the laid-out document is inherited, never pickled;
    macOS system frameworks are not safe to use after a fork), more than one
    usable core, and no other Python thread in this process (forking a
    multi-threaded process can deadlock the child).
    """
    if not sys.platform.startswith("linux"):
        return False
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cores or 1) > 1 and threading.active_count() == 1


def _write_submission(
    document: Any, moment: datetime, sender: Connection, receiver: Connection
) -> None:
    """Child process: write the PDF/A-2b rendition and send its bytes.

    The inherited read end is closed first, so a parent that stopped reading
    makes the send fail instead of blocking forever.
    """
    receiver.close()
    sender.send_bytes(write_pdf(document, variant="pdf/a-2b", attachments=[], moment=moment))
    sender.close()


def write_both_pdfs(
    document: Any, *, attachments: list[Any], moment: datetime
) -> tuple[bytes, bytes]:
    """``report.pdf`` (PDF/A-3b with ``attachments``) and ``report-submission.pdf`` (PDF/A-2b).

    Both from the one laid-out ``document``; the second is written in a
    forked child at the same time where :func:`_second_core` allows, else
    (or when the child fails) here after the first. The bytes do not depend
    on which way they were written.
    """
    if not _second_core():
        return (
            write_pdf(document, variant="pdf/a-3b", attachments=attachments, moment=moment),
            write_pdf(document, variant="pdf/a-2b", attachments=[], moment=moment),
        )
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_write_submission, args=(document, moment, sender, receiver), daemon=True
    )
    child.start()
    sender.close()
    submission: bytes | None = None
    try:
        report = write_pdf(document, variant="pdf/a-3b", attachments=attachments, moment=moment)
        try:
            submission = receiver.recv_bytes()
        except (EOFError, OSError):
            submission = None  # the child failed: written here below
    finally:
        receiver.close()
        if submission is None and child.is_alive():
            child.terminate()
        child.join()
    if submission is None or child.exitcode != 0:
        submission = write_pdf(document, variant="pdf/a-2b", attachments=[], moment=moment)
    return report, submission


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
    bundle: BundleData, templates: Path | None = None, *, progress: Progress = no_progress
) -> RenderedReports:
    """Render the three renditions and the SVG figures of ``bundle`` in memory.

    ``templates`` is a folder of templates used over the shipped ones. Nothing
    is returned unless every rendition rendered (no partial report).
    ``progress`` receives a line per stage (views and figures, layout, PDFs).

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
    progress("laying out the pages")
    document = layout(render_html(report, PRINT, templates), moment, templates)
    figures = [
        figure
        for figure in (
            report.results.roc,
            *report.results.forest,
            report.results.calibration.figure,
            report.failure_modes.figure,
            *(() if report.reader_study is None else report.reader_study.figures),
        )
        if figure is not None
    ]
    progress(f"writing report.pdf and report-submission.pdf ({len(document.pages)} pages)")
    report_pdf, submission_pdf = write_both_pdfs(
        document, attachments=evidence_attachments(bundle.folder, moment), moment=moment
    )
    return RenderedReports(
        report_pdf=report_pdf,
        submission_pdf=submission_pdf,
        html=render_html(report, SCREEN, templates).encode("utf-8"),
        figures={figure.filename: figure.svg.encode("utf-8") for figure in figures},
        model_card=render_model_card(report, templates),
    )


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
) -> list[Path]:
    """Render ``report.pdf``, ``report-submission.pdf``, ``report.html`` and ``figures/*.svg``.

    Reads the bundle at ``bundle_dir`` (``MANIFEST.sha256`` is not needed, so
    this runs before sealing) and writes the renditions into it, replacing
    earlier ones; stale figures are removed. ``templates``: a folder of
    templates over the shipped ones (:mod:`dxval.report.template_set`).
    ``signers``: the signer registry whose verdicts the signature block shows.
    ``progress``: receives a line per rendering stage.
    The caller lists the files in the manifest. Returns the written paths, sorted.

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
    rendered = render_reports(
        read_bundle(bundle_dir, signers=signers), templates, progress=progress
    )
    outputs = {
        REPORT_NAME: rendered.report_pdf,
        SUBMISSION_NAME: rendered.submission_pdf,
        HTML_NAME: rendered.html,
        MODEL_CARD_NAME: rendered.model_card,
        **rendered.figures,
    }
    figures = bundle_dir / FIGURES_FOLDER
    if figures.is_dir():
        for stale in figures.glob("*.svg"):
            if f"{FIGURES_FOLDER}/{stale.name}" not in outputs:
                stale.unlink()
    written = []
    for name, content in outputs.items():
        path = bundle_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_bytes(content)
        os.replace(temporary, path)
        written.append(path)
    return sorted(written)
