"""Reads files of reader studies: read a long-format CSV and check the design.

The reads file is a CSV with one row per reader × case × modality:
``reader``, ``case``, ``modality``, ``truth``, ``score`` (names overridable).
The FDA iMRMC layout is accepted too: no truth column, and truth given by
rows whose reader and modality are both ``truth`` (score 0 or 1).

The design must be fully crossed: every reader reads every case in every
modality, once, and a case has one truth. Anything else is an
:class:`~dxval.errors.InputError` naming the reader, the case and the line;
no read is ever dropped silently.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dxval.data.limits import MAX_FIELD_CHARS, read_input_bytes
from dxval.data.limits import MAX_TABLE_BYTES as MAX_CSV_BYTES
from dxval.data.limits import MAX_TABLE_ROWS as MAX_CASES
from dxval.errors import InputError

if TYPE_CHECKING:  # pandas (~0.3 s to import) loads when reads are read, not with the plan
    import pandas as pd

IMRMC_TRUTH = "truth"  # reader and modality label of the iMRMC layout's truth rows


@dataclass(frozen=True, slots=True)
class ReadColumns:
    """Column names of a reads file."""

    reader: str = "reader"
    case: str = "case"
    modality: str = "modality"
    truth: str = "truth"
    score: str = "score"


@dataclass(frozen=True, slots=True)
class Reads:
    """A checked, fully crossed reader study: scores (t, r, n) and truth (n,)."""

    path: Path
    modalities: tuple[str, ...]
    readers: tuple[str, ...]
    cases: tuple[str, ...]
    truth: np.ndarray
    scores: np.ndarray
    positive: str


def _line(row: int) -> int:
    return row + 2  # header is line 1


def _read_table(path: Path, columns: list[str]) -> pd.DataFrame:
    import pandas as pd

    content = read_input_bytes(path, what="reader study reads file", limit=MAX_CSV_BYTES)
    try:
        table = pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InputError(f"{path}: not a readable CSV file ({first_line})") from None
    for column in columns:
        if column not in table.columns:
            found = ", ".join(repr(name) for name in table.columns)
            raise InputError(f"{path}: no column {column!r} (columns: {found})")
    if table.empty:
        raise InputError(f"{path}: no data rows")
    too_long = table[columns].apply(lambda column: column.str.len() > MAX_FIELD_CHARS)
    if too_long.any(axis=None):
        row, position = (int(index[0]) for index in np.nonzero(too_long.to_numpy()))
        raise InputError(
            f"{path} line {_line(row)} column {columns[position]!r}: got a field longer than "
            f"{MAX_FIELD_CHARS} characters (documented input limit)"
        )
    return table


def _numbers(path: Path, values: pd.Series, column: str, lines: np.ndarray) -> np.ndarray:
    import pandas as pd

    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(numbers))
    if bad.size:
        raise InputError(
            f"{path} line {lines[bad[0]]} column {column!r}: got {values.iloc[bad[0]]!r}, "
            "expected a finite number"
        )
    return numbers


def _positive_value(path: Path, values: pd.Series, column: str, positive: str | None) -> str:
    found = sorted(set(values.tolist()))
    if positive is None:
        if set(found) <= {"0", "1"}:
            return "1"
        shown = ", ".join(repr(value) for value in found[:5])
        raise InputError(
            f"{path} column {column!r}: truth values {shown} are not 0/1; name the positive "
            "value with --positive"
        )
    if positive not in found:
        shown = ", ".join(repr(value) for value in found[:5])
        raise InputError(
            f"{path} column {column!r}: no row has the positive value {positive!r} "
            f"(values found: {shown})"
        )
    return positive


def _case_truth(
    path: Path, cases: pd.Series, truth: pd.Series, lines: np.ndarray, column: str
) -> dict[str, str]:
    """One truth value per case; an error naming the case when rows disagree."""
    first: dict[str, tuple[str, int]] = {}
    for case, value, line in zip(cases.tolist(), truth.tolist(), lines.tolist(), strict=True):
        if value == "":
            raise InputError(f"{path} line {line} column {column!r}: case {case!r} has no truth")
        seen = first.setdefault(case, (value, line))
        if seen[0] != value:
            raise InputError(
                f"{path} line {line}: case {case!r} has truth {value!r} but {seen[0]!r} at "
                f"line {seen[1]}; expected one truth per case"
            )
    return {case: value for case, (value, _) in first.items()}


def _split_imrmc_truth(
    path: Path, table: pd.DataFrame, columns: ReadColumns
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Separate iMRMC truth rows (reader = modality = 'truth') from the reads."""
    is_truth = (table[columns.reader] == IMRMC_TRUTH) & (table[columns.modality] == IMRMC_TRUTH)
    if not is_truth.any():
        raise InputError(
            f"{path}: no column {columns.truth!r} and no iMRMC truth rows (reader and modality "
            f"{IMRMC_TRUTH!r}); expected one of them"
        )
    return table[~is_truth], table[is_truth]


def _check_modality_order(
    path: Path, modalities: list[str], reference: str | None
) -> tuple[str, ...]:
    if len(modalities) < 2:
        raise InputError(
            f"{path}: only modality {modalities[0]!r}; a reader study compares at least 2"
        )
    if reference is None:
        return tuple(modalities)
    if reference not in modalities:
        shown = ", ".join(repr(name) for name in modalities)
        raise InputError(f"--reference: got {reference!r}, expected one of {shown}")
    others = [name for name in modalities if name != reference]
    return (others[0], reference, *others[1:])


def read_reads(
    path: Path,
    *,
    columns: ReadColumns = ReadColumns(),
    positive: str | None = None,
    reference: str | None = None,
) -> Reads:
    """Read and check a long-format reads file.

    Args:
        path: the CSV file.
        columns: its column names.
        positive: the truth value of a positive case (default "1" when the
            truth values are 0/1).
        reference: the modality to put second (the difference is first − second).

    Raises:
        InputError: unreadable file, missing column, non-numeric score,
            duplicate read, truth differing between rows of a case, a case
            read in one modality only, a reader missing a case, fewer than 2
            modalities; the message names the reader, case and line.
    """
    import pandas as pd

    probe = _read_table(path, [columns.reader, columns.case, columns.modality, columns.score])
    lines = np.arange(len(probe)) + 2
    if columns.truth not in probe.columns:
        reads, truth_rows = _split_imrmc_truth(path, probe, columns)
        truth_lines = lines[truth_rows.index.to_numpy()]
        truth_values = truth_rows[columns.score]
        truth_label = f"{columns.score} (iMRMC truth rows)"
        truth_cases = truth_rows[columns.case]
        lines = lines[reads.index.to_numpy()]
        reads = reads.reset_index(drop=True)
    else:
        reads = probe
        truth_lines, truth_values, truth_label = lines, probe[columns.truth], columns.truth
        truth_cases = probe[columns.case]
    positive_value = _positive_value(path, truth_values, truth_label, positive)
    case_truth = _case_truth(path, truth_cases, truth_values, truth_lines, truth_label)
    scores = _numbers(path, reads[columns.score], columns.score, lines)
    reader_codes, readers = pd.factorize(reads[columns.reader])
    case_codes, cases = pd.factorize(reads[columns.case])
    modality_codes, modality_names = pd.factorize(reads[columns.modality])
    order = _check_modality_order(path, [str(name) for name in modality_names], reference)
    position = {name: index for index, name in enumerate(order)}
    modality_codes = np.array([position[str(name)] for name in modality_names])[modality_codes]
    if len(cases) > MAX_CASES:
        raise InputError(
            f"{path}: got {len(cases)} cases expected at most {MAX_CASES} (documented input limit)"
        )
    shape = (len(order), len(readers), len(cases))
    cube = np.full(shape, np.nan)
    seen_line = np.zeros(shape, dtype=np.int64)
    _fill(
        path,
        cube,
        seen_line,
        codes=(modality_codes, reader_codes, case_codes),
        scores=scores,
        lines=lines,
        labels=(order, readers, cases),
    )
    _check_crossed(path, seen_line, order, [str(r) for r in readers], [str(c) for c in cases])
    missing_truth = [str(case) for case in cases if str(case) not in case_truth]
    if missing_truth:
        raise InputError(f"{path}: case {missing_truth[0]!r} has no truth row")
    truth = np.array([case_truth[str(case)] == positive_value for case in cases])
    return Reads(
        path=path,
        modalities=order,
        readers=tuple(str(reader) for reader in readers),
        cases=tuple(str(case) for case in cases),
        truth=truth,
        scores=cube,
        positive=positive_value,
    )


def _fill(
    path: Path,
    cube: np.ndarray,
    seen_line: np.ndarray,
    *,
    codes: tuple[np.ndarray, np.ndarray, np.ndarray],
    scores: np.ndarray,
    lines: np.ndarray,
    labels: tuple[tuple[str, ...], Any, Any],
) -> None:
    """Place every read in the cube; a second read of the same cell is an error."""
    modalities, readers, cases = labels
    flat = np.ravel_multi_index(codes, cube.shape)
    unique, counts = np.unique(flat, return_counts=True)
    if (counts > 1).any():
        cell = unique[np.argmax(counts > 1)]
        rows = np.flatnonzero(flat == cell)
        modality, reader, case = np.unravel_index(cell, cube.shape)
        raise InputError(
            f"{path} line {lines[rows[1]]}: reader {str(readers[reader])!r} read case "
            f"{str(cases[case])!r} in modality {modalities[modality]!r} again (first at line "
            f"{lines[rows[0]]}); expected one read per reader, case and modality"
        )
    cube.reshape(-1)[flat] = scores
    seen_line.reshape(-1)[flat] = lines


def _check_crossed(
    path: Path,
    seen_line: np.ndarray,
    modalities: tuple[str, ...],
    readers: list[str],
    cases: list[str],
) -> None:
    """Every reader reads every case in every modality (the fully crossed design)."""
    read = seen_line > 0
    case_modalities = np.asarray(read.any(axis=1))  # (t, n): case read in the modality
    for case_index, case_label in enumerate(cases):
        present = case_modalities[:, case_index]
        if not present.all():
            shown = ", ".join(repr(modalities[i]) for i in np.flatnonzero(present))
            absent = modalities[int(np.flatnonzero(~present)[0])]
            raise InputError(
                f"{path}: case {case_label!r} is read in modality {shown} only, not in {absent!r}; "
                "expected every case in every modality"
            )
    if not read.all():
        modality, reader, case = (int(index[0]) for index in np.nonzero(~read))
        raise InputError(
            f"{path}: reader {readers[reader]!r} did not read case {cases[case]!r} in modality "
            f"{modalities[modality]!r}; expected every reader to read every case (fully "
            "crossed design)"
        )
