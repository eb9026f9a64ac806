"""Report figures without matplotlib's ID-only groups draw the same picture (issue 18).

``plots.flatten_groups`` splices the children of each ``<g id="...">`` that
carries nothing else into its parent. The check is the picture: WeasyPrint
paints a page with matplotlib's own SVG and a page with the flattened one,
and poppler rasterises both at 150 dpi; every pixel must agree.
"""

from __future__ import annotations

import base64
import io
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dxval.report import pdf, plots, render

MOMENT = render.datetime(2026, 1, 2, 3, 4, 5, tzinfo=render.timezone.utc)


def _matplotlib_svg() -> str:
    """A figure with what the report's figures hold: lines, markers, error bars, text, a fill."""
    with plots._figure(3.2, 2.6) as figure:
        axes = figure.add_subplot()
        axes.plot([0, 0.2, 0.5, 1], [0, 0.6, 0.8, 1], color=plots.BLUE, label="AUC 0.81")
        axes.fill_between([0, 0.5, 1], [0, 0.5, 0.9], [0.2, 0.9, 1], color=plots.SKY, alpha=0.3)
        axes.errorbar([0.3], [0.7], xerr=[[0.1], [0.1]], yerr=[[0.05], [0.1]], fmt="o", capsize=2)
        axes.set_xlabel("1 − specificity")
        axes.set_title("ROC", loc="left")
        axes.legend()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
        return buffer.getvalue()


def _page(svg: str, folder: Path, name: str) -> np.ndarray:
    data = base64.b64encode(svg.encode()).decode("ascii")
    html = (
        "<html lang=en><body><img alt=figure style='width:12cm' "
        f"src='data:image/svg+xml;base64,{data}'></body></html>"
    )
    written = folder / f"{name}.pdf"
    written.write_bytes(
        pdf.write_pdf(pdf.layout(html, MOMENT), variant="pdf/a-2b", attachments=[], moment=MOMENT)
    )
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", written, folder / name], check=True
    )
    return np.asarray(Image.open(folder / f"{name}.png"))


@pytest.mark.req("DXV-RENDER3-004")
def test_a_flattened_figure_paints_the_same_pixels(tmp_path: Path) -> None:
    original = _matplotlib_svg()
    flattened = plots.flatten_groups(original)
    groups = len(re.findall(r"<g\b", original))
    assert groups > 20
    assert len(re.findall(r"<g\b", flattened)) < groups / 4
    assert flattened.count("<use ") == original.count("<use ") > 0
    assert flattened.count("<text") == original.count("<text") > 0
    before = _page(original, tmp_path, "original")
    after = _page(flattened, tmp_path, "flattened")
    assert before.shape == after.shape
    assert (before != 255).any()  # something was drawn
    assert np.array_equal(before, after)


@pytest.mark.req("DXV-RENDER3-004")
def test_only_groups_that_carry_nothing_but_an_unreferenced_id_go() -> None:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        '<g id="a"><g id="b" transform="translate(1 1)"><path d="M0 0L1 1"/></g>'
        '<g id="c" style="fill: red"><path d="M1 0L0 1"/></g>'
        '<g id="d"><rect width="1" height="1"/></g><g><circle r="1"/></g></g>'
        '<use xlink:href="#d"/><g id="e" clip-path="url(#f)"/></svg>'
    )
    flattened = plots.flatten_groups(svg)
    assert 'id="a"' not in flattened  # nothing but an ID: its children take its place
    assert "<circle" in flattened
    assert "<g><circle" not in flattened
    for kept in ('id="b" transform', 'id="c" style', 'id="d"', 'clip-path="url(#f)"'):
        assert kept in flattened  # a transform, a style, a reference, a clip
    assert flattened.index('id="b"') < flattened.index('id="c"') < flattened.index("<circle")
