"""Documented input limits, and a bounded reader for the text files dxval parses.

Every limit here is listed in the README ("Input limits"); an input past one
is refused with exit 2 and a one-line message naming the file and the limit,
before anything is computed, so that no input can exhaust the machine or
surface as an internal error.

:func:`read_input_bytes` refuses anything that is not a regular file (a
device such as ``/dev/zero``, a FIFO, a socket) without reading from it —
a FIFO is opened non-blocking so that the check itself cannot hang — and
reads at most the limit plus one byte.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from dxval.errors import DxvalError, InputError

__all__ = [
    "MAX_BOOTSTRAP_DRAWS",
    "MAX_BOOTSTRAP_REPLICATES",
    "MAX_CASES",
    "MAX_CSV_BYTES",
    "MAX_FIELD_CHARS",
    "MAX_METRICS_CASES",
    "MAX_PROTOCOL_BYTES",
    "MAX_ROW_CASES",
    "MAX_TABLE_BYTES",
    "MAX_TABLE_ROWS",
    "MAX_YAML_NODES",
    "check_run_size",
    "read_input_bytes",
]

#: Largest protocol file (YAML), in bytes.
MAX_PROTOCOL_BYTES = 1024 * 1024
#: Largest manifest or predictions CSV, in bytes (a file is read whole; 10,000,000
#: predictions rows of an ID and a 4-decimal score take ~160 MB).
MAX_CSV_BYTES = 512 * 1024 * 1024
#: Largest CSV read row by row into per-row objects (reader-study reads, detection truth,
#: segmentation manifests, agreement tables): these keep the earlier, smaller limits.
MAX_TABLE_BYTES = 64 * 1024 * 1024
#: Most cases of those row-by-row tables (detection truth: ten rows per case).
MAX_TABLE_ROWS = 100_000
#: Longest CSV cell (case ID, path, attribute value, score), in characters.
MAX_FIELD_CHARS = 4096
#: Most case rows in one manifest or predictions file read as columns, and in the test sets
#: together of a run read as columns (a predictions protocol whose manifests name no files:
#: ``pipeline/columnar.py``). Measured (issue 18, bench_validate.py's shape, report
#: included, shared 2-core machine): 1,000,000 cases peak at 0.40 GiB RSS (17 s CPU);
#: 10,000,000 complete under ``prlimit --as=4000000000`` at 2.21 GiB peak RSS (99 s CPU),
#: the peak now in the analysis, because the run's tables are freed before the report reads
#: the bundle back (before: 3.39 GiB RSS, past 4 GB of address space while rendering, and a
#: MemoryError under that limit).
MAX_CASES = 10_000_000
#: Most case rows a file read row by row may have (a manifest naming files, a file the column
#: reader declines, which is re-read row by row for its exact message, the other readers of
#: :func:`dxval.data.csv_records`), and most cases of a run that builds per-case objects (a
#: model, manifests naming files, DICOM attributes, comparators, robustness levels, a precision
#: study, a task protocol). Measured under ``prlimit --as=4000000000``, report included: a
#: manifest naming 1,000,000 files peaks at 2.76 GiB RSS (162 s CPU), the row-by-row path of
#: 1,000,000 predictions cases at 1.87 GiB; 2,000,000 files would not fit 4 GB (extrapolated).
MAX_ROW_CASES = 1_000_000
#: Most rows of a ``dxval metrics`` CSV, the same as a run read as columns: its default
#: intervals are closed-form (one sort); 10,000,000 rows took 4.8 s wall at 0.58 GiB peak
#: RSS (issue 18, shared 2-core machine, load ~1); a bootstrap there is bounded by
#: MAX_BOOTSTRAP_DRAWS instead. MAX_CSV_BYTES binds first for wide files.
MAX_METRICS_CASES = MAX_CASES
#: Most YAML values (mappings, lists and scalars, each alias counted again at
#: every place it is used) in one protocol; stops alias "billion laughs" bombs.
MAX_YAML_NODES = 100_000
#: Most bootstrap resamples a protocol may ask for.
MAX_BOOTSTRAP_REPLICATES = 100_000
#: Most bootstrap work per run: replicates × cases (2,000 replicates × 100,000 cases).
MAX_BOOTSTRAP_DRAWS = 200_000_000


def _size_text(size: int) -> str:
    return f"{size // (1024 * 1024)} MiB" if size >= 1024 * 1024 else f"{size} bytes"


def read_input_bytes(
    path: Path, *, what: str, limit: int, error_type: type[DxvalError] = InputError
) -> bytes:
    """The bytes of the regular file ``path``, refused past ``limit`` bytes.

    Parameters
    ----------
    path:
        The file to read.
    what:
        What the file is, for messages (e.g. ``"manifest of test set site-a"``).
    limit:
        Largest accepted size in bytes.
    error_type:
        The error raised (a :class:`~dxval.errors.ProtocolError` for protocols).

    Raises
    ------
    InputError (or ``error_type``)
        Not found, unreadable, not a regular file, or larger than ``limit``.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError as error:
        raise error_type(f"{path}: {what} not found") from error
    except OSError as error:
        raise error_type(f"{path}: cannot read {what} ({error.strerror})") from error
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            kind = "a folder" if stat.S_ISDIR(status.st_mode) else "a device, pipe or socket"
            raise error_type(f"{path}: got {kind} expected {what} as a regular file")
        if status.st_size > limit:
            raise error_type(
                f"{path}: got {status.st_size} bytes expected {what} of at most "
                f"{_size_text(limit)} (documented input limit)"
            )
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            content = handle.read(limit + 1)
    except OSError as error:
        raise error_type(f"{path}: cannot read {what} ({error.strerror})") from error
    finally:
        os.close(descriptor)
    if len(content) > limit:  # grew while being read
        raise error_type(
            f"{path}: got more than {_size_text(limit)} expected {what} of at most "
            f"{_size_text(limit)} (documented input limit)"
        )
    return content


def check_run_size(
    where: Path, cases: int, replicates: int, *, row_by_row: str | None = None
) -> None:
    """Refuse a run past its case limit or :data:`MAX_BOOTSTRAP_DRAWS` resampled cases.

    ``row_by_row``: why the run builds per-case objects (e.g. ``"a model"``),
    or None for a run read as columns. The limit is :data:`MAX_CASES` for
    columns, :data:`MAX_ROW_CASES` row by row.

    Raises
    ------
    InputError
        Naming the protocol, the count, the documented limit and, row by row, why.
    """
    if cases > MAX_CASES:
        raise InputError(
            f"{where}: got {cases} cases in the test sets together expected at most "
            f"{MAX_CASES} (documented input limit)"
        )
    if row_by_row is not None and cases > MAX_ROW_CASES:
        raise InputError(
            f"{where}: got {cases} cases in the test sets together expected at most "
            f"{MAX_ROW_CASES} for a run read row by row ({row_by_row}) (documented input "
            f"limit; a predictions protocol whose manifests name no files is read as columns, "
            f"up to {MAX_CASES} cases)"
        )
    if cases * replicates > MAX_BOOTSTRAP_DRAWS:
        raise InputError(
            f"{where}: statistics.bootstrap.replicates: got {replicates} replicates of "
            f"{cases} cases expected replicates x cases of at most {MAX_BOOTSTRAP_DRAWS} "
            f"(documented input limit; at most {MAX_BOOTSTRAP_DRAWS // max(cases, 1)} "
            "replicates for this test set)"
        )
