"""``dxval sign BUNDLE --meaning authored|reviewed|approved --key KEY``: sign an evidence bundle.

Signs the bundle's evidence digest with the key (Ed25519), stores the
signature under ``signatures/`` with printed name, UTC time and meaning,
appends an audit event, re-renders the report and rewrites the manifest.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dxval.evidence.signatures import (
    PASSPHRASE_VARIABLE,
    Meaning,
    key_fingerprint,
    load_signing_key,
    read_passphrase,
    sign_bundle,
)
from dxval.evidence.signatures.registry import load_registry


def _sign(args: argparse.Namespace) -> int:
    passphrase = read_passphrase(confirm=False, prompt=f"Passphrase for {args.key}: ")
    key = load_signing_key(args.key, passphrase=passphrase)
    signers = None if args.signers is None else load_registry(args.signers)
    from dxval.report import render_bundle_reports  # WeasyPrint: imported when signing only

    result = sign_bundle(
        args.bundle,
        key,
        meaning=Meaning(args.meaning),
        reason=args.reason,
        render=render_bundle_reports,
        signers=signers,
    )
    record = result.record
    print(
        f"{args.bundle}: signed as {record.meaning.value} by {record.name} "
        f"(key {key_fingerprint(record.key_id)}) at {record.signed_utc}"
    )
    print(f"signature: {result.file}")
    print(f"evidence digest: {record.evidence_digest}")
    if not result.reports_rendered:
        print("report: not re-rendered (this build has no report renderer)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sign`` subcommand."""
    parser = subparsers.add_parser(
        "sign",
        help="sign an evidence bundle (authored, reviewed or approved)",
        description="Sign the evidence digest of a bundle that verifies, with a key from "
        "dxval keygen. The signature records the printed name, UTC date and time and meaning "
        "(21 CFR 11.50) and is linked to the evidence it signs (11.70): any later change to "
        "the evidence makes verify report it as no longer valid. The approver must differ from "
        f"the author. The passphrase is prompted for, or read from ${PASSPHRASE_VARIABLE}.",
    )
    parser.add_argument("bundle", metavar="BUNDLE", help="the bundle folder")
    parser.add_argument(
        "--meaning",
        required=True,
        choices=[meaning.value for meaning in Meaning],
        help="what the signature means",
    )
    parser.add_argument("--key", required=True, metavar="KEY", help="key file from dxval keygen")
    parser.add_argument("--reason", default=None, help="optional reason or comment, recorded")
    parser.add_argument(
        "--signers",
        metavar="FILE",
        type=Path,
        help="signer registry (YAML): refuse to sign unless it trusts this key for this meaning "
        "today, and compare author and approver by registry identity",
    )
    parser.set_defaults(handler=_sign)
