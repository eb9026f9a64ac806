"""What ``dxval dicom inspect`` shows about one file: decoding, grey-scale pipeline, PHI.

A plain JSON-safe report so that a person can check by hand which decoder a
file needs, how its pixels map to grey levels (PS3.3 C.11) and what the PHI
scan would find (attributes only, never values).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dxval.dicom.attributes import DEFAULT_KEYWORDS, attribute_value
from dxval.dicom.decoders import select_decoder
from dxval.dicom.failures import CaseFailure
from dxval.dicom.phi import scan_file
from dxval.dicom.reader import read_header

__all__ = ["format_inspection", "inspect_file"]

_PIXEL_KEYWORDS = (
    "PhotometricInterpretation",
    "Rows",
    "Columns",
    "NumberOfFrames",
    "SamplesPerPixel",
    "BitsAllocated",
    "BitsStored",
    "HighBit",
    "PixelRepresentation",
)
_GREY_KEYWORDS = (
    "RescaleSlope",
    "RescaleIntercept",
    "RescaleType",
    "WindowCenter",
    "WindowWidth",
    "VOILUTFunction",
)


def inspect_file(path: Path | str, *, case_id: str | None = None) -> dict[str, Any]:
    """JSON-safe report of one DICOM file (header read; pixels are not decoded).

    Raises
    ------
    CaseFailure
        The file is not a readable DICOM Part 10 file.
    """
    path = Path(path)
    header = read_header(path)
    syntax = header.file_meta.TransferSyntaxUID
    try:
        bits = header.get("BitsStored")
        decoder: dict[str, Any] = select_decoder(
            str(syntax), bits_stored=int(bits) if bits is not None else None
        ).to_dict()
    except CaseFailure as failure:
        decoder = {"unsupported": failure.message}
    return {
        "file": path.name,
        "transfer_syntax": {"uid": str(syntax), "name": syntax.name},
        "decoder": decoder,
        "pixels": {keyword: _safe(header, keyword) for keyword in _PIXEL_KEYWORDS},
        "grey_scale": {
            **{keyword: _safe(header, keyword) for keyword in _GREY_KEYWORDS},
            "ModalityLUTSequence": len(header.get("ModalityLUTSequence") or []),
            "VOILUTSequence": len(header.get("VOILUTSequence") or []),
        },
        "attributes": {keyword: _safe(header, keyword) for keyword in DEFAULT_KEYWORDS},
        "phi_findings": [
            finding.to_dict() for finding in scan_file(path, case_id=case_id or path.name)
        ],
    }


def _safe(header: Any, keyword: str) -> Any:
    try:
        return attribute_value(header, keyword)
    except (ValueError, TypeError):
        return None


def format_inspection(report: dict[str, Any]) -> str:
    """Human-readable text of :func:`inspect_file`'s report."""
    decoder = report["decoder"]
    decoded_by = decoder.get("spec", f"none ({decoder.get('unsupported')})")
    syntax = report["transfer_syntax"]
    lines = [
        f"file               {report['file']}",
        f"transfer syntax    {syntax['uid']} ({syntax['name']})",
        f"decoder            {decoded_by}",
    ]
    for section in ("pixels", "grey_scale", "attributes"):
        lines.append(f"{section.replace('_', ' ')}:")
        lines.extend(f"  {key:<26} {_text(value)}" for key, value in report[section].items())
    findings = report["phi_findings"]
    lines.append(f"PHI findings: {len(findings)}")
    lines.extend(f"  {f['path']} {f['tag']} [{f['kind']}] {f['reason']}" for f in findings)
    return "\n".join(lines)


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "\\".join(str(item) for item in value)
    return str(value)
