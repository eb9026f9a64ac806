"""``dxval dicom inspect`` and ``dxval dicom preprocess``: one file, checked by hand."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from dxval.dicom.failures import CaseFailure
from dxval.dicom.inspection import format_inspection, inspect_file
from dxval.errors import InputError, UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``dicom`` command group with ``inspect`` and ``preprocess``."""
    parser = subparsers.add_parser(
        "dicom",
        help="inspect one DICOM file, or preprocess it exactly as a protocol would",
        description="Check single DICOM files by hand: what they hold and how dxval decodes "
        "them, and the exact tensor a protocol's preprocessing feeds the model.",
    )
    actions = parser.add_subparsers(dest="dicom_command", metavar="ACTION", required=True)
    inspect = actions.add_parser(
        "inspect",
        help="transfer syntax, decoder, pixel and grey-scale attributes, PHI findings",
        description="Show a DICOM file's transfer syntax, the decoder dxval would use (with "
        "its version), photometric interpretation, bits, rescale, window, subgroup "
        "attributes (identifying ones only with --show-values) and PHI findings (attribute "
        "names only, never values); library warnings appear as tag + reason code.",
    )
    inspect.add_argument("file", type=Path, metavar="FILE", help="a DICOM Part 10 file")
    inspect.add_argument("--json", action="store_true", help="print JSON instead of text")
    inspect.add_argument(
        "--show-values",
        action="store_true",
        help="also show identifying subgroup attributes (PatientSex, PatientAge; PS3.15 "
        "Table E.1-1), withheld by default",
    )
    inspect.set_defaults(handler=_inspect)
    preprocess = actions.add_parser(
        "preprocess",
        help="write the float32 model input a protocol's preprocessing makes of FILE",
        description="Decode FILE and apply the protocol's preprocessing steps; save the "
        "exact float32 tensor the harness would feed the model (without the batch axis).",
    )
    preprocess.add_argument("file", type=Path, metavar="FILE", help="a DICOM file or series folder")
    preprocess.add_argument(
        "--protocol", type=Path, required=True, metavar="P", help="protocol.yaml"
    )
    preprocess.add_argument(
        "--out", type=Path, required=True, metavar="OUT.npy", help="output file"
    )
    preprocess.set_defaults(handler=_preprocess)


def _inspect(args: argparse.Namespace) -> int:
    try:
        report = inspect_file(args.file, show_values=args.show_values)
    except CaseFailure as failure:
        raise InputError(f"{args.file}: {failure}") from None
    print(json.dumps(report, indent=2) if args.json else format_inspection(report))
    return 0


def _preprocess(args: argparse.Namespace) -> int:
    if args.out.suffix != ".npy":
        raise UsageError(f"--out {args.out}: got {args.out.name!r} expected a name ending in .npy")
    from dxval.pipeline.cases import case_loader_for

    loader = case_loader_for(args.protocol)
    try:
        result = loader.load([args.file])
    except CaseFailure as failure:
        raise InputError(f"{args.file}: {failure}") from None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.save(args.out, result.tensor)
    tensor = result.tensor
    decoders = ", ".join(decoder.spec for decoder in result.decoders)
    print(
        f"{args.out}: float32 {tuple(tensor.shape)}, min {float(tensor.min()):.6g}, "
        f"max {float(tensor.max()):.6g}; decoder {decoders}; preprocessing digest {loader.digest}"
    )
    return 0
