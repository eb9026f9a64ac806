"""``dxval export sr|fhir BUNDLE``: a verified bundle's results as DICOM SR or FHIR."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dxval.stats.wording import plural


def _not_exported(cases: tuple[str, ...]) -> None:
    if cases:
        shown = ", ".join(cases[:10]) + (" ..." if len(cases) > 10 else "")
        print(
            f"dxval: note: {plural(len(cases), 'case')} without a score (failed, see cases.csv) "
            f"not exported: {shown}",
            file=sys.stderr,
        )


def _export_sr(args: argparse.Namespace) -> int:
    from dxval.interop.sr import export_sr

    result = export_sr(args.bundle, args.out, protocol=args.protocol)
    _not_exported(result.not_exported)
    print(f"{result.folder}: {plural(len(result.written), 'Comprehensive SR file')} written")
    return 0


def _export_fhir(args: argparse.Namespace) -> int:
    from dxval.interop.fhir import export_fhir

    result = export_fhir(args.bundle, args.out)
    _not_exported(result.not_exported)
    print(f"{result.path}: FHIR R4 Bundle with {plural(result.resources, 'resource')} written")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``export`` subcommand group."""
    parser = subparsers.add_parser(
        "export",
        help="export a verified bundle's results as DICOM SR or a FHIR R4 Bundle",
        description="Export the per-case results of an evidence bundle (score, decision at the "
        "operating point, model identity, evidence run ID) in the formats a hospital receives. "
        "The bundle is verified first (exit 3 when it changed).",
    )
    formats = parser.add_subparsers(dest="format", metavar="FORMAT", required=True)
    sr = formats.add_parser(
        "sr",
        help="one Comprehensive SR (TID 1500 measurement report) per scored case",
        description="Write OUT/<case_id>.dcm for every scored case: a Comprehensive SR "
        "measurement report (TID 1500) with the model's score and decision, its name, version "
        "and SHA-256 and the evidence run ID, referencing the source images' SOP Instance UIDs. "
        "The source images are found through the test-set manifests of the protocol that ran "
        "and must hash to what was scored (exit 3 otherwise).",
    )
    sr.add_argument("bundle", metavar="BUNDLE", help="the evidence bundle folder")
    sr.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    sr.add_argument(
        "--protocol",
        type=Path,
        metavar="PROTOCOL",
        help="the protocol that ran, where it is now (default: the path in run.json)",
    )
    sr.set_defaults(handler=_export_sr)
    fhir = formats.add_parser(
        "fhir",
        help="a FHIR R4 Bundle: Device, and a DiagnosticReport with Observations per case",
        description="Write a FHIR R4 Bundle (JSON) with a Device for the model and, per scored "
        "case, a DiagnosticReport with Observations of the score and of the decision at the "
        "operating point; validated with the fhir.resources models before it is written.",
    )
    fhir.add_argument("bundle", metavar="BUNDLE", help="the evidence bundle folder")
    fhir.add_argument(
        "--out", required=True, type=Path, metavar="FILE", help="output file, e.g. bundle.json"
    )
    fhir.set_defaults(handler=_export_fhir)
