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
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

from dxval.errors import UsageError
from dxval.evidence import verify_bundle
from dxval.evidence.manifest import MANIFEST_NAME, bundle_files, digest_files, render_manifest
from dxval.evidence.signatures import (
    Meaning,
    SigningKey,
    check_signatures,
    generate_key,
    load_signing_key,
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
    return checks, signed
