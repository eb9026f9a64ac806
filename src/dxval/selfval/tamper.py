"""Tamper test of an evidence bundle: sign it, then change it every way an auditor fears.

21 CFR 11.10(a) asks that validation show the ability to discern invalid or
altered records; 11.10(e) a secure, computer-generated audit trail; 11.50
and 11.70 signatures that show name, time and meaning and stay linked to
their record. The bundle of the end-to-end run is signed by an author and an
approver (throw-away keys with random passphrases), must verify, and must
then fail verification — naming the problem — after each alteration: a byte
flipped in any file, a file added, an audit line edited or deleted, the
evidence changed with the manifest recomputed (the signatures must then be
reported as no longer valid), and a signature record forged. The author may
not approve, and a wrong passphrase must be refused.

The attacks issue 11 closed are shown on the unsigned bundle, where nothing
but dxval's own records can catch them: a file edited and the manifest
regenerated (the digests sealed in the audit log differ), required files
deleted, everything deleted with an empty manifest, a FIFO inside the
bundle, an audit line nested 200,000 deep or longer than 1 MiB, the run's
status relabelled. A writer who recomputes *every* record inside an
unsigned bundle makes it consistent again (the documented limit of an
unsigned bundle); that rewrite must be caught by the anchors outside it:
the evidence root's ledger and the digest printed in the CI log
(``--expect-digest``). Removing a signature with its audit events and
rechaining the log must be caught by the ledger line written when it was
signed, and an edited line of either ledger (evidence, test-set uses) must
break its hash chain.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dxval.errors import IntegrityError, UsageError
from dxval.evidence import verify_bundle
from dxval.evidence.anchor import ANCHOR_LEDGER_NAME, audit_head, record_anchor
from dxval.evidence.audit import GENESIS, read_events
from dxval.evidence.chain import encode
from dxval.evidence.ledger import LEDGER_NAME, TestSetUse, read_ledger, record_test_set_uses
from dxval.evidence.manifest import MANIFEST_NAME, bundle_files, digest_files, render_manifest
from dxval.evidence.signatures import (
    Meaning,
    SigningKey,
    check_signatures,
    evidence_digest,
    generate_key,
    load_signing_key,
    sealed_audit_part,
    sign_bundle,
)
from dxval.selfval.checks import CheckResult

GROUP = "tamper evidence"


def bundle_problems(bundle: Path) -> list[str]:
    """Every problem ``dxval verify`` reports for ``bundle``, signatures included."""
    return [
        str(problem) for problem in (*verify_bundle(bundle).problems, *check_signatures(bundle))
    ]


def _flip(path: Path) -> None:
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0x01
    path.write_bytes(bytes(content))


def _flipper(name: str) -> Callable[[Path], None]:
    def alter(bundle: Path) -> None:
        """Flip one bit in the middle of ``name``."""
        _flip(bundle / name)

    return alter


def _add_file(bundle: Path) -> None:
    (bundle / "notes.txt").write_text("added after sealing\n", encoding="utf-8")


def _rewrite_manifest(bundle: Path) -> None:
    (bundle / MANIFEST_NAME).write_bytes(render_manifest(digest_files(bundle)))


def _edit_audit_line(bundle: Path) -> None:
    lines = (bundle / "audit.jsonl").read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b'"reason":"', b'"reason":"(edited) ', 1)
    (bundle / "audit.jsonl").write_bytes(b"\n".join(lines))


def _delete_audit_line(bundle: Path) -> None:
    lines = (bundle / "audit.jsonl").read_bytes().split(b"\n")
    (bundle / "audit.jsonl").write_bytes(b"\n".join(lines[:1] + lines[2:]))


def _change_evidence_and_manifest(bundle: Path) -> None:
    path = bundle / "criteria.json"
    path.write_bytes(path.read_bytes().replace(b'"verdict": "fail"', b'"verdict": "pass"'))
    _rewrite_manifest(bundle)


def _forge_signature(bundle: Path) -> None:
    path = bundle / "signatures" / "02-approved.json"
    document = json.loads(path.read_bytes())
    document["name"] = "Someone Else"
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    _rewrite_manifest(bundle)


def _edit_then_regenerate_manifest(bundle: Path) -> None:
    path = bundle / "metrics.json"
    path.write_bytes(path.read_bytes().replace(b"0.", b"0.9", 1))
    _rewrite_manifest(bundle)


def _delete_required(bundle: Path) -> None:
    (bundle / "run.json").unlink()
    (bundle / "audit.jsonl").unlink()
    _rewrite_manifest(bundle)


def _empty_folder(bundle: Path) -> None:
    for entry in list(bundle.iterdir()):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    (bundle / MANIFEST_NAME).write_bytes(b"")


def _add_fifo(bundle: Path) -> None:
    os.mkfifo(bundle / "pipe")


def _audit_line(replacement: bytes) -> Callable[[Path], None]:
    def alter(bundle: Path) -> None:
        """Replace audit line 2 with ``replacement`` and regenerate the manifest."""
        lines = (bundle / "audit.jsonl").read_bytes().split(b"\n")
        lines[1] = replacement
        (bundle / "audit.jsonl").write_bytes(b"\n".join(lines))
        _rewrite_manifest(bundle)

    return alter


def _relabel_status(bundle: Path) -> None:
    path = bundle / "run.json"
    run = json.loads(path.read_bytes())
    run["exit_code"] = 0 if run.get("exit_code") else 1
    path.write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")
    _rewrite_manifest(bundle)


def _write_chain(bundle: Path, events: list[dict[str, Any]]) -> None:
    """Write ``events`` as audit.jsonl with sequence numbers and hash links recomputed."""
    previous, lines = GENESIS, []
    for number, event in enumerate(events, start=1):
        line = encode({**event, "previous_sha256": previous, "sequence": number})
        lines.append(line)
        previous = hashlib.sha256(line).hexdigest()
    (bundle / "audit.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))


def _reseal(bundle: Path, events: list[dict[str, Any]]) -> None:
    """What a writer with full access does: every record inside the bundle recomputed."""
    sealed = next(e for e in reversed(events) if e["action"] == "bundle.sealed")
    files = sealed["object"]["files"]
    for name in files:
        if (bundle / name).is_file():
            files[name] = hashlib.sha256((bundle / name).read_bytes()).hexdigest()
    _write_chain(bundle, events)
    run = json.loads((bundle / "run.json").read_bytes())
    part = sealed_audit_part((bundle / "audit.jsonl").read_bytes())
    run["audit_sha256"] = hashlib.sha256(part).hexdigest()
    (bundle / "run.json").write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")
    _rewrite_manifest(bundle)


def _consistent_rewrite(bundle: Path) -> None:
    path = bundle / "metrics.json"
    path.write_bytes(path.read_bytes().replace(b"0.", b"0.9", 1))
    _reseal(bundle, read_events((bundle / "audit.jsonl").read_bytes()))


def _remove_signature_and_events(bundle: Path) -> None:
    for record in (bundle / "signatures").iterdir():
        record.unlink()
    (bundle / "signatures").rmdir()
    events = read_events((bundle / "audit.jsonl").read_bytes())
    _reseal(bundle, [e for e in events if e["action"] != "signature.applied"])


def _edit_first_ledger_line(name: str) -> Callable[[Path], None]:
    def alter(bundle: Path) -> None:
        """Edit line 1 of the evidence root's ``name`` (it has later lines)."""
        path = bundle.parent.parent / name
        lines = path.read_bytes().split(b"\n")
        lines[0] = lines[0].replace(b'"time":"', b'"time":"1', 1)
        path.write_bytes(b"\n".join(lines))

    return alter


def _expect_problem(
    name: str, signed: Path, work: Path, alter: Callable[[Path], None], expected: str
) -> CheckResult:
    copy = work / f"tamper-{secrets.token_hex(4)}"
    shutil.copytree(signed, copy)
    alter(copy)
    problems = bundle_problems(copy)
    shutil.rmtree(copy)
    found = [problem for problem in problems if expected in problem]
    observed = "; ".join(problems[:3]) if problems else "no problem found (verify would exit 0)"
    return CheckResult(GROUP, name, f"verify exits 3 naming '{expected}'", observed, bool(found))


def _refusal(name: str, action: Callable[[], object], expected: str) -> CheckResult:
    try:
        action()
        observed = "accepted"
    except UsageError as error:
        observed = f"refused (exit {int(error.exit_code)}): {error.message}"
    return CheckResult(
        GROUP, name, f"refused (exit 2): ...{expected}...", observed, expected in observed
    )


def _keys(work: Path) -> tuple[SigningKey, SigningKey, Path, str]:
    author_passphrase = secrets.token_urlsafe(16)
    approver_passphrase = secrets.token_urlsafe(16)
    generate_key("Self-Validation Author", work / "author.key", passphrase=author_passphrase)
    generate_key("Self-Validation Approver", work / "approver.key", passphrase=approver_passphrase)
    author = load_signing_key(work / "author.key", passphrase=author_passphrase)
    approver = load_signing_key(work / "approver.key", passphrase=approver_passphrase)
    return author, approver, work / "approver.key", approver_passphrase


def tamper_checks(bundle: Path, work: Path) -> tuple[list[CheckResult], Path]:
    """Sign a copy of ``bundle`` in ``work`` and run every tamper check on copies of it.

    Returns the checks and the signed copy (left intact).
    """
    signed = work / "signed-bundle"
    shutil.copytree(bundle, signed)
    author, approver, approver_file, approver_passphrase = _keys(work)
    # Rendering the report is the report module's to verify; skipping it keeps the check fast.
    sign_bundle(
        signed, author, meaning=Meaning.AUTHORED, reason="tool self-validation", render=None
    )
    checks = [
        _refusal(
            "the author cannot approve",
            lambda: sign_bundle(signed, author, meaning=Meaning.APPROVED, render=None),
            "the approver must differ from the author",
        ),
        _refusal(
            "a wrong passphrase is refused",
            lambda: load_signing_key(approver_file, passphrase=approver_passphrase + "x"),
            "wrong passphrase",
        ),
    ]
    sign_bundle(
        signed, approver, meaning=Meaning.APPROVED, reason="tool self-validation", render=None
    )
    problems = bundle_problems(signed)
    checks.append(
        CheckResult(
            GROUP,
            "a bundle signed by author and approver verifies",
            "intact, 2 valid signatures",
            "; ".join(problems) or "intact, 2 valid signatures",
            not problems,
        )
    )
    for name in [MANIFEST_NAME, *bundle_files(signed)]:
        checks.append(
            _expect_problem(f"one byte changed in {name}", signed, work, _flipper(name), name)
        )
    scenarios: list[tuple[str, Callable[[Path], None], str]] = [
        ("a file added", _add_file, "extra: notes.txt"),
        ("an audit line edited", _edit_audit_line, "chain broken"),
        ("an audit line deleted", _delete_audit_line, "chain broken"),
        (
            "evidence changed and MANIFEST.sha256 recomputed",
            _change_evidence_and_manifest,
            "no longer valid",
        ),
        (
            "a signature record forged and MANIFEST.sha256 recomputed",
            _forge_signature,
            "does not match its statement",
        ),
    ]
    checks += [
        _expect_problem(name, signed, work, alter, expected) for name, alter, expected in scenarios
    ]
    checks += unsigned_checks(bundle, work, author)
    return checks, signed


def _anchored_copy(bundle: Path, work: Path) -> Path:
    """``bundle`` and its evidence root's ledgers copied to a new evidence root in ``work``."""
    root = work / f"anchored-{secrets.token_hex(4)}" / "evidence"
    copy = root / bundle.parent.name / bundle.name
    shutil.copytree(bundle, copy)
    for name in (ANCHOR_LEDGER_NAME, LEDGER_NAME):
        if (bundle.parent.parent / name).is_file():
            shutil.copy2(bundle.parent.parent / name, root / name)
    return copy


def _later_ledger_lines(root: Path) -> None:
    """Another run sealed and recorded after this one: every ledger has a line after line 1."""
    record_anchor(
        root,
        event="sealed",
        protocol_id="OTHER",
        run_id="later",
        evidence_digest="0" * 64,
        audit=audit_head(b""),
    )
    record_test_set_uses(
        root,
        [TestSetUse("later", "0" * 64, 1)],
        protocol_id="OTHER",
        run_id="later",
        model_sha256=None,
        predictions_sha256=None,
    )


def _check_anchored(
    name: str,
    bundle: Path,
    work: Path,
    alter: Callable[[Path], None],
    expected: str,
    *,
    expect_digest: bool = False,
    sign_with: SigningKey | None = None,
) -> CheckResult:
    copy = _anchored_copy(bundle, work)
    original_digest = evidence_digest(copy)
    _later_ledger_lines(copy.parent.parent)
    if sign_with is not None:  # signed under the root: the ledger records the new audit head
        sign_bundle(copy, sign_with, meaning=Meaning.AUTHORED, reason="tool self-validation")
    alter(copy)
    report = verify_bundle(
        copy,
        expect_digest=original_digest if expect_digest else None,
        ledger=not expect_digest,
    )
    problems = [str(problem) for problem in report.problems]
    shutil.rmtree(copy.parent.parent.parent)
    found = [problem for problem in problems if expected in problem]
    observed = "; ".join(problems[:3]) if problems else "no problem found (verify would exit 0)"
    return CheckResult(GROUP, name, f"verify exits 3 naming '{expected}'", observed, bool(found))


def _test_set_ledger_check(bundle: Path, work: Path) -> CheckResult:
    copy = _anchored_copy(bundle, work)
    root = copy.parent.parent
    _later_ledger_lines(root)
    _edit_first_ledger_line(LEDGER_NAME)(copy)
    try:
        read_ledger(root)
        observed = "accepted (the next run would count its uses from it)"
    except IntegrityError as error:
        observed = f"refused (exit {int(error.exit_code)}): {error.message}"
    shutil.rmtree(root.parent)
    expected = "line 2: chain broken"  # line 2 holds the digest of the edited line 1
    return CheckResult(
        GROUP,
        "a test-set ledger line edited",
        f"the next run refuses the ledger (exit 3): ...{expected}...",
        observed,
        expected in observed and "exit 3" in observed,
    )


def unsigned_checks(bundle: Path, work: Path, author: SigningKey) -> list[CheckResult]:
    """The attack classes of issue 11 on copies of the unsigned ``bundle`` and its anchors.

    ``bundle`` must sit in an evidence root (``<root>/<protocol>/<run>``)
    whose ``evidence-ledger.jsonl`` recorded its sealing.
    """
    standalone: list[tuple[str, Callable[[Path], None], str]] = [
        (
            "unsigned: metrics.json edited and MANIFEST.sha256 regenerated",
            _edit_then_regenerate_manifest,
            "the manifest was regenerated",
        ),
        (
            "unsigned: run.json and audit.jsonl deleted, MANIFEST.sha256 regenerated",
            _delete_required,
            "missing: run.json (required in every bundle)",
        ),
        (
            "unsigned: every file deleted, MANIFEST.sha256 left empty",
            _empty_folder,
            "missing: protocol.yaml (required in every bundle)",
        ),
        ("unsigned: a FIFO placed in the bundle", _add_fifo, "irregular: pipe"),
        (
            "unsigned: an audit line nested 200,000 deep",
            _audit_line(b"[" * 200_000 + b"]" * 200_000),
            "audit.jsonl line 2: not a valid JSON event",
        ),
        (
            "unsigned: an audit line longer than 1 MiB",
            _audit_line(b'"' + b"x" * (2 << 20) + b'"'),
            "audit.jsonl line 2: not a valid JSON event",
        ),
        (
            "unsigned: the run's exit code relabelled in run.json",
            _relabel_status,
            "sealed in audit.jsonl",
        ),
    ]
    checks = [
        _expect_problem(name, bundle, work, alter, expected) for name, alter, expected in standalone
    ]
    checks += [
        _check_anchored(
            "unsigned: every record rewritten consistently, caught by the evidence ledger",
            bundle,
            work,
            _consistent_rewrite,
            "recorded when the run was sealed (the evidence was rewritten)",
        ),
        _check_anchored(
            "unsigned: every record rewritten consistently, caught by --expect-digest",
            bundle,
            work,
            _consistent_rewrite,
            "evidence digest (is ",
            expect_digest=True,
        ),
        _check_anchored(
            "a signature and its audit events removed, log rechained, caught by the ledger",
            bundle,
            work,
            _remove_signature_and_events,
            "(events were removed)",
            sign_with=author,
        ),
        _check_anchored(
            "an evidence-ledger line edited",
            bundle,
            work,
            _edit_first_ledger_line(ANCHOR_LEDGER_NAME),
            "line 2: chain broken",
        ),
        _test_set_ledger_check(bundle, work),
    ]
    return checks
