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

Lines are JSON objects hash-chained like the audit log, read and appended
by :mod:`dxval.evidence.chain` under the evidence root's lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dxval.evidence.audit import GENESIS, line_sha256, utc_now
from dxval.evidence.chain import append_chain, read_chain

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


def read_anchors(root: str | Path) -> tuple[Anchor, ...] | None:
    """Every line of the evidence ledger under ``root``; ``None`` when there is no ledger.

    Raises
    ------
    IntegrityError
        A line is not a ledger entry or the hash chain is broken.
    """
    anchors = read_chain(Path(root) / ANCHOR_LEDGER_NAME, _anchor)
    return None if anchors is None else tuple(anchors)


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
    event_fields = {
        "schema": ANCHOR_SCHEMA,
        "time": utc_now(),
        "event": event,
        "protocol_id": protocol_id,
        "run_id": run_id,
        "evidence_digest": evidence_digest,
        "audit_lines": audit.lines,
        "audit_head_sha256": audit.sha256,
    }
    (anchor,) = append_chain(
        Path(root) / ANCHOR_LEDGER_NAME, [event_fields], _anchor, what="evidence ledger"
    )
    return anchor


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
