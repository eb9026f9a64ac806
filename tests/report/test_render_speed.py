"""Report rendering speed (issue 18 item 4): one painting for both PDF renditions.

``write_both_pdfs`` paints the pages once and writes them twice. The
submission PDF must be the very bytes WeasyPrint writes as PDF/A-2b, and the
archival PDF the same objects as WeasyPrint's own PDF/A-3b with the evidence
attached: compared as object graphs (qpdf's JSON, objects reached from the
trailer, references replaced by the order they are first reached, stream data
decoded), since only the order of the objects in the file differs — and with
it the object number of a table that WeasyPrint's tags put into the IDs of
the table's header cells (``/ID``, ``/Headers``), compared as "this table's".
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dxval.report import pdf, render


def _document() -> tuple[Any, Any]:
    moment = render.datetime(2026, 1, 2, 3, 4, 5, tzinfo=render.timezone.utc)
    html = (
        "<html lang=en><head><title>t</title></head><body><h1>dxval</h1>"
        "<p>one <a href='#x'>link</a></p><p id=x style='break-before: page'>two</p>"
        "<table><thead><tr><th>a</th><th>b</th></tr></thead>"
        "<tbody><tr><td>1</td><td>2</td></tr></tbody></table></body></html>"
    )
    return pdf.layout(html, moment), moment


def _attachments(moment: Any) -> list[Any]:
    from weasyprint import Attachment

    naive = moment.replace(tzinfo=None)
    return [
        Attachment(
            url="data:text/csv;base64," + base64.b64encode(content).decode("ascii"),
            name=name,
            description=name,
            created=naive,
            modified=naive,
            relationship=relationship,
        )
        for name, content, relationship in (
            ("cases.csv", b"case_id,score\na,0.5\n", "Data"),
            ("protocol.yaml", b"id: X\n", "Source"),
        )
    ]


def _run(*command: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command], check=False, capture_output=True, text=True
    )


def _graph(pdf: Path) -> Any:
    """The PDF's objects as a tree from the trailer, independent of object numbers."""
    completed = subprocess.run(
        ["qpdf", "--json=2", "--json-stream-data=inline", "--decode-level=generalized", str(pdf)],
        capture_output=True,
        check=True,
    )
    objects = json.loads(completed.stdout)["qpdf"][1]
    seen: dict[str, int] = {}

    def content(item: dict[str, Any]) -> dict[str, Any]:
        if "stream" not in item:
            return {"value": walk(item["value"])}
        stream = item["stream"]
        entries = {
            name: entry
            for name, entry in stream["dict"].items()
            if name not in ("/Length", "/Filter", "/DecodeParms")
        }
        data = hashlib.sha256(stream.get("data", "").encode()).hexdigest()
        return {"dict": walk(entries), "data": data}

    def walk(value: Any) -> Any:
        if isinstance(value, str) and re.fullmatch(r"\d+ \d+ R", value):
            key = f"obj:{value}"
            if key in seen:
                return f"@{seen[key]}"
            seen[key] = len(seen)
            return {"#": seen[key], **content(objects[key])}
        header = re.fullmatch(r"u:(\d+)(-\d+-\d+)", value) if isinstance(value, str) else None
        if header:  # a table header's tag ID: its table's object number, row, column
            return f"table {seen.get(f'obj:{header[1]} 0 R', header[1])}{header[2]}"
        if isinstance(value, dict):
            return {name: walk(value[name]) for name in sorted(value)}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    trailer = objects["trailer"]["value"]
    return walk(trailer["/Root"]), walk(trailer["/Info"])


@pytest.mark.req("DXV-RENDER2-001")
@pytest.mark.req("DXV-RENDER-007")
def test_both_pdfs_from_one_painting_are_what_weasyprint_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from weasyprint.document import Page

    document, moment = _document()
    direct_archive = pdf.write_pdf(
        document, variant="pdf/a-3b", attachments=_attachments(moment), moment=moment
    )
    direct_submission = pdf.write_pdf(document, variant="pdf/a-2b", attachments=[], moment=moment)
    painted: list[Any] = []
    paint = Page.paint

    def counting(page: Any, *arguments: Any, **options: Any) -> Any:
        painted.append(page)
        return paint(page, *arguments, **options)

    monkeypatch.setattr(Page, "paint", counting)
    archive, submission = pdf.write_both_pdfs(
        document, attachments=_attachments(moment), moment=moment
    )
    assert len(document.pages) == 2
    assert painted == document.pages  # each page painted once, for both renditions
    assert submission == direct_submission
    assert archive != direct_archive  # the objects come in another order ...
    files = {}
    for name, content in {
        "archive.pdf": archive,
        "direct.pdf": direct_archive,
        "submission.pdf": submission,
    }.items():
        files[name] = tmp_path / name
        files[name].write_bytes(content)
    # ... but they are the same objects, and the comparison sees a difference
    assert _graph(files["archive.pdf"]) == _graph(files["direct.pdf"])
    assert _graph(files["submission.pdf"]) != _graph(files["direct.pdf"])
    check = _run("qpdf", "--check", files["archive.pdf"])
    assert check.returncode == 0, check.stdout + check.stderr
    assert _run("pdfdetach", "-list", files["archive.pdf"]).stdout.startswith("2 embedded files")
    metadata = _run("pdfinfo", "-meta", files["archive.pdf"]).stdout
    assert 'pdfaid:part="3"' in metadata
    assert 'pdfaid:part="2"' not in metadata
    # deterministic: a second call gives the same bytes
    monkeypatch.setattr(Page, "paint", paint)
    again = pdf.write_both_pdfs(document, attachments=_attachments(moment), moment=moment)
    assert again == (archive, submission)


RENDER_PROBE = """\
import json, sys
from pathlib import Path
from dxval.commands import report as command  # what `dxval report` imports
from dxval.report.refresh import refresh_reports
from dxval.report import render
from dxval.evidence.format import read_bundle
bundle = read_bundle(Path(sys.argv[1]))
view = render.build_report_view(bundle)  # every view and figure
render.render_html(view, render.PRINT)
{extra}
print(json.dumps(sorted({{name.split(".")[0] for name in sys.modules}} & {heavy!r})))
"""


def _heavy_after_views(bundle: Path, extra: str = "") -> list[str]:
    source = str(Path(render.__file__).resolve().parents[2])
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            RENDER_PROBE.format(extra=extra, heavy={"scipy", "pandas", "sklearn", "torch"}),
            str(bundle),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": source},
        check=True,
        timeout=300,
    )
    result: list[str] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.req("DXV-RENDER2-002")
def test_re_rendering_imports_no_scipy_or_pandas(sealed_bundle: Path) -> None:
    """Reading the bundle (protocol checks included), the views and the figures: no scipy.

    scipy.stats alone took ~1 s to import (reached through the precision
    analysis and the perturbation registry); the probe sees it when imported.
    """
    assert _heavy_after_views(sealed_bundle) == []
    assert _heavy_after_views(sealed_bundle, "import scipy.stats") == ["scipy"]


@pytest.mark.req("DXV-RENDER4-004")
def test_the_submission_pdf_written_by_a_forked_copy_is_the_same_bytes() -> None:
    document, moment = _document()
    alone = pdf.write_both_pdfs(
        document, attachments=_attachments(moment), moment=moment, fork=False
    )
    children = _children()
    forked = pdf.write_both_pdfs(
        document, attachments=_attachments(moment), moment=moment, fork=True
    )
    assert forked == alone
    assert _children() == children  # the copy was waited for


def _children() -> set[int]:
    """This process's child processes (Linux /proc), zombies included."""
    found = set()
    for status in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = status.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == os.getpid():
                found.add(int(status.parent.name))
    return found


@pytest.mark.req("DXV-RENDER4-004")
def test_a_forked_copy_hands_back_bytes_or_its_error_and_is_waited_for() -> None:
    children = _children()
    copy = pdf._Forked()
    if copy.copy:
        copy.answer(b"submission bytes")
    assert copy.result() == b"submission bytes"

    copy = pdf._Forked()
    if copy.copy:
        copy.answer(ValueError("a write failed"))
    with pytest.raises(ValueError, match="a write failed"):
        copy.result()

    class LocalError(Exception):  # cannot be pickled: named instead
        pass

    copy = pdf._Forked()
    if copy.copy:
        copy.answer(LocalError("not picklable"))
    with pytest.raises(
        RuntimeError, match=r"writing report-submission\.pdf failed: .*not picklable"
    ):
        copy.result()

    copy = pdf._Forked()
    if copy.copy:
        os._exit(9)  # dies without a word
    with pytest.raises(RuntimeError, match="ended without an answer"):
        copy.result()

    copy = pdf._Forked()
    if copy.copy:
        time.sleep(60)
        os._exit(0)
    started = time.perf_counter()
    copy.abandon()
    assert time.perf_counter() - started < 20
    assert _children() == children
