"""``dxval mrmc``: multi-reader multi-case analysis of a reads file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dxval.commands import confidence_level, finite_number
from dxval.errors import UsageError

# The choices are spelled here so that registering the command imports no numerical library
# (dxval --help stays fast); tests/commands/test_mrmc.py keeps them equal to the enums.
METHOD_CHOICES = ("or", "u-statistic")
U_TEST_CHOICES = ("bdg", "normal")
COVARIANCE_CHOICES = ("jackknife", "delong", "unbiased")
FACTOR_CHOICES = ("frrc", "rrfc", "rrrc")


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected a positive integer")
    return int(text)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``mrmc`` subcommand."""
    parser = subparsers.add_parser(
        "mrmc",
        help="reader study (MRMC): Obuchowski-Rockette or U-statistic analysis of reads",
        description="Analyse a fully crossed reader study from a long-format CSV with one row "
        "per reader, case and modality. The difference reported is the first modality minus "
        "the second (order of appearance, or --reference names the second).",
    )
    parser.add_argument("file", type=Path, metavar="READS.csv", help="reads file")
    for name, default in (
        ("reader", "reader"),
        ("case", "case"),
        ("modality", "modality"),
        ("truth", "truth"),
        ("score", "score"),
    ):
        parser.add_argument(
            f"--{name}", default=default, metavar="COL", help=f"{name} column (default {default})"
        )
    parser.add_argument(
        "--positive", metavar="VALUE", help="truth value of a positive case (default 1 for 0/1)"
    )
    parser.add_argument(
        "--method",
        choices=METHOD_CHOICES,
        default="or",
        help="or: Obuchowski-Rockette with Hillis df (default); u-statistic: Gallas (iMRMC)",
    )
    parser.add_argument(
        "--u-test",
        choices=U_TEST_CHOICES,
        default="bdg",
        help="test and intervals of --method u-statistic, as iMRMC reports them: t with the "
        "BDG degrees of freedom (bdg, default) or the normal approximation (normal)",
    )
    parser.add_argument(
        "--covariance",
        choices=COVARIANCE_CHOICES,
        default="jackknife",
        help="covariance of the reader x modality AUCs for --method or (default jackknife)",
    )
    parser.add_argument(
        "--factors",
        choices=FACTOR_CHOICES,
        default="rrrc",
        help="random readers and cases (rrrc, default), fixed readers (frrc) or fixed cases (rrfc)",
    )
    parser.add_argument(
        "--confidence-level",
        type=confidence_level,
        default=0.95,
        metavar="L",
        help="two-sided confidence level (default 0.95)",
    )
    parser.add_argument(
        "--reference", metavar="MODALITY", help="the modality subtracted (second in the difference)"
    )
    parser.add_argument(
        "--threshold",
        type=finite_number,
        metavar="T",
        help="also analyse binary reads: a read is positive when score >= T "
        "(reader-averaged sensitivity and specificity)",
    )
    plan = parser.add_argument_group(
        "sample size", "size a planned study with this one as the pilot (Hillis-Obuchowski)"
    )
    plan.add_argument("--plan-readers", type=_count, metavar="R", help="readers of the plan")
    plan.add_argument(
        "--plan-effect", type=finite_number, metavar="D", help="AUC difference to detect"
    )
    plan.add_argument(
        "--plan-power",
        type=confidence_level,
        default=0.8,
        metavar="P",
        help="target power (default 0.8)",
    )
    plan.add_argument("--plan-cases", type=_count, metavar="C", help="also: power at C cases")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Read, check and analyse the reads; print the result; return the exit code."""
    from dxval.analysis.reader_study import (
        FACTOR_NAMES,
        AnalysisMethod,
        ReadColumns,
        ReaderStudyOptions,
        StudyPlan,
        analyse_reader_study,
        format_table,
        read_reads,
    )
    from dxval.stats.mrmc import CovarianceMethod, UStatisticTest

    columns = ReadColumns(
        reader=args.reader,
        case=args.case,
        modality=args.modality,
        truth=args.truth,
        score=args.score,
    )
    reads = read_reads(args.file, columns=columns, positive=args.positive, reference=args.reference)
    plan = None
    if (args.plan_readers is None) != (args.plan_effect is None):
        raise UsageError("--plan-readers and --plan-effect: expected both or neither")
    if args.plan_readers is not None:
        plan = StudyPlan(
            readers=args.plan_readers,
            effect=args.plan_effect,
            power=args.plan_power,
            cases=args.plan_cases,
        )
    options = ReaderStudyOptions(
        method=AnalysisMethod(args.method),
        covariance=CovarianceMethod(args.covariance),
        u_test=UStatisticTest(args.u_test),
        factors=FACTOR_NAMES[args.factors],
        confidence_level=args.confidence_level,
        threshold=args.threshold,
        plan=plan,
    )
    report = analyse_reader_study(reads, options)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, allow_nan=False))
    else:
        print(format_table(report))
    return 0
