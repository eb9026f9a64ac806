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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported by the columnar renderer only
    import numpy as np
    import numpy.typing as npt

#: Rows rendered per chunk by :func:`render_case_columns`.
_CHUNK_ROWS = 25_000


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


@dataclass(frozen=True, slots=True)
class CaseColumnRows:
    """The lines of ``cases.csv`` as columns (large runs: no per-case objects).

    ``scores`` is NaN for a non-evaluable case (status ``failed``, reason
    code ``reason_code``, reason from ``reasons``); the decision is ``score >=
    operating_point`` for the others, as in :class:`CaseRow`, with empty
    reason code and reason.
    No case has an ``input_sha256`` (the manifests name no files).
    """

    case_ids: npt.NDArray[np.str_]
    test_sets: npt.NDArray[np.str_]
    sites: npt.NDArray[np.str_]
    truth_labels: npt.NDArray[np.str_]
    truth: npt.NDArray[np.bool_]
    scores: npt.NDArray[np.float64]
    reason_code: str
    reasons: npt.NDArray[np.str_]
    levels: Mapping[str, npt.NDArray[np.str_]]
    operating_point: float


def render_case_columns(columns: CaseColumnRows, attributes: Sequence[str]) -> bytes:
    """``cases.csv`` bytes for ``columns``: byte for byte what :func:`render_cases` writes."""
    return b"".join(case_column_chunks(columns, attributes))


def case_column_chunks(columns: CaseColumnRows, attributes: Sequence[str]) -> Iterator[bytes]:
    """:func:`render_case_columns` in pieces of at most ``_CHUNK_ROWS`` lines, header first."""
    import numpy as np

    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(
        [*FIXED_COLUMNS, *(f"attribute.{name}" for name in attributes), "input_sha256"]
    )
    yield header.getvalue().encode("utf-8")
    size = int(columns.case_ids.shape[0])
    # Shared str objects picked by index (issue 18): no new str per cell for these columns.
    truth_text = np.array(["0", "1"], dtype=object)
    decision_text = np.array(["", "negative", "positive"], dtype=object)
    status_text = np.array(["failed", "scored"], dtype=object)
    for start in range(0, size, _CHUNK_ROWS):
        part = slice(start, min(start + _CHUNK_ROWS, size))
        scores = columns.scores[part]
        scored = ~np.isnan(scores)
        decision = np.where(scored, 1 + (scores >= columns.operating_point), 0)
        fields = [
            _csv_fields(columns.case_ids[part]),
            _csv_fields(columns.test_sets[part]),
            _csv_fields(columns.sites[part]),
            _csv_fields(columns.truth_labels[part]),
            truth_text[columns.truth[part].astype(np.intp)].tolist(),
            _score_cells(scores, scored),
            decision_text[decision].tolist(),
            status_text[scored.astype(np.intp)].tolist(),
            _csv_fields(np.where(scored, "", columns.reason_code)),
            _csv_fields(np.where(scored, "", columns.reasons[part])),
            *(_csv_fields(columns.levels[name][part]) for name in attributes),
            [""] * (part.stop - part.start),
        ]
        lines = map(",".join, zip(*fields, strict=True))
        yield ("\n".join(lines) + "\n").encode("utf-8")


def _score_cells(scores: npt.NDArray[np.float64], scored: npt.NDArray[np.bool_]) -> list[str]:
    """``repr`` of each score ("" where there is none), once per distinct score of the chunk."""
    import numpy as np

    values = scores[scored]
    distinct, inverse = np.unique(values, return_inverse=True)
    texts = np.array([repr(value) for value in distinct.tolist()], dtype=object)
    cells = np.full(scores.shape[0], "", dtype=object)
    cells[scored] = texts[inverse.reshape(-1)]
    zero = np.flatnonzero(scored)[values == 0.0]  # unique() merges -0.0 with 0.0: repr apart
    cells[zero] = np.where(np.signbit(scores[zero]), "-0.0", "0.0")
    result: list[str] = cells.tolist()
    return result


def _csv_fields(values: npt.NDArray[np.str_]) -> list[str]:
    """Cells as :mod:`csv` writes them (quoted when they hold a comma, a quote or a line end)."""
    if values.shape[0] > 1 and bool((values == values[0]).all()):  # one value: one str object
        return _csv_fields_each(values[:1]) * values.shape[0]
    return _csv_fields_each(values)


def _csv_fields_each(values: npt.NDArray[np.str_]) -> list[str]:
    """:func:`_csv_fields` cell by cell (quoting once per distinct cell)."""
    import numpy as np

    cells: list[str] = values.tolist()
    joined = "".join(cells)
    if not any(character in joined for character in ',"\r\n'):
        return cells
    distinct, inverse = np.unique(values, return_inverse=True)  # levels: a few distinct cells
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    quoted = []
    for cell in distinct.tolist():
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([cell, ""])
        quoted.append(buffer.getvalue()[:-2])  # the cell, then "," and the line end
    return np.array(quoted, dtype=object)[inverse.reshape(-1)].tolist()
