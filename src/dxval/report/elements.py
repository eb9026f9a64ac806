"""Small view elements shared by every section: a labelled field and a figure."""

from __future__ import annotations

import base64
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Field:
    """A labelled value; ``mono`` for digests and IDs."""

    label: str
    value: str
    mono: bool = False


@dataclass(frozen=True, slots=True)
class FigureView:
    """A numbered figure: SVG text, a data URI of it, caption and alternative text."""

    number: int
    key: str
    title: str
    caption: str
    alt: str
    svg: str
    data_uri: str

    @property
    def filename(self) -> str:
        """Where the SVG is written in the bundle (``figures/<key>.svg``)."""
        return f"figures/{self.key}.svg"


def figure_view(
    number: int, key: str, *, title: str, caption: str, alt: str, svg: str
) -> FigureView:
    """Wrap SVG text as figure ``number`` (the data URI makes the HTML self-contained)."""
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return FigureView(number, key, title, caption, alt, svg, uri)


def anchor(prefix: str, name: str) -> str:
    """An HTML ID from ``prefix`` and ``name``: letters, digits, ``-`` and ``_`` kept."""
    return prefix + "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


def population_anchor(key: str) -> str:
    """The ID of a population's table in the appendix."""
    return anchor("pop-", key)
