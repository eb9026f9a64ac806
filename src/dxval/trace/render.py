"""Render traces: a text table for one requirement; CSV, JSON or HTML for matrices.

One index, many formats (StrictDoc's exporters): the functions here only
lay out what :mod:`dxval.trace.index` (and :mod:`dxval.qms.selftrace`)
computed. HTML goes through jinja2 with ``autoescape`` and
``StrictUndefined``, so a missing value fails loudly instead of printing
blank.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from enum import Enum

from jinja2 import Environment, StrictUndefined

from dxval.trace.index import RequirementTrace, TraceLink, TraceMatrix


class Format(str, Enum):
    """Output formats of ``dxval trace --matrix`` and ``--self``."""

    CSV = "csv"
    JSON = "json"
    HTML = "html"


MATRIX_COLUMNS = (
    "protocol_id",
    "requirement_id",
    "requirement_text",
    "run_id",
    "date_utc",
    "protocol_version",
    "model_sha256",
    "predictions_sha256",
    "observed",
    "required",
    "result",
    "suspect",
    "suspect_reason",
    "evidence_intact",
)


def _short(digest: str | None) -> str:
    return "" if digest is None else digest[:12]


def _link_row(trace: RequirementTrace, link: TraceLink) -> list[str]:
    run = link.run
    return [
        trace.protocol_id,
        trace.requirement_id,
        trace.current.text if trace.current is not None else link.outcome.text,
        run.run_id,
        run.started_utc,
        run.protocol_version,
        run.model_sha256 or "",
        run.predictions_sha256 or "",
        link.outcome.observed,
        link.outcome.required,
        link.outcome.verdict,
        "yes" if link.suspect else "no",
        link.suspect_reason or "",
        "yes" if run.intact else "no",
    ]


def requirement_text(traces: Sequence[RequirementTrace]) -> str:
    """The ``dxval trace REQ-ID`` table: one block per protocol, one line per run."""
    blocks = []
    for trace in traces:
        text = trace.current.text if trace.current is not None else "(no longer defined)"
        lines = [f"{trace.requirement_id} ({trace.protocol_id}): {text}"]
        header = (
            "run",
            "date (UTC)",
            "version",
            "scored by",
            "observed",
            "required",
            "result",
            "link",
        )
        rows = [header]
        for link in trace.links:
            run = link.run
            source = "model " if run.model_sha256 else "predictions "
            rows.append(
                (
                    run.run_id,
                    run.started_utc[:19].replace("T", " "),
                    run.protocol_version,
                    source + _short(run.model_sha256 or run.predictions_sha256),
                    link.outcome.observed,
                    link.outcome.required,
                    link.outcome.verdict.upper(),
                    "SUSPECT" if link.suspect else "current",
                )
            )
        widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
        lines += [
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows
        ]
        for link in trace.links:
            if link.suspect:
                lines.append(f"  suspect {link.run.run_id}: {link.suspect_reason}")
            if not link.run.intact:
                lines.append(f"  warning {link.run.run_id}: the bundle no longer verifies")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def csv_text(rows: Sequence[Sequence[str]]) -> str:
    """Rows as CSV text (``\n`` line ends), for the trace and self-trace exports."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


_MATRIX_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>dxval traceability matrix</title>
<style>
body{font-family:sans-serif;font-size:13px}table{border-collapse:collapse}
td,th{border:1px solid #999;padding:3px 6px;vertical-align:top}
.pass{background:#d9f2d9}.fail{background:#f8d0d0}.undefined{background:#eee}
.suspect{outline:3px dashed #c60}
</style></head><body>
<h1>Traceability matrix</h1>
<p>Requirements × runs. A dashed cell is a suspect link: the requirement changed after the run.</p>
<table><thead><tr><th>protocol</th><th>requirement</th>
{% for run in runs %}<th>{{ run.run_id }}<br>{{ run.started_utc[:19] }}
<br>v{{ run.protocol_version }}{% if not run.intact %}<br><b>does not verify</b>{% endif %}
</th>{% endfor %}</tr></thead>
<tbody>{% for row in rows %}<tr><td>{{ row.protocol_id }}</td>
<td><b>{{ row.requirement_id }}</b><br>{{ row.text }}</td>
{% for cell in row.cells %}{% if cell is none %}<td></td>{% else %}
<td class="{{ cell.result }}{% if cell.suspect %} suspect{% endif %}"
title="{{ cell.reason }}">{{ cell.result }}<br>{{ cell.observed }}</td>{% endif %}{% endfor %}
</tr>{% endfor %}</tbody></table></body></html>
"""


def html_environment() -> Environment:
    """The jinja2 environment of the HTML exports: autoescape, ``StrictUndefined``."""
    return Environment(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True)


def render_matrix(matrix: TraceMatrix, output: Format) -> str:
    """The matrix as CSV (one row per requirement × run), JSON, or an HTML grid."""
    if output is Format.JSON:
        document = {
            "schema": "dxval-trace-matrix/1",
            "runs": [
                {
                    "protocol_id": run.protocol_id,
                    "run_id": run.run_id,
                    "date_utc": run.started_utc,
                    "bundle": str(run.bundle),
                    "intact": run.intact,
                    "signatures": list(run.signatures),
                }
                for run in matrix.runs
            ],
            "requirements": [trace.to_dict() for trace in matrix.traces],
        }
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output is Format.CSV:
        rows = [list(MATRIX_COLUMNS)]
        rows += [_link_row(trace, link) for trace in matrix.traces for link in trace.links]
        return csv_text(rows)
    grid = []
    for trace in matrix.traces:
        links = {link.run.bundle: link for link in trace.links}
        cells = []
        for run in matrix.runs:
            link = links.get(run.bundle)
            cells.append(
                None
                if link is None
                else {
                    "result": link.outcome.verdict,
                    "observed": link.outcome.observed,
                    "suspect": link.suspect,
                    "reason": link.suspect_reason or "",
                }
            )
        text = trace.current.text if trace.current is not None else "(no longer defined)"
        grid.append(
            {
                "protocol_id": trace.protocol_id,
                "requirement_id": trace.requirement_id,
                "text": text,
                "cells": cells,
            }
        )
    return html_environment().from_string(_MATRIX_HTML).render(runs=matrix.runs, rows=grid)
