"""``dxval pull``: retrieve studies from a PACS (DICOMweb or DIMSE) into a dxval test set."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from dxval.errors import UsageError
from dxval.stats.wording import plural

if TYPE_CHECKING:
    from dxval.interop.source import StudySource


def _source(args: argparse.Namespace) -> StudySource:
    if args.dicomweb:
        from dxval.interop.dicomweb import DicomWebSource

        token = os.environ.get(args.token_env) if args.token_env else None
        if args.token_env and not token:
            raise UsageError(f"--token-env: ${args.token_env} is not set or empty")
        return DicomWebSource(
            args.dicomweb, timeout=args.timeout, ca_file=args.ca_file, token=token
        )
    from dxval.interop.dimse import DimseSource, parse_address

    if not args.aet or not args.called_aet:
        raise UsageError("--dimse: got no --aet/--called-aet expected both AE titles")
    host, port = parse_address(args.dimse)
    return DimseSource(
        host, port, calling_aet=args.aet, called_aet=args.called_aet, timeout=args.timeout
    )


def _pull(args: argparse.Namespace) -> int:
    from dxval.interop.pull import PullRequest, load_site_key, pull_studies
    from dxval.interop.source import parse_query

    key = load_site_key(args.key_file)
    request = PullRequest(
        out=Path(args.out),
        study_uids=tuple(args.study or ()),
        query=parse_query(args.query) if args.query else None,
        studies_file=args.studies,
        join_file=args.join,
        columns=tuple(name.strip() for name in args.columns.split(",") if name.strip()),
        phi=args.phi,
        phi_retained=tuple(args.phi_retained or ()),
        phi_justification=args.phi_justification,
    )
    source = _source(args)
    result = pull_studies(
        source,
        request,
        key=key,
        progress=lambda line: print(line, file=sys.stderr),
    )
    if result.phi_warnings:
        print(
            f"dxval: warning: PHI scan (phi: warn): {plural(result.phi_warnings, 'finding')} "
            f"recorded in {result.record} (attribute names only)",
            file=sys.stderr,
        )
    state = "written" if result.changed else "up to date; nothing changed"
    print(
        f"{result.manifest}: {plural(result.cases, 'case')}, {plural(result.files, 'file')}: "
        f"{result.retrieved} retrieved, {result.already_verified} already verified ({state})"
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``pull`` subcommand."""
    parser = subparsers.add_parser(
        "pull",
        help="retrieve studies from a PACS (DICOMweb or DIMSE) into a test set with a manifest",
        description="Query a PACS, retrieve the studies in their stored transfer syntax, and "
        "write DIR/manifest.csv (pseudonymous case IDs: HMAC-SHA-256 of the Study Instance UID "
        "under the site key) and DIR/pull.json (server, query, time, every file's SHA-256). "
        "The PHI scan runs on arrival. A repeated or interrupted pull retrieves only what is "
        "missing. Exit 0 on success, 2 on any error (nothing half-written).",
    )
    server = parser.add_mutually_exclusive_group(required=True)
    server.add_argument("--dicomweb", metavar="URL", help="DICOMweb service root (QIDO/WADO-RS)")
    server.add_argument("--dimse", metavar="HOST:PORT", help="DICOM Q/R SCP (C-FIND, C-GET)")
    parser.add_argument("--aet", help="our (calling) AE title, for --dimse")
    parser.add_argument("--called-aet", help="the PACS's (called) AE title, for --dimse")
    select = parser.add_mutually_exclusive_group(required=True)
    select.add_argument("--study", nargs="+", metavar="UID", help="Study Instance UID(s)")
    select.add_argument(
        "--query",
        metavar="KEYS",
        help="study query, e.g. 'Modality=CR&StudyDate=20240101-20241231'",
    )
    select.add_argument(
        "--studies",
        type=Path,
        metavar="CSV",
        help="CSV with a StudyInstanceUID column (other columns are joined)",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="test-set folder")
    parser.add_argument(
        "--key-file",
        type=Path,
        metavar="FILE",
        help="site key (hex, >= 32 bytes); default $DXVAL_SITE_KEY_FILE, then $DXVAL_SITE_KEY",
    )
    parser.add_argument(
        "--join",
        type=Path,
        metavar="CSV",
        help="CSV keyed by StudyInstanceUID whose columns (truth, attributes) "
        "are copied into the manifest",
    )
    parser.add_argument(
        "--columns",
        default="label",
        metavar="NAMES",
        help="comma-separated columns added empty for the site to fill (default: label)",
    )
    parser.add_argument(
        "--phi",
        choices=("refuse", "warn"),
        default="refuse",
        help="PHI findings on arrival: refuse the study or record them (default: refuse)",
    )
    parser.add_argument(
        "--phi-retained",
        nargs="+",
        metavar="KEYWORD",
        help="attributes the files keep on purpose (e.g. StudyInstanceUID StudyDate after a "
        "de-identification that replaced them), as qc.phi_retained in the protocol",
    )
    parser.add_argument(
        "--phi-justification",
        metavar="TEXT",
        help="why the --phi-retained attributes may stay (recorded in pull.json)",
    )
    parser.add_argument("--ca-file", type=Path, metavar="PEM", help="trusted CAs for https")
    parser.add_argument(
        "--token-env",
        metavar="VAR",
        help="environment variable holding a bearer token for DICOMweb",
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, metavar="S", help="seconds per request (default: 30)"
    )
    parser.set_defaults(handler=_pull)
