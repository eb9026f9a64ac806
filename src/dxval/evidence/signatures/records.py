"""Signature records under ``signatures/`` and their verification.

Each record is one flat JSON object: the signed run (``protocol_id``,
``run_id``), the ``evidence_digest``, the run's ``outcome`` as signed (status,
exit code and criteria verdicts from ``run.json``), the ``required_files`` the
signer saw, the ``meaning``, the signer's printed ``name`` and ``key_id``, the
UTC time ``signed_utc`` and the ``reason`` (21 CFR 11.50), the
``public_key``, and the Ed25519 ``signature`` of all the other fields. A
record is valid when its signature verifies, its key ID matches its key, it
names this run, its evidence digest and outcome are the bundle's current ones
(11.70: the signature stays linked to its record), every required file it
lists is present, its ``signature.applied`` audit event matches it, and no
approval comes from a signer who also signed as author. Every
``signature.applied`` event must have its file, so a removed signature is
reported. With a signer registry the signer's identity is the registry
entry of the key (:mod:`dxval.evidence.signatures.registry`), never the
typed name.
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from dxval.data.hashing import sha256_file
from dxval.errors import IntegrityError
from dxval.evidence.audit import read_events
from dxval.evidence.bundle import AUDIT_NAME, RUN_NAME
from dxval.evidence.manifest import MANIFEST_NAME, bundle_files
from dxval.evidence.signatures.digest import SIGNATURES_FOLDER, evidence_digest
from dxval.evidence.signatures.keys import canonical_json, key_fingerprint, key_id_of
from dxval.evidence.signatures.registry import SignerRegistry, Verdict
from dxval.evidence.verify import Problem, load_record

SIGNATURE_SCHEMA = "dxval-signature/2"
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
    outcome: dict[str, Any] = field(default_factory=dict)
    required_files: tuple[str, ...] = ()

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


def run_outcome(bundle: Path) -> dict[str, Any]:
    """What a signature states about the run: status, exit code, criteria verdicts (run.json).

    Raises
    ------
    IntegrityError
        ``run.json`` is missing or unreadable.
    """
    run = load_record(bundle / RUN_NAME)
    if not isinstance(run, dict):
        raise IntegrityError(f"{bundle}: {RUN_NAME} unreadable; not a dxval bundle")
    return {key: run.get(key) for key in ("status", "exit_code", "criteria")}


def run_identity(bundle: Path) -> tuple[str, str]:
    """(protocol ID, run ID) of a bundle from ``run.json``; IntegrityError when unreadable."""
    try:
        run = load_record(bundle / RUN_NAME)
        return str(run["protocol"]["id"]), str(run["run_id"])
    except (ValueError, KeyError, TypeError) as error:
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
            outcome=dict(document["outcome"]),
            required_files=tuple(str(name) for name in document["required_files"]),
        )
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as error:
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
    outcome: dict[str, Any] | None,
    present: set[str],
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
    if outcome is not None and record.outcome != outcome:
        differing = sorted(key for key in outcome if record.outcome.get(key) != outcome[key])
        findings.append(
            f"signs the run outcome as {record.outcome.get('status')!r}; {RUN_NAME} now differs "
            f"in {', '.join(differing)}"
        )
    absent = [name for name in record.required_files if name not in present]
    if absent:
        noun = "file" if len(absent) == 1 else "files"
        findings.append(f"required {noun} missing since signing: " + ", ".join(absent))
    return findings


def person_of(record: SignatureRecord, signers: SignerRegistry | None) -> str:
    """Who signed, for separation of duties: the registry identity of the key, else the key.

    Without a registry the key ID is the only identity there is: a typed name
    proves nothing (a look-alike "Аda" with a Cyrillic А is another string).
    """
    if signers is not None:
        signer = signers.signers.get(record.key_id)
        if signer is not None:
            return "person:" + signer.identity
    return "key:" + record.key_id


def shown_name(record: SignatureRecord, signers: SignerRegistry | None) -> str:
    """The printed name to show: the registry's for a registered key, else the typed one."""
    signer = None if signers is None else signers.signers.get(record.key_id)
    return record.name if signer is None else signer.name


def _duty_problems(
    records: Sequence[SignatureRecord], signers: SignerRegistry | None
) -> list[Problem]:
    """Separation of duties: no approval by a signer who also signed as author."""
    authors = [r for r in records if r.meaning is Meaning.AUTHORED]
    problems = []
    for record in records:
        if record.meaning is not Meaning.APPROVED:
            continue
        for author in authors:
            same_typed_name = signers is None and same_person(author.name) == same_person(
                record.name
            )
            if person_of(author, signers) == person_of(record, signers) or same_typed_name:
                problems.append(
                    Problem(
                        "signature",
                        record.path,
                        f"approved by {shown_name(record, signers)}, who also signed as author "
                        f"({author.path})",
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


def _registry_problems(
    records: Sequence[SignatureRecord], signers: SignerRegistry | None
) -> list[Problem]:
    """One problem for each signature the registry does not trust."""
    if signers is None:
        return []
    problems = []
    for record in records:
        verdict, _ = signers.judge(record.key_id, record.meaning.value, record.signed_utc)
        if verdict is not Verdict.TRUSTED:
            problems.append(
                Problem(
                    "signature",
                    record.path,
                    f"{verdict.value}: key {key_fingerprint(record.key_id)} signing as "
                    f"{record.meaning.value} (registry {signers.path})",
                )
            )
    return problems


def check_signatures(
    bundle: str | Path, *, signers: SignerRegistry | None = None
) -> tuple[Problem, ...]:
    """Every problem with the signatures of ``bundle`` (empty when all are valid).

    Checks each file under ``signatures/``: a readable record, an Ed25519
    signature that verifies with its public key, a key ID matching that key,
    the signed run matching ``run.json``, the signed evidence digest equal
    to the bundle's current one (else "no longer valid"), a matching
    ``signature.applied`` audit event, a file for each such event, and no
    approval by the author (21 CFR 11.10(e), 11.50, 11.70). With ``signers``
    each signature must also be TRUSTED by the registry (11.100).
    """
    bundle = Path(bundle)
    names = signature_names(bundle)
    if not names:
        return tuple(_audit_links(bundle, {})) if (bundle / AUDIT_NAME).is_file() else ()
    try:
        current: str | None = evidence_digest(bundle)
    except IntegrityError:
        current = None  # reported by verify as an audit or missing-file problem
    try:
        identity: tuple[str, str] | None = run_identity(bundle)
    except IntegrityError:
        identity = None  # reported by verify as a changed or missing run.json
    try:
        outcome: dict[str, Any] | None = run_outcome(bundle)
    except IntegrityError:
        outcome = None
    present = set(bundle_files(bundle)) | (
        {MANIFEST_NAME} if (bundle / MANIFEST_NAME).is_file() else set()
    )
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
            for finding in _record_problems(
                record,
                document,
                current=current,
                identity=identity,
                outcome=outcome,
                present=present,
            )
        ]
    valid_records = [record for record in records.values() if record is not None]
    problems += _duty_problems(valid_records, signers)
    problems += _registry_problems(valid_records, signers)
    problems += _audit_links(bundle, records)
    return tuple(problems)
