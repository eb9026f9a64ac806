"""Signature records under ``signatures/`` and their verification.

Each record is one flat JSON object: the signed run (``protocol_id``,
``run_id``), the ``evidence_digest``, the ``meaning``, the signer's printed
``name`` and ``key_id``, the UTC time ``signed_utc`` and the ``reason``
(21 CFR 11.50), the ``public_key``, and the Ed25519 ``signature`` of all the
other fields. A record is valid
when its signature verifies, its key ID matches its key, it names this run,
its evidence digest is the bundle's current one (11.70: the signature stays
linked to its record), its ``signature.applied`` audit event matches it, and
no approval comes from a signer who also signed as author.
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from dxval.data.hashing import sha256_file
from dxval.errors import IntegrityError
from dxval.evidence.audit import read_events
from dxval.evidence.bundle import AUDIT_NAME, RUN_NAME
from dxval.evidence.manifest import bundle_files
from dxval.evidence.signatures.digest import SIGNATURES_FOLDER, evidence_digest
from dxval.evidence.signatures.keys import canonical_json, key_id_of
from dxval.evidence.verify import Problem

SIGNATURE_SCHEMA = "dxval-signature/1"
SIGNED_ACTION = "signature.applied"
_SIGNATURE_NAME = re.compile(r"^signatures/(\d{2,})-(authored|reviewed|approved)\.json$")


class Meaning(str, Enum):
    """The meaning of a signature (21 CFR 11.50(a)(3))."""

    AUTHORED = "authored"
    REVIEWED = "reviewed"
    APPROVED = "approved"


@dataclass(frozen=True, slots=True)
class SignatureRecord:
    """One signature of a bundle, as stored under ``signatures/``."""

    path: str
    name: str
    key_id: str
    meaning: Meaning
    signed_utc: str
    reason: str | None
    evidence_digest: str
    protocol_id: str
    run_id: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (for reports and ``dxval trace``)."""
        return {
            "path": self.path,
            "name": self.name,
            "key_id": self.key_id,
            "meaning": self.meaning.value,
            "signed_utc": self.signed_utc,
            "reason": self.reason,
            "evidence_digest": self.evidence_digest,
            "protocol_id": self.protocol_id,
            "run_id": self.run_id,
        }


def same_person(name: str) -> str:
    """Printed name normalised for the separation-of-duties check (case, spacing, accents)."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def statement_message(statement: dict[str, Any]) -> bytes:
    """The bytes a signature signs: the schema name, a newline, the canonical statement.

    The statement is the whole record but its ``signature`` field, so every
    field a reader shows (name, meaning, time, reason, digest) is signed.
    """
    return SIGNATURE_SCHEMA.encode() + b"\n" + canonical_json(statement)


def run_identity(bundle: Path) -> tuple[str, str]:
    """(protocol ID, run ID) of a bundle from ``run.json``; IntegrityError when unreadable."""
    try:
        run = json.loads((bundle / RUN_NAME).read_bytes())
        return str(run["protocol"]["id"]), str(run["run_id"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise IntegrityError(f"{bundle}: {RUN_NAME} unreadable; not a dxval bundle") from error


class SignatureFileError(Exception):
    """A signature file that cannot be parsed (reported as a problem, never raised to users)."""


def parse_signature(bundle: Path, name: str) -> tuple[SignatureRecord, dict[str, Any]]:
    """The record and raw document of ``signatures/...``; SignatureFileError when malformed."""
    try:
        document = json.loads((bundle / name).read_bytes())
        record = SignatureRecord(
            path=name,
            name=str(document["name"]),
            key_id=str(document["key_id"]),
            meaning=Meaning(document["meaning"]),
            signed_utc=str(document["signed_utc"]),
            reason=None if document["reason"] is None else str(document["reason"]),
            evidence_digest=str(document["evidence_digest"]),
            protocol_id=str(document["protocol_id"]),
            run_id=str(document["run_id"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SignatureFileError(f"not a {SIGNATURE_SCHEMA} record ({error})") from error
    if document.get("schema") != SIGNATURE_SCHEMA or document.get("algorithm") != "Ed25519":
        raise SignatureFileError(f"expected schema {SIGNATURE_SCHEMA} with algorithm Ed25519")
    return record, document


def signature_names(bundle: Path) -> list[str]:
    """Every file under ``signatures/`` as a sorted relative path."""
    return [name for name in bundle_files(bundle) if name.startswith(SIGNATURES_FOLDER + "/")]


def read_signatures(bundle: str | Path) -> tuple[SignatureRecord, ...]:
    """The signatures of a bundle in signing order (unparsable files are left out).

    Use :func:`check_signatures` to know whether each is valid.
    """
    records = []
    for name in signature_names(Path(bundle)):
        try:
            records.append(parse_signature(Path(bundle), name)[0])
        except SignatureFileError:
            continue
    return tuple(records)


def _cryptographic_problem(record: SignatureRecord, document: dict[str, Any]) -> str | None:
    try:
        public_bytes = base64.b64decode(document["public_key"], validate=True)
        signature = base64.b64decode(document["signature"], validate=True)
        public_key = Ed25519PublicKey.from_public_bytes(public_bytes)
    except (KeyError, TypeError, ValueError):
        return "public key or signature not readable"
    if key_id_of(public_bytes) != record.key_id:
        return "the public key does not match the signer's key ID"
    try:
        statement = {key: value for key, value in document.items() if key != "signature"}
        public_key.verify(signature, statement_message(statement))
    except InvalidSignature:
        return "the Ed25519 signature does not match its statement (the record was altered)"
    return None


def _record_problems(
    record: SignatureRecord,
    document: dict[str, Any],
    *,
    current: str | None,
    identity: tuple[str, str] | None,
) -> list[str]:
    findings = []
    cryptographic = _cryptographic_problem(record, document)
    if cryptographic is not None:
        findings.append(cryptographic)
    if _SIGNATURE_NAME.match(record.path) is None or not record.path.endswith(
        f"-{record.meaning.value}.json"
    ):
        findings.append("file name does not state its meaning as NN-<meaning>.json")
    if identity is not None and (record.protocol_id, record.run_id) != identity:
        findings.append(
            f"signed run {record.protocol_id}/{record.run_id}, this bundle is "
            f"{identity[0]}/{identity[1]}"
        )
    if current is not None and record.evidence_digest != current:
        findings.append(
            f"no longer valid: it signs evidence digest {record.evidence_digest}, the evidence "
            f"now has digest {current} (changed after signing)"
        )
    return findings


def _duty_problems(records: Sequence[SignatureRecord]) -> list[Problem]:
    """Separation of duties: no approval by a signer who also signed as author."""
    authors = [r for r in records if r.meaning is Meaning.AUTHORED]
    problems = []
    for record in records:
        if record.meaning is not Meaning.APPROVED:
            continue
        for author in authors:
            if author.key_id == record.key_id or same_person(author.name) == same_person(
                record.name
            ):
                problems.append(
                    Problem(
                        "signature",
                        record.path,
                        f"approved by {record.name}, who also signed as author ({author.path})",
                    )
                )
    return problems


def _audit_links(bundle: Path, records: dict[str, SignatureRecord | None]) -> list[Problem]:
    """Each signature matches its ``signature.applied`` audit event, and each event its file."""
    try:
        events = read_events((bundle / AUDIT_NAME).read_bytes())
    except OSError:
        events = []
    logged: dict[str, dict[str, Any]] = {}
    for event in events:
        target = event.get("object")
        if event.get("action") == SIGNED_ACTION and isinstance(target, dict):
            logged[str(target.get("file"))] = target
    problems = [
        Problem("signature", name, f"no {SIGNED_ACTION} event in {AUDIT_NAME}")
        for name in sorted(records.keys() - logged.keys())
    ]
    problems += [
        Problem("signature", name, f"recorded in {AUDIT_NAME} but the file is missing")
        for name in sorted(logged.keys() - records.keys())
    ]
    for name in sorted(records.keys() & logged.keys()):
        record, event = records[name], logged[name]
        expected = {"sha256": sha256_file(bundle / name)}
        if record is not None:
            expected |= {
                "meaning": record.meaning.value,
                "name": record.name,
                "key_id": record.key_id,
                "evidence_digest": record.evidence_digest,
            }
        differing = [field for field, value in expected.items() if event.get(field) != value]
        if differing:
            problems.append(
                Problem(
                    "signature",
                    name,
                    f"differs from its {SIGNED_ACTION} event in {AUDIT_NAME}: "
                    + ", ".join(differing),
                )
            )
    return problems


def check_signatures(bundle: str | Path) -> tuple[Problem, ...]:
    """Every problem with the signatures of ``bundle`` (empty when all are valid).

    Checks each file under ``signatures/``: a readable record, an Ed25519
    signature that verifies with its public key, a key ID matching that key,
    the signed run matching ``run.json``, the signed evidence digest equal
    to the bundle's current one (else "no longer valid"), a matching
    ``signature.applied`` audit event, and no approval by the author
    (21 CFR 11.10(e), 11.50, 11.70).
    """
    bundle = Path(bundle)
    names = signature_names(bundle)
    if not names:
        return ()
    try:
        current: str | None = evidence_digest(bundle)
    except IntegrityError:
        current = None  # reported by verify as an audit or missing-file problem
    try:
        identity: tuple[str, str] | None = run_identity(bundle)
    except IntegrityError:
        identity = None  # reported by verify as a changed or missing run.json
    problems: list[Problem] = []
    records: dict[str, SignatureRecord | None] = {}
    for name in names:
        try:
            record, document = parse_signature(bundle, name)
        except SignatureFileError as error:
            problems.append(Problem("signature", name, str(error)))
            records[name] = None
            continue
        records[name] = record
        problems += [
            Problem("signature", name, finding)
            for finding in _record_problems(record, document, current=current, identity=identity)
        ]
    problems += _duty_problems([record for record in records.values() if record is not None])
    problems += _audit_links(bundle, records)
    return tuple(problems)
