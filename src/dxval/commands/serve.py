"""``dxval serve EVIDENCE_ROOT``: the auditor's read-only web view over every bundle under a root.

Builds (or brings up to date) the SQLite index, then serves the pages on
127.0.0.1 unless told otherwise. Needs the ``serve`` extra (Starlette and
uvicorn): ``pip install 'dxval[serve]'``.
"""

from __future__ import annotations

import argparse
import sys

from dxval.errors import UsageError
from dxval.stats.wording import plural


def _announce(text: str) -> None:
    print(f"dxval serve: {text}", flush=True)


def _warn(text: str) -> None:
    print(f"dxval serve: warning: {text}", file=sys.stderr, flush=True)


def _serve(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port: got {args.port} expected 0-65535 (0: any free port)")
    if args.rescan < 0:
        raise UsageError(f"--rescan: got {args.rescan} expected seconds >= 0 (0: never)")
    try:
        from dxval.serve.app import serve
    except ImportError as error:
        raise UsageError(
            f"dxval serve needs the 'serve' extra ({error.name} is not installed); "
            "expected: pip install 'dxval[serve]'"
        ) from error
    from dxval.serve import EvidenceIndex

    index = EvidenceIndex(args.evidence_root, index_path=args.index)
    result = index.refresh()
    _announce(
        f"indexed {plural(result.bundles, 'bundle')} under {index.root} in {result.seconds:.1f} s "
        f"({result.added} new, {result.changed} changed, {result.removed} removed); "
        f"index {index.path}"
    )
    serve(
        index,
        host=args.host,
        port=args.port,
        rescan_seconds=args.rescan or None,
        announce=_announce,
        warn=_warn,
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``serve`` subcommand."""
    parser = subparsers.add_parser(
        "serve",
        help="read-only web view of the evidence for auditors",
        description="Serve a read-only web view of every evidence bundle under EVIDENCE_ROOT: "
        "protocols, runs (status, exit code, signatures, criteria, evidence files, reports, "
        "audit log), requirements (every run that evaluated one, SUSPECT links, trend), the "
        "traceability matrix and search by requirement, protocol, model SHA-256 or test-set "
        "digest. Every number is read from the bundle files and every bundle shows whether it "
        "still verifies. GET/HEAD only; binds to 127.0.0.1 unless --host says otherwise. "
        "Needs the 'serve' extra.",
    )
    parser.add_argument("evidence_root", metavar="EVIDENCE_ROOT", help="folder of bundles")
    parser.add_argument("--host", default="127.0.0.1", help="address (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=8000, help="port, 0 for any free one (default: %(default)s)"
    )
    parser.add_argument(
        "--index",
        default=None,
        metavar="PATH",
        help="SQLite index file (default: EVIDENCE_ROOT/.dxval-index.sqlite)",
    )
    parser.add_argument(
        "--rescan",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="look for new, changed and removed bundles this often; 0: only at start "
        "(default: %(default)s; a bundle shown on a page is always re-checked)",
    )
    parser.set_defaults(handler=_serve)
