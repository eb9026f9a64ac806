"""What ``dxval dicom inspect`` shows about one file: decoding, grey-scale pipeline, PHI.

A plain JSON-safe report so that a person can check by hand which decoder a
file needs, how its pixels map to grey levels (PS3.3 C.11) and what the PHI
scan would find (attributes only, never values). Identifying subgroup
attributes (Table E.1-1: PatientSex, PatientAge) are withheld unless asked
for, and library warnings are shown as reason codes with tags only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dxval.dicom.attributes import DEFAULT_KEYWORDS, attribute_value
from dxval.dicom.decoders import select_decoder
from dxval.dicom.failures import CaseFailure
from dxval.dicom.notes import ReaderNote, captured, note_code
from dxval.dicom.phi import scan_file
from dxval.dicom.phi_table import identifying_row_name
from dxval.dicom.reader import read_header

__all__ = ["WITHHELD", "format_inspection", "inspect_file"]

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


def inspect_file(
    path: Path | str, *, case_id: str | None = None, show_values: bool = False
) -> dict[str, Any]:
    """JSON-safe report of one DICOM file (header read; pixels are not decoded).

    Subgroup attributes listed in PS3.15 Table E.1-1 (PatientSex, PatientAge)
    are shown as ``withheld`` unless ``show_values``; library warnings raised
    while reading become ``reader_notes`` (tag and reason code, no value).

    Raises
    ------
    CaseFailure
        The file is not a readable DICOM Part 10 file.
    """
    path = Path(path)
    notes: list[ReaderNote] = []
    with captured() as caught:
        header = read_header(path)
        report = _report(path, header, show_values=show_values)
    notes.extend(ReaderNote(note_code(str(item.message))) for item in caught)
    tagged: list[ReaderNote] = []
    findings = scan_file(path, case_id=case_id or path.name, notes=tagged)
    known = {note.code for note in tagged if note.tag is not None}
    notes = [note for note in notes if note.code not in known] + tagged
    report["deidentification_claim"] = findings[0].claim if findings else _claim(header)
    report["phi_findings"] = [finding.to_dict() for finding in findings]
    report["reader_notes"] = [note.text() for note in dict.fromkeys(notes)]
    return report


def _claim(header: Any) -> str:
    from dxval.dicom.phi import deidentification_claim

    return deidentification_claim(header)


def _report(path: Path, header: Any, *, show_values: bool) -> dict[str, Any]:
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
        "attributes": {
            keyword: _safe(header, keyword)
            if show_values or keyword not in _IDENTIFYING_KEYWORDS
            else WITHHELD
            for keyword in DEFAULT_KEYWORDS
        },
    }


#: Default attributes listed in PS3.15 Table E.1-1: shown only with ``show_values``.
_IDENTIFYING_KEYWORDS = frozenset(
    keyword for keyword in DEFAULT_KEYWORDS if identifying_row_name(keyword) is not None
)
#: What the report shows instead of an identifying value.
WITHHELD = "(withheld: identifying, PS3.15 Table E.1-1; --show-values shows it)"


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
    lines.append(f"de-identification claim: {report['deidentification_claim']} (not trusted)")
    lines.append(f"PHI findings: {len(findings)}")
    lines.extend(f"  {f['path']} {f['tag']} [{f['kind']}] {f['reason']}" for f in findings)
    notes = report["reader_notes"]
    lines.append(f"reader notes: {len(notes)}")
    lines.extend(f"  {note}" for note in notes)
    return "\n".join(lines)


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "\\".join(str(item) for item in value)
    return str(value)
