"""SHA-256 digests of bytes, files and lists of files (FIPS 180-4)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

_CHUNK_BYTES = 1 << 20


def sha256_bytes(data: bytes) -> str:
    """SHA-256 of ``data`` as 64 lowercase hexadecimal digits (FIPS 180-4)."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """SHA-256 of the file at ``path``, read in 1 MiB chunks.

    Raises
    ------
    OSError
        The file cannot be opened or read.
    """
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def digest_listing(entries: Iterable[tuple[str, str]]) -> str:
    """SHA-256 of ``sha256sum``-style lines ``"<sha256>  <name>\\n"`` for (name, sha256) pairs.

    The entries are sorted by name first, so the digest does not depend on the
    order in which files were found. Used for a multi-file case's input digest
    and inside the test-set lock digest.
    """
    lines = "".join(f"{sha}  {name}\n" for name, sha in sorted(entries))
    return sha256_bytes(lines.encode("utf-8"))
