"""``dxval verify BUNDLE``: check an evidence bundle against every record of its digests.

Prints what was proved: the files and audit chain, the run's status, the
evidence digest, the external anchors checked (ledger, ``--expect-digest``)
and each signer with key fingerprint, judged against ``--signers`` when given.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from dxval.errors import IntegrityError
from dxval.stats.wording import plural

if TYPE_CHECKING:
    from dxval.evidence.signatures.registry import SignerRegistry
    from dxval.evidence.verify import VerifyReport

UNSIGNED = "unsigned: integrity only against accidental change"


def _run_line(report: VerifyReport) -> str:
    if report.status == "complete":
        return f"run: complete (exit {report.exit_code})"
    if report.status == "incomplete":
        return (
            f"run: INCOMPLETE (exit {report.exit_code}): the run did not finish its cases; "
            "the evidence records an incomplete run"
        )
    return f"run: status {report.status!r} (exit {report.exit_code})"


def signer_lines(bundle: Path, signers: SignerRegistry | None) -> list[str]:
    """One line per signature: meaning, name, key fingerprint, identity verdict."""
    from dxval.evidence.signatures import key_fingerprint, read_signatures

    records = read_signatures(bundle)
    if not records:
        return [UNSIGNED]
    lines = []
    for record in records:
        fingerprint = key_fingerprint(record.key_id)
        if signers is None:
            lines.append(
                f"signature {record.path}: {record.meaning.value} by {record.name!r} "
                f"(name as typed at keygen), key {fingerprint}, {record.signed_utc}: "
                "identity not checked (pass --signers)"
            )
            continue
        verdict, signer = signers.judge(record.key_id, record.meaning.value, record.signed_utc)
        name = signer.name if signer is not None else f"unregistered key (typed {record.name!r})"
        lines.append(
            f"signature {record.path}: {record.meaning.value} by {name}, key {fingerprint}, "
            f"{record.signed_utc}: {verdict.value}"
        )
    return lines


def _verify(args: argparse.Namespace) -> int:
    from dxval.evidence import verify_bundle
    from dxval.evidence.signatures.registry import load_registry

    signers = None if args.signers is None else load_registry(args.signers)
    report = verify_bundle(args.bundle, expect_digest=args.expect_digest, signers=signers)
    lines = signer_lines(report.bundle, signers)
    if report.intact:
        print(f"{report.bundle}: intact ({report.files_checked} files, audit chain unbroken)")
        print(_run_line(report))
        print(f"evidence digest: {report.evidence_digest}")
        if report.anchors:
            print("anchored: matches the " + " and the ".join(report.anchors))
        else:
            print(
                "anchored: no (no evidence ledger beside the bundle, no --expect-digest): "
                "a consistent rewrite of every record would not be detected"
            )
        for line in lines:
            print(line)
        return 0
    for problem in report.problems:
        print(problem)
    for line in lines:
        print(line)
    findings = "; ".join(str(problem) for problem in report.problems)
    raise IntegrityError(
        f"{report.bundle}: {plural(len(report.problems), 'problem')} found: {findings}"
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``verify`` subcommand."""
    parser = subparsers.add_parser(
        "verify",
        help="verify an evidence bundle (exit 3 when anything changed)",
        description="Check every file of an evidence bundle against MANIFEST.sha256, the "
        "digests sealed in the audit log and run.json, the audit log's hash chain, the files "
        "every bundle must have, the signatures, and (when present) the evidence root's "
        "ledger; list every changed, missing, extra or irregular file. Unsigned bundles are "
        "protected against accidental change only, unless anchored by the ledger or "
        "--expect-digest. Exit 0 when intact, 3 otherwise.",
    )
    parser.add_argument("bundle", metavar="BUNDLE", help="the bundle folder")
    parser.add_argument(
        "--signers",
        metavar="FILE",
        type=Path,
        help="signer registry (YAML); every signature must be TRUSTED by it, else exit 3",
    )
    parser.add_argument(
        "--expect-digest",
        metavar="HEX",
        help="evidence digest recorded outside the bundle (validate's output); exit 3 if it "
        "differs",
    )
    parser.set_defaults(handler=_verify)
