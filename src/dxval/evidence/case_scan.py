"""``cases.csv`` split into columns by NumPy, for the files dxval writes (issue 18).

:func:`dxval.evidence.format.read_case_columns` parses ``cases.csv`` with
:mod:`csv`, a row at a time; at a million cases that was about 6 s of CPU,
the largest part of a report render outside WeasyPrint. :func:`scan_case_columns`
gives the same :class:`~dxval.evidence.format.CaseColumnsFile` for the files
the bundle writer produces, splitting cells on whole byte arrays:

* separators are the commas and line feeds outside quotes (quote parity from
  the positions of ``"``), a block of whole lines at a time, so temporary
  arrays stay bounded at any size;
* a quoted cell is unquoted once per *distinct* raw value, by :mod:`csv`
  itself, and only in the canonical form ``csv.writer`` writes (quote first
  and last, inner quotes doubled);
* scores are parsed by Python's ``float`` on each non-empty cell, as before.

It answers ``None``, and the caller keeps the row-by-row reader (which words
any error), for anything else: a file that is not ASCII, holds a carriage
return, a NUL or a blank line, a row with a different number of cells than
the header, a quote inside an unquoted cell, a quoted truth or score cell, a
score ``float`` refuses, a missing required column, no rows, or a header with
a quote. No error is worded here.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from dxval.evidence.format import CaseColumnsFile, Categorical

__all__ = ["scan_case_columns"]

_REQUIRED = ("case_id", "test_set", "site", "truth", "score", "decision", "status")
_TEXT_COLUMNS = ("test_set", "site", "decision", "status", "reason_code", "reason")
_QUOTE, _COMMA, _NEWLINE = ord('"'), ord(","), ord("\n")
#: Bytes per block of lines (about 30,000 rows of a typical cases.csv).
_BLOCK_BYTES = 2 << 20
#: Cells longer than this are read one by one (a rare long reason), not in a fixed-width array.
_WIDE_CELL = 64
#: The csv module's default field size limit: a longer cell goes to the row reader (it refuses).
_CSV_FIELD_LIMIT = 131_072


class _UnsupportedError(Exception):
    """The file is not in the form this scanner accepts: use the row-by-row reader."""


class _CategoryColumn:
    """Distinct values in first-seen order across blocks, and the ``int32`` codes of each block."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.chunks: list[npt.NDArray[np.int32]] = []

    def code_of(self, value: str) -> int:
        return self.index.setdefault(value, len(self.index))

    def categorical(self) -> Categorical:
        codes = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int32)
        return Categorical(tuple(self.index), codes)


def _unquote(raw: bytes) -> str:
    """A cell's value: unquoted when quoted, only in the form ``csv.writer`` writes."""
    text = raw.decode("ascii")
    if not text.startswith('"'):
        if '"' in text:
            raise _UnsupportedError
        return text
    inner = text[1:-1]
    if len(text) < 2 or not text.endswith('"') or inner.replace('""', "").count('"'):
        raise _UnsupportedError
    (row,) = list(csv.reader([text]))
    if len(row) != 1:
        raise _UnsupportedError
    return row[0]


def _fixed_width(block: npt.NDArray[np.uint8], starts: Any, lengths: Any, width: int) -> Any:
    """The cells ``block[start:start + length]`` as NumPy ``S<width>`` (``width`` ≥ each length)."""
    width = max(width, 1)
    offsets = np.arange(width, dtype=np.int32)
    index = starts.astype(np.int32)[:, None] + offsets  # a block is far below 2 GiB
    cells = np.where(offsets < lengths[:, None], np.take(block, index, mode="clip"), 0)
    return np.ascontiguousarray(cells, dtype=np.uint8).view(f"S{width}").ravel()


def _all_equal(block: npt.NDArray[np.uint8], starts: Any, lengths: Any) -> bool:
    """Whether every cell equals the first, compared a byte offset at a time (no gathering)."""
    size = int(lengths[0])
    if not (lengths == size).all():
        return False
    first = starts[0]
    return all((block[starts + offset] == block[first + offset]).all() for offset in range(size))


def _add_categories(
    column: _CategoryColumn, block: npt.NDArray[np.uint8], starts: Any, lengths: Any
) -> None:
    """Codes of one block's cells, new distinct values appended in order of first appearance."""
    if _all_equal(block, starts, lengths):  # the usual test set, site, status, empty reason
        cell = block[starts[0] : starts[0] + lengths[0]].tobytes()
        column.chunks.append(np.full(lengths.shape[0], column.code_of(_unquote(cell)), np.int32))
        return
    wide = lengths > _WIDE_CELL
    short = np.flatnonzero(~wide)
    longest = int(lengths[short].max(initial=0))
    cells = _fixed_width(block, starts[short], lengths[short], max(longest, 8))
    keys = cells.view("<u8") if longest <= 8 else cells  # eight bytes compare as one integer
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    distinct = cells[first]
    # Distinct raw cells, and each wide cell, in the order of their first row in the block.
    found = [
        (row, number, raw)
        for number, (row, raw) in enumerate(
            zip(short[first].tolist(), distinct.tolist(), strict=True)
        )
    ]
    found += [
        (row, -1, block[starts[row] : starts[row] + lengths[row]].tobytes())
        for row in np.flatnonzero(wide).tolist()
    ]
    found.sort(key=lambda item: item[0])
    mapping = np.zeros(max(len(distinct), 1), np.int32)
    codes = np.empty(lengths.shape[0], np.int32)
    for row, number, raw in found:
        code = column.code_of(_unquote(raw))
        if number >= 0:
            mapping[number] = code
        else:
            codes[row] = code
    codes[short] = mapping[inverse.ravel()]
    column.chunks.append(codes)


def _blocks(body: npt.NDArray[np.uint8]) -> Iterator[tuple[npt.NDArray[np.uint8], Any]]:
    """Blocks of whole lines and the positions of their separators (outside quotes)."""
    start = 0
    size = _BLOCK_BYTES
    while start < body.size:
        end = min(start + size, body.size)
        block = body[start:end]
        separators = np.flatnonzero((block == _COMMA) | (block == _NEWLINE))
        quotes = np.flatnonzero(block == _QUOTE)
        if quotes.size:
            separators = _outside_quotes(block.size, separators, quotes)
        line_ends = separators[block[separators] == _NEWLINE]
        if end < body.size:
            if line_ends.size == 0:  # one line longer than the block: a larger block
                size *= 2
                continue
            cut = int(line_ends[-1]) + 1
            block, separators = block[:cut], separators[separators < cut]
            quotes = quotes[quotes < cut]
        elif separators.size == 0 or separators[-1] != block.size - 1:
            raise _UnsupportedError  # an unterminated quote runs to the end of the file
        if quotes.size:
            _check_quoted_cells(block, quotes)
        yield block, separators
        start += block.size


def _outside_quotes(size: int, separators: Any, quotes: Any) -> Any:
    """The separators outside the quoted runs (a quote opens a run, the next one closes it)."""
    opens, closes = quotes[0::2], quotes[1::2]
    if closes.size < opens.size:  # the last run reaches past the block
        closes = np.append(closes, size)
    first = np.searchsorted(separators, opens)  # separators first..last-1 lie inside a run
    inside = np.searchsorted(separators, closes) - first
    total = int(inside.sum())
    if total == 0:
        return separators
    offsets = np.arange(total) - np.repeat(np.cumsum(inside) - inside, inside)
    keep = np.ones(separators.size, dtype=bool)
    keep[np.repeat(first, inside) + offsets] = False
    return separators[keep]


def _check_quoted_cells(block: npt.NDArray[np.uint8], quotes: Any) -> None:
    """Each quoted run (doubled quotes joined) must fill a whole cell, as ``csv.writer`` quotes.

    So a quote never stands inside an unquoted cell, and a quoted cell has
    nothing before its opening or after its closing quote.
    """
    if quotes.size % 2:
        raise _UnsupportedError
    opens, closes = quotes[0::2], quotes[1::2]
    doubled = opens[1:] == closes[:-1] + 1  # '""' inside a quoted cell
    first = opens[np.concatenate(([True], ~doubled))]
    last = closes[np.concatenate((~doubled, [True]))]
    before = block[np.maximum(first - 1, 0)]
    after = block[np.minimum(last + 1, block.size - 1)]
    boundary = (before == _COMMA) | (before == _NEWLINE) | (first == 0)
    if not boundary.all() or not ((after == _COMMA) | (after == _NEWLINE)).all():
        raise _UnsupportedError


def _split(
    block: npt.NDArray[np.uint8], separators: Any, width: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Cell starts and lengths, ``(rows, width)``; every row must have exactly ``width`` cells."""
    if separators.size % width:
        raise _UnsupportedError
    rows = separators.size // width
    ends = separators.reshape(rows, width)
    kinds = block[ends]
    if not (kinds[:, -1] == _NEWLINE).all() or (kinds[:, :-1] == _NEWLINE).any():
        raise _UnsupportedError
    starts = np.empty_like(separators)
    starts[0] = 0
    starts[1:] = separators[:-1] + 1
    starts = starts.reshape(rows, width)
    lengths = ends - starts
    if int(lengths.max()) > _CSV_FIELD_LIMIT:
        raise _UnsupportedError
    return starts, lengths


def _header(content: bytes) -> list[str]:
    line = content[: content.find(b"\n")]
    if not line or b'"' in line:
        raise _UnsupportedError
    header = line.decode("ascii").split(",")
    if any(column not in header for column in _REQUIRED):
        raise _UnsupportedError  # the row reader words the missing column
    return header


def scan_case_columns(content: bytes) -> CaseColumnsFile | None:
    """``cases.csv`` as columns, or ``None`` when the file needs the row-by-row reader.

    The result equals :func:`dxval.evidence.format.read_case_columns`'s on
    every file it accepts (tests/evidence/test_case_scan.py); see the module
    docstring for what it accepts.
    """
    try:
        return _scan(content)
    except _UnsupportedError:
        return None


def _scan(content: bytes) -> CaseColumnsFile:
    if not content.isascii() or not content.endswith(b"\n"):
        raise _UnsupportedError
    if b"\r" in content or b"\x00" in content or b"\n\n" in content:
        raise _UnsupportedError
    header = _header(content)
    body = np.frombuffer(content, np.uint8)[content.find(b"\n") + 1 :]
    if body.size == 0:
        raise _UnsupportedError
    attributes = tuple(c.removeprefix("attribute.") for c in header if c.startswith("attribute."))
    position = {name: index for index, name in enumerate(header)}  # the last repeated name wins
    width = len(header)
    text = {name: _CategoryColumn() for name in _TEXT_COLUMNS}
    levels = {name: _CategoryColumn() for name in attributes}
    ids: list[Any] = []
    truth: list[npt.NDArray[np.bool_]] = []
    scores: list[npt.NDArray[np.float64]] = []
    has_score: list[npt.NDArray[np.bool_]] = []
    for block, separators in _blocks(body):
        starts, lengths = _split(block, separators, width)
        rows = starts.shape[0]
        ids.append(_ids(block, *_cells(starts, lengths, position["case_id"])))
        truth.append(_truth(block, *_cells(starts, lengths, position["truth"])))
        values, present = _scores(block, *_cells(starts, lengths, position["score"]))
        scores.append(values)
        has_score.append(present)
        for name, column in text.items():
            if name in position:
                index = position[name]
                _add_categories(column, block, starts[:, index], lengths[:, index])
            else:  # an absent optional column reads as empty cells
                column.chunks.append(np.full(rows, column.code_of(""), np.int32))
        for name, column in levels.items():
            index = position[f"attribute.{name}"]
            _add_categories(column, block, starts[:, index], lengths[:, index])
    case_ids = np.concatenate(ids)
    return CaseColumnsFile(
        case_ids=case_ids.astype(f"S{max(int(np.char.str_len(case_ids).max()), 1)}", copy=False),
        text={name: column.categorical() for name, column in text.items()},
        truth=np.concatenate(truth),
        scores=np.concatenate(scores),
        has_score=np.concatenate(has_score),
        levels={name: column.categorical() for name, column in levels.items()},
        attributes=attributes,
    )


def _cells(starts: Any, lengths: Any, index: int) -> tuple[Any, Any]:
    """Starts and lengths of one column's cells."""
    return starts[:, index], lengths[:, index]


def _ids(block: npt.NDArray[np.uint8], starts: Any, lengths: Any) -> Any:
    """Case IDs as bytes; a quoted ID is unquoted on its own."""
    if int(lengths.max()) > 4 * _WIDE_CELL:
        raise _UnsupportedError
    cells = _fixed_width(block, starts, lengths, int(lengths.max()))
    quoted = np.flatnonzero((lengths > 0) & (block[np.minimum(starts, block.size - 1)] == _QUOTE))
    for row in quoted.tolist():
        cells[row] = _unquote(bytes(cells[row])).encode("ascii")
    return cells


def _truth(block: npt.NDArray[np.uint8], starts: Any, lengths: Any) -> npt.NDArray[np.bool_]:
    """``truth == "1"``, as the row reader reads it; a quoted cell goes to the row reader."""
    first = block[np.minimum(starts, block.size - 1)]
    if ((lengths > 0) & (first == _QUOTE)).any():
        raise _UnsupportedError
    return np.asarray((lengths == 1) & (first == ord("1")))


def _scores(
    block: npt.NDArray[np.uint8], starts: Any, lengths: Any
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Scores by Python's ``float`` (NaN and ``False`` for an empty cell); else the row reader.

    Cells of up to eight bytes (``0.4094``) are parsed once per distinct cell.
    """
    present = np.asarray(lengths > 0)
    values = np.full(lengths.shape[0], np.nan)
    longest = int(lengths.max(initial=0))
    cells = _fixed_width(block, starts[present], lengths[present], max(longest, 8))
    inverse = None
    if longest <= 8:
        distinct, inverse = np.unique(cells.view("<u8"), return_inverse=True)
        cells = distinct.view("S8")
    try:
        parsed = np.fromiter(map(float, cells.tolist()), np.float64, cells.size)
    except ValueError:
        raise _UnsupportedError from None
    values[present] = parsed if inverse is None else parsed[inverse.reshape(-1)]
    return values, present
