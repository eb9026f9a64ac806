"""``dxval preview``: a contact sheet of original vs preprocessed images per test set."""

from __future__ import annotations

import argparse
from pathlib import Path

from dxval.errors import UsageError
from dxval.stats.wording import plural


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected a positive integer")
    return int(text)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``preview`` subcommand."""
    parser = subparsers.add_parser(
        "preview",
        help="contact sheet: each case's original beside its preprocessed model input",
        description="Render the first N cases of every test set of a model protocol: the "
        "original with its own window beside the preprocessed model input, labelled with "
        "case ID and site, to spot a wrong window or a missing MONOCHROME1 inversion before "
        "a run.",
    )
    parser.add_argument("protocol", type=Path, metavar="P", help="protocol.yaml")
    parser.add_argument(
        "--cases", type=_count, default=4, metavar="N", help="cases per test set (4)"
    )
    parser.add_argument("--out", type=Path, required=True, metavar="PNG", help="output .png")
    parser.set_defaults(handler=_preview)


def _preview(args: argparse.Namespace) -> int:
    from dxval.dicom.preview import write_contact_sheet
    from dxval.pipeline.cases import case_loader_for, preview_cases

    if args.out.suffix.lower() != ".png":
        raise UsageError(f"--out {args.out}: got {args.out.name!r} expected a name ending in .png")
    loader = case_loader_for(args.protocol)
    cases = preview_cases(args.protocol, args.cases)
    result = write_contact_sheet(cases, loader.steps, args.out, title=str(args.protocol))
    print(f"{result.path}: {plural(result.shown, 'case')} shown")
    for case_id, reason in result.failed:
        print(f"  {case_id}: {reason}")
    return 0
