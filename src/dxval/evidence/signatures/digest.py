"""The evidence digest that signatures sign (DESIGN.md, "The evidence bundle").

The SHA-256 of a ``sha256sum``-format listing of every bundle file except the
rendered reports and their figures (:data:`RENDERED_FILES`,
:data:`RENDERED_FOLDERS`), ``MANIFEST.sha256`` and ``signatures/``.
``audit.jsonl`` enters with its *sealed part* only, the lines up to and
including the ``bundle.sealed`` event: the events appended later record the
signing itself, and counting them would make every signature invalidate the
ones before it.
"""

from __future__ import annotations

from pathlib import Path

from dxval.data.hashing import sha256_bytes, sha256_file
from dxval.errors import IntegrityError
from dxval.evidence.audit import parse_event
from dxval.evidence.bundle import AUDIT_NAME
from dxval.evidence.format import SIGNATURES_FOLDER
from dxval.evidence.manifest import MANIFEST_NAME, bundle_files, render_manifest

#: Renderings of the bundle (dxval.report.render_bundle_reports), rewritten when a signature is
#: added; not part of the evidence. Keep in step with the report module's output names.
RENDERED_FILES = frozenset({"report.html", "report.pdf", "report-submission.pdf", "model-card.md"})
RENDERED_FOLDERS = ("figures/",)
SEALED_ACTION = "bundle.sealed"


def sealed_audit_part(content: bytes) -> bytes:
    """The lines of ``audit.jsonl`` up to and including the last ``bundle.sealed`` event.

    Raises
    ------
    IntegrityError
        The log holds no ``bundle.sealed`` event.
    """
    lines = content.split(b"\n")
    end = None
    for index, line in enumerate(lines):
        event = parse_event(line) if line else None
        if isinstance(event, dict) and event.get("action") == SEALED_ACTION:
            end = index
    if end is None:
        raise IntegrityError(f"{AUDIT_NAME}: no {SEALED_ACTION} event; not a sealed bundle")
    return b"".join(line + b"\n" for line in lines[: end + 1])


def is_evidence_file(name: str) -> bool:
    """True for a bundle file covered by signatures (not a rendering, manifest or signature)."""
    excluded = {MANIFEST_NAME, SIGNATURES_FOLDER, *RENDERED_FILES}
    prefixes = (SIGNATURES_FOLDER + "/", *RENDERED_FOLDERS)
    return name not in excluded and not name.startswith(prefixes)


def evidence_digests(bundle: Path) -> dict[str, str]:
    """Relative path → SHA-256 of every evidence file (the audit log's sealed part only).

    Raises
    ------
    IntegrityError
        ``audit.jsonl`` is missing or holds no ``bundle.sealed`` event.
    """
    names = [name for name in bundle_files(bundle) if is_evidence_file(name)]
    if AUDIT_NAME not in names:
        raise IntegrityError(f"{bundle}: {AUDIT_NAME} missing; cannot compute the evidence digest")
    digests = {name: sha256_file(bundle / name) for name in names if name != AUDIT_NAME}
    digests[AUDIT_NAME] = sha256_bytes(sealed_audit_part((bundle / AUDIT_NAME).read_bytes()))
    return digests


def evidence_digest(bundle: str | Path) -> str:
    """The digest a signature signs: SHA-256 of the ``sha256sum`` listing of the evidence files.

    The listing is :func:`render_manifest` of :func:`evidence_digests`.

    Raises
    ------
    IntegrityError
        See :func:`evidence_digests`.
    """
    return sha256_bytes(render_manifest(evidence_digests(Path(bundle))))
