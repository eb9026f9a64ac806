"""``dxval summary BUNDLE [--out FILE]``: the 510(k) "Performance Testing" section.

Writes Markdown to ``FILE`` (default
``<protocol-id>-<run-id>-510k-performance.md`` in the current folder) and the
same section as PDF beside it (:func:`dxval.report.summary.write_summary`).
"""

from __future__ import annotations

import argparse


def _summary(args: argparse.Namespace) -> int:
    from dxval.report.summary import write_summary

    files = write_summary(args.bundle, out=args.out)
    print(f"wrote {files.markdown}")
    print(f"wrote {files.pdf}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``summary`` subcommand."""
    parser = subparsers.add_parser(
        "summary",
        help="write the 510(k) 'Performance Testing' section of an evidence bundle",
        description="Write the 'Performance Testing' section of a 510(k) summary from an "
        "evidence bundle: device and indication, test data, reference standard, results with "
        "confidence intervals overall, per site and per subgroup, the conclusion against the "
        "pre-specified criteria, and proposed labeling limitations. Markdown and PDF.",
    )
    parser.add_argument("bundle", metavar="BUNDLE", help="evidence bundle folder")
    parser.add_argument(
        "--out",
        metavar="FILE",
        default=None,
        help="Markdown file to write (.md); the PDF goes beside it "
        "(default: <protocol-id>-<run-id>-510k-performance.md)",
    )
    parser.set_defaults(handler=_summary)
