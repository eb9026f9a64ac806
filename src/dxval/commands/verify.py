"""``dxval verify BUNDLE``: check an evidence bundle against its manifest and audit chain."""

from __future__ import annotations

import argparse

from dxval.errors import IntegrityError
from dxval.evidence import verify_bundle


def _verify(args: argparse.Namespace) -> int:
    report = verify_bundle(args.bundle)
    if report.intact:
        print(f"{report.bundle}: intact ({report.files_checked} files, audit chain unbroken)")
        return 0
    for problem in report.problems:
        print(problem)
    findings = "; ".join(str(problem) for problem in report.problems)
    raise IntegrityError(f"{report.bundle}: {len(report.problems)} problem(s) found: {findings}")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``verify`` subcommand."""
    parser = subparsers.add_parser(
        "verify",
        help="verify an evidence bundle (exit 3 when anything changed)",
        description="Check every file of an evidence bundle against MANIFEST.sha256 and the "
        "audit log's hash chain; list every changed, missing or extra file. Exit 0 when "
        "intact, 3 otherwise.",
    )
    parser.add_argument("bundle", metavar="BUNDLE", help="the bundle folder")
    parser.set_defaults(handler=_verify)
