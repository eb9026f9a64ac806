"""``MANIFEST.sha256``: the bundle's file list in GNU ``sha256sum`` format.

Each line is ``<64 hex digits><space><space><path>`` (text mode), paths
relative to the bundle folder with ``/`` separators, sorted, every file but
the manifest itself; ``sha256sum -c MANIFEST.sha256`` run in the bundle
folder verifies it without dxval.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dxval.data.hashing import sha256_file

MANIFEST_NAME = "MANIFEST.sha256"
_LINE = re.compile(r"^([0-9a-f]{64}) [ *](.+)$")


def bundle_files(folder: Path) -> list[str]:
    """Every file below ``folder`` as a sorted relative POSIX path, the manifest excluded."""
    names = (
        child.relative_to(folder).as_posix()
        for child in folder.rglob("*")
        if child.is_file() or child.is_symlink()
    )
    return sorted(name for name in names if name != MANIFEST_NAME)


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
