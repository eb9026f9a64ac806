"""``dxval self-validate``: qualify this installation and write the tool-validation report."""

from __future__ import annotations

import argparse
import sys

from dxval.stats.wording import plural

# Choices and defaults the parser shows, spelt out here so that building the
# parser (``dxval --help``, ``--version``) imports no library; a test checks
# each against the library's own value.
DEFAULT_CASES_PER_SITE = 10


def _progress(message: str) -> None:
    print(f"self-validate: {message}", file=sys.stderr, flush=True)


def _cases(text: str) -> int:
    if not text.isdigit() or not 4 <= int(text) <= 200:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected an integer from 4 to 200")
    return int(text)


def _self_validate(args: argparse.Namespace) -> int:
    from dxval import selfval

    result = selfval.self_validate(
        args.out,
        soup=args.soup,
        asah=args.asah,
        strict_versions=args.strict_versions,
        cases_per_site=args.cases_per_site,
        progress=_progress,
    )
    for check in result.failed:
        print(f"FAIL {check.group}: {check.name}: expected {check.expected}; got {check.observed}")
    verdict = "PASS" if result.passed else "FAIL"
    passed = len(result.checks) - len(result.failed)
    print(f"{verdict}: {passed} of {len(result.checks)} checks passed")
    if result.drift:
        print(
            f"version drift: {plural(len(result.drift), 'installed version')} "
            f"{'differs' if len(result.drift) == 1 else 'differ'} from the SOUP list "
            "(they fail --strict-versions):"
        )
    for item in result.drift:
        print(f"  {item['name']} {item['installed']} installed, {item['listed']} listed")
    print(f"report: {result.report}")
    print(f"record: {result.record}")
    print(f"signed end-to-end bundle: {result.bundle}")
    return 0 if result.passed else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``self-validate`` subcommand."""
    parser = subparsers.add_parser(
        "self-validate",
        help="validate this dxval installation (IQ/OQ) and write the tool-validation report",
        description="Installation qualification (installed versions against the SOUP list) "
        "and operational qualification: known-answer tests of the statistics, an end-to-end "
        "lock + validate run on generated multi-site DICOM, and tamper tests of a signed "
        "bundle. Writes tool-validation.pdf/.html/.json listing every check (expected, observed, "
        "pass/fail). Exit 0 only when every check passes, 1 otherwise.",
    )
    parser.add_argument(
        "--out",
        default="tool-validation",
        metavar="DIR",
        help="new folder for the report (default: %(default)s)",
    )
    parser.add_argument(
        "--soup",
        default=None,
        metavar="FILE",
        help="SOUP list to qualify against (default: the one shipped with this dxval, "
        "a copy of qms/soup.yaml)",
    )
    parser.add_argument(
        "--asah",
        default=None,
        metavar="CSV",
        help="pROC's aSAH data (e.g. tests/data/aSAH.csv): adds the pROC known-answer tests",
    )
    parser.add_argument(
        "--strict-versions",
        action="store_true",
        help="fail when an installed version differs from the SOUP list (release qualification)",
    )
    parser.add_argument(
        "--cases-per-site",
        type=_cases,
        default=DEFAULT_CASES_PER_SITE,
        metavar="N",
        help="generated DICOM cases per site (default: %(default)s)",
    )
    parser.set_defaults(handler=_self_validate)
