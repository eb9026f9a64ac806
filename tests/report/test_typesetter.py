"""The report's PDFs typeset in a forked child (issue 18): the same bytes, errors brought back.

``render_bundle_reports`` forks a :class:`~dxval.report.typesetter.Typesetter`
before it reads the bundle; the child imports WeasyPrint while the views are
built, then lays out and writes both PDFs. These tests compare the child's
PDFs with those typeset in process and check every way the child can fail.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

from dxval.evidence.format import ATTACHED_FILES, read_bundle
from dxval.report import render, typesetter
from dxval.report.typesetter import TypesetJob, Typesetter

MOMENT = render.datetime(2026, 1, 2, 3, 4, 5, tzinfo=render.timezone.utc)
HTML = "<html lang=en><head><title>t</title></head><body><h1>dxval</h1><p>text</p></body></html>"


def _job(folder: Path, names: tuple[str, ...] = ()) -> TypesetJob:
    return TypesetJob(HTML, MOMENT, None, folder, names)


@pytest.mark.req("DXV-RENDER3-007")
def test_the_child_writes_the_pdfs_typeset_in_process(sealed_bundle: Path) -> None:
    bundle = read_bundle(sealed_bundle)
    here = render.render_reports(bundle)  # no typesetter: in process
    with Typesetter(render.no_progress) as child:
        assert child._pid is not None  # forked
        forked = render.render_reports(read_bundle(sealed_bundle), typesetter=child)
        assert child._pid is None  # reaped
    assert forked.report_pdf == here.report_pdf
    assert forked.submission_pdf == here.submission_pdf
    assert forked.html == here.html
    assert forked.model_card == here.model_card
    assert forked.figures == here.figures
    assert forked.report_pdf.count(b"/EmbeddedFile") >= len(ATTACHED_FILES)


@pytest.mark.req("DXV-RENDER3-007")
def test_an_error_in_the_child_is_raised_here(tmp_path: Path) -> None:
    with Typesetter(render.no_progress) as child:
        child.submit(_job(tmp_path / "missing", ("cases.csv",)))
        with pytest.raises(FileNotFoundError, match=r"cases\.csv"):
            child.result()
        assert child._pid is None


@pytest.mark.req("DXV-RENDER3-007")
def test_an_error_that_cannot_travel_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class LocalError(Exception):  # a local class: cannot be pickled
        pass

    def failing(job: TypesetJob, progress: Any, *_: Any, **__: Any) -> tuple[bytes, bytes]:
        raise LocalError("the layout broke")

    monkeypatch.setattr(typesetter, "typeset", failing)  # the child inherits the patch
    with Typesetter(render.no_progress) as child:
        child.submit(_job(tmp_path))
        with pytest.raises(RuntimeError, match=r"report failed: .*the layout broke"):
            child.result()


@pytest.mark.req("DXV-RENDER3-007")
def test_a_child_that_dies_without_an_answer_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def dying(job: TypesetJob, progress: Any, *_: Any, **__: Any) -> tuple[bytes, bytes]:
        os._exit(3)

    monkeypatch.setattr(typesetter, "typeset", dying)
    with Typesetter(render.no_progress) as child:
        child.submit(_job(tmp_path))
        with pytest.raises(RuntimeError, match="ended without an answer"):
            child.result()


@pytest.mark.req("DXV-RENDER3-007")
def test_an_unused_child_is_ended_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """An error before the PDFs (a bad bundle, a template error): the child goes, no zombie."""
    from dxval.report import user_agent

    monkeypatch.setattr(user_agent, "scoped_user_agent", lambda: time.sleep(60))
    started = time.perf_counter()

    def failing_render() -> None:
        with Typesetter(render.no_progress) as child:
            pid = child._pid
            raise ValueError(f"bad bundle ({pid})")

    with pytest.raises(ValueError, match=r"bad bundle \((\d+)\)") as raised:
        failing_render()
    assert time.perf_counter() - started < 20
    pid = int(str(raised.value).split("(")[1].rstrip(")"))
    assert pid is not None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped


@pytest.mark.req("DXV-RENDER3-007")
def test_without_fork_the_pdfs_are_typeset_when_asked(tmp_path: Path) -> None:
    with Typesetter(render.no_progress, fork=False) as here:
        assert here._pid is None
        with pytest.raises(RuntimeError, match="no report was submitted"):
            here.result()
        here.submit(_job(tmp_path))
        report_pdf, submission_pdf = here.result()
    assert report_pdf.startswith(b"%PDF-")
    assert submission_pdf.startswith(b"%PDF-")


FIGURE = "dxval-figure:figures/box.svg"
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="72pt" height="36pt" viewBox="0 0 72 36">'
    b'<rect x="4" y="4" width="64" height="28" fill="#0072B2"/></svg>'
)
FIGURE_HTML = (
    f"<html lang=en><head><title>t</title></head><body><img src='{FIGURE}' alt=box></body></html>"
)


def _drawn(pdf: bytes) -> str:
    """The PDF's content streams, inflated."""
    streams = re.findall(rb"/FlateDecode[^>]*>>\nstream\n(.*?)\nendstream", pdf, re.DOTALL)
    return "".join(zlib.decompress(s).decode("latin-1") for s in streams if s[:1] == b"x")


@pytest.mark.req("DXV-RENDER4-001")
def test_figures_sent_after_the_html_give_the_pdfs_typeset_in_process(tmp_path: Path) -> None:
    job = TypesetJob(FIGURE_HTML, MOMENT, None, tmp_path, ())
    with Typesetter(render.no_progress, fork=False) as here:
        here.submit(job)
        here.send_figures({FIGURE: SVG})
        expected = here.result()
    with Typesetter(render.no_progress) as child:
        child.submit(job)
        time.sleep(0.5)  # the child is on the HTML before its figure exists
        child.send_figures({FIGURE: SVG})
        assert child.result() == expected
    assert "0 0.447059 0.698039 rg" in _drawn(expected[1])  # the figure's #0072B2 fill


@pytest.mark.req("DXV-RENDER4-002")
def test_a_figure_that_never_reaches_the_child_is_an_error(tmp_path: Path) -> None:
    with Typesetter(render.no_progress) as child:
        child.submit(TypesetJob(FIGURE_HTML, MOMENT, None, tmp_path, ()))
        with pytest.raises(RuntimeError, match="figures did not reach the typesetter"):
            child.result()  # without send_figures
        assert child._pid is None


@pytest.mark.req("DXV-RENDER4-002")
@pytest.mark.parametrize("fork", [True, False])
def test_a_figure_missing_from_those_sent_is_an_error(tmp_path: Path, fork: bool) -> None:
    """WeasyPrint leaves out an image it cannot fetch and goes on; the report must not."""
    with Typesetter(render.no_progress, fork=fork) as typesetter:
        typesetter.submit(TypesetJob(FIGURE_HTML, MOMENT, None, tmp_path, ()))
        typesetter.send_figures({"dxval-figure:figures/other.svg": SVG})
        with pytest.raises(RuntimeError, match=r"does not have: dxval-figure:figures/box"):
            typesetter.result()


CHILD_PROBE = """\
import json, sys
from datetime import datetime, timezone
from pathlib import Path
from dxval.report import typesetter

def modules(job, progress, figures=None, **options):  # the child's imports, as its answer
    from dxval.report import pdf  # noqa: F401  # what typeset() imports
    return json.dumps(sorted(sys.modules)).encode(), b""

typesetter.typeset = modules
with typesetter.Typesetter(print) as child:
    moment = datetime(2026, 1, 2, tzinfo=timezone.utc)
    child.submit(typesetter.TypesetJob("<html></html>", moment, None, Path("."), ()))
    child.send_figures({})
    print(child.result()[0].decode())
"""


@pytest.mark.req("DXV-RENDER4-005")
def test_the_typesetting_child_imports_no_view_code() -> None:
    """Forked before the report code is imported, the child imports WeasyPrint and
    ``dxval.report.pdf`` only: it is ready for the HTML while the views are built."""
    completed = subprocess.run(
        [sys.executable, "-c", CHILD_PROBE], capture_output=True, text=True, check=True
    )
    imported = set(json.loads(completed.stdout.strip().splitlines()[-1]))
    assert {"weasyprint", "dxval.report.pdf", "dxval.report.user_agent"} <= imported
    assert not imported & {
        "dxval.report.render",
        "dxval.report.views",
        "dxval.evidence.format",
        "matplotlib",
        "pydantic",
    }


REPORT_PROBE = """\
import sys
from dxval.report import typesetter
forking = typesetter.Typesetter.__init__

def noting(self, *arguments, **options):
    print("report code imported at fork:", "dxval.report.render" in sys.modules, file=sys.stderr)
    forking(self, *arguments, **options)

typesetter.Typesetter.__init__ = noting
from dxval.cli import main
sys.exit(main(["report", sys.argv[1]]))
"""


@pytest.mark.req("DXV-RENDER4-005")
def test_dxval_report_forks_the_typesetter_before_importing_the_report_code(
    bundle_copy: Path,
) -> None:
    completed = subprocess.run(
        [sys.executable, "-c", REPORT_PROBE, str(bundle_copy)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "report code imported at fork: False" in completed.stderr
    assert completed.stderr.count("report code imported at fork") == 1  # one child
