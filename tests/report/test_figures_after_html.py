"""The report's figures are drawn after its HTML went to the typesetter (issue 18).

The print HTML refers to each figure by its print URL; the typesetting child
parses and styles the HTML while this process imports matplotlib and draws
the figures, which the child waits for only when it builds the image boxes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dxval.evidence.format import read_bundle
from dxval.report import plots, render
from dxval.report.elements import FIGURE_SCHEME, figure_view
from dxval.report.typesetter import TypesetJob, Typesetter
from dxval.report.views import build_report_view


class _Watching(Typesetter):
    """In-process typesetter that notes how many figures were drawn when the HTML came."""

    def __init__(self, drawn: list[str]) -> None:
        super().__init__(render.no_progress, fork=False)
        self.drawn = drawn
        self.at_submit: list[str] | None = None
        self.sent: dict[str, bytes] = {}

    def submit(self, job: TypesetJob) -> None:
        self.at_submit = list(self.drawn)
        super().submit(job)

    def send_figures(self, figures: Any) -> None:
        self.sent = dict(figures)
        super().send_figures(figures)


@pytest.mark.req("DXV-RENDER4-001")
def test_figures_are_drawn_after_the_html_is_submitted(
    sealed_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[str] = []
    draw = plots._svg

    def counting(figure: Any) -> str:
        drawn.append("figure")
        return draw(figure)

    monkeypatch.setattr(plots, "_svg", counting)
    watching = _Watching(drawn)
    with watching:
        rendered = render.render_reports(read_bundle(sealed_bundle), typesetter=watching)
    assert watching.at_submit == []  # no figure drawn before the HTML went
    assert len(drawn) == len(rendered.figures) >= 4  # each drawn once, afterwards
    assert watching.sent == {
        f"{FIGURE_SCHEME}:{name}": svg for name, svg in rendered.figures.items()
    }
    print_html = render.render_html(build_report_view(read_bundle(sealed_bundle)), render.PRINT)
    for name in rendered.figures:
        assert f'src="{FIGURE_SCHEME}:{name}"' in print_html
    assert "data:image/svg+xml" not in print_html  # the screen HTML keeps its data URIs
    assert rendered.html.count(b"data:image/svg+xml;base64,") == len(rendered.figures)


@pytest.mark.req("DXV-RENDER4-001")
def test_a_figure_is_drawn_once_when_first_needed() -> None:
    calls: list[int] = []

    def draw() -> str:
        calls.append(1)
        return "<svg/>"

    figure = figure_view(3, "roc", title="t", caption="c", alt="a", svg=draw)
    assert calls == []
    assert figure.print_url == "dxval-figure:figures/roc.svg"
    assert figure.data_uri == "data:image/svg+xml;base64,PHN2Zy8+"
    assert figure.svg == "<svg/>"
    assert calls == [1]


@pytest.mark.req("DXV-RENDER4-001")
def test_reading_the_report_code_does_not_import_matplotlib() -> None:
    """matplotlib (~0.4 s) is imported when the first figure is drawn, after the HTML went."""
    code = "import sys, dxval.report.render; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.req("DXV-RENDER4-001")
def test_the_layout_takes_a_figure_after_building_the_boxes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The SVG is asked for when the page holding it is laid out, not when the boxes are
    built, so the process drawing it has the parsing, styling and boxes' time."""
    import weasyprint.document

    from dxval.report import pdf

    events: list[str] = []
    build = weasyprint.document.build_formatting_structure

    def building(*arguments: Any, **options: Any) -> Any:
        boxes = build(*arguments, **options)
        events.append("boxes built")
        return boxes

    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="40pt" height="20pt"/>'

    def figures() -> dict[str, bytes]:
        events.append("figure asked")
        return {"dxval-figure:figures/a.svg": svg}

    monkeypatch.setattr(weasyprint.document, "build_formatting_structure", building)
    html = (
        "<html lang=en><head><title>t</title></head><body><p>text</p>"
        "<img alt=a src='dxval-figure:figures/a.svg'></body></html>"
    )
    document = pdf.layout(
        html, render.datetime(2026, 1, 2, tzinfo=render.timezone.utc), None, figures
    )
    assert events[:2] == ["boxes built", "figure asked"]
    image = document.pages[0]._page_box.descendants()
    sizes = [box.width for box in image if type(box).__name__.endswith("ReplacedBox")]
    assert sizes == [pytest.approx(40 * 4 / 3)]  # 40 pt in CSS px: the figure's own size
