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
#: Most case rows in one manifest or predictions file, and in one protocol's test sets
#: together. Predictions protocols are read and written as columns (issue 18), and the
#: report reads cases.csv as columns: 1,000,000 cases with the report peak at 0.66 GiB.
#: 10,000,000 complete with the report at 3.34 GiB RSS, but not under a 4 GB address-space
#: limit (MemoryError reading cases.csv back while the run's tables are still held), and
#: manifests naming files or refused by the column reader are still read row by row
#: (~2 GiB per 1,000,000 cases), so the cap stays at the size that is safe on every path.
MAX_CASES = 1_000_000
#: Most rows of a ``dxval metrics`` CSV: its default intervals are closed-form (one
#: sort), so a million cases take seconds; a bootstrap there is bounded by
#: MAX_BOOTSTRAP_DRAWS instead. MAX_CSV_BYTES binds first for wide files.
MAX_METRICS_CASES = 5_000_000
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


def check_run_size(where: Path, cases: int, replicates: int) -> None:
    """Refuse a run past :data:`MAX_CASES` cases or :data:`MAX_BOOTSTRAP_DRAWS` resampled cases.

    Raises
    ------
    InputError
        Naming the protocol, the count and the documented limit.
    """
    if cases > MAX_CASES:
        raise InputError(
            f"{where}: got {cases} cases in the test sets together expected at most "
            f"{MAX_CASES} (documented input limit)"
        )
    if cases * replicates > MAX_BOOTSTRAP_DRAWS:
        raise InputError(
            f"{where}: statistics.bootstrap.replicates: got {replicates} replicates of "
            f"{cases} cases expected replicates x cases of at most {MAX_BOOTSTRAP_DRAWS} "
            f"(documented input limit; at most {MAX_BOOTSTRAP_DRAWS // max(cases, 1)} "
            "replicates for this test set)"
        )
