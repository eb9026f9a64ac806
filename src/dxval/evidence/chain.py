"""Hash-chained JSONL ledgers under the evidence root, and the root's lock.

The evidence ledger (:mod:`dxval.evidence.anchor`) and the test-set ledger
(:mod:`dxval.evidence.ledger`) are append-only files of one JSON object per
line (keys sorted, no spaces, newline-terminated), chained like the audit
log (:mod:`dxval.evidence.audit`): line *n* holds ``sequence`` *n* and
``previous_sha256``, the SHA-256 of line *n − 1*'s bytes (64 zeros for the
first), so an edited, removed, inserted or reordered line breaks the chain.
This module is the one implementation of reading such a file strictly (any
break is an :class:`~dxval.errors.IntegrityError`) and of appending to it
under the evidence root's lock (POSIX ``flock`` on ``.test-set-ledger.lock``,
the name kept from when only the test-set ledger had one), with ``fsync``.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from dxval.errors import InputError, IntegrityError
from dxval.evidence.audit import GENESIS, line_sha256, parse_event

#: The lock file of an evidence root, held while a ledger under it is appended to.
LOCK_NAME = ".test-set-ledger.lock"

Entry = TypeVar("Entry")


def encode(event: Mapping[str, Any]) -> bytes:
    """One ledger line: the event as JSON, keys sorted, no spaces, UTF-8 (no newline)."""
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def parse_chain(
    path: Path, content: bytes, entry: Callable[[Any], Entry]
) -> tuple[list[Entry], str]:
    """The entries of a chained file's bytes and the SHA-256 of its last line.

    ``entry`` turns one parsed line into the caller's record; it raises
    ``KeyError``/``ValueError``/``TypeError`` for a line that is not one.
    Lines that are not JSON, too long or nested too deep are not entries.

    Raises
    ------
    IntegrityError
        The file is not newline-terminated, a line is not an entry, or the
        chain (``previous_sha256`` or ``sequence``) is broken; the message
        names the file and the 1-based line.
    """
    previous = GENESIS
    entries: list[Entry] = []
    if not content:
        return entries, previous
    lines = content.split(b"\n")
    if lines[-1] != b"":
        raise IntegrityError(f"{path}: last line is not newline-terminated (truncated or edited)")
    for number, line in enumerate(lines[:-1], start=1):
        event = parse_event(line)
        try:
            if not isinstance(event, dict):
                raise TypeError("not a JSON object")
            record = entry(event)
            claimed = event["previous_sha256"]
            sequence = int(event["sequence"])
        except (ValueError, KeyError, TypeError) as error:
            raise IntegrityError(f"{path} line {number}: not a ledger entry ({error})") from error
        if claimed != previous or sequence != number:
            raise IntegrityError(
                f"{path} line {number}: chain broken (a line was edited, removed or inserted)"
            )
        entries.append(record)
        previous = line_sha256(line)
    return entries, previous


def read_chain(path: Path, entry: Callable[[Any], Entry]) -> list[Entry] | None:
    """Every entry of the chained file at ``path``; ``None`` when there is no such file.

    Raises
    ------
    IntegrityError
        The file cannot be read, a line is not an entry or the chain is broken.
    """
    if not path.is_file():
        return None
    try:
        content = path.read_bytes()
    except OSError as error:
        raise IntegrityError(f"{path}: cannot read ({error.strerror})") from error
    return parse_chain(path, content, entry)[0]


@contextmanager
def locked(root: Path, *, waiting: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold an exclusive advisory lock on the evidence root's lock file (POSIX ``flock``).

    ``waiting`` is called once when another process holds the lock and this one waits.
    """
    descriptor = os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting is not None:
                waiting()
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)


def append_chain(
    path: Path,
    events: Sequence[Mapping[str, Any]],
    entry: Callable[[Any], Entry],
    *,
    what: str,
    lock: bool = True,
) -> tuple[Entry, ...]:
    """Append ``events`` to the chained file at ``path``, each given its sequence and link.

    The existing file is checked first (nothing is appended to a broken
    chain); the lines are written in one ``write`` and ``fsync``-ed. ``lock``
    takes the lock of the file's folder (the evidence root) for the whole
    read-check-append; pass ``False`` when the caller already holds it.
    ``what`` names the file in error messages (``"evidence ledger"``).

    Returns the new entries.

    Raises
    ------
    IntegrityError
        The existing file was altered.
    InputError
        The folder or the file cannot be written.
    """
    root = path.parent
    try:
        root.mkdir(parents=True, exist_ok=True)
        with locked(root) if lock else nullcontext():
            content = path.read_bytes() if path.is_file() else b""
            existing, previous = parse_chain(path, content, entry)
            lines = []
            for offset, event in enumerate(events, start=1):
                line = encode(
                    {**event, "sequence": len(existing) + offset, "previous_sha256": previous}
                )
                lines.append(line)
                previous = line_sha256(line)
            with path.open("ab") as handle:
                handle.write(b"".join(line + b"\n" for line in lines))
                handle.flush()
                os.fsync(handle.fileno())
    except OSError as error:
        raise InputError(f"{path}: cannot write the {what} ({error.strerror})") from error
    return tuple(entry(json.loads(line)) for line in lines)
