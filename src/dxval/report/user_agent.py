"""WeasyPrint's HTML user-agent stylesheet with its universal pseudo-element rules scoped.

WeasyPrint's HTML5 user-agent stylesheet (``weasyprint/css/html5_ua.css``)
has six rules whose selector is a bare pseudo-element: ``::marker``,
``::footnote-call``, ``::footnote-marker``, ``::note-call``,
``::note-marker`` and ``::note-callback``. A bare pseudo-element matches
every element, so the cascade creates and computes six pseudo-element
styles for each of the report's ~6,800 elements (40,800 style computations,
a quarter of the layout's CPU, issue 18), although only a list item ever
shows a marker and only a ``float: footnote`` / ``float: note`` element a
footnote or note call. Only documents of dxval's shipped templates are laid
out with it (:func:`dxval.report.pdf.layout`); templates given with
``--templates`` always get WeasyPrint's own stylesheet.

:func:`scoped_user_agent` returns the same stylesheet with ``::marker``
scoped to ``li`` (the only element the stylesheet makes a list item) and the
footnote and note rules scoped to an element no document has. The pages are
unchanged for a document in which nothing else is a list item and nothing
floats as a footnote or note; :func:`needs_stock_user_agent` says when a
document might (an author style mentions ``list-item``, ``footnote`` or
``note`` as a float, or links an outside stylesheet), and WeasyPrint's own
stylesheet is used then. ``tests/report/test_user_agent.py`` compares the
pages and the PDF bytes of both.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

#: Selector text of the stock rules and what they become; each must occur exactly once.
_SCOPED = (
    ("\n::marker {", "\nli::marker {"),
    ("\n::footnote-call {", "\n.dxval-unused::footnote-call {"),
    ("\n::footnote-marker {", "\n.dxval-unused::footnote-marker {"),
    ("\n::note-call {", "\n.dxval-unused::note-call {"),
    ("\n::note-marker {", "\n.dxval-unused::note-marker {"),
    ("\n::note-callback {", "\n.dxval-unused::note-callback {"),
)

#: What in a document's HTML could make another element a list item, a footnote or a note,
#: or bring styles this check cannot read.
_STOCK_NEEDED = re.compile(
    r"list-item|float\s*:\s*(?:footnote|note)\b|<link\b|@import\b", re.IGNORECASE
)


def needs_stock_user_agent(html: str) -> bool:
    """True when ``html`` might style an element the scoped rules no longer reach."""
    return _STOCK_NEEDED.search(html) is not None


def scoped_text(stock: str) -> str:
    """``stock`` (the text of WeasyPrint's stylesheet) with the six rules scoped.

    Raises
    ------
    RuntimeError
        A rule is not found exactly once (another WeasyPrint version).
    """
    text = stock
    for old, new in _SCOPED:
        if text.count(old) != 1:
            raise RuntimeError(f"WeasyPrint's user-agent stylesheet has changed: {old.strip()!r}")
        text = text.replace(old, new)
    return text


@cache
def scoped_user_agent() -> Any:
    """The scoped stylesheet as a ``weasyprint.CSS``, parsed once per process."""
    from weasyprint import CSS
    from weasyprint.css.counters import CounterStyle
    from weasyprint.html import UA

    # WeasyPrint parses its own stylesheet with its counter-style registry; the
    # document takes a copy of that registry (HTML._ua_counter_style), so the
    # counter styles defined here again go to a registry of their own.
    return CSS(string=scoped_text(UA), counter_style=CounterStyle())


def report_html_class() -> type:
    """``weasyprint.HTML`` whose user-agent stylesheet is :func:`scoped_user_agent`."""
    return _report_html_class()


@cache
def _report_html_class() -> type:
    from weasyprint import HTML
    from weasyprint.html import UA_FORM_STYLESHEET

    class ReportHTML(HTML):
        """An HTML document laid out with the scoped user-agent stylesheet."""

        def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
            sheet = scoped_user_agent()
            return [sheet, UA_FORM_STYLESHEET] if forms else [sheet]

    return ReportHTML
