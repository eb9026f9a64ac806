"""The tool-validation report of ``dxval self-validate``: IQ and OQ, every check listed.

Written as HTML (jinja2, ``autoescape`` and ``StrictUndefined``), as a
tagged PDF/A-2b laid out by the report module's WeasyPrint pipeline with
dxval's bundled fonts, and as a JSON record of the same content. This module
only lays out the view built by :mod:`dxval.selfval.run`, never recomputes a
result.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined

from dxval.selfval.checks import CheckResult

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>dxval {{ header.dxval }} tool validation</title>
<style>
@font-face{font-family:"dxval DejaVu Sans";src:url("fonts/DejaVuSans.ttf");font-weight:normal}
@font-face{font-family:"dxval DejaVu Sans";src:url("fonts/DejaVuSans-Bold.ttf");font-weight:bold}
@page{size:A4;margin:16mm 14mm;
@bottom-right{content:"Page " counter(page) " of " counter(pages);font-size:8px}}
body{font-family:"dxval DejaVu Sans";font-size:10px;margin:0}
tr{page-break-inside:avoid}
table{border-collapse:collapse;width:100%;margin-bottom:1.5em}
td,th{border:1px solid #999;padding:3px 6px;vertical-align:top;text-align:left}
th{background:#eee}.pass{background:#d9f2d9}.fail{background:#f8d0d0;font-weight:bold}
.verdict{font-size:16px;padding:6px}
</style></head><body>
<h1>Tool validation report: dxval {{ header.dxval }}</h1>
<p class="verdict {{ 'pass' if passed else 'fail' }}">
{{ 'PASS' if passed else 'FAIL' }}: {{ counts.passed }} of {{ counts.total }} checks passed,
{{ counts.failed }} failed.</p>
<table>{% for key, value in header.items() %}
<tr><th>{{ key }}</th><td>{{ value }}</td></tr>{% endfor %}</table>
<p>Purpose: qualify this installation of dxval for producing regulatory evidence
(ISO 13485 §4.1.6; FDA Computer Software Assurance guidance, 2022). Installation
qualification compares the installed software with the SOUP list; operational
qualification runs known-answer tests against independently computed values, an
end-to-end validation on generated DICOM data, and tamper tests of a signed bundle.</p>
{% if notes %}<h2>Notes</h2>
<ul>{% for note in notes %}<li>{{ note }}</li>{% endfor %}</ul>{% endif %}
{% for group in groups %}
<h2>{{ group.title }}</h2>
<table><thead><tr><th>#</th><th>check</th><th>expected</th><th>observed</th><th>result</th>
<th>reference</th></tr></thead><tbody>
{% for check in group.checks %}<tr><td>{{ check.number }}</td><td>{{ check.name }}</td>
<td>{{ check.expected }}</td><td>{{ check.observed }}</td>
<td class="{{ check.result }}">{{ check.result }}</td><td>{{ check.source }}</td></tr>
{% endfor %}</tbody></table>
{% endfor %}
</body></html>
"""

GROUP_TITLES = {
    "installation qualification": (
        "Installation qualification (IQ): installed versions against the SOUP list"
    ),
    "known answers": "Operational qualification (OQ): known-answer tests",
    "end to end": "Operational qualification (OQ): end-to-end run on generated DICOM",
    "tamper evidence": "Operational qualification (OQ): tamper evidence and signatures",
}


def _groups(checks: Sequence[CheckResult]) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for number, check in enumerate(checks, start=1):
        groups.setdefault(check.group, []).append({"number": number, **check.to_dict()})
    return [
        {"title": GROUP_TITLES.get(group, group), "checks": rows} for group, rows in groups.items()
    ]


def _write_pdf(html: str, path: Path) -> None:
    """Lay out ``html`` as a tagged PDF/A-2b with the report module's fonts and writer."""
    from dxval.report.pdf import layout, write_pdf

    moment = datetime.now(timezone.utc).replace(microsecond=0)
    document = layout(html, moment)
    path.write_bytes(write_pdf(document, variant="pdf/a-2b", attachments=[], moment=moment))


def write_report(
    out: Path,
    checks: Sequence[CheckResult],
    *,
    header: Mapping[str, str],
    notes: Sequence[str],
    version_drift: Sequence[Mapping[str, str]] = (),
) -> tuple[Path, Path]:
    """Write ``tool-validation.html``, ``.pdf`` and ``.json`` into ``out``.

    ``version_drift`` (installed items whose version differs from the SOUP
    list) is recorded in the JSON as ``version_drift``; the notes say it in words.

    Returns the PDF and the JSON record.
    """
    passed = all(check.passed for check in checks)
    counts = {
        "total": len(checks),
        "passed": sum(1 for check in checks if check.passed),
        "failed": sum(1 for check in checks if not check.passed),
    }
    environment = Environment(autoescape=True, undefined=StrictUndefined)
    html = environment.from_string(_TEMPLATE).render(
        header=header, passed=passed, counts=counts, notes=notes, groups=_groups(checks)
    )
    html_path = out / "tool-validation.html"
    json_path = out / "tool-validation.json"
    html_path.write_text(html, encoding="utf-8")
    pdf_path = out / "tool-validation.pdf"
    _write_pdf(html, pdf_path)
    document = {
        "schema": "dxval-tool-validation/1",
        "result": "pass" if passed else "fail",
        "counts": counts,
        "header": dict(header),
        "notes": list(notes),
        "version_drift": [dict(item) for item in version_drift],
        "checks": [check.to_dict() for check in checks],
    }
    json_path.write_text(
        json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return pdf_path, json_path
