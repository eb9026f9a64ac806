"""Small view elements shared by every section: a labelled field and a figure."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Field:
    """A labelled value; ``mono`` for digests and IDs."""

    label: str
    value: str
    mono: bool = False


#: The URL scheme by which the print rendition refers to its figures (``print_url``).
FIGURE_SCHEME = "dxval-figure"


class Drawing:
    """A figure's SVG text, drawn on first use (issue 18: the PDF's figures are drawn while
    the typesetting child parses and styles the HTML, not before it has the HTML)."""

    __slots__ = ("_draw", "_svg")

    def __init__(self, svg: str | Callable[[], str]) -> None:
        self._svg: str | None = svg if isinstance(svg, str) else None
        self._draw: Callable[[], str] | None = None if isinstance(svg, str) else svg

    def svg(self) -> str:
        """The SVG text; drawn now unless it was drawn or given already."""
        if self._svg is None:
            assert self._draw is not None  # one of the two is always set
            self._svg, self._draw = self._draw(), None
        return self._svg


@dataclass(frozen=True, slots=True, eq=False)
class FigureView:
    """A numbered figure: SVG text (drawn on first use), caption and alternative text."""

    number: int
    key: str
    title: str
    caption: str
    alt: str
    drawing: Drawing

    @property
    def svg(self) -> str:
        """The figure as SVG text (drawn on first use)."""
        return self.drawing.svg()

    @property
    def data_uri(self) -> str:
        """The SVG as a ``data:`` URI, which makes the screen HTML self-contained."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode("utf-8")).decode(
            "ascii"
        )

    @property
    def filename(self) -> str:
        """Where the SVG is written in the bundle (``figures/<key>.svg``)."""
        return f"figures/{self.key}.svg"

    @property
    def print_url(self) -> str:
        """How the print HTML refers to the figure: the typesetter is sent the SVG separately."""
        return f"{FIGURE_SCHEME}:{self.filename}"


def figure_view(
    number: int, key: str, *, title: str, caption: str, alt: str, svg: str | Callable[[], str]
) -> FigureView:
    """Figure ``number`` of SVG text, or of a function drawing it when first needed."""
    return FigureView(number, key, title, caption, alt, Drawing(svg))


def anchor(prefix: str, name: str) -> str:
    """An HTML ID from ``prefix`` and ``name``: letters, digits, ``-`` and ``_`` kept."""
    return prefix + "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


def population_anchor(key: str) -> str:
    """The ID of a population's table in the appendix."""
    return anchor("pop-", key)
