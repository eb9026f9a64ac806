"""The typesetting side of a report: WeasyPrint's layout and both PDF renditions.

What the typesetting child (:mod:`dxval.report.typesetter`) needs, and only
that: it imports no view code, so the child can be forked before ``dxval
report`` imports the rest and lay out as soon as the HTML comes (issue 18).

* :func:`layout`: WeasyPrint's layout of a print HTML, fonts bundled, the
  user-agent stylesheet scoped (:mod:`dxval.report.user_agent`); figures
  referred to by ``dxval-figure:`` URLs are taken when the layout first sizes
  them (they may still be on their way from the process drawing them).
* :func:`write_both_pdfs`: ``report.pdf`` (PDF/A-3b, evidence attached) and
  ``report-submission.pdf`` (PDF/A-2b) from one painting, optionally the
  second written by a forked copy; :func:`write_pdf` for one rendition.
* :func:`evidence_attachments`: the evidence files, compressed on a worker
  thread during the layout.
* :func:`nothing_left_out`: what WeasyPrint would leave out with a logged
  error is refused.

Rendering is deterministic: every date is the run's start time (see
:func:`source_date_epoch`).

Speed (issue 18), each giving the same bytes: one layout and one painting
serve both renditions (the painted PDF object is written as PDF/A-2b, then
given the attachments and the PDF/A-3 metadata by WeasyPrint's own functions
and written again, or written at once by a forked copy); pydyf serialises
every object twice per write (the file and its ``/ID`` digest), so each
object keeps its first serialisation for the rest of its write, and the
painted streams for both writes (:func:`_serialise_once_per_write`); the
garbage collector runs less often while WeasyPrint works
(:func:`collecting_less`); the evidence files are compressed on a worker
thread during the layout, and each page's content stream on another as soon
as it is painted (:class:`_PageDeflater`).
"""

from __future__ import annotations

import base64
import gc
import io
import logging
import os
import pickle
import queue
import re
import signal
import sys
import threading
import traceback
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from datetime import datetime
from functools import cache, partial
from pathlib import Path
from typing import Any, NoReturn

from dxval.report.elements import FIGURE_SCHEME
from dxval.report.template_set import SHIPPED, TemplateError, url_fetcher
from dxval.report.typesetter import picklable

REPORT_NAME = "report.pdf"
SUBMISSION_NAME = "report-submission.pdf"
SVG_MEDIA = "image/svg+xml"
_MEDIA_TYPES = {".yaml": "application/yaml", ".json": "application/json", ".csv": "text/csv"}
_RELATIONSHIPS = {"protocol.yaml": "Source", "environment.json": "Supplement"}


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
    folder: Path,
    moment: datetime,
    names: Sequence[str],
    descriptions: Mapping[str, str] | None = None,
) -> list[Any]:
    """The bundle files ``names`` as PDF/A-3 associated files, with fixed MIME types and dates.

    ``descriptions``: each file's description in the PDF (default its name).

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
            description=(descriptions or {}).get(name, name),
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
    Figures referred to by their print URL come from ``figures`` when the
    layout first sizes them (:class:`_LateFigure`); one that cannot be had is
    an error here (WeasyPrint would leave it out and go on).
    With the shipped templates, the user-agent stylesheet is WeasyPrint's with
    its universal pseudo-element rules scoped (:mod:`dxval.report.user_agent`:
    same pages, a quarter less CPU) unless the document might need them; other
    templates get WeasyPrint's own.
    """
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    from dxval.report.user_agent import needs_stock_user_agent, report_html_class

    base = folder if folder is not None else SHIPPED
    # templates from elsewhere (--templates) get WeasyPrint's own rules: their styles are
    # not dxval's, and the text check of needs_stock_user_agent is not a CSS parser
    stock = folder is not None or needs_stock_user_agent(html)
    document_class = HTML if stock else report_html_class()
    failures: list[BaseException] = []

    def figure(url: str) -> bytes:
        return _figure_bytes(figures, url, failures, folder)

    fetcher = _figure_fetcher(url_fetcher(folder), figure)
    fonts = FontConfiguration()
    # WeasyPrint's image cache, given the figures before it looks for them
    late = {
        url: _LateFigure(url, figure, fonts, fetcher, failures)
        for url in sorted(set(_FIGURE_URL.findall(html)))
    }
    with source_date_epoch(moment), collecting_less(), nothing_left_out(folder, failures):
        document = document_class(
            string=html, base_url=str(base) + os.sep, url_fetcher=fetcher
        ).render(font_config=fonts, cache=late)
    document.dxval_templates = folder  # whose templates an error at writing names
    return document


_FIGURE_URL = re.compile(re.escape(FIGURE_SCHEME) + r":[^\s\"'<>)]+")


class _LateFigure:
    """A report figure whose SVG may still be on its way when WeasyPrint builds the boxes.

    WeasyPrint asks an image for its size when it lays out the page that
    holds it, and to draw itself when it paints. This one takes its SVG from
    the figure source at the first of those, not when the boxes are built a
    second earlier, so that the process drawing the figures works while the
    typesetter parses, styles and lays out the pages before them (issue 18).
    The SVG becomes WeasyPrint's own image, made as WeasyPrint makes one from
    a fetched SVG, with the document's fonts.
    """

    def __init__(
        self,
        url: str,
        figure: Callable[[str], bytes],
        fonts: Any,
        fetcher: Any,
        failures: list[BaseException],
    ) -> None:
        self._url, self._figure, self._fonts = url, figure, fonts
        self._fetcher, self._failures = fetcher, failures
        self._image: Any = None

    def _svg(self) -> Any:
        if self._image is None:
            from xml.etree import ElementTree  # as WeasyPrint parses a fetched SVG

            from weasyprint.images import SVGImage

            data = self._figure(self._url)
            try:
                tree = ElementTree.fromstring(data)  # noqa: S314  # our own figure
            except BaseException as error:
                self._failures.append(error)
                raise
            self._image = SVGImage(tree, self._url, self._fetcher, _FigureContext(self._fonts))
        return self._image

    def get_intrinsic_size(self, image_resolution: Any, font_size: Any) -> Any:
        """WeasyPrint's image interface: the figure's size (its SVG taken now)."""
        return self._svg().get_intrinsic_size(image_resolution, font_size)

    def draw(self, stream: Any, concrete_width: Any, concrete_height: Any, style: Any) -> Any:
        """WeasyPrint's image interface: paint the figure."""
        return self._svg().draw(stream, concrete_width, concrete_height, style)


class _FigureContext:
    """What an SVG image uses of WeasyPrint's layout context: the document's fonts, the
    hyphenation dictionaries, and images (a report figure embeds none)."""

    def __init__(self, fonts: Any) -> None:
        self.font_config = fonts
        self.dictionaries: dict[Any, Any] = {}

    def get_image_from_uri(self, **_: Any) -> Any:
        raise RuntimeError("a report figure may not embed an image")


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


def _figure_bytes(
    figures: FigureSource, url: str, failures: list[BaseException], folder: Path | None
) -> bytes:
    """The SVG of the figure at ``url``; an error is added to ``failures`` first (WeasyPrint
    may catch it and go on). A figure the report does not have is the templates' error: a
    :class:`~dxval.report.template_set.TemplateError` naming ``folder`` for the user's."""
    try:
        svg = figures().get(url)
        if svg is None:
            message = f"the report refers to a figure it does not have: {url}"
            raise RuntimeError(message) if folder is None else TemplateError(f"{folder}: {message}")
    except BaseException as error:
        failures.append(error)
        raise
    return svg


def _figure_fetcher(fallback: Any, figure: Callable[[str], bytes]) -> Any:
    """``fallback`` (a WeasyPrint URL fetcher) with the figures' print URLs served by ``figure``."""
    from weasyprint import urls

    prefix = FIGURE_SCHEME + ":"

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
    pages = _PageDeflater(document)

    def keep(_document: Any, pdf: Any) -> None:
        painted.append((pdf, len(pdf.objects)))
        pages.keep_compressed(pdf.objects)
        _serialise_once_per_write(pdf.objects)
        _keep_what_write_adds(pdf)
        if fork:
            forked.append(_Forked())
            if not forked[0].copy:
                raise _Painted  # here: no PDF/A-2b write; the copy goes on with it

    with (
        source_date_epoch(moment),
        collecting_less(),
        nothing_left_out(_templates_of(document)),
        pages,
    ):
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


class _PageDeflater:
    """Compresses each page's content stream on a worker thread once the page is painted.

    zlib lets go of the GIL, so the pages are compressed on the second core
    while the next ones are painted, instead of when the PDF is written
    (about 0.2 s of the demo report's writing, issue 18). Used as a context
    manager around WeasyPrint's ``write_pdf``: it wraps each page's ``paint``
    for that call only. :meth:`keep_compressed` then gives each stream its
    serialised form from the compressed bytes, where the stream has not
    changed since it was painted; the same bytes as pydyf's own (tested).
    """

    def __init__(self, document: Any) -> None:
        self._pages = document.pages
        self._work: queue.SimpleQueue[tuple[bytes, Future[bytes]] | None] = queue.SimpleQueue()

    def __enter__(self) -> _PageDeflater:
        worker = threading.Thread(
            target=_deflate_queue, args=(self._work,), name="dxval-deflate-pages"
        )
        worker.daemon = True  # an error ends the process without waiting for zlib
        worker.start()
        for page in self._pages:
            page.paint = partial(self._paint, page.paint)  # this write's, over the method
        return self

    def __exit__(self, *_: object) -> None:
        self._work.put(None)
        for page in self._pages:
            page.__dict__.pop("paint", None)

    def _paint(self, paint: Callable[..., None], stream: Any, scale: float = 1) -> None:
        import pydyf

        paint(stream, scale)
        if stream.compress:
            content = b"\n".join(pydyf._to_bytes(item) for item in stream.stream)  # as pydyf
            future: Future[bytes] = Future()
            self._work.put((content, future))
            stream.__dict__["_dxval_painted"] = (len(stream.stream), future)

    @staticmethod
    def keep_compressed(objects: Iterable[Any]) -> None:
        """Let each page stream painted here keep the serialised form of its compressed bytes."""
        for obj in objects:
            painted = obj.__dict__.pop("_dxval_painted", None) if hasattr(obj, "__dict__") else None
            if painted is not None and len(obj.stream) == painted[0]:
                obj.__dict__["_dxval_data"] = _stream_data(obj, painted[1].result())


def _deflate_queue(work: queue.SimpleQueue[tuple[bytes, Future[bytes]] | None]) -> None:
    """Compress each content of ``work`` into its future until ``None``."""
    while (item := work.get()) is not None:
        content, future = item
        try:
            future.set_result(_deflate(content))
        except BaseException as error:  # handed to the writer, which raises it
            future.set_exception(error)


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
