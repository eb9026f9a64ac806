"""Test-set manifests: one CSV row per case, checked before anything is computed.

Columns: ``case_id`` (required, unique), ``path`` (a file or a folder
relative to the manifest; a folder stands for every file below it, e.g. a CT
series; optional for predictions-only protocols, which need no images),
``sha256`` (optional: the SHA-256 of the row's file, or for a folder the
digest of its file listing, see :func:`dxval.data.hashing.digest_listing`),
the truth column and any attribute columns. Values are text, matched exactly.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import TYPE_CHECKING

from dxval.data.hashing import sha256_bytes
from dxval.data.limits import (
    MAX_CASES,
    MAX_CSV_BYTES,
    MAX_FIELD_CHARS,
    MAX_ROW_CASES,
    read_input_bytes,
)
from dxval.errors import InputError
from dxval.stats.wording import plural

if TYPE_CHECKING:  # numpy is imported when a manifest is read, not by `dxval --help`
    import numpy as np
    import numpy.typing as npt

CASE_ID_COLUMN = "case_id"
PATH_COLUMN = "path"
SHA256_COLUMN = "sha256"
_SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class ManifestRow:
    """One case as listed in a manifest.

    ``files`` are absolute paths (empty without a ``path`` column), ``names``
    the same files as POSIX paths relative to the manifest's folder.
    """

    line: int
    case_id: str
    values: Mapping[str, str]
    files: tuple[Path, ...]
    names: tuple[str, ...]
    declared_sha256: str | None


class Manifest:
    """A parsed manifest with its exact bytes.

    A large manifest read by the column-at-a-time fast path
    (:mod:`dxval.data.columnar`: no ``path`` or ``sha256`` column) keeps its
    cells as NumPy text columns; :attr:`rows` is then built on first use, by
    the row-by-row reader, so only callers that need per-row objects pay for
    them.
    """

    __slots__ = ("_cells", "_root", "_rows", "_sha256", "columns", "path", "raw_bytes")

    def __init__(
        self,
        path: Path,
        raw_bytes: bytes,
        columns: tuple[str, ...],
        rows: tuple[ManifestRow, ...] | None = None,
        *,
        cells: Mapping[str, npt.NDArray[np.str_]] | None = None,
        root: Path | None = None,
    ) -> None:
        if rows is None and cells is None:
            raise ValueError("a manifest needs its rows or its cells")
        self.path = path
        self.raw_bytes = raw_bytes
        self.columns = columns
        self._rows = rows
        self._cells = None if cells is None else dict(cells)
        self._root = root
        self._sha256: str | None = None

    @property
    def rows(self) -> tuple[ManifestRow, ...]:
        """One :class:`ManifestRow` per case, in file order."""
        if self._rows is None:
            root = self._root or self.path.absolute().parent
            self._rows = _read_rows(self.path, self.raw_bytes, root, label="")[1]
        return self._rows

    @property
    def size(self) -> int:
        """Number of case rows."""
        if self._cells is not None:
            return int(self._cells[CASE_ID_COLUMN].shape[0])
        return len(self.rows)

    def column(self, name: str) -> npt.NDArray[np.str_]:
        """The stripped cells of column ``name`` (one of :attr:`columns`), in row order."""
        import numpy as np

        if self._cells is not None:
            return self._cells[name]
        if name == CASE_ID_COLUMN:
            return np.array([row.case_id for row in self.rows], dtype=np.str_)
        return np.array([row.values[name] for row in self.rows], dtype=np.str_)

    @property
    def has_paths(self) -> bool:
        """Whether the manifest names files (a ``path`` column)."""
        return PATH_COLUMN in self.columns

    @property
    def sha256(self) -> str:
        """SHA-256 of the manifest's bytes."""
        if self._sha256 is None:
            self._sha256 = sha256_bytes(self.raw_bytes)
        return self._sha256

    def location(self, row: ManifestRow) -> str:
        """``manifest.csv:line`` of ``row``, for messages."""
        return f"{self.path}:{row.line}"


def _decode(path: Path, raw_bytes: bytes) -> str:
    try:
        return raw_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path}: byte {error.start}: got bytes that are not UTF-8 expected a UTF-8 CSV file"
        ) from error


def _check_cell(path: Path, line: int, column: str, cell: str) -> None:
    if len(cell) > MAX_FIELD_CHARS:
        raise InputError(
            f"{path}:{line} {column}: got a field of {len(cell)} characters expected at most "
            f"{MAX_FIELD_CHARS} (documented input limit)"
        )


def csv_records(path: Path, raw_bytes: bytes) -> Iterator[tuple[int, list[str], dict[str, str]]]:
    """Yield (line, header, row mapping) of a UTF-8 CSV file; cells are stripped of blanks.

    Raises
    ------
    InputError
        Not UTF-8, no header, malformed CSV, a row whose width differs from the
        header's, a cell longer than :data:`~dxval.data.limits.MAX_FIELD_CHARS`
        or more rows than :data:`~dxval.data.limits.MAX_ROW_CASES` (or
        :data:`~dxval.data.limits.MAX_CASES`, if lower). Messages name
        the line and column, never a cell's content (the file may not be a
        CSV at all).
    """
    reader = csv.reader(io.StringIO(_decode(path, raw_bytes), newline=""))
    rows, limit = 0, min(MAX_CASES, MAX_ROW_CASES)
    try:
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            raise InputError(f"{path}: got an empty file expected a CSV header line")
        header = [cell.strip() for cell in header]
        for index, cell in enumerate(header, start=1):
            _check_cell(path, 1, f"header column {index}", cell)
        for cells in reader:
            if not cells:
                continue
            if len(cells) != len(header):
                raise InputError(
                    f"{path}:{reader.line_num}: got {len(cells)} fields "
                    f"expected {len(header)} (as in the header)"
                )
            rows += 1
            if rows > limit:
                raise InputError(_too_many_rows(path, reader.line_num))
            for name, cell in zip(header, cells, strict=True):
                _check_cell(path, reader.line_num, name, cell)
            yield (
                reader.line_num,
                header,
                {name: cell.strip() for name, cell in zip(header, cells, strict=True)},
            )
    except csv.Error as error:
        # e.g. a field past the csv module's own size limit, a NUL byte
        raise InputError(
            f"{path}:{reader.line_num}: got malformed CSV ({_csv_problem(error)}) expected "
            f"UTF-8 CSV with fields of at most {MAX_FIELD_CHARS} characters"
        ) from None


def _too_many_rows(path: Path, line: int) -> str:
    """The message of a file past the row reader's limit (the lower of the two case limits)."""
    if MAX_CASES <= MAX_ROW_CASES:
        return (
            f"{path}:{line}: got more than {MAX_CASES} rows expected at most that many cases "
            "per file (documented input limit)"
        )
    return (
        f"{path}:{line}: got more than {MAX_ROW_CASES} rows expected at most that many cases "
        "per file read row by row (documented input limit; a manifest naming no files and a "
        f"predictions file are read as columns, up to {MAX_CASES} rows, unless the column "
        "reader declines the file: see the README's Input limits)"
    )


def _csv_problem(error: csv.Error) -> str:
    text = str(error)
    return "field too long" if "field larger than" in text else text.split(":", maxsplit=1)[0][:80]


def check_case_id(path: Path, line: int, column: str, case_id: str) -> None:
    """Refuse a case ID holding a control character (a newline, a tab, NUL ...).

    Case IDs appear in one-line messages, CSV evidence and the report; commas,
    quotes and markup characters are allowed (CSV quoting and HTML escaping
    handle them), control characters are not.

    Raises
    ------
    InputError
        Naming the line, column and character position, not the ID.
    """
    for position, character in enumerate(case_id, start=1):
        if unicodedata.category(character) == "Cc":
            raise InputError(
                f"{path}:{line} {column}: got a control character (U+{ord(character):04X}) at "
                f"position {position} expected a case ID without control characters"
            )


def files_of(target: Path) -> tuple[Path, ...]:
    """The files a manifest ``path`` names: the file itself, or every file below a folder.

    Files below a folder are sorted by their relative POSIX path so that the
    order (and every digest built from it) is the same on every platform.
    """
    if target.is_file():
        return (target,)
    found = [child for child in target.rglob("*") if child.is_file()]
    return tuple(sorted(found, key=lambda child: child.relative_to(target).as_posix()))


def _row_files(
    manifest_path: Path, line: int, written: str, root: Path
) -> tuple[tuple[Path, ...], tuple[str, ...]]:
    """The files of one row's ``path``, each required to resolve inside ``root``.

    ``root`` is the manifest's folder or the protocol's declared ``data_root``
    (already resolved). Absolute paths, ``..`` climbing out and symlinks
    (the named file, a folder on the way, or a file below a named folder)
    that lead outside ``root`` are refused; the message names the row and
    column, never anything read from the target.
    """
    folder = manifest_path.absolute().parent
    where = f"{manifest_path}:{line} {PATH_COLUMN}"
    if not written:
        raise InputError(f"{where}: got an empty value expected a file or folder")
    if Path(written).is_absolute() or PureWindowsPath(written).is_absolute():
        raise InputError(
            f"{where}: got an absolute path expected a path relative to the manifest's folder"
        )
    target = folder / written
    if not target.exists():
        raise InputError(
            f"{where}: got {written!r} expected an existing file (not found: {target})"
        )
    _require_inside(target, root, where, written)
    files = files_of(target)
    if not files:
        raise InputError(f"{where}: got {written!r} expected a folder holding files (it is empty)")
    for file in files:
        _require_inside(file, root, where, written)
    names = tuple(Path(os.path.relpath(file, folder)).as_posix() for file in files)
    return files, names


def _require_inside(path: Path, root: Path, where: str, written: str) -> None:
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):  # a broken or looping symlink
        raise InputError(
            f"{where}: got {written!r} expected a readable file (broken link)"
        ) from None
    if not resolved.is_relative_to(root):
        raise InputError(
            f"{where}: got {written!r}, which resolves outside {root} (through '..', or a "
            "symbolic link) expected a file inside the manifest's folder or the test set's "
            "data_root"
        )


def _declared_sha256(manifest_path: Path, line: int, values: Mapping[str, str]) -> str | None:
    written = values.get(SHA256_COLUMN, "")
    if not written:
        return None
    if not _SHA256_PATTERN.match(written):
        raise InputError(
            f"{manifest_path}:{line} {SHA256_COLUMN}: got {written!r} "
            "expected 64 lowercase hexadecimal digits"
        )
    return written


def read_manifest(path: Path, *, label: str, data_root: Path | None = None) -> Manifest:
    """Read and check the manifest CSV at ``path``.

    Parameters
    ----------
    path:
        The manifest file.
    label:
        What the manifest belongs to, for messages (e.g. ``"test set site-a"``).
    data_root:
        The folder every ``path`` must resolve inside (the protocol's
        ``test_sets[].data_root``); default the manifest's own folder.

    Raises
    ------
    InputError
        The manifest is missing, not UTF-8 CSV, lacks ``case_id``, has a row of
        the wrong width, an empty or duplicate case ID, a ``path`` naming no
        file or one outside the manifest's folder (or ``data_root``), or a
        malformed ``sha256``; the message gives file and line.
    """
    raw_bytes = read_input_bytes(path, what=f"manifest of {label}", limit=MAX_CSV_BYTES)
    try:
        root = (data_root if data_root is not None else path.absolute().parent).resolve(strict=True)
    except (OSError, RuntimeError):
        raise InputError(f"{data_root or path.parent}: data root of {label} not found") from None
    fast = _fast_manifest(path, raw_bytes, root)
    if fast is not None:
        return fast
    columns, rows = _read_rows(path, raw_bytes, root, label=label)
    return Manifest(path, raw_bytes, columns, rows)


def _fast_manifest(path: Path, raw_bytes: bytes, root: Path) -> Manifest | None:
    """The manifest read column at a time, or None when the row-by-row reader must judge it.

    Only manifests without ``path`` and ``sha256`` columns (a predictions
    protocol's case list) take this path; every check of :func:`_read_rows`
    that applies to them is made here on whole columns.
    """
    from dxval.data.columnar import Refused, has_duplicates, read_columns

    try:
        table = read_columns(
            raw_bytes, max_rows=MAX_CASES, max_chars=MAX_FIELD_CHARS, case_id_column=CASE_ID_COLUMN
        )
    except Refused:
        return None
    if CASE_ID_COLUMN not in table.header or {PATH_COLUMN, SHA256_COLUMN} & set(table.header):
        return None
    case_ids = table.cells[CASE_ID_COLUMN]
    if table.size == 0 or (case_ids == "").any() or has_duplicates(case_ids):
        return None
    return Manifest(path, raw_bytes, table.header, cells=table.cells, root=root)


def _read_rows(
    path: Path, raw_bytes: bytes, root: Path, *, label: str
) -> tuple[tuple[str, ...], tuple[ManifestRow, ...]]:
    """Header and every row of the manifest, checked one by one (the reference reader)."""
    rows: list[ManifestRow] = []
    first_line: dict[str, int] = {}
    columns: tuple[str, ...] = ()
    for line, header, values in csv_records(path, raw_bytes):
        columns = tuple(header)
        case_id = values.get(CASE_ID_COLUMN)
        if case_id is None:
            raise InputError(  # the header is not echoed: the file may not be a manifest
                f"{path}: got no {CASE_ID_COLUMN!r} column among "
                f"{plural(len(header), 'header field')} expected a manifest CSV with a "
                f"{CASE_ID_COLUMN!r} column"
            )
        if not case_id:
            raise InputError(
                f"{path}:{line} {CASE_ID_COLUMN}: got an empty value expected a case ID"
            )
        check_case_id(path, line, CASE_ID_COLUMN, case_id)
        if case_id in first_line:
            raise InputError(
                f"{path}:{line} {CASE_ID_COLUMN}: got duplicate {case_id!r} "
                f"(first on line {first_line[case_id]}) expected unique case IDs"
            )
        first_line[case_id] = line
        files, names = (
            ((), ())
            if PATH_COLUMN not in values
            else _row_files(path, line, values[PATH_COLUMN], root)
        )
        rows.append(
            ManifestRow(
                line=line,
                case_id=case_id,
                values=values,
                files=files,
                names=names,
                declared_sha256=_declared_sha256(path, line, values),
            )
        )
    if not rows:
        raise InputError(f"{path}: got no case rows expected at least one case in {label}")
    return columns, tuple(rows)
