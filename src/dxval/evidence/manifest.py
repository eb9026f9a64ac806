"""``MANIFEST.sha256``: the bundle's file list in GNU ``sha256sum`` format.

Each line is ``<64 hex digits><space><space><path>`` (text mode), paths
relative to the bundle folder with ``/`` separators, sorted, every file but
the manifest itself; ``sha256sum -c MANIFEST.sha256`` run in the bundle
folder verifies it without dxval.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dxval.data.hashing import sha256_file
from dxval.evidence.format import MANIFEST_NAME

_LINE = re.compile(r"^([0-9a-f]{64}) [ *](.+)$")


def _walk(folder: Path) -> tuple[list[str], list[str]]:
    """Regular files and every other entry (symlink, FIFO, socket, device) below ``folder``.

    Uses ``lstat`` only: nothing is followed or opened, so a FIFO never blocks.
    """
    regular: list[str] = []
    irregular: list[str] = []
    pending = [folder]
    while pending:
        current = pending.pop()
        for entry in os.scandir(current):
            mode = entry.stat(follow_symlinks=False).st_mode
            relative = Path(entry.path).relative_to(folder).as_posix()
            if stat.S_ISDIR(mode):
                pending.append(Path(entry.path))
            elif stat.S_ISREG(mode):
                regular.append(relative)
            else:
                irregular.append(relative)
    return sorted(regular), sorted(irregular)


def bundle_files(folder: Path) -> list[str]:
    """Every regular file below ``folder`` as a sorted relative POSIX path, the manifest excluded.

    Symlinks, FIFOs, sockets and devices are left out (see :func:`irregular_files`).
    """
    return [name for name in _walk(folder)[0] if name != MANIFEST_NAME]


def irregular_files(folder: Path) -> list[str]:
    """Entries below ``folder`` that are neither folders nor regular files (never in a bundle)."""
    return _walk(folder)[1]


def digest_files(folder: Path) -> dict[str, str]:
    """Relative path → SHA-256 of every file of the bundle but the manifest."""
    return {name: sha256_file(folder / name) for name in bundle_files(folder)}


def render_manifest(digests: Mapping[str, str]) -> bytes:
    """``sha256sum``-format text for ``digests`` (path → SHA-256), sorted by path."""
    for name in digests:
        if "\n" in name or "\\" in name:  # sha256sum escapes these; dxval never writes them
            raise ValueError(f"file name not representable in {MANIFEST_NAME}: {name!r}")
    return "".join(f"{digests[name]}  {name}\n" for name in sorted(digests)).encode("utf-8")


@dataclass(frozen=True, slots=True)
class ParsedManifest:
    """Entries of a manifest and the lines that could not be parsed."""

    entries: dict[str, str]
    malformed: tuple[int, ...]


def parse_manifest(content: bytes) -> ParsedManifest:
    """Parse ``MANIFEST.sha256`` bytes; unsafe paths (absolute, ``..``) count as malformed."""
    entries: dict[str, str] = {}
    malformed: list[int] = []
    for number, raw_line in enumerate(content.split(b"\n"), start=1):
        if not raw_line:
            continue
        try:
            match = _LINE.match(raw_line.decode("utf-8"))
        except UnicodeDecodeError:
            match = None
        name = match.group(2) if match else ""
        if match is None or name.startswith("/") or ".." in name.split("/") or name in entries:
            malformed.append(number)
            continue
        entries[name] = match.group(1)
    return ParsedManifest(entries=entries, malformed=tuple(malformed))
