"""Column-at-a-time reading of large manifest and predictions CSVs (issue 18).

The row-by-row readers (:func:`dxval.data.manifest.csv_records` and the
functions built on it) define what a valid file is and word every refusal.
This module is their fast path for large, well-formed files: it parses with
the same :mod:`csv` reader, in chunks, into NumPy text columns, and checks
the same rules column by column. It never words an error: on anything it
does not accept — a problem, or merely something it does not check itself
(a blank line, a quote, a control character, a duplicate header name) — it
raises :class:`Refused` and the caller re-reads the file row by row, which
either raises the exact one-line error or returns the same result more
slowly. A file the fast path accepts is therefore one the row-by-row reader
accepts, with the same cell values (stripped of surrounding blanks).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

import numpy as np
import numpy.typing as npt

__all__ = ["CsvColumns", "Refused", "has_duplicates", "read_columns"]

#: Rows parsed per chunk (bounds the per-row Python objects alive at once).
_CHUNK_ROWS = 65_536
#: Unicode category Cc: what :func:`dxval.data.manifest.check_case_id` refuses.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


class Refused(Exception):  # noqa: N818 - a signal to the caller, not an error shown to users
    """The fast path declines the file: read it row by row instead."""


@dataclass(frozen=True, slots=True)
class CsvColumns:
    """A CSV's header and its cells as NumPy unicode columns (stripped), one per header name."""

    header: tuple[str, ...]
    cells: dict[str, npt.NDArray[np.str_]]
    size: int


def _decode(raw_bytes: bytes) -> str:
    try:
        return raw_bytes.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refused from None


def read_columns(
    raw_bytes: bytes, *, max_rows: int, max_chars: int, case_id_column: str | None = None
) -> CsvColumns:
    """Parse a UTF-8 CSV into stripped text columns, or raise :class:`Refused`.

    Accepted: a header of distinct, non-empty-overall names; every row as wide
    as the header; no blank line; at most ``max_rows`` rows; every cell (and
    header name) at most ``max_chars`` characters before stripping; no NUL
    anywhere; no control character in ``case_id_column`` (when given).
    """
    simple = _simple_columns(raw_bytes, max_rows=max_rows, max_chars=max_chars)
    if simple is not None:
        return simple
    text = _decode(raw_bytes)
    if "\x00" in text:  # NumPy text drops trailing NULs: never guess, let the row reader judge
        raise Refused
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        first = next(reader, None)
        if not first or not any(cell.strip() for cell in first):
            raise Refused
        header = tuple(cell.strip() for cell in first)
        if len(set(header)) != len(header) or max(map(len, header)) > max_chars:
            raise Refused
        checked = header.index(case_id_column) if case_id_column in header else None
        width = len(header)
        parts: list[list[npt.NDArray[np.str_]]] = [[] for _ in header]
        rows = 0
        while chunk := list(islice(reader, _CHUNK_ROWS)):
            if set(map(len, chunk)) != {width}:
                raise Refused  # a blank line or a row of another width: the row reader words it
            rows += len(chunk)
            if rows > max_rows:
                raise Refused
            for index, column in enumerate(zip(*chunk, strict=True)):
                if index == checked and _CONTROL.search("".join(column)):
                    raise Refused
                values = np.array(column, dtype=np.str_)
                if values.dtype.itemsize // 4 > max_chars:
                    raise Refused
                parts[index].append(np.strings.strip(values))
    except csv.Error:
        raise Refused from None
    return CsvColumns(header=header, cells=_columns(header, parts), size=rows)


#: Bytes of a file :func:`_simple_columns` splits itself: printable ASCII, comma, line feed.
_COMMA, _LINE_FEED, _QUOTE, _SPACE, _DELETE = 44, 10, 34, 32, 127
#: Lines split at once by :func:`_simple_columns`, and bytes checked at once.
_GATHER_ROWS = 500_000
_SCAN_BYTES = 64 * 1024 * 1024


def _simple_columns(raw_bytes: bytes, *, max_rows: int, max_chars: int) -> CsvColumns | None:
    """Split a plain CSV with NumPy: printable ASCII, no quote, ``\\n`` line ends, no blank line.

    For such a file the :mod:`csv` reader's rows are exactly the lines split
    at commas, so this gives the same cells as :func:`read_columns`' reader.
    None when the file is not that plain (the :mod:`csv` reader then runs);
    :class:`Refused` for a plain file the fast path declines (ragged rows, too
    many rows or too long a cell). Lines are split a block at a time, so the
    positions of commas and line ends never exist for the whole file at once.
    """
    data = np.frombuffer(raw_bytes, dtype=np.uint8)
    if raw_bytes.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.shape[0] == 0:
        return None
    if data[-1] != _LINE_FEED:
        data = np.concatenate([data, np.array([_LINE_FEED], dtype=np.uint8)])
    for begin in range(0, data.shape[0], _SCAN_BYTES):  # bounded temporaries
        block = data[begin : begin + _SCAN_BYTES]
        printable = (block >= _SPACE) & (block < _DELETE) & (block != _QUOTE)
        if not (printable | (block == _LINE_FEED)).all():
            return None
    line_ends = np.flatnonzero(data == _LINE_FEED)
    rows = line_ends.shape[0] - 1
    if rows > max_rows:
        raise Refused
    header = bytes(data[: int(line_ends[0])]).decode("ascii").split(",")
    header_cells = [cell.strip() for cell in header]
    if (
        not any(header_cells)
        or len(set(header_cells)) != len(header_cells)
        or max(map(len, header)) > max_chars
    ):
        raise Refused
    width = len(header_cells)
    widest = np.ones(width, dtype=np.intp)
    for block, starts, lengths in _line_blocks(data, line_ends, width):  # check, measure
        del block, starts
        if lengths.shape[0] and lengths.max() > max_chars:
            raise Refused
        if lengths.shape[0]:
            widest = np.maximum(widest, lengths.max(axis=0))
    cells = {  # each column allocated once at its final width: no chunks joined afterwards
        name: np.empty(rows, dtype=f"U{int(widest[index])}")
        for index, name in enumerate(header_cells)
    }
    done = 0
    for block, starts, lengths in _line_blocks(data, line_ends, width):
        for index, name in enumerate(header_cells):
            cells[name][done : done + starts.shape[0]] = _gather(
                block, starts[:, index], lengths[:, index]
            )
        done += starts.shape[0]
    return CsvColumns(header=tuple(header_cells), cells=cells, size=rows)


def _line_blocks(
    data: npt.NDArray[np.uint8], line_ends: npt.NDArray[np.intp], width: int
) -> Iterator[tuple[npt.NDArray[np.uint8], npt.NDArray[np.intp], npt.NDArray[np.intp]]]:
    """Per block of data lines: its bytes, and each cell's start and length (rows × width).

    Raises :class:`Refused` for a line that is not ``width`` cells.
    """
    rows = line_ends.shape[0] - 1
    for first in range(1, rows + 1, _GATHER_ROWS):
        last = min(first + _GATHER_ROWS, rows + 1) - 1  # lines first..last (1 = first data line)
        origin = int(line_ends[first - 1]) + 1
        block = data[origin : int(line_ends[last]) + 1]
        separators = np.flatnonzero((block == _COMMA) | (block == _LINE_FEED))
        if separators.shape[0] != width * (last - first + 1):
            raise Refused  # ragged rows or a blank line: the csv reader's path words it
        if not (block[separators[width - 1 :: width]] == _LINE_FEED).all():
            raise Refused
        starts = np.concatenate([[0], separators[:-1] + 1]).reshape(-1, width)
        yield block, starts, separators.reshape(-1, width) - starts


def _columns(
    header: Sequence[str], parts: list[list[npt.NDArray[np.str_]]]
) -> dict[str, npt.NDArray[np.str_]]:
    """Each column's chunks joined, dropping a column's chunks once joined (bounded peak)."""
    cells = {}
    for index, name in enumerate(header):
        chunks, parts[index] = parts[index], []
        if not chunks:
            cells[name] = np.array([], dtype=np.str_)
        else:
            cells[name] = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
        del chunks
    return cells


def _gather(
    data: npt.NDArray[np.uint8], starts: npt.NDArray[np.intp], lengths: npt.NDArray[np.intp]
) -> npt.NDArray[np.str_]:
    """The text cells at ``starts``/``lengths`` of ``data``, stripped of spaces."""
    widest = max(int(lengths.max(initial=0)), 1)
    padded = np.concatenate([data, np.zeros(widest, dtype=np.uint8)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, widest)[starts]
    windows[np.arange(widest) >= lengths[:, None]] = 0  # a copy: blank what follows the cell
    text = windows.astype(np.uint32).view(f"U{widest}").reshape(-1)  # ASCII = code points
    return np.strings.strip(text)


def has_duplicates(values: npt.NDArray[np.str_]) -> bool:
    """Whether any text occurs twice in ``values``."""
    if values.shape[0] < 2:
        return False
    ordered = np.sort(values)
    return bool((ordered[1:] == ordered[:-1]).any())
