"""``dxval demo``: the out-of-the-box demonstration data.

``dxval demo generate [--out DIR] [--cases-per-site N] [--seed S]`` writes the
synthetic multi-site DICOM test sets that ``protocols/demo.yaml`` validates;
with ``--if-needed`` it first checks whether ``--out`` already holds exactly
what ``--protocol`` pins, and then writes nothing. ``--repeats N`` writes the
repeat-acquisition set of the precision demo instead (``make demo-precision``).
``dxval demo production --out prod.csv`` a simulated 12-week production log
with a scanner change in week 8, for ``dxval monitor``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from dxval.errors import UsageError

# Choices and defaults the parser shows, spelt out here so that building the
# parser (``dxval --help``, ``--version``) imports no library; a test checks
# each against the library's own value.
DEFAULT_CASES_PER_SITE = 200
DEFAULT_SEED = 20260101
TASKS = ("detection", "segmentation", "segmentation-model")
DEFAULT_TASK_CASES_PER_SITE = 10


def _progress(message: str) -> None:
    print(f"dxval demo: {message}", file=sys.stderr, flush=True)


def _generate_task(args: argparse.Namespace) -> int:
    from dxval.demo.tasks import generate_task_demo

    count = DEFAULT_TASK_CASES_PER_SITE if args.cases_per_site is None else args.cases_per_site
    result = generate_task_demo(
        Path(args.out), task=args.task, cases_per_site=count, seed=args.seed
    )
    for test_set, cases in result.cases.items():
        print(f"{test_set}: {cases} cases -> {result.out_dir / test_set / 'manifest.csv'}")
    print(f"wrote {result.out_dir} ({result.task}, seed {args.seed})")
    return 0


def _generate_repeats(args: argparse.Namespace) -> int:
    from dxval.demo.repeats import generate_repeats

    started = time.perf_counter()
    result = generate_repeats(
        Path(args.out), patients_per_site=args.repeats, seed=args.seed, progress=_progress
    )
    seconds = time.perf_counter() - started
    for site in result.sites:
        print(
            f"{site.site_id}: {site.patients} patients x {result.acquisitions} acquisitions, "
            f"{site.positives} positive cases -> {site.manifest}"
        )
    print(f"wrote {result.out_dir} (repeat acquisitions, seed {result.seed}) in {seconds:.1f} s")
    return 0


def _generate(args: argparse.Namespace) -> int:
    from dxval.demo import generate_demo

    if args.repeats is not None and (args.task is not None or args.cases_per_site is not None):
        option = "--task" if args.task is not None else "--cases-per-site"
        raise UsageError(
            f"--repeats: got {option} too, expected --repeats alone (it writes the "
            "repeat-acquisition set, N patients per site)"
        )
    if args.task is not None and args.repeats is None:  # detection / segmentation (issue 16)
        return _generate_task(args)
    if args.repeats is None and args.cases_per_site is None:
        args.cases_per_site = DEFAULT_CASES_PER_SITE

    if args.if_needed:
        from dxval.demo.pins import stale_reason

        reason = stale_reason(Path(args.protocol), Path(args.out))
        if reason is None:
            print(f"{args.out}: every test set matches its pin in {args.protocol}; not regenerated")
            return 0
        _progress(f"regenerating {args.out}: {reason}")
    if args.repeats is not None:  # the repeat-acquisition set of the precision demo (issue 19)
        return _generate_repeats(args)
    started = time.perf_counter()
    result = generate_demo(
        Path(args.out), cases_per_site=args.cases_per_site, seed=args.seed, progress=_progress
    )
    seconds = time.perf_counter() - started
    for site in result.sites:
        damaged = len(site.truncated_case_ids)
        print(
            f"{site.site_id}: {site.cases} cases, {site.positives} positive, "
            f"{damaged} damaged on purpose -> {site.manifest}"
        )
    print(f"wrote {result.out_dir} (seed {result.seed}) in {seconds:.1f} s")
    return 0


def _production(args: argparse.Namespace) -> int:
    from dxval.demo.production import simulate_production

    result = simulate_production(
        args.out, weeks=args.weeks, change_week=args.change_week, seed=args.seed
    )
    print(
        f"wrote {result.path}: {result.rows} rows over {result.weeks} weeks, scanner change "
        f"at Site A in week {result.change_week} (seed {result.seed})"
    )
    return 0


def _missing_subcommand(args: argparse.Namespace) -> int:
    raise UsageError("demo: missing subcommand; expected one of: generate, production")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` command group with its ``generate`` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="generate the synthetic demonstration data",
        description="Synthetic, reproducible demonstration data for dxval. "
        "Not patient data; not for clinical use.",
    )
    parser.set_defaults(handler=_missing_subcommand)
    commands = parser.add_subparsers(dest="demo_command", metavar="SUBCOMMAND")
    generate = commands.add_parser(
        "generate",
        help="write the multi-site synthetic DICOM test sets",
        description="Write three sites' synthetic chest radiographs (CR DICOM) with "
        "manifests; the same seed gives byte-identical files on any machine.",
    )
    generate.add_argument("--out", default="demo-data", help="output folder (default: %(default)s)")
    generate.add_argument(
        "--cases-per-site",
        type=int,
        default=None,
        metavar="N",
        help=f"cases per site (default: {DEFAULT_CASES_PER_SITE}; "
        f"{DEFAULT_TASK_CASES_PER_SITE} with --task)",
    )
    generate.add_argument(
        "--task",
        choices=TASKS,
        default=None,
        help="write a detection or segmentation demo set (truth and bundled predictions; "
        "segmentation-model: truth, CT series and a tiny frozen ONNX segmentation model) "
        "instead of the classification one",
    )
    generate.add_argument(
        "--repeats",
        type=int,
        default=None,
        metavar="N",
        help="write the repeat-acquisition set of the precision demo instead: the first N "
        "patients of each site acquired twice (same phantom, new noise, small positioning "
        "change, own UIDs; manifest column repeat_group)",
    )
    generate.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, metavar="S", help="seed (default: %(default)s)"
    )
    generate.add_argument(
        "--if-needed",
        action="store_true",
        help="generate only when --out does not already hold exactly the test sets the "
        "--protocol pins (every test-set sha256 checked, as validate does)",
    )
    generate.add_argument(
        "--protocol",
        default="protocols/demo.yaml",
        metavar="PROTOCOL",
        help="the protocol whose pins --if-needed checks (default: %(default)s)",
    )
    generate.set_defaults(handler=_generate)
    production = commands.add_parser(
        "production",
        help="write a simulated production log for dxval monitor",
        description="Simulate weeks of the demo model in production at the three demo sites "
        "(scores drawn from the validated per-site score distributions), with a scanner change "
        "at Site A that lowers sensitivity. Synthetic; the same seed gives the same bytes.",
    )
    production.add_argument("--out", default="prod.csv", help="CSV to write (default: %(default)s)")
    production.add_argument("--weeks", type=int, default=12, help="weeks (default: %(default)s)")
    production.add_argument(
        "--change-week",
        type=int,
        default=8,
        help="week of the scanner change (default: %(default)s)",
    )
    production.add_argument(
        "--seed", type=int, default=20270104, metavar="S", help="seed (default: %(default)s)"
    )
    production.set_defaults(handler=_production)
