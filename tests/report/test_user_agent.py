"""Report layout and writing speed (issue 18 item 4): the same pages and bytes, less CPU.

Two mechanisms of :mod:`dxval.report.render`, each checked against what it
replaces:

* the user-agent stylesheet with its bare pseudo-element rules scoped
  (:mod:`dxval.report.user_agent`): the PDF bytes equal those WeasyPrint
  writes with its own stylesheet, on a document with what those rules could
  reach (list items, tables, links, generated content, page counters);
* every PDF object serialised once per write, and the painted streams once
  for both renditions: the same bytes as serialising on every use.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from dxval.report import pdf, user_agent
from dxval.report.template_set import SHIPPED, url_fetcher

MOMENT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)

DOCUMENT = """<!doctype html><html lang=en><head><title>t</title><style>
@page { size: A5; @bottom-center { content: "Page " counter(page) " of " counter(pages) } }
h2::before { content: "§ "; }
td.n { text-align: right; }
</style></head><body>
<h1 id=top>Validation report</h1>
<ol><li>first item</li><li>second <b>item</b></li></ol>
<ul><li>bullet</li><li><a href="#t">to the table</a></li></ul>
<p>Contents: <a href="#t">table</a> on page <span class=p>x</span>.</p>
<h2 style="break-before: page">Results</h2>
<table id=t><thead><tr><th>Metric</th><th>Estimate</th></tr></thead><tbody>
{rows}
</tbody></table>
<p>End, back to <a href="#top">top</a>.</p>
</body></html>"""


def _html(extra: str = "") -> str:
    rows = "".join(
        f"<tr><td>metric {i}</td><td class=n>0.{i:03d} (95% CI)</td></tr>" for i in range(60)
    )
    return DOCUMENT.replace("{rows}", rows).replace("</body>", extra + "</body>")


def _stock_pdf(html: str) -> bytes:
    """What WeasyPrint writes with its own user-agent stylesheet."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    with pdf.source_date_epoch(MOMENT):
        document = HTML(
            string=html, base_url=str(SHIPPED) + "/", url_fetcher=url_fetcher(None)
        ).render(font_config=FontConfiguration())
    return pdf.write_pdf(document, variant="pdf/a-2b", attachments=[], moment=MOMENT)


def _style_computations(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    from weasyprint.css import StyleFor

    counted: Counter[str] = Counter()
    original = StyleFor.set_computed_styles

    def counting(self: Any, element: Any, parent: Any, *arguments: Any, **options: Any) -> Any:
        counted[str(options.get("pseudo_type"))] += 1
        return original(self, element, parent, *arguments, **options)

    monkeypatch.setattr(StyleFor, "set_computed_styles", counting)
    return counted


@pytest.mark.req("DXV-RENDER3-001")
def test_the_scoped_user_agent_gives_weasyprints_bytes_with_fewer_styles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    html = _html()
    assert not user_agent.needs_stock_user_agent(html)
    stock = _stock_pdf(html)
    counted = _style_computations(monkeypatch)
    document = pdf.layout(html, MOMENT)
    scoped = pdf.write_pdf(document, variant="pdf/a-2b", attachments=[], moment=MOMENT)
    assert len(document.pages) == 4  # the table runs over pages 2 to 4
    assert scoped == stock
    # the six bare pseudo-element rules no longer give every element six styles
    assert counted["footnote-call"] == counted["note-callback"] == 0
    assert 0 < counted["marker"] <= 4  # the four list items


@pytest.mark.parametrize(
    "extra",
    [
        "<p style='float: footnote'>a footnote</p>",
        "<p style='FLOAT:note'>a note</p>",
        "<div style='display: list-item'>made a list item</div>",
        "<link rel=stylesheet href='more.css'>",
        "<style>@import url(more.css);</style>",
    ],
)
@pytest.mark.req("DXV-RENDER3-001")
def test_a_document_the_scoped_rules_might_miss_gets_weasyprints_own(
    extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    html = _html(extra)
    assert user_agent.needs_stock_user_agent(html)
    if "more.css" in extra:
        return  # not laid out: the linked sheet does not exist
    stock = _stock_pdf(html)
    counted = _style_computations(monkeypatch)
    document = pdf.layout(html, MOMENT)
    assert counted["footnote-call"] > 0  # WeasyPrint's own stylesheet
    assert pdf.write_pdf(document, variant="pdf/a-2b", attachments=[], moment=MOMENT) == stock


@pytest.mark.req("DXV-RENDER3-001")
def test_another_weasyprint_stylesheet_is_refused_not_half_scoped() -> None:
    from weasyprint.html import UA

    scoped = user_agent.scoped_text(UA)
    assert "\nli::marker {" in scoped
    assert "\n::" not in scoped.split("@page")[0].replace("\n::-", "")  # no bare rule left
    with pytest.raises(RuntimeError, match="::footnote-call"):
        user_agent.scoped_text(UA.replace("\n::footnote-call {", "\n::footnote-call, x {"))


def _counting_stream_data(monkeypatch: pytest.MonkeyPatch) -> Counter[int]:
    import pydyf

    counted: Counter[int] = Counter()
    original = pydyf.Stream.data.fget

    def data(self: Any) -> bytes:
        counted[id(self)] += 1
        result: bytes = original(self)
        return result

    monkeypatch.setattr(pydyf.Stream, "data", property(data))
    return counted


@pytest.mark.req("DXV-RENDER3-002")
@pytest.mark.req("DXV-RENDER4-006")
def test_painted_streams_are_serialised_once_for_both_renditions_the_rest_once_per_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pydyf

    document = pdf.layout(_html(), MOMENT)
    every_use = _write_without_keeping(document, _test_attachments(), monkeypatch)
    counted = _counting_stream_data(monkeypatch)
    painted: list[Any] = []
    keep = pdf._serialise_once_per_write

    def noting(objects: Any) -> None:
        objects = list(objects)
        if not painted:
            painted.extend(obj for obj in objects if isinstance(obj, pydyf.Stream))
        keep(objects)

    monkeypatch.setattr(pdf, "_serialise_once_per_write", noting)
    object_streams: list[Any] = []
    add_object = pydyf.PDF.add_object

    def adding(pdf: Any, obj: Any) -> None:
        if isinstance(obj, pydyf.Stream) and obj.extra.get("Type") == "/ObjStm":
            object_streams.append(obj)
        add_object(pdf, obj)

    monkeypatch.setattr(pydyf.PDF, "add_object", adding)
    both = pdf.write_both_pdfs(document, attachments=_test_attachments(), moment=MOMENT)
    assert both == every_use  # the same bytes as serialising on every use
    assert len(painted) >= 8  # four pages, fonts, their ToUnicode maps, ICC profile, XMP
    pages = len(document.pages)
    times = Counter(counted[id(stream)] for stream in painted)
    # every painted stream once for both PDFs, but the XMP metadata, which changes, and the
    # pages' content streams, serialised from what the worker thread compressed (DXV-RENDER4-006)
    assert times == Counter({0: pages, 1: len(painted) - pages - 1, 2: 1})
    # the object stream each write makes (every dictionary): once per write, not twice
    assert Counter(counted[id(stream)] for stream in object_streams) == Counter({1: 2})


def _test_attachments() -> list[Any]:
    """A fresh attachment (WeasyPrint reads an attachment's source once)."""
    from weasyprint import Attachment

    naive = MOMENT.replace(tzinfo=None)
    return [
        Attachment(
            string="case_id,score\na,0.5\n",
            name="cases.csv",
            description="cases.csv",
            created=naive,
            modified=naive,
            relationship="Data",
        )
    ]


def _write_without_keeping(
    document: Any, attachments: list[Any], monkeypatch: pytest.MonkeyPatch
) -> tuple[bytes, bytes]:
    with monkeypatch.context() as patch:
        patch.setattr(pdf, "_serialise_once_per_write", lambda objects: None)
        patch.setattr(pdf, "_serialise_once", lambda stream, deflated=None: None)
        return pdf.write_both_pdfs(document, attachments=attachments, moment=MOMENT)


@pytest.mark.req("DXV-RENDER3-003")
def test_the_collector_runs_less_often_while_weasyprint_works_and_is_restored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gc

    from weasyprint.layout import page

    seen: list[tuple[int, int, int]] = []
    make_page = page.make_page

    def noting(*arguments: Any) -> Any:
        seen.append(gc.get_threshold())
        return make_page(*arguments)

    monkeypatch.setattr(page, "make_page", noting)
    before = gc.get_threshold()
    document = pdf.layout(_html(), MOMENT)
    assert gc.get_threshold() == before
    assert seen
    assert all(threshold[0] >= pdf.WEASYPRINT_GC_THRESHOLD for threshold in seen)
    assert seen[0][1:] == before[1:]
    with pytest.raises(ZeroDivisionError), pdf.collecting_less():
        1 / 0  # noqa: B018
    assert gc.get_threshold() == before
    pdf.write_both_pdfs(document, attachments=[], moment=MOMENT)
    assert gc.get_threshold() == before


@pytest.mark.req("DXV-RENDER3-001")
def test_templates_from_elsewhere_get_weasyprints_own_stylesheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A template's CSS may escape what the text check looks for (``fl\\oat: footnote``)."""
    html = _html("<p>a<span style='fl\\oat: footnote'>escaped footnote</span></p>")
    assert not user_agent.needs_stock_user_agent(html)
    counted = _style_computations(monkeypatch)
    pdf.layout(html, MOMENT, tmp_path)  # tmp_path: a --templates folder
    assert counted["footnote-call"] > 0


@pytest.mark.req("DXV-RENDER4-006")
@pytest.mark.req("DXV-RENDER3-006")
def test_evidence_files_are_compressed_on_a_worker_thread_into_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import zlib

    import pydyf

    rows = "".join(f"CASE-{i:05d},{i % 2},0.{i % 997:03d}\n" for i in range(20_000))
    (tmp_path / "cases.csv").write_text("case_id,truth,score\n" + rows)
    (tmp_path / "protocol.yaml").write_text("id: P\n")
    names = ("cases.csv", "protocol.yaml")
    document = pdf.layout(_html(), MOMENT)
    plain = _write_without_keeping(
        document, pdf.evidence_attachments(tmp_path, MOMENT, names), monkeypatch
    )
    threads: list[str] = []
    compressobj = zlib.compressobj

    def noting(*arguments: Any, **options: Any) -> Any:
        threads.append(threading.current_thread().name)
        return compressobj(*arguments, **options)

    monkeypatch.setattr(zlib, "compressobj", noting)
    attachments = pdf.evidence_attachments(tmp_path, MOMENT, names)
    assert all(attachment.dxval_deflated[1].result(timeout=60) for attachment in attachments)
    deflating = [name for name in threads if name.startswith("dxval-deflate")]
    assert len(deflating) == 2  # one per file, on the worker thread
    threads.clear()
    archive, submission = pdf.write_both_pdfs(document, attachments=attachments, moment=MOMENT)
    assert (archive, submission) == plain  # the same bytes as compressing while writing
    assert "dxval-deflate" not in threads  # the files are not compressed again
    assert "dxval-deflate-pages" in threads  # the pages are, once painted (DXV-RENDER4-006)
    # what is written for a precompressed stream is what pydyf writes for it
    content = (tmp_path / "cases.csv").read_bytes()
    stream = pydyf.Stream([content], {"Type": "/EmbeddedFile"}, compress=True)
    expected = stream.data
    assert pdf._stream_data(stream, pdf._deflate(content)) == expected
    pdf._serialise_once(stream, (content, attachments[0].dxval_deflated[1]))
    assert stream.data == expected
    other = pydyf.Stream([b"other bytes"], {}, compress=True)  # not the deflated content
    pdf._serialise_once(other, (content, attachments[0].dxval_deflated[1]))
    assert other.data == pydyf.Stream([b"other bytes"], {}, compress=True).data


@pytest.mark.req("DXV-RENDER3-002")
def test_a_single_rendition_is_serialised_once_per_write_with_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    document = pdf.layout(_html(), MOMENT)
    with monkeypatch.context() as patch:
        patch.setattr(pdf, "_serialise_once_per_write", lambda objects: None)
        plain = pdf.write_pdf(document, variant="pdf/a-2b", attachments=[], moment=MOMENT)
    counted = _counting_stream_data(monkeypatch)
    kept = pdf.write_pdf(document, variant="pdf/a-2b", attachments=[], moment=MOMENT)
    assert kept == plain
    assert counted
    assert max(counted.values()) == 1  # pydyf's second serialisation (the /ID) reuses the first


@pytest.mark.req("DXV-RENDER3-006")
def test_a_failing_render_does_not_wait_for_the_compression(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker is a daemon thread: an error ends the process without waiting for zlib."""
    import threading

    release = threading.Event()

    def slow(content: bytes) -> bytes:
        release.wait(timeout=60)
        return b"x"

    monkeypatch.setattr(pdf, "_deflate", slow)
    (tmp_path / "cases.csv").write_text("case_id\na\n")
    attachments = pdf.evidence_attachments(tmp_path, MOMENT, ("cases.csv",))
    workers = [thread for thread in threading.enumerate() if thread.name == "dxval-deflate"]
    assert workers
    assert all(thread.daemon for thread in workers)
    assert not attachments[0].dxval_deflated[1].done()
    release.set()
    assert attachments[0].dxval_deflated[1].result(timeout=60) == b"x"
