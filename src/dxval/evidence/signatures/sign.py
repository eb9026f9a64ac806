"""``dxval sign``: sign a bundle's evidence digest, log it, re-render, rewrite the manifest."""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from dxval.data.hashing import sha256_bytes
from dxval.errors import IntegrityError, UsageError
from dxval.evidence.anchor import ANCHOR_LEDGER_NAME, audit_head, read_anchors, record_anchor
from dxval.evidence.audit import AuditLog, current_host, current_user, utc_now
from dxval.evidence.bundle import AUDIT_NAME
from dxval.evidence.format import RUN_NAME, required_files
from dxval.evidence.manifest import MANIFEST_NAME, digest_files, render_manifest
from dxval.evidence.signatures.digest import SIGNATURES_FOLDER, evidence_digest
from dxval.evidence.signatures.keys import SigningKey, key_fingerprint
from dxval.evidence.signatures.records import (
    SIGNATURE_SCHEMA,
    SIGNED_ACTION,
    Meaning,
    SignatureRecord,
    parse_signature,
    person_of,
    read_signatures,
    run_identity,
    run_outcome,
    same_person,
    signature_names,
    statement_message,
)
from dxval.evidence.signatures.registry import SignerRegistry, Verdict
from dxval.evidence.verify import load_record, verify_bundle


@dataclass(frozen=True, slots=True)
class SignResult:
    """What :func:`sign_bundle` wrote."""

    record: SignatureRecord
    file: Path
    reports_rendered: bool


def _check_duties(
    records: Iterable[SignatureRecord],
    key: SigningKey,
    meaning: Meaning,
    signers: SignerRegistry | None,
) -> None:
    """Refuse an approval by the author (or an authorship by the approver), and duplicates.

    With a registry, people are compared by the registry entry of their key;
    without one, by key and (as a safeguard) by typed name.
    """
    opposite = {Meaning.APPROVED: Meaning.AUTHORED, Meaning.AUTHORED: Meaning.APPROVED}
    mine = person_of(_as_record(key, meaning), signers)
    for record in records:
        same = person_of(record, signers) == mine or (
            signers is None and same_person(record.name) == same_person(key.name)
        )
        if same and record.meaning is meaning:
            raise UsageError(
                f"{key.name} already signed this bundle as {meaning.value} ({record.path})"
            )
        if same and opposite.get(meaning) is record.meaning:
            raise UsageError(
                f"--meaning {meaning.value}: refused; {key.name} signed this bundle as "
                f"{record.meaning.value} ({record.path}, {record.signed_utc}); the approver "
                "must differ from the author"
            )


def _as_record(key: SigningKey, meaning: Meaning) -> SignatureRecord:
    return SignatureRecord("", key.name, key.key_id, meaning, "", None, "", "", "")


def _refuse_untrusted(key: SigningKey, meaning: Meaning, signers: SignerRegistry | None) -> None:
    if signers is None:
        return
    verdict, _ = signers.judge(key.key_id, meaning.value, utc_now())
    if verdict is not Verdict.TRUSTED:
        raise UsageError(
            f"--signers {signers.path}: {verdict.value} for key {key_fingerprint(key.key_id)} "
            f"signing as {meaning.value}; signature refused"
        )


def _anchor_signature(bundle: Path, check_only: bool) -> None:
    """Record the new audit head in the evidence root's ledger, when the root has one."""
    root = bundle.resolve().parent.parent
    if not (root / ANCHOR_LEDGER_NAME).is_file():
        return
    if check_only:
        read_anchors(root)  # refuse before signing when the ledger was altered
        return
    protocol_id, run_id = run_identity(bundle)
    record_anchor(
        root,
        event="signed",
        protocol_id=protocol_id,
        run_id=run_id,
        evidence_digest=evidence_digest(bundle),
        audit=audit_head((bundle / AUDIT_NAME).read_bytes()),
    )


def _replace_atomically(path: Path, content: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


def _refuse_if_not_intact(bundle: Path, signers: SignerRegistry | None) -> None:
    problems = list(verify_bundle(bundle, signers=signers).problems)
    if problems:
        findings = "; ".join(str(problem) for problem in problems[:5])
        raise IntegrityError(
            f"{bundle}: refusing to sign a bundle that does not verify: {findings}"
        )


def sign_bundle(
    bundle: str | Path,
    key: SigningKey,
    *,
    meaning: Meaning,
    reason: str | None = None,
    user: str | None = None,
    host: str | None = None,
    render: Callable[[Path], object] | None = None,
    signers: SignerRegistry | None = None,
) -> SignResult:
    """Sign ``bundle``'s evidence digest with ``key`` (``dxval sign``).

    Writes ``signatures/NN-<meaning>.json`` (printed name, key ID, UTC time,
    meaning, reason, evidence digest, Ed25519 signature), appends a
    ``signature.applied`` event to ``audit.jsonl``, re-renders the report
    through the ``render(bundle)`` callback when one is given (the CLI passes
    :func:`dxval.report.render_bundle_reports`, so the signature block lists
    the signatures; evidence never imports the renderer), and rewrites
    ``MANIFEST.sha256``. ``user``/``host`` override the audit event's
    (default: the current login and machine). The statement signed covers
    the evidence digest, the run's outcome (status, exit code, criteria
    verdicts) and the list of required files. When the bundle sits under an
    evidence root with an evidence ledger, the new audit head is recorded
    there. With ``signers``, a key the registry does not trust for
    ``meaning`` today is refused, and separation of duties compares registry
    identities.

    Raises
    ------
    IntegrityError
        The bundle does not verify (changed, missing or extra files, broken
        audit chain, invalid signature): nothing is signed.
    UsageError
        The signer already signed with this meaning, or would approve what
        they authored (or author what they approved).
    """
    bundle = Path(bundle)
    if not bundle.is_dir():
        raise UsageError(f"{bundle}: not a bundle folder")
    _refuse_if_not_intact(bundle, signers)
    _refuse_untrusted(key, meaning, signers)
    _anchor_signature(bundle, check_only=True)
    existing = read_signatures(bundle)
    _check_duties(existing, key, meaning, signers)
    protocol_id, run_id = run_identity(bundle)
    statement = {
        "schema": SIGNATURE_SCHEMA,
        "algorithm": "Ed25519",
        "protocol_id": protocol_id,
        "run_id": run_id,
        "evidence_digest": evidence_digest(bundle),
        "outcome": run_outcome(bundle),
        "required_files": list(required_files(load_record(bundle / RUN_NAME))),
        "meaning": meaning.value,
        "name": key.name,
        "key_id": key.key_id,
        "signed_utc": utc_now(),
        "reason": reason,
        "public_key": base64.b64encode(key.public_bytes).decode(),
    }
    signature = key.private_key.sign(statement_message(statement))
    document = {**statement, "signature": base64.b64encode(signature).decode()}
    folder = bundle / SIGNATURES_FOLDER
    folder.mkdir(exist_ok=True)
    relative = f"{SIGNATURES_FOLDER}/{len(signature_names(bundle)) + 1:02d}-{meaning.value}.json"
    content = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()
    audit_path = bundle / AUDIT_NAME
    original_audit = audit_path.read_bytes()
    audit = AuditLog(
        user=user or current_user(),
        host=host or current_host(),
        lines=[line for line in original_audit.split(b"\n") if line],
    )
    audit.record(
        SIGNED_ACTION,
        {
            "file": relative,
            "sha256": sha256_bytes(content),
            "meaning": meaning.value,
            "name": key.name,
            "key_id": key.key_id,
            "evidence_digest": statement["evidence_digest"],
        },
        reason or f"electronic signature: {meaning.value}",
    )
    try:
        _replace_atomically(bundle / relative, content)
        _replace_atomically(audit_path, audit.to_bytes())
        rendered = False
        if render:
            render(bundle)
            rendered = True
    except BaseException:
        # Leave the bundle as it was: a half-applied signature would fail verification.
        (bundle / relative).unlink(missing_ok=True)
        _replace_atomically(audit_path, original_audit)
        raise
    _replace_atomically(bundle / MANIFEST_NAME, render_manifest(digest_files(bundle)))
    _anchor_signature(bundle, check_only=False)
    record, _ = parse_signature(bundle, relative)
    return SignResult(record, bundle / relative, rendered)
