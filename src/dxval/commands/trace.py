"""``dxval trace``: requirement → evidence, the traceability matrix, and dxval's own trace.

- ``dxval trace REQ-ID [--evidence DIR] [--protocol FILE]``: every run that
  evaluated a protocol requirement, with a suspect flag when the requirement
  changed since the run; a ``DXV-…`` ID shows dxval's own requirement with
  its verifying tests (and their results with ``--junit``).
- ``dxval trace --matrix [--evidence DIR] --format csv|json|html``.
- ``dxval trace --self --junit FILE --format csv|json|html``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dxval.errors import UsageError
from dxval.qms.selftrace import Outcome, render_self_trace, self_requirement_text, trace_self
from dxval.trace import Format, render_matrix, requirement_text, trace_matrix, trace_requirement


def _emit(text: str, out: str | None) -> None:
    if out is None:
        print(text, end="")
        return
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"--out {out}: cannot write ({error.strerror})") from error
    print(f"wrote {out}")


def _self_rows(args: argparse.Namespace) -> int:
    rows = trace_self(args.qms, tests=args.tests, junit=args.junit)
    if args.requirement is not None:
        rows = tuple(row for row in rows if row.requirement.id == args.requirement)
        if not rows:
            raise UsageError(f"{args.requirement}: not defined in {args.qms}/requirements.yaml")
        _emit(self_requirement_text(rows[0]), args.out)
    else:
        _emit(render_self_trace(rows, Format(args.format)), args.out)
    unverified = [row for row in rows if row.outcome is not Outcome.PASSED]
    if args.junit is None:
        unverified = [row for row in rows if row.outcome is Outcome.NO_TEST]
    return 1 if unverified else 0


def _trace(args: argparse.Namespace) -> int:
    modes = [args.requirement is not None, args.matrix, args.self_trace]
    if sum(modes) != 1:
        raise UsageError(
            "got " + ("no" if not any(modes) else "more than one") + " mode; "
            "expected exactly one of REQ-ID, --matrix or --self"
        )
    if args.self_trace or (args.requirement is not None and args.requirement.startswith("DXV-")):
        return _self_rows(args)
    if args.matrix:
        matrix = trace_matrix(args.evidence, protocol=args.protocol)
        _emit(render_matrix(matrix, Format(args.format)), args.out)
        return 0
    traces = trace_requirement(args.requirement, args.evidence, protocol=args.protocol)
    _emit(requirement_text(traces), args.out)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``trace`` subcommand."""
    parser = subparsers.add_parser(
        "trace",
        help="trace a requirement to its evidence; traceability matrices",
        description="Trace requirement IDs to evidence. REQ-ID: every run that evaluated the "
        "protocol requirement (run ID, date, protocol version, model SHA-256, observed value, "
        "result), marked SUSPECT when its text or criteria changed since the run (by "
        "fingerprint; the current definition is --protocol's, else the latest run's). A DXV-... "
        "ID, or --self, traces dxval's own requirements to the tests marked "
        "@pytest.mark.req and their JUnit results; exit 1 unless every requirement has a "
        "passing test and none failed or missing from the JUnit file (without --junit: exit 1 "
        "when a requirement has no test).",
    )
    parser.add_argument("requirement", nargs="?", metavar="REQ-ID", help="requirement ID")
    parser.add_argument("--matrix", action="store_true", help="all requirements x all runs")
    parser.add_argument(
        "--self",
        dest="self_trace",
        action="store_true",
        help="dxval's own requirement -> test -> result matrix",
    )
    parser.add_argument(
        "--evidence",
        default="evidence",
        metavar="DIR",
        help="evidence root (default: %(default)s)",
    )
    parser.add_argument(
        "--protocol",
        default=None,
        metavar="FILE",
        help="current protocol file (default: each protocol's latest run)",
    )
    parser.add_argument(
        "--format",
        choices=[item.value for item in Format],
        default=Format.CSV.value,
        help="matrix format (default: %(default)s)",
    )
    parser.add_argument("--out", default=None, metavar="FILE", help="write to FILE, not stdout")
    parser.add_argument("--junit", default=None, metavar="FILE", help="pytest JUnit XML (--self)")
    parser.add_argument("--qms", default="qms", metavar="DIR", help="(default: %(default)s)")
    parser.add_argument("--tests", default="tests", metavar="DIR", help="(default: %(default)s)")
    parser.set_defaults(handler=_trace)
