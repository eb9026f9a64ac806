"""Render the per-case table ``cases.csv``: one row per case, scored or failed with a reason.

Columns: ``case_id, test_set, site, truth_label, truth (1/0), score,
decision (positive/negative, empty when not evaluable), status
(scored/failed), reason_code, reason``, one ``attribute.<name>`` column per
subgroup attribute (the level used in the analysis: a band label for binned
attributes, never the raw value), and ``input_sha256``. Scores are written
with Python's shortest round-trip representation, so the file is
reproducible byte for byte.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CaseRow:
    """One line of ``cases.csv``."""

    case_id: str
    test_set: str
    site: str
    truth_label: str
    truth: bool
    score: float | None
    decision: bool | None
    status: str
    reason_code: str
    reason: str
    levels: Mapping[str, str]
    input_sha256: str | None


FIXED_COLUMNS = (
    "case_id",
    "test_set",
    "site",
    "truth_label",
    "truth",
    "score",
    "decision",
    "status",
    "reason_code",
    "reason",
)


def render_cases(rows: Sequence[CaseRow], attributes: Sequence[str]) -> bytes:
    """``cases.csv`` bytes (UTF-8, ``\\n`` line ends) for ``rows`` in the given order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*FIXED_COLUMNS, *(f"attribute.{name}" for name in attributes), "input_sha256"])
    for row in rows:
        decision = "" if row.decision is None else ("positive" if row.decision else "negative")
        writer.writerow(
            [
                row.case_id,
                row.test_set,
                row.site,
                row.truth_label,
                int(row.truth),
                "" if row.score is None else repr(row.score),
                decision,
                row.status,
                row.reason_code,
                row.reason,
                *(row.levels[name] for name in attributes),
                row.input_sha256 or "",
            ]
        )
    return buffer.getvalue().encode("utf-8")
