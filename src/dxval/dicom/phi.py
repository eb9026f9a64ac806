"""PHI scan per DICOM PS3.15 Annex E (Basic Application Level Confidentiality Profile).

The scan walks the whole data set, File Meta included, through every nested
sequence, and reports:

* identifying attributes of Table E.1-1 (:mod:`dxval.dicom.phi_table`) that
  hold a value;
* private attributes (odd groups; Table E.1-1 action X) that hold a value;
* overlays, curves and graphic annotations (60xx,3000/4000, 50xx,xxxx,
  (0070,0001));
* Burned In Annotation (0028,0301) other than ``NO`` (absent included: burned-in
  text is then not ruled out);
* inconsistent de-identification flags: Patient Identity Removed (0012,0062)
  ``YES`` without De-identification Method (0012,0063) or its Code Sequence
  (0012,0064) — a Type 1C condition of PS3.3 C.7.1.1 — or a method recorded
  while the flag is not ``YES``.

How a declared de-identification is read. dxval cannot tell a dummy value
from a real one. A file that declares de-identification (flag ``YES`` plus a
method) is trusted to have replaced the attributes whose action is D, Z or U
(PS3.15 E.1.1 allows dummy values and new UIDs there); attributes whose action
includes X without D/Z/U and still hold a value are findings. Options declared
in the De-identification Method Code Sequence (CID 7050, e.g. 113108 Retain
Patient Characteristics) excuse the attributes Table E.1-1 lets them keep or
clean. A file that declares nothing gets a finding for every Table E.1-1
attribute with a value. Attributes the protocol itself retains (``allow``,
e.g. PatientAge for an age subgroup) are skipped.

Findings name the attribute, tag, path and case ID — never the value.
Whether findings stop a run (``qc.phi: refuse``) or are recorded (``warn``)
is the pipeline's decision.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dxval.dicom.failures import CaseFailure, ReasonCode
from dxval.dicom.phi_table import OPTION_CODES, ProfileRow, match_row

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

__all__ = ["FindingKind", "PhiFinding", "phi_summary", "scan_case", "scan_dataset", "scan_file"]

_GRAPHIC_ANNOTATION = 0x00700001
_BURNED_IN_ANNOTATION = 0x00280301
_LETTER_FOR_CODE = {code: letter for letter, code in OPTION_CODES.items()}


class FindingKind(str, Enum):
    """What kind of identity a finding points at."""

    IDENTIFYING_ATTRIBUTE = "identifying_attribute"
    PRIVATE_ATTRIBUTE = "private_attribute"
    OVERLAY_OR_GRAPHIC = "overlay_or_graphic"
    BURNED_IN_ANNOTATION = "burned_in_annotation"
    DEIDENTIFICATION_INCONSISTENT = "deidentification_inconsistent"


@dataclass(frozen=True, slots=True)
class PhiFinding:
    """One PHI finding: where, never what.

    Attributes
    ----------
    case_id:
        The manifest's (pseudonymous) case ID.
    kind:
        :class:`FindingKind`.
    attribute:
        Keyword (or ``private``/the Table E.1-1 name for unnamed tags).
    tag:
        ``(gggg,eeee)``.
    path:
        Location through sequences, e.g. ``OtherPatientIDsSequence[0].PatientID``.
    action:
        The Table E.1-1 Basic Profile action code, when the row applies.
    reason:
        Why it is a finding.
    """

    case_id: str
    kind: FindingKind
    attribute: str
    tag: str
    path: str
    action: str | None
    reason: str

    def to_dict(self) -> dict[str, str | None]:
        """JSON-safe mapping."""
        return {**asdict(self), "kind": self.kind.value}


@dataclass(frozen=True, slots=True)
class _Declaration:
    identity_removed: bool
    method_recorded: bool
    options: frozenset[str]

    @property
    def declared(self) -> bool:
        return self.identity_removed and self.method_recorded


def _declaration(dataset: Dataset) -> _Declaration:
    codes = dataset.get("DeidentificationMethodCodeSequence") or []
    options = frozenset(
        _LETTER_FOR_CODE[str(item.get("CodeValue", ""))]
        for item in codes
        if str(item.get("CodeValue", "")) in _LETTER_FOR_CODE
    )
    method = dataset.get("DeidentificationMethod")
    return _Declaration(
        identity_removed=str(dataset.get("PatientIdentityRemoved", "")).strip().upper() == "YES",
        method_recorded=bool(method) or len(codes) > 0,
        options=options,
    )


def _tag_text(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _has_value(dataset: Dataset, tag: int) -> bool:
    """Whether the element holds a non-empty value, without loading deferred bulk data."""
    raw = dataset.get_item(tag, keep_deferred=True)
    if raw is None:
        return False
    length = getattr(raw, "length", 0)
    if raw.value is None and length not in (0, 0xFFFFFFFF) and raw.VR != "SQ":
        return True  # deferred: not read, but it has bytes
    return _non_empty(dataset[tag].value)


def _non_empty(value: Any) -> bool:
    """Whether a converted element value holds anything besides padding."""
    if value is None:
        return False
    if isinstance(value, str):
        return len(value.strip(" \x00")) > 0
    if isinstance(value, bytes | bytearray):
        return len(bytes(value).strip(b" \x00")) > 0
    try:
        return len(value) > 0
    except TypeError:
        return True  # a number


def _walk(dataset: Dataset, prefix: str) -> Iterator[tuple[Dataset, int, str]]:
    """Every (data set, tag, path) through nested sequences, depth first."""
    for tag in list(dataset.keys()):
        path = f"{prefix}{_keyword(int(tag))}"
        yield dataset, int(tag), path
        raw = dataset.get_item(tag, keep_deferred=True)
        if raw is not None and raw.VR == "SQ":
            for index, item in enumerate(dataset[tag].value):
                yield from _walk(item, f"{path}[{index}].")


def _keyword(tag: int) -> str:
    from pydicom.datadict import keyword_for_tag

    return keyword_for_tag(tag) or _tag_text(tag)


def _row_finding(
    row: ProfileRow, declaration: _Declaration, tag: int
) -> tuple[FindingKind, str] | None:
    """Kind and reason of a finding for a Table E.1-1 attribute holding a value, or None."""
    if set(row.options) & declaration.options:
        return None
    graphic = row.tag.startswith(("50XX", "60XX")) or tag == _GRAPHIC_ANNOTATION
    if graphic:
        return FindingKind.OVERLAY_OR_GRAPHIC, "overlay, curve or graphic annotation present"
    replaceable = any(code in row.action for code in ("D", "Z", "U"))
    if declaration.declared and replaceable:
        return None
    reason = f"Table E.1-1 {row.name!r}, action {row.action}, holds a value"
    return FindingKind.IDENTIFYING_ATTRIBUTE, reason


def _element_findings(
    walk: Iterable[tuple[Dataset, int, str]],
    declaration: _Declaration,
    case_id: str,
    allow: Collection[str],
) -> Iterator[PhiFinding]:
    for dataset, tag, path in walk:
        keyword = _keyword(tag)
        if keyword in allow or not _has_value(dataset, tag):
            continue
        if (tag >> 16) % 2 == 1:
            if "P" in declaration.options:
                continue
            kind, action = FindingKind.PRIVATE_ATTRIBUTE, "X"
            reason = "private attribute (odd group) holds a value"
        else:
            row = match_row(tag)
            outcome = _row_finding(row, declaration, tag) if row is not None else None
            if outcome is None or row is None:
                continue
            (kind, reason), action = outcome, row.action
        yield PhiFinding(case_id, kind, keyword, _tag_text(tag), path, action, reason)


def _flag_findings(dataset: Dataset, declaration: _Declaration, case_id: str) -> list[PhiFinding]:
    findings = []
    burned_in = str(dataset.get("BurnedInAnnotation", "")).strip().upper()
    if burned_in != "NO":
        reason = f"BurnedInAnnotation is {burned_in or 'absent'}, not NO"
        findings.append(
            PhiFinding(
                case_id,
                FindingKind.BURNED_IN_ANNOTATION,
                "BurnedInAnnotation",
                _tag_text(_BURNED_IN_ANNOTATION),
                "BurnedInAnnotation",
                None,
                reason,
            )
        )
    if declaration.identity_removed != declaration.method_recorded:
        reason = (
            "PatientIdentityRemoved is YES but no DeidentificationMethod (0012,0063) or "
            "DeidentificationMethodCodeSequence (0012,0064) (PS3.3 C.7.1.1, Type 1C)"
            if declaration.identity_removed
            else "a de-identification method is recorded but PatientIdentityRemoved is not YES"
        )
        findings.append(
            PhiFinding(
                case_id,
                FindingKind.DEIDENTIFICATION_INCONSISTENT,
                "PatientIdentityRemoved",
                "(0012,0062)",
                "PatientIdentityRemoved",
                None,
                reason,
            )
        )
    return findings


def scan_dataset(
    dataset: Dataset, *, case_id: str, allow: Collection[str] = ()
) -> tuple[PhiFinding, ...]:
    """All PHI findings in ``dataset`` (and its File Meta, when it has one).

    Parameters
    ----------
    dataset:
        A pydicom data set (read with or without deferred values).
    case_id:
        The case ID to put in each finding.
    allow:
        Keywords the protocol retains on purpose (e.g. ``PatientAge``).
    """
    declaration = _declaration(dataset)
    walks: list[Iterable[tuple[Any, int, str]]] = [_walk(dataset, "")]
    file_meta = getattr(dataset, "file_meta", None)
    if file_meta is not None:
        walks.insert(0, _walk(file_meta, "file_meta."))
    findings: list[PhiFinding] = []
    for walk in walks:
        findings.extend(_element_findings(walk, declaration, case_id, allow))
    findings.extend(_flag_findings(dataset, declaration, case_id))
    return tuple(findings)


def scan_file(
    path: Path | str, *, case_id: str, allow: Collection[str] = ()
) -> tuple[PhiFinding, ...]:
    """PHI findings of one DICOM file; bulk values (Pixel Data) are not loaded.

    Raises
    ------
    CaseFailure
        ``unreadable``, ``not_dicom`` or ``invalid_header``.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    path = Path(path)
    try:
        dataset = pydicom.dcmread(path, defer_size="64 KB")
        return scan_dataset(dataset, case_id=case_id, allow=allow)
    except OSError as error:
        raise CaseFailure(ReasonCode.UNREADABLE, f"{path.name}: {error.strerror}") from None
    except InvalidDicomError:
        raise CaseFailure(ReasonCode.NOT_DICOM, f"{path.name}: not a DICOM Part 10 file") from None
    except Exception as error:  # pydicom raises many types on corrupt data sets
        raise CaseFailure(
            ReasonCode.INVALID_HEADER, f"{path.name}: unreadable data set ({type(error).__name__})"
        ) from None


def scan_case(
    paths: Sequence[Path | str], *, case_id: str, allow: Collection[str] = ()
) -> tuple[PhiFinding, ...]:
    """PHI findings of every file of one case (folders are scanned file by file)."""
    files: list[Path] = []
    for path in map(Path, paths):
        files.extend(sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path])
    findings: list[PhiFinding] = []
    for file in files:
        findings.extend(scan_file(file, case_id=case_id, allow=allow))
    return tuple(dict.fromkeys(findings))


def phi_summary(findings: Iterable[PhiFinding], *, limit: int = 10) -> str:
    """One line per attribute (most cases first): ``attribute (kind): n cases``, no values."""
    cases: dict[tuple[str, str], set[str]] = {}
    for finding in findings:
        cases.setdefault((finding.attribute, finding.kind.value), set()).add(finding.case_id)
    if not cases:
        return "PHI scan: no findings"
    counts = Counter({key: len(ids) for key, ids in cases.items()})
    total = len({case for ids in cases.values() for case in ids})
    lines = [f"PHI scan: findings in {total} case(s)"]
    for (attribute, kind), count in counts.most_common(limit):
        lines.append(f"  {attribute} ({kind}): {count} case(s)")
    if len(counts) > limit:
        lines.append(f"  ... and {len(counts) - limit} more attribute(s)")
    return "\n".join(lines)
