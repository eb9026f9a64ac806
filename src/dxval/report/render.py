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

Speed: one WeasyPrint layout and one painting serve both PDF renditions
(:func:`write_both_pdfs`): the pages are painted once into a PDF object,
written as PDF/A-2b, then given the attachments and the PDF/A-3 metadata and
written again. Before this, each rendition repainted every page (a second
painting cost as much CPU as the first, and was run in a forked child to save
wall time on a second core). pydyf serialises every object twice per write
(the file and its ``/ID`` digest); each object keeps its first serialisation
for the rest of its write, and the painted streams for both writes
(:func:`_serialise_once_per_write`). The layout uses WeasyPrint's user-agent
stylesheet with its bare pseudo-element rules scoped
(:mod:`dxval.report.user_agent`). All three give the same bytes. A bundle's
PDFs are typeset in a forked child started before the bundle is read
(:mod:`dxval.report.typesetter`), which imports WeasyPrint meanwhile and is
never torn down; the same bytes again. The print HTML refers to its figures
by URL (``dxval-figure:figures/<key>.svg``): this process hands the HTML to
the child, then imports matplotlib and draws the figures while the child
parses and styles it, and sends them (:func:`render_reports`). Once the
pages are painted, the child forks a copy that writes the PDF/A-2b while it
writes the PDF/A-3b (:func:`write_both_pdfs`).

Nothing is left out without a word: WeasyPrint logs an image it cannot
load, an SVG it cannot draw or an image without alternative text and goes
on; :func:`nothing_left_out` turns the first such error into a refusal.
"""

from __future__ import annotations

import base64
import gc
import io
import logging
import os
import pickle
import re
import signal
import sys
import threading
import traceback
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import jinja2

from dxval.evidence.format import ATTACHED_FILES, FIGURES_FOLDER, BundleData, read_bundle
from dxval.evidence.signatures.registry import SignerRegistry
from dxval.report.case_columns import forget_case_columns
from dxval.report.elements import FIGURE_SCHEME, FigureView
from dxval.report.template_set import (
    SHIPPED,
    TemplateError,
    TemplateSet,
    template_environment,
    template_error,
    template_set,
    url_fetcher,
)
from dxval.report.typesetter import TypesetJob, Typesetter, picklable
from dxval.report.views import FILE_DESCRIPTIONS, ReportView, TemplatesView, build_report_view
from dxval.report.views_model_card import MODEL_CARD_NAME

TEMPLATES = SHIPPED
REPORT_NAME = "report.pdf"
SUBMISSION_NAME = "report-submission.pdf"
HTML_NAME = "report.html"
#: Files written by :func:`render_bundle_reports`; they are renderings, outside the signed set.
RENDERED_NAMES = (REPORT_NAME, SUBMISSION_NAME, HTML_NAME, MODEL_CARD_NAME)
SVG_MEDIA = "image/svg+xml"
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


#: Allocations between two collections of the youngest generation while WeasyPrint works
#: (Python's default is 700; issue 18).
WEASYPRINT_GC_THRESHOLD = 100_000


@contextmanager
def collecting_less() -> Iterator[None]:
    """Run Python's cyclic garbage collector less often while WeasyPrint lays out or writes.

    Layout and painting allocate hundreds of thousands of short-lived objects
    (boxes, styles, PDF operators); at the default threshold the collector
    runs every 700 allocations and scans the young objects each time, about
    a sixth of the layout's CPU for the demo report. Nothing is left
    uncollected: the threshold is restored afterwards (peak RSS of a
    re-render measured unchanged, 253 MB).
    """
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], WEASYPRINT_GC_THRESHOLD), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


def evidence_attachments(
    folder: Path, moment: datetime, names: Sequence[str] = ATTACHED_FILES
) -> list[Any]:
    """The bundle files ``names`` as PDF/A-3 associated files, with fixed MIME types and dates.

    Each file's compressed form starts at once on a worker thread (zlib lets
    go of the GIL), so that it is made while WeasyPrint lays out and paints
    the pages: cases.csv is 67 MB at a million cases, 3.4 s of zlib at level 9
    (issue 18). The PDF gets the same bytes (:func:`_serialise_once`).
    Call it before the layout.
    """
    from weasyprint import Attachment

    naive = moment.replace(tzinfo=None)
    attachments: list[Any] = []
    deflating: list[tuple[bytes, Future[bytes]]] = []
    for name in names:
        content = (folder / name).read_bytes()
        media = _MEDIA_TYPES[Path(name).suffix]
        attachment = Attachment(
            **_attachment_source(name, content, media),
            name=name,
            description=FILE_DESCRIPTIONS.get(name, name),
            created=naive,
            modified=naive,
            relationship=_RELATIONSHIPS.get(name, "Data"),
        )
        attachment.dxval_deflated = (content, Future())
        deflating.append(attachment.dxval_deflated)
        attachments.append(attachment)
    # one daemon thread: an error in the layout ends the process without waiting for zlib
    worker = threading.Thread(target=_deflate_all, args=(deflating,), name="dxval-deflate")
    worker.daemon = True
    worker.start()
    return attachments


def _deflate_all(work: list[tuple[bytes, Future[bytes]]]) -> None:
    for content, future in work:
        try:
            future.set_result(_deflate(content))
        except BaseException as error:  # handed to the writer, which raises it
            future.set_exception(error)


def _deflate(content: bytes) -> bytes:
    """``content`` compressed as pydyf compresses a stream (zlib level 9); zlib drops the GIL."""
    deflate = zlib.compressobj(level=9)
    return deflate.compress(content) + deflate.flush()


def _attachment_source(name: str, content: bytes, media: str) -> dict[str, Any]:
    """Where WeasyPrint reads an attachment: the bytes themselves, typed ``media``.

    WeasyPrint >= 66 takes a fetcher object, which hands over ``content``
    as is. Older versions get a ``data:`` URL (base64, a third larger, then
    decoded: at a million cases about 160 MB more for cases.csv). Both give
    the embedded file the same bytes and media type.
    """
    from weasyprint import urls

    if not hasattr(urls, "URLFetcher") or not hasattr(urls, "URLFetcherResponse"):
        return {"url": f"data:{media};base64,{base64.b64encode(content).decode('ascii')}"}

    class Evidence(urls.URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            return urls.URLFetcherResponse(url, body=content, headers={"Content-Type": media})

    return {"url": f"dxval-evidence:{name}", "url_fetcher": Evidence()}


#: The figures of a print HTML by :attr:`~dxval.report.elements.FigureView.print_url`,
#: asked for when the layout first needs one (they may still be on their way).
FigureSource = Callable[[], Mapping[str, bytes]]


def no_figures() -> Mapping[str, bytes]:
    """The figure source of an HTML that refers to no figure by its print URL."""
    return {}


def layout(
    html: str, moment: datetime, folder: Path | None = None, figures: FigureSource = no_figures
) -> Any:
    """Lay out ``html`` with WeasyPrint (a ``weasyprint.Document``), fonts from ``@font-face``.

    Fonts and other assets are resolved in ``folder`` and then in the bundled
    templates (``templates/fonts``); the layout is shared by both PDF renditions.
    Figures referred to by their print URL come from ``figures``; one that
    cannot be had is an error here (WeasyPrint would leave it out and go on).
    With the shipped templates, the user-agent stylesheet is WeasyPrint's with
    its universal pseudo-element rules scoped (:mod:`dxval.report.user_agent`:
    same pages, a quarter less CPU) unless the document might need them; other
    templates get WeasyPrint's own.
    """
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    from dxval.report.user_agent import needs_stock_user_agent, report_html_class

    base = folder if folder is not None else TEMPLATES
    # templates from elsewhere (--templates) get WeasyPrint's own rules: their styles are
    # not dxval's, and the text check of needs_stock_user_agent is not a CSS parser
    stock = folder is not None or needs_stock_user_agent(html)
    document_class = HTML if stock else report_html_class()
    failures: list[BaseException] = []
    fetcher = _figure_fetcher(url_fetcher(folder), figures, failures)
    with source_date_epoch(moment), collecting_less(), nothing_left_out(folder, failures):
        document = document_class(
            string=html, base_url=str(base) + os.sep, url_fetcher=fetcher
        ).render(font_config=FontConfiguration())
    document.dxval_templates = folder  # whose templates an error at writing names
    return document


class _Errors(logging.Handler):
    """Keeps the ERROR records of WeasyPrint's logger."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def nothing_left_out(folder: Path | None, failures: Sequence[BaseException] = ()) -> Iterator[None]:
    """Refuse a document from which WeasyPrint left something out (issue 18, trust).

    WeasyPrint logs at ERROR level and goes on when it cannot load an image,
    draw an SVG, load a stylesheet or attachment, find a cross-reference's
    target, or tag an image without alternative text: the PDF would lack it
    without a word. The first such error (or a figure that could not be had,
    in ``failures``) is raised after WeasyPrint returns: a
    :class:`~dxval.report.template_set.TemplateError` (exit 2) with templates
    from ``folder``, else an error of dxval's own (exit 70).
    """
    errors = _Errors()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(errors)
    try:
        yield
    finally:
        logger.removeHandler(errors)
    if failures:
        raise failures[0]
    if errors.records:
        said = _one_line(errors.records[0].getMessage())
        if folder is not None:
            raise TemplateError(f"{folder}: the typesetter left something out: {said}")
        raise RuntimeError(f"the typesetter left something out of the report: {said}")


def _figure_fetcher(fallback: Any, figures: FigureSource, failures: list[BaseException]) -> Any:
    """``fallback`` (a WeasyPrint URL fetcher) with the figures' print URLs served from ``figures``.

    An error getting a figure is added to ``failures`` before WeasyPrint sees it.
    """
    from weasyprint import urls

    prefix = FIGURE_SCHEME + ":"

    def figure(url: str) -> bytes:
        try:
            svg = figures().get(url)
            if svg is None:
                raise RuntimeError(f"the report refers to a figure it does not have: {url}")
        except BaseException as error:
            failures.append(error)
            raise
        return svg

    if hasattr(urls, "URLFetcher") and hasattr(urls, "URLFetcherResponse"):

        class Fetcher(urls.URLFetcher):
            def fetch(self, url: str, headers: Any = None) -> Any:
                if url.startswith(prefix):
                    return urls.URLFetcherResponse(
                        url, body=figure(url), headers={"Content-Type": SVG_MEDIA}
                    )
                return fallback.fetch(url, headers)

        return Fetcher()

    def fetch(url: str) -> Any:
        if url.startswith(prefix):
            return {"string": figure(url), "mime_type": SVG_MEDIA, "redirected_url": url}
        return fallback(url)

    return fetch


def write_pdf(document: Any, *, variant: str, attachments: list[Any], moment: datetime) -> bytes:
    """Write a laid-out ``document`` as a tagged PDF of ``variant`` (e.g. ``pdf/a-3b``).

    ``moment`` pins every date (see :func:`source_date_epoch`). Each object
    is serialised once (:func:`_serialise_once_per_write`); the same bytes.
    """

    def keep(_document: Any, pdf: Any) -> None:
        _serialise_once_per_write(pdf.objects)
        _keep_what_write_adds(pdf)

    with source_date_epoch(moment), collecting_less(), nothing_left_out(_templates_of(document)):
        pdf: bytes = document.write_pdf(
            pdf_variant=variant, pdf_tags=True, attachments=attachments or None, finisher=keep
        )
    return pdf


Progress = Callable[[str], None]


def no_progress(message: str) -> None:
    """Default progress sink: report nothing."""


#: The two PDF renditions, as WeasyPrint names the variants.
SUBMISSION_VARIANT = "pdf/a-2b"
ARCHIVE_VARIANT = "pdf/a-3b"


def write_both_pdfs(
    document: Any, *, attachments: list[Any], moment: datetime, fork: bool = False
) -> tuple[bytes, bytes]:
    """``report.pdf`` (PDF/A-3b with ``attachments``) and ``report-submission.pdf`` (PDF/A-2b).

    Both from one painting of the laid-out ``document``: WeasyPrint paints
    the pages into a PDF object and writes it as PDF/A-2b; that same object
    (its ``finisher`` hook hands it over) then gets what PDF/A-3b adds, by
    WeasyPrint's own functions — the evidence files as embedded files with
    their ``/AF`` relationships (:func:`_make_archival`) and the PDF/A-3
    identification in the XMP metadata — and is written again. Painting is
    most of a PDF's cost, so the second rendition costs only its writing.
    The pages, fonts and every object are those of a PDF/A-3b that WeasyPrint
    paints on its own; only the order of the objects in the file differs (the
    attachments come last). ``moment`` pins every date.

    ``fork``: once the pages are painted, a forked copy of this process
    writes the PDF/A-2b while this one writes the PDF/A-3b (a second core;
    the same bytes as one after the other, :class:`_Forked`). The typesetting
    child does (:mod:`dxval.report.typesetter`), a process of its own with no
    thread but the compression worker's.
    """
    painted: list[tuple[Any, int]] = []
    forked: list[_Forked] = []

    def keep(_document: Any, pdf: Any) -> None:
        painted.append((pdf, len(pdf.objects)))
        _serialise_once_per_write(pdf.objects)
        _keep_what_write_adds(pdf)
        if fork:
            forked.append(_Forked())
            if not forked[0].copy:
                raise _Painted  # here: no PDF/A-2b write; the copy goes on with it

    with source_date_epoch(moment), collecting_less(), nothing_left_out(_templates_of(document)):
        try:
            submission: bytes = document.write_pdf(
                pdf_variant=SUBMISSION_VARIANT, pdf_tags=True, finisher=keep
            )
        except _Painted:
            pass
        except BaseException as error:
            if forked and forked[0].copy:
                forked[0].answer(error)  # never returns
            raise
        if forked and forked[0].copy:
            forked[0].answer(submission)  # never returns
        (pdf, objects), *_ = painted
        try:
            archival = _make_archival(pdf, objects, document, attachments)
        except BaseException:
            if forked:
                forked[0].abandon()
            raise
        if forked:
            submission = forked[0].result()
    return archival, submission


class _Painted(Exception):  # noqa: N818  # a signal, not an error
    """Ends WeasyPrint's write once the pages are painted (:func:`write_both_pdfs`)."""


class _Forked:
    """A forked copy of this process that hands back one ``bytes`` value, or its error.

    ``copy`` is true in the copy, which ends with :meth:`answer`; this process
    takes the value with :meth:`result` (the copy's exception raised here when
    it can be passed, else a RuntimeError naming it) or ends it with
    :meth:`abandon`. The copy never returns from :meth:`answer` (``os._exit``:
    nothing of this process is torn down twice).
    """

    def __init__(self) -> None:
        reading, writing = os.pipe()
        sys.stdout.flush()  # nothing buffered before the fork is written twice
        sys.stderr.flush()
        self.pid = os.fork()
        self.copy = self.pid == 0
        os.close(reading if self.copy else writing)
        self._descriptor = writing if self.copy else reading

    def answer(self, value: bytes | BaseException) -> NoReturn:
        """In the copy: hand ``value`` back and end."""
        status = 0
        try:
            if isinstance(value, BaseException):
                text = "".join(traceback.format_exception(value))
                message: tuple[Any, ...] = ("error", picklable(value), text)
            else:
                message = ("bytes", value)
            with os.fdopen(self._descriptor, "wb") as out:
                out.write(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
        except BaseException:  # this process sees no answer and says so
            status = 1
        os._exit(status)

    def result(self) -> bytes:
        """The copy's value (waits for it)."""
        with os.fdopen(self._descriptor, "rb") as stream:
            data = stream.read()
        os.waitpid(self.pid, 0)
        if not data:
            raise RuntimeError(f"the process writing {SUBMISSION_NAME} ended without an answer")
        kind, *content = pickle.loads(data)  # noqa: S301  # our own copy's bytes
        if kind == "bytes":
            value: bytes = content[0]
            return value
        error, text = content
        if isinstance(error, BaseException):
            raise error
        raise RuntimeError(f"writing {SUBMISSION_NAME} failed: {text.strip().splitlines()[-1]}")

    def abandon(self) -> None:
        """End the copy without its value and wait for it."""
        os.close(self._descriptor)
        with suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        os.waitpid(self.pid, 0)


_DATA_URL = re.compile(r"(data:[\w.+/-]*)[;,][^'\"]*")  # to the closing quote


def _one_line(message: str, limit: int = 300) -> str:
    """``message`` as one line of at most ``limit`` characters, ``data:`` URLs cut to their type."""
    line = " ".join(_DATA_URL.sub(r"\1,…", message).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _templates_of(document: Any) -> Path | None:
    """The templates folder ``document`` was laid out from (:func:`layout`), if any."""
    folder: Path | None = getattr(document, "dxval_templates", None)
    return folder


def _make_archival(pdf: Any, objects: int, document: Any, attachments: list[Any]) -> bytes:
    """Turn the written PDF/A-2b ``pdf`` (``objects`` objects before writing) into PDF/A-3b bytes.

    Mirrors WeasyPrint's ``generate_pdf`` for the attachments (embedded files
    name tree) and calls its PDF/A-3b variant function (``/AF``, XMP), whose
    new metadata stream replaces the PDF/A-2 one in place.
    """
    import pydyf
    from weasyprint.pdf import VARIANTS
    from weasyprint.pdf.anchors import write_pdf_attachment

    compress = True  # WeasyPrint's default (uncompressed_pdf=False), as for the submission PDF
    # What pydyf's write appended (document information, object stream, cross-reference
    # stream) is rebuilt by the next write; offsets are recomputed from the start.
    del pdf.objects[objects:]
    del pdf.add_object  # pydyf's own again (see _keep_what_write_adds)
    pdf.current_position = 0
    pdf.xref_position = None
    metadata = pdf.objects[int(pdf.catalog["Metadata"].split()[0])]
    # What the first write serialised stays valid for the painted streams, which
    # nothing below changes; dictionaries and the metadata stream are changed.
    _forget_serialised(
        obj for obj in pdf.objects if not isinstance(obj, pydyf.Stream) or obj is metadata
    )
    embedded = []
    for attachment in attachments:
        filespec = write_pdf_attachment(pdf, attachment, compress)
        if filespec is None:  # WeasyPrint logs a failed fetch and goes on: never here
            raise RuntimeError(f"cannot embed {attachment.name} in {REPORT_NAME}")
        stream = pdf.objects[int(filespec["EF"]["F"].split()[0])]
        _serialise_once(stream, getattr(attachment, "dxval_deflated", None))
        embedded.append(filespec)
    if embedded:
        names = pydyf.Dictionary({"Names": pydyf.Array()})
        for filespec in embedded:
            names["Names"].extend((filespec["F"], filespec.reference))
        pdf.add_object(names)
        if "Names" not in pdf.catalog:
            pdf.catalog["Names"] = pydyf.Dictionary()
        pdf.catalog["Names"]["EmbeddedFiles"] = names.reference
    variant_function, properties = VARIANTS[ARCHIVE_VARIANT]
    variant_function(pdf, document, [], attachments, compress)
    replacement = pdf.objects.pop()  # the PDF/A-3 XMP stream the variant function added
    if replacement.extra.get("Type") != "/Metadata":
        raise RuntimeError(f"unexpected object from WeasyPrint's {ARCHIVE_VARIANT} function")
    metadata.stream = replacement.stream
    pdf.catalog["Metadata"] = metadata.reference
    _serialise_once_per_write(pdf.objects)
    _keep_what_write_adds(pdf)
    output = io.BytesIO()
    pdf.write(output, properties["pdf_version"], properties["pdf_identifier"], compress)
    return output.getvalue()


def _serialise_once(stream: Any, deflated: tuple[bytes, Future[bytes]] | None = None) -> None:
    """Let an embedded file's stream be compressed once per write instead of twice (issue 18).

    pydyf serialises every object twice when it writes a PDF with an
    identifier: once into the file, and once more into the MD5 of its
    ``/ID``; for a stream that runs zlib twice over the same bytes. The
    embedded evidence files are most of those bytes (cases.csv is 67 MB at a
    million cases, 3.4 s CPU per zlib pass at level 9), so the stream keeps
    its serialised form after the first call. The output is the same bytes.
    ``deflated``: the stream's content and its compressed form, made on a
    worker thread while the pages were laid out (:func:`evidence_attachments`).
    """
    if deflated is not None:
        content, compressed = deflated
        if stream.compress and len(stream.stream) == 1 and stream.stream[0] == content:
            stream.__dict__["_dxval_data"] = _stream_data(stream, compressed.result())
    if not getattr(stream, "_dxval_kept", False):
        stream.__class__ = _kept_class(stream.__class__)


def _stream_data(stream: Any, compressed: bytes) -> bytes:
    """What pydyf's ``Stream.data`` gives for ``stream``, its content already ``compressed``.

    pydyf writes the stream's dictionary with ``/Filter /FlateDecode`` and the
    compressed ``/Length``, then the compressed bytes between ``stream`` and
    ``endstream`` (``tests/report/test_user_agent.py`` compares with pydyf's own).
    """
    import pydyf

    extra = pydyf.Dictionary(stream.extra.copy())
    extra["Filter"] = "/FlateDecode"
    extra["Length"] = len(compressed)
    return b"\n".join((extra.data, b"stream", compressed, b"endstream"))


def _serialise_once_per_write(objects: Iterable[Any]) -> None:
    """Let every object of a PDF about to be written keep its serialised form.

    pydyf serialises each object twice per write (the file, then the MD5 of
    its ``/ID``: see :func:`_serialise_once`), and the report is written twice
    (both renditions); nothing changes an object while pydyf writes it, so the
    second serialisation is the first one's bytes. Between the two writes,
    :func:`_forget_serialised` drops what the changed objects kept. The output
    is the same bytes (``tests/report/test_render_speed.py`` compares them
    with WeasyPrint's own).
    """
    for obj in objects:
        if obj.free != "f" and not getattr(obj, "_dxval_kept", False):
            obj.__class__ = _kept_class(obj.__class__)


def _keep_what_write_adds(pdf: Any) -> None:
    """Let the objects pydyf's next write adds (info, object stream) keep their serialised form.

    The object stream holds every dictionary of the report (1.3 MB for the
    demo report, mostly the tag structure); pydyf compresses it for the file
    and again for the ``/ID`` digest. Set just before a write, removed after it.
    """
    add = pdf.add_object

    def add_object(obj: Any) -> None:
        _serialise_once_per_write((obj,))
        add(obj)

    pdf.add_object = add_object


def _forget_serialised(objects: Iterable[Any]) -> None:
    """Drop the serialised form :func:`_serialise_once_per_write` kept for ``objects``."""
    for obj in objects:
        obj.__dict__.pop("_dxval_data", None)


@cache
def _kept_class(base: type) -> type:
    """A subclass of the pydyf object class ``base`` whose ``data`` is computed once."""

    def data(self: Any) -> bytes:
        kept: bytes | None = self.__dict__.get("_dxval_data")
        if kept is None:
            kept = self.__dict__["_dxval_data"] = base.data.fget(self)  # type: ignore[attr-defined]
        return kept

    return type(f"Kept{base.__name__}", (base,), {"data": property(data), "_dxval_kept": True})


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
        render_html(report, PRINT, templates), moment, templates, bundle.folder, ATTACHED_FILES
    )
    del bundle  # its case columns are not needed past the views (issue 18: freed before layout)
    forget_case_columns()
    progress("laying out the pages")
    with ExitStack() as stack:
        if typesetter is None:
            typesetter = stack.enter_context(Typesetter(progress, fork=False))
        typesetter.submit(job)
        # drawn while the child parses and styles the HTML, which needs them only for its boxes
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
) -> list[Path]:
    """Render ``report.pdf``, ``report-submission.pdf``, ``report.html`` and ``figures/*.svg``.

    Reads the bundle at ``bundle_dir`` (``MANIFEST.sha256`` is not needed, so
    this runs before sealing) and writes the renditions into it, replacing
    earlier ones; stale figures are removed. ``templates``: a folder of
    templates over the shipped ones (:mod:`dxval.report.template_set`).
    ``signers``: the signer registry whose verdicts the signature block shows.
    ``progress``: receives a line per rendering stage; the PDFs are typeset in
    a child process forked before the bundle is read (:mod:`dxval.report.typesetter`).
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
    # the child imports WeasyPrint while this process reads the bundle and builds the views
    with Typesetter(progress) as typesetter:
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
