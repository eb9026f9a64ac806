"""What WeasyPrint leaves out of a document with only a logged error is refused (issue 18).

WeasyPrint logs at ERROR level and goes on when it cannot load an image,
draw an SVG, find a cross-reference's target or tag an image without
alternative text; a report missing any of them is refused instead.
"""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from pathlib import Path

import pytest

from dxval.report import pdf
from dxval.report.template_set import TemplateError

MOMENT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def _html(body: str) -> str:
    return f"<html lang=en><head><title>t</title></head><body>{body}</body></html>"


@pytest.mark.req("DXV-RENDER4-003")
def test_an_image_that_cannot_be_loaded_is_an_error_naming_it() -> None:
    html = _html('<p>x</p><img src="no-such-image.png" alt="logo">')
    with pytest.raises(RuntimeError, match=r"left something out .*no-such-image\.png"):
        pdf.layout(html, MOMENT)


@pytest.mark.req("DXV-RENDER4-003")
def test_with_custom_templates_it_is_a_template_error(tmp_path: Path) -> None:
    html = _html('<img src="no-such-image.png" alt="logo">')
    with pytest.raises(TemplateError, match=rf"^{tmp_path}: the typesetter left something out"):
        pdf.layout(html, MOMENT, tmp_path)


@pytest.mark.req("DXV-RENDER4-003")
def test_a_cross_reference_to_nowhere_is_an_error() -> None:
    html = _html(
        "<style>a::after { content: target-counter(attr(href), page) }</style>"
        '<a href="#no-such-section">see</a>'
    )
    with pytest.raises(RuntimeError, match="left something out"):
        pdf.layout(html, MOMENT)


@pytest.mark.req("DXV-RENDER4-003")
def test_an_svg_that_cannot_be_drawn_is_an_error_at_writing() -> None:
    broken = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20">'
        '<path d="M 0 0 L 10 10" transform="rotate(nonsense)"/></svg>'
    )
    html = _html(f'<img alt="x" src="data:image/svg+xml;utf8,{broken.replace(chr(34), "%22")}">')
    document = pdf.layout(html, MOMENT)
    with pytest.raises(RuntimeError, match="Failed to render SVG image"):
        pdf.write_both_pdfs(document, attachments=[], moment=MOMENT)


@pytest.mark.req("DXV-RENDER4-003")
def test_an_image_without_alternative_text_is_an_error_at_writing() -> None:
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"/>'
    document = pdf.layout(_html(f"<img src='data:image/svg+xml;utf8,{svg}'>"), MOMENT)
    with pytest.raises(RuntimeError, match="no required alt description"):
        pdf.write_pdf(document, variant="pdf/a-2b", attachments=[], moment=MOMENT)


@pytest.mark.req("DXV-RENDER4-003")
def test_a_clean_document_passes_and_the_logger_is_left_as_it_was() -> None:
    import logging

    handlers = list(logging.getLogger("weasyprint").handlers)
    document = pdf.layout(_html("<p>fine</p>"), MOMENT)
    report_pdf, submission_pdf = pdf.write_both_pdfs(document, attachments=[], moment=MOMENT)
    assert report_pdf.startswith(b"%PDF-")
    assert submission_pdf.startswith(b"%PDF-")
    assert logging.getLogger("weasyprint").handlers == handlers


@pytest.mark.req("DXV-RENDER4-003")
def test_the_message_is_one_short_line_without_the_bytes_of_a_data_url() -> None:
    svg = base64.b64encode(b"<svg xmlns='http://www.w3.org/2000/svg' width='9' height='9'/>")
    padded = svg.decode("ascii") + "\n" * 3 + "A" * 4000
    document = pdf.layout(_html(f'<img src="data:image/svg+xml;base64,{padded}">'), MOMENT)
    with pytest.raises(RuntimeError) as raised:
        pdf.write_pdf(document, variant="pdf/a-2b", attachments=[], moment=MOMENT)
    message = str(raised.value)
    assert message == (
        "the typesetter left something out of the report: "
        'Image "data:image/svg+xml,…" has no required alt description'
    )
