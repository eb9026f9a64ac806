"""``dxval report BUNDLE``: re-render the reports of an evidence bundle (e.g. after signing).

Verifies the bundle, writes ``report.pdf`` (PDF/A-3b with the evidence
attached), ``report-submission.pdf`` (PDF/A-2b), ``report.html`` and
``figures/*.svg``, and rewrites ``MANIFEST.sha256``
(:func:`dxval.report.refresh.refresh_reports`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dxval.evidence.signatures.registry import load_registry
from dxval.report.refresh import refresh_reports


def _report(args: argparse.Namespace) -> int:
    signers = None if args.signers is None else load_registry(args.signers)
    result = refresh_reports(args.bundle, templates=args.templates, signers=signers)
    for path in result.written:
        print(f"wrote {path}")
    print(f"updated {result.manifest}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report",
        help="re-render the PDF/HTML reports of an evidence bundle",
        description="Verify an evidence bundle, re-render report.pdf (PDF/A-3b with the "
        "evidence files attached), report-submission.pdf (PDF/A-2b), report.html and the "
        "figures, and rewrite MANIFEST.sha256. Refuses (exit 3) when any evidence file was "
        "altered.",
    )
    parser.add_argument("bundle", metavar="BUNDLE", help="evidence bundle folder")
    parser.add_argument(
        "--templates",
        metavar="DIR",
        default=None,
        help="report templates used over the shipped ones (start from a copy of templates/)",
    )
    parser.add_argument(
        "--signers",
        metavar="FILE",
        type=Path,
        help="signer registry (YAML): the signature block shows each signature's verdict "
        "(TRUSTED, UNKNOWN SIGNER, ROLE NOT ALLOWED, OUTSIDE VALIDITY) and registered name",
    )
    parser.set_defaults(handler=_report)
