"""Write an evidence bundle atomically: a hidden temporary folder, then one rename.

Layout (DESIGN.md, "The evidence bundle")::

    <root>/<protocol-id>/<run-id>/
      MANIFEST.sha256  run.json  protocol.yaml  lock.json  environment.json
      cases.csv  metrics.json  criteria.json  audit.jsonl

Sealing order makes every file checkable by a second record: the content
files are written first; the ``bundle.sealed`` audit event lists their
SHA-256; ``run.json`` records the SHA-256 of the finished ``audit.jsonl``;
``MANIFEST.sha256`` lists everything. Until the final rename the bundle is a
dot-folder ending in ``.partial``, so an interrupted run never leaves a
bundle that looks complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from dxval.data.hashing import sha256_bytes
from dxval.errors import InputError
from dxval.evidence.audit import AuditLog
from dxval.evidence.format import AUDIT_NAME, CONTENT_FILES, REQUIRED_FILES, RUN_NAME
from dxval.evidence.manifest import MANIFEST_NAME, digest_files, render_manifest

__all__ = [
    "AUDIT_NAME",
    "CONTENT_FILES",
    "MANIFEST_NAME",
    "REQUIRED_FILES",
    "RUN_NAME",
    "BundleWriter",
    "check_writable",
    "json_bytes",
    "new_run_id",
]


def new_run_id() -> str:
    """A run ID: UTC time to the second and 6 random hex digits (``20261126T181500Z-3fa9c1``)."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(3)}"


def json_bytes(document: Any) -> bytes:
    """Deterministic JSON: 2-space indent, insertion order, UTF-8, newline-terminated.

    Raises
    ------
    ValueError
        ``document`` holds NaN or infinity (a bug: undefined values are None).
    """
    return (json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()


def check_writable(root: Path) -> None:
    """Fail early, before any work, when bundles cannot be written below ``root``.

    Probes the nearest existing folder of ``root`` by creating and removing a
    temporary folder (``os.access`` alone is wrong for root and read-only mounts).

    Raises
    ------
    InputError
        ``root`` or an ancestor is a file, or the folder is not writable.
    """
    existing = root
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"output folder {root}: {existing} is not a folder")
    try:
        probe = tempfile.mkdtemp(prefix=".dxval-write-probe-", dir=existing)
    except OSError as error:
        raise InputError(f"output folder {root} is not writable ({error.strerror})") from error
    os.rmdir(probe)


class BundleWriter:
    """Context manager that builds a bundle in a temporary folder and publishes it on seal.

    Leaving the ``with`` block without :meth:`seal` (an exception) removes the
    temporary folder, so no partial bundle remains.
    """

    def __init__(self, root: Path, protocol_id: str, run_id: str) -> None:
        self.final = root / protocol_id / run_id
        self.temporary = root / protocol_id / f".{run_id}.partial"
        self.sealed = False

    def __enter__(self) -> BundleWriter:
        try:
            self.temporary.mkdir(parents=True)
        except OSError as error:
            raise InputError(f"cannot create {self.temporary} ({error.strerror})") from error
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if not self.sealed:
            shutil.rmtree(self.temporary, ignore_errors=True)

    def write_bytes(self, name: str, content: bytes) -> str:
        """Write ``content`` to ``name`` (relative POSIX path) and return its SHA-256."""
        target = self.temporary / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        return sha256_bytes(content)

    def write_chunks(self, name: str, chunks: Iterable[bytes]) -> str:
        """Write the concatenated ``chunks`` to ``name`` one at a time; return its SHA-256.

        For large files (``cases.csv`` of millions of cases): the content is
        never held whole in memory.
        """
        target = self.temporary / name
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with target.open("wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
                digest.update(chunk)
        return digest.hexdigest()

    def write_json(self, name: str, document: Any) -> str:
        """Write ``document`` as deterministic JSON (see :func:`json_bytes`); return its SHA-256."""
        return self.write_bytes(name, json_bytes(document))

    def seal(
        self,
        audit: AuditLog,
        run: dict[str, Any],
        *,
        render: Callable[[Path], Sequence[Path]] | None = None,
    ) -> Path:
        """Record the sealing event, write audit log, run record and manifest; publish.

        Parameters
        ----------
        audit:
            The run's events; a ``bundle.sealed`` event listing the SHA-256 of
            every file written so far, and the run's ``status`` and
            ``exit_code``, is appended.
        run:
            The ``run.json`` record; ``audit_sha256`` is added.
        render:
            Writes the renderings of the evidence (reports, figures) into the
            unpublished folder, after ``run.json`` and before the manifest,
            so ``MANIFEST.sha256`` lists them and an interrupted rendering
            never leaves a bundle that looks complete.

        Returns the final bundle folder.
        """
        contents = digest_files(self.temporary)
        outcome = {key: run[key] for key in ("status", "exit_code") if key in run}
        audit.record("bundle.sealed", {"files": contents, **outcome}, "evidence complete")
        audit_sha256 = self.write_bytes(AUDIT_NAME, audit.to_bytes())
        self.write_json(RUN_NAME, {**run, "audit_sha256": audit_sha256})
        if render is not None:
            render(self.temporary)
        manifest = render_manifest(digest_files(self.temporary))
        self.write_bytes(MANIFEST_NAME, manifest)
        os.rename(self.temporary, self.final)
        self.sealed = True
        return self.final
