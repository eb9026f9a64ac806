"""``dxval segmentation``: Dice and surface distances of a manifest of mask pairs."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dxval.analysis.segmentation import SegmentationReport


def _tolerance(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"got {text!r}, expected a number of mm >= 0")
    return value


def _label(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected a label number >= 1")
    return int(text)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``segmentation`` subcommand."""
    from dxval.commands import add_case_bootstrap_arguments

    parser = subparsers.add_parser(
        "segmentation",
        help="Dice, IoU, HD, HD95, ASSD, NSD and volumes per case, mean/median with bootstrap CIs",
        description="Compare truth and predicted masks case by case (one case in memory at a "
        "time). MANIFEST.csv has columns case_id, truth, prediction (paths relative to the "
        "manifest; .npz with arrays mask and spacing, .nii/.nii.gz, or DICOM SEG .dcm). A case "
        "whose masks cannot be read or differ in shape or spacing is listed with status error "
        "and a reason code.",
    )
    parser.add_argument("manifest", type=Path, metavar="MANIFEST.csv")
    parser.add_argument(
        "--label", type=_label, default=1, metavar="N", help="label of the structure (default 1)"
    )
    parser.add_argument(
        "--nsd-tolerance",
        type=_tolerance,
        default=1.0,
        metavar="MM",
        help="normalised surface Dice tolerance in mm (default 1.0)",
    )
    add_case_bootstrap_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.set_defaults(handler=run)


def _format(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def format_table(report: SegmentationReport) -> str:
    """A plain-text summary: one line per metric, then the cases that are not ok."""
    from dxval.stats.segmentation import SEGMENTATION_METRICS

    lines = [f"label {report.label}, NSD tolerance {report.tolerance_mm} mm"]
    for name in SEGMENTATION_METRICS:
        item = report.summary[name]
        parts = [
            f"{statistic} {_format(e.estimate)} [{_format(e.low)}, {_format(e.high)}]"
            for statistic, e in (("mean", item.mean), ("median", item.median))
        ]
        lines.append(f"{name:22} n={item.mean.n:<5} " + "  ".join(parts))
    lines.extend(
        f"{case.case_id}: {case.status} ({case.reason})"
        for case in report.cases
        if case.status != "ok"
    )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Compute and print the segmentation metrics; return the exit code."""
    from dxval.analysis.segmentation import segmentation_report

    report = segmentation_report(
        args.manifest,
        label=args.label,
        tolerance=args.nsd_tolerance,
        confidence_level=args.confidence_level,
        replicates=args.bootstrap_replicates,
        seed=args.seed,
    )
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, allow_nan=False))
    else:
        print(format_table(report))
    return 0
