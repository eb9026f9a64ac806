"""``dxval metrics``: the statistics of one scored-cases CSV from the command line."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from dxval.data.limits import MAX_BOOTSTRAP_REPLICATES
from dxval.errors import UsageError
from dxval.pipeline.metrics import DEFAULT_SEED, MetricsOptions, format_table, metrics_report
from dxval.stats import BootstrapInterval, ProportionMethod


def _confidence_level(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected a number in (0, 1)")
    return value


def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"got {text!r}, expected a finite number")
    return value


def _replicates(text: str) -> int:
    if not text.isdigit() or not 2 <= int(text) <= MAX_BOOTSTRAP_REPLICATES:
        raise argparse.ArgumentTypeError(
            f"got {text!r}, expected an integer from 2 to {MAX_BOOTSTRAP_REPLICATES}"
        )
    return int(text)


def _seed(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"got {text!r}, expected a non-negative integer")
    return int(text)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``metrics`` subcommand."""
    parser = subparsers.add_parser(
        "metrics",
        help="AUC, sensitivity, specificity, PPV, NPV, average precision with CIs from a CSV",
        description="Compute diagnostic-accuracy statistics with confidence intervals from a "
        "CSV of truth labels and model scores. A case is called positive when score >= "
        "threshold.",
    )
    parser.add_argument("file", type=Path, metavar="FILE.csv", help="CSV with a header row")
    parser.add_argument("--truth", required=True, metavar="COL", help="truth column")
    parser.add_argument(
        "--positive", required=True, metavar="VALUE", help="truth value of the positive class"
    )
    parser.add_argument("--score", required=True, metavar="COL", help="score column")
    parser.add_argument(
        "--score2", metavar="COL", help="second score: paired DeLong comparison with --score"
    )
    parser.add_argument(
        "--threshold", type=_threshold, metavar="T", help="operating point (score >= T)"
    )
    parser.add_argument(
        "--confidence-level",
        type=_confidence_level,
        default=0.95,
        metavar="L",
        help="two-sided confidence level (default 0.95)",
    )
    parser.add_argument(
        "--proportion-ci",
        choices=[method.value for method in ProportionMethod],
        default=ProportionMethod.WILSON.value,
        help="CI method for proportions (default wilson)",
    )
    parser.add_argument(
        "--auc-ci",
        choices=["delong", "bootstrap"],
        default="delong",
        help="AUC interval (default delong)",
    )
    parser.add_argument(
        "--bootstrap-interval",
        choices=[interval.value for interval in BootstrapInterval],
        default=BootstrapInterval.PERCENTILE.value,
        help="bootstrap interval type (default percentile)",
    )
    parser.add_argument(
        "--bootstrap-replicates",
        type=_replicates,
        default=2000,
        metavar="N",
        help="bootstrap replicates for AUC (with --auc-ci bootstrap) and average precision "
        "(default 2000)",
    )
    parser.add_argument(
        "--seed",
        type=_seed,
        default=DEFAULT_SEED,
        metavar="N",
        help=f"bootstrap seed (default {DEFAULT_SEED})",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Compute and print the metrics; return the exit code."""
    if args.score2 is not None and args.score2 == args.score:
        raise UsageError("--score2: got the same column as --score, expected another score")
    options = MetricsOptions(
        threshold=args.threshold,
        confidence_level=args.confidence_level,
        proportion_method=ProportionMethod(args.proportion_ci),
        auc_ci=args.auc_ci,
        replicates=args.bootstrap_replicates,
        seed=args.seed,
        bootstrap_interval=BootstrapInterval(args.bootstrap_interval),
    )
    report = metrics_report(
        args.file,
        truth_column=args.truth,
        positive=args.positive,
        score=args.score,
        score2=args.score2,
        options=options,
    )
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, allow_nan=False))
    else:
        print(format_table(report))
    return 0
