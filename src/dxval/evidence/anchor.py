"""The evidence ledger: an anchor for each bundle outside the bundle itself.

A writer who can change every file of an unsigned bundle can also recompute
its audit chain, ``run.json`` and ``MANIFEST.sha256`` so that the bundle is
consistent again; nothing inside the bundle can tell. Each sealed bundle
therefore leaves its *evidence digest* (the digest a signature signs,
:func:`dxval.evidence.signatures.evidence_digest`) and the head of its audit
log in ``<evidence root>/evidence-ledger.jsonl``, and ``dxval validate``
prints the digest for the CI log, JUnit and the step summary. ``dxval sign``
appends a line for every signature with the new audit head, so that
stripping a signature together with its ``signature.applied`` event is seen.

Lines are JSON objects (keys sorted, no spaces) hash-chained like the audit
log; appends hold the evidence root's ledger lock
(:func:`dxval.evidence.ledger.locked`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dxval.errors import InputError, IntegrityError
from dxval.evidence.audit import GENESIS, line_sha256, parse_event, utc_now
from dxval.evidence.ledger import locked

ANCHOR_LEDGER_NAME = "evidence-ledger.jsonl"
ANCHOR_SCHEMA = "dxval-evidence-anchor/1"


@dataclass(frozen=True, slots=True)
class AuditHead:
    """The last line of an audit log: how many lines it has and the SHA-256 of the last one.

    The chain links every line to the one before, so the head pins all earlier lines.
    """

    lines: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Anchor:
    """One ledger line: the evidence digest and audit head of a bundle after an event."""

    sequence: int
    time_utc: str
    event: str
    protocol_id: str
    run_id: str
    evidence_digest: str
    audit: AuditHead


def audit_head(content: bytes) -> AuditHead:
    """The :class:`AuditHead` of ``audit.jsonl`` bytes (no lines: the chain's genesis)."""
    lines = [line for line in content.split(b"\n") if line]
    return AuditHead(len(lines), line_sha256(lines[-1]) if lines else GENESIS)


def _anchor(event: Any) -> Anchor:
    return Anchor(
        sequence=int(event["sequence"]),
        time_utc=str(event["time"]),
        event=str(event["event"]),
        protocol_id=str(event["protocol_id"]),
        run_id=str(event["run_id"]),
        evidence_digest=str(event["evidence_digest"]),
        audit=AuditHead(int(event["audit_lines"]), str(event["audit_head_sha256"])),
    )


def _parse(path: Path, content: bytes) -> tuple[list[Anchor], str]:
    previous = GENESIS
    anchors = []
    lines = content.split(b"\n")
    if lines[-1] != b"":
        raise IntegrityError(f"{path}: last line is not newline-terminated (truncated or edited)")
    for number, line in enumerate(lines[:-1], start=1):
        event = parse_event(line)
        try:
            anchor = _anchor(event)
            claimed = event["previous_sha256"]
        except (ValueError, KeyError, TypeError) as error:
            raise IntegrityError(f"{path} line {number}: not a ledger entry ({error})") from error
        if claimed != previous or anchor.sequence != number:
            raise IntegrityError(
                f"{path} line {number}: chain broken (a line was edited, removed or inserted)"
            )
        anchors.append(anchor)
        previous = line_sha256(line)
    return anchors, previous


def read_anchors(root: str | Path) -> tuple[Anchor, ...] | None:
    """Every line of the evidence ledger under ``root``; ``None`` when there is no ledger.

    Raises
    ------
    IntegrityError
        A line is not a ledger entry or the hash chain is broken.
    """
    path = Path(root) / ANCHOR_LEDGER_NAME
    if not path.is_file():
        return None
    try:
        content = path.read_bytes()
    except OSError as error:
        raise IntegrityError(f"{path}: cannot read ({error.strerror})") from error
    return tuple(_parse(path, content)[0])


def record_anchor(
    root: str | Path,
    *,
    event: str,
    protocol_id: str,
    run_id: str,
    evidence_digest: str,
    audit: AuditHead,
) -> Anchor:
    """Append one line (``event`` is ``sealed`` or ``signed``) to the evidence ledger.

    Raises
    ------
    IntegrityError
        The existing ledger was altered; nothing is appended.
    InputError
        The ledger cannot be written.
    """
    root = Path(root)
    path = root / ANCHOR_LEDGER_NAME
    try:
        with locked(root):
            content = path.read_bytes() if path.is_file() else b""
            anchors, previous = _parse(path, content) if content else ([], GENESIS)
            line = json.dumps(
                {
                    "schema": ANCHOR_SCHEMA,
                    "sequence": len(anchors) + 1,
                    "time": utc_now(),
                    "event": event,
                    "protocol_id": protocol_id,
                    "run_id": run_id,
                    "evidence_digest": evidence_digest,
                    "audit_lines": audit.lines,
                    "audit_head_sha256": audit.sha256,
                    "previous_sha256": previous,
                },
                sort_keys=True,
                separators=(",", ":"),
                ensure_ascii=False,
            ).encode()
            with path.open("ab") as handle:
                handle.write(line + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
    except OSError as error:
        raise InputError(f"{path}: cannot write the evidence ledger ({error.strerror})") from error
    return _anchor(json.loads(line))


def anchor_findings(
    anchors: tuple[Anchor, ...], *, protocol_id: str, run_id: str, digest: str, audit: bytes
) -> list[str]:
    """What differs between a bundle and its lines in the evidence ledger (empty: consistent).

    The evidence digest must equal the one recorded when the run was sealed,
    and the audit log must still hold, at the recorded position, the last
    line the ledger knows of (events may have been appended since, never
    removed or rewritten).
    """
    mine = [a for a in anchors if (a.protocol_id, a.run_id) == (protocol_id, run_id)]
    if not mine:
        return [f"run {protocol_id}/{run_id} is not recorded in the evidence ledger"]
    findings = []
    sealed = [a.evidence_digest for a in mine if a.event == "sealed"] or [mine[0].evidence_digest]
    if digest != sealed[0]:
        findings.append(
            f"evidence digest {digest} differs from {sealed[0]} recorded when the run was "
            "sealed (the evidence was rewritten)"
        )
    last = mine[-1].audit
    lines = [line for line in audit.split(b"\n") if line]
    if len(lines) < last.lines:
        findings.append(
            f"audit.jsonl has {len(lines)} events, the ledger recorded {last.lines} "
            "(events were removed)"
        )
    elif last.lines and line_sha256(lines[last.lines - 1]) != last.sha256:
        findings.append(
            f"audit.jsonl line {last.lines} differs from the one recorded in the ledger "
            "(the audit log was rewritten)"
        )
    return findings
