"""``dxval detection``: lesion-level sensitivity, FPs per image, FROC and AFROC from CSVs."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dxval.analysis.detection import DetectionReport
    from dxval.stats.detection import Localisation


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"got {text!r}, expected a positive number")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``detection`` subcommand."""
    from dxval.commands import add_case_bootstrap_arguments, finite_number

    parser = subparsers.add_parser(
        "detection",
        help="lesion-level sensitivity, FPs per image, FROC, AFROC/wAFROC with bootstrap CIs",
        description="Match model marks to truth lesions (greedy by decreasing score; one mark "
        "matches at most one lesion) and report lesion-level sensitivity, false positives per "
        "image (all and normal images), the FROC curve and its mean sensitivity at 1/8..8 FPs "
        "per image, AFROC and wAFROC figures of merit and case-level sensitivity/specificity "
        "(highest mark score), with bootstrap CIs over cases stratified by truth. A truth case "
        "without marks counts as missed.",
    )
    parser.add_argument("truth", type=Path, metavar="TRUTH.csv")
    parser.add_argument("marks", type=Path, metavar="MARKS.csv")
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--iou", type=_positive, metavar="T", help="localised when IoU >= T (default 0.5)"
    )
    group.add_argument(
        "--distance", type=_positive, metavar="MM",
        help="localised when the centres are at most MM apart (needs spacing_x/spacing_y)",
    )  # fmt: skip
    group.add_argument(
        "--inside", action="store_true", help="localised when the mark's centre is inside the box"
    )
    parser.add_argument(
        "--threshold", type=finite_number, metavar="T",
        help="operating point: marks with score >= T are the output (default: every mark)",
    )  # fmt: skip
    add_case_bootstrap_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.set_defaults(handler=run)


def _localisation(args: argparse.Namespace) -> Localisation:
    from dxval.stats.detection import Criterion, Localisation

    if args.distance is not None:
        return Localisation(Criterion.DISTANCE, args.distance)
    if args.inside:
        return Localisation(Criterion.INSIDE)
    return Localisation(Criterion.IOU, 0.5 if args.iou is None else args.iou)


def format_table(report: DetectionReport) -> str:
    """One line per statistic."""
    lines = []
    for name, value in report.statistics.items():
        if value.estimate is None:
            lines.append(f"{name:22} undefined ({value.reason})")
        elif value.low is None or value.high is None:
            lines.append(f"{name:22} {value.estimate:.4g} (no interval: {value.reason})")
        else:
            lines.append(f"{name:22} {value.estimate:.4g} [{value.low:.4g}, {value.high:.4g}]")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Compute and print the detection statistics; return the exit code."""
    from dxval.analysis.detection import detection_report

    report = detection_report(
        args.truth,
        args.marks,
        localisation=_localisation(args),
        threshold=-math.inf if args.threshold is None else args.threshold,
        confidence_level=args.confidence_level,
        replicates=args.bootstrap_replicates,
        seed=args.seed,
    )
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, allow_nan=False))
    else:
        print(format_table(report))
    return 0
