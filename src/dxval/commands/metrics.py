"""``dxval metrics``: the statistics of one scored-cases CSV from the command line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dxval.commands import bootstrap_replicates, confidence_level, finite_number, seed
from dxval.errors import UsageError

# Choices and defaults the parser shows, spelt out here so that building the
# parser (``dxval --help``, ``--version``) imports no library; a test checks
# each against the library's own value.
PROPORTION_METHODS = ("wilson", "wilson_cc", "clopper_pearson", "agresti_coull", "jeffreys")
BOOTSTRAP_INTERVALS = ("percentile", "bca")
DEFAULT_SEED = 20261126


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
        "--threshold", type=finite_number, metavar="T", help="operating point (score >= T)"
    )
    parser.add_argument(
        "--confidence-level",
        type=confidence_level,
        default=0.95,
        metavar="L",
        help="two-sided confidence level (default 0.95)",
    )
    parser.add_argument(
        "--proportion-ci",
        choices=PROPORTION_METHODS,
        default="wilson",
        help="CI method for proportions (default wilson)",
    )
    parser.add_argument(
        "--auc-ci",
        choices=["delong", "bootstrap"],
        default="delong",
        help="AUC interval (default delong)",
    )
    parser.add_argument(
        "--ap-ci",
        choices=["logit", "bootstrap"],
        default="logit",
        help="average precision interval (default logit: Boyd, Eng & Page 2013)",
    )
    parser.add_argument(
        "--bootstrap-interval",
        choices=BOOTSTRAP_INTERVALS,
        default="percentile",
        help="bootstrap interval type (default percentile)",
    )
    parser.add_argument(
        "--bootstrap-replicates",
        type=bootstrap_replicates,
        default=2000,
        metavar="N",
        help="bootstrap replicates for --auc-ci bootstrap and --ap-ci bootstrap (default "
        "2000; 0 with no bootstrap interval requested)",
    )
    parser.add_argument(
        "--seed",
        type=seed,
        default=DEFAULT_SEED,
        metavar="N",
        help=f"bootstrap seed (default {DEFAULT_SEED})",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Compute and print the metrics; return the exit code."""
    from dxval.pipeline.metrics import MetricsOptions, format_table, metrics_report
    from dxval.stats import BootstrapInterval, ProportionMethod

    if args.score2 is not None and args.score2 == args.score:
        raise UsageError("--score2: got the same column as --score, expected another score")
    bootstrapped = [
        flag
        for flag, choice in (("--auc-ci", args.auc_ci), ("--ap-ci", args.ap_ci))
        if choice == "bootstrap"
    ]
    if args.bootstrap_replicates == 0 and bootstrapped:
        raise UsageError(
            f"--bootstrap-replicates: got 0, expected at least 2 with {' and '.join(bootstrapped)} "
            "bootstrap"
        )
    options = MetricsOptions(
        threshold=args.threshold,
        confidence_level=args.confidence_level,
        proportion_method=ProportionMethod(args.proportion_ci),
        auc_ci=args.auc_ci,
        ap_ci=args.ap_ci,
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
