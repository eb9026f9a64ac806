"""``dxval report BUNDLE``: re-render the reports of an evidence bundle (e.g. after signing).

Verifies the bundle, writes ``report.pdf`` (PDF/A-3b with the evidence
attached), ``report-submission.pdf`` (PDF/A-2b), ``report.html`` and
``figures/*.svg``, and rewrites ``MANIFEST.sha256``
(:func:`dxval.report.refresh.refresh_reports`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

#: Renders shorter than this print no progress (seconds since the command started).
PROGRESS_AFTER = 2.0


class _SlowProgress:
    """Progress lines on stderr, once the command has run for ``after`` seconds."""

    def __init__(self, after: float = PROGRESS_AFTER) -> None:
        self.started = time.monotonic()
        self.after = after

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def __call__(self, message: str) -> None:
        if self.elapsed() >= self.after:
            print(f"dxval report: {message} ({self.elapsed():.1f} s)", file=sys.stderr, flush=True)


def _report(args: argparse.Namespace) -> int:
    progress = _SlowProgress()
    from dxval.report.typesetter import Typesetter

    # forked first: the child imports WeasyPrint while this process imports the report code,
    # verifies the bundle and builds the views (issue 18); ended at once if they fail
    with Typesetter(progress) as typesetter:
        from dxval.evidence.signatures.registry import load_registry
        from dxval.report.refresh import refresh_reports

        signers = None if args.signers is None else load_registry(args.signers)
        result = refresh_reports(
            args.bundle,
            templates=args.templates,
            signers=signers,
            progress=progress,
            typesetter=typesetter,
        )
    progress(f"rendered {args.bundle}")
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
