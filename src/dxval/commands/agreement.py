"""``dxval agreement FILE.csv``: repeatability and reproducibility of scores (ICC, Bland–Altman)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dxval.commands import confidence_level, finite_number


def _agreement(args: argparse.Namespace) -> int:
    # Imported here: scipy is not needed for `dxval --help`.
    from dxval.analysis.agreement import agreement_report, format_agreement, read_ratings

    ratings = read_ratings(args.file, subject=args.subject, rater=args.rater, score=args.score)
    report = agreement_report(
        ratings, confidence_level=args.confidence_level, threshold=args.threshold
    )
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, allow_nan=False))
    else:
        print(format_agreement(report))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``agreement`` subcommand."""
    parser = subparsers.add_parser(
        "agreement",
        help="repeatability/reproducibility: ICC(1,1), ICC(2,1), ICC(3,1), within-subject SD, "
        "Bland-Altman limits from a CSV of repeated scores",
        description="Read one row per (subject, rater) with a score; every subject must be "
        "scored once by every rater. Prints the intraclass correlations of Shrout & Fleiss "
        "(1979) with F-based confidence intervals, the within-subject SD, Bland-Altman limits "
        "of agreement when there are exactly 2 raters, and, with --threshold, Fleiss' kappa "
        "and the fraction of subjects whose decisions all agree.",
    )
    parser.add_argument("file", type=Path, metavar="FILE.csv", help="CSV with a header row")
    parser.add_argument("--subject", required=True, metavar="COL", help="subject column")
    parser.add_argument(
        "--rater", required=True, metavar="COL", help="rater / device / repeat column"
    )
    parser.add_argument("--score", required=True, metavar="COL", help="score column")
    parser.add_argument(
        "--confidence-level",
        type=confidence_level,
        default=0.95,
        metavar="L",
        help="two-sided confidence level (default 0.95)",
    )
    parser.add_argument(
        "--threshold",
        type=finite_number,
        default=None,
        metavar="T",
        help="operating point for decision agreement (positive when score >= T)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.set_defaults(handler=_agreement)
