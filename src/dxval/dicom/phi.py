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

A de-identification claim is metadata, not evidence. Patient Identity
Removed (0012,0062) = YES, a De-identification Method (0012,0063) and the
options of its Code Sequence (0012,0064, CID 7050) suppress nothing: every
Table E.1-1 attribute that holds a value is a finding whatever the file
claims (dxval cannot tell a dummy value from a real one). The claim is
reported beside each finding (:attr:`PhiFinding.claim`), so a reader sees
"claims de-identified, still holds Patient's Name". Two things do keep an
attribute out of the findings, both checkable outside the file: a name or ID
whose value *is* the manifest's pseudonymous case ID (e.g. Patient's Name
``DEMO^<case ID>``), and the keywords the protocol retains (``allow``: its
DICOM subgroup attributes and ``qc.phi_retained``, justified and recorded in
the evidence with the protocol).

Library warnings raised while the elements are read (pydicom quotes raw
values in them) are captured and returned as :class:`~dxval.dicom.notes.ReaderNote`
reason codes with the element's tag, never shown as they are.

Findings name the attribute, tag, path and case ID — never the value.
Whether findings stop a run (``qc.phi: refuse``) or are recorded (``warn``)
is the pipeline's decision.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dxval.dicom.failures import CaseFailure, ReasonCode
from dxval.dicom.notes import ReaderNote, captured, note_code
from dxval.dicom.phi_table import OPTION_CODES, ProfileRow, match_row
from dxval.stats.wording import plural

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

__all__ = [
    "FindingKind",
    "PhiFinding",
    "deidentification_claim",
    "phi_summary",
    "scan_case",
    "scan_dataset",
    "scan_file",
]

_GRAPHIC_ANNOTATION = 0x00700001
_BURNED_IN_ANNOTATION = 0x00280301
_PSEUDONYM_VRS = frozenset({"PN", "LO", "SH"})
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
    claim:
        What the file claims about its own de-identification (``none``, or
        e.g. ``PatientIdentityRemoved=YES; method recorded; options A``);
        reported beside the finding, never used to suppress it.
    """

    case_id: str
    kind: FindingKind
    attribute: str
    tag: str
    path: str
    action: str | None
    reason: str
    claim: str = "none"

    def to_dict(self) -> dict[str, str | None]:
        """JSON-safe mapping."""
        return {**asdict(self), "kind": self.kind.value}


@dataclass(frozen=True, slots=True)
class _Declaration:
    identity_removed: bool
    method_recorded: bool
    options: frozenset[str]

    def text(self) -> str:
        """The claim as reported beside findings; ``none`` when nothing is claimed."""
        if not (self.identity_removed or self.method_recorded or self.options):
            return "none"
        parts = [
            f"PatientIdentityRemoved={'YES' if self.identity_removed else 'not YES'}",
            "method recorded" if self.method_recorded else "no method",
        ]
        if self.options:
            parts.append("options " + ",".join(sorted(self.options)))
        return "; ".join(parts)


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


def deidentification_claim(dataset: Dataset) -> str:
    """What ``dataset`` claims about its de-identification, as reported beside findings."""
    return _declaration(dataset).text()


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


def _is_pseudonym(dataset: Dataset, tag: int, case_id: str) -> bool:
    """Whether a name or ID holds the manifest's pseudonymous case ID (checked, not claimed).

    A Person Name matches when one of its ``^``-separated components is the
    case ID (e.g. ``DEMO^<case ID>``); other text when it equals the case ID.
    """
    element = dataset.get_item(tag, keep_deferred=True)
    if element is None or element.VR not in _PSEUDONYM_VRS or not case_id:
        return False
    text = str(dataset[tag].value).strip(" \x00")
    if element.VR == "PN":
        return case_id in (part.strip() for part in text.replace("=", "^").split("^"))
    return text == case_id


def _keyword(tag: int) -> str:
    from pydicom.datadict import keyword_for_tag

    return keyword_for_tag(tag) or _tag_text(tag)


def _row_finding(row: ProfileRow, tag: int) -> tuple[FindingKind, str]:
    """Kind and reason of a finding for a Table E.1-1 attribute holding a value."""
    graphic = row.tag.startswith(("50XX", "60XX")) or tag == _GRAPHIC_ANNOTATION
    if graphic:
        return FindingKind.OVERLAY_OR_GRAPHIC, "overlay, curve or graphic annotation present"
    reason = f"Table E.1-1 {row.name!r}, action {row.action}, holds a value"
    return FindingKind.IDENTIFYING_ATTRIBUTE, reason


def _element_findings(
    walk: Iterable[tuple[Dataset, int, str]],
    claim: str,
    case_id: str,
    allow: Collection[str],
    *,
    caught: list[warnings.WarningMessage],
    notes: list[ReaderNote],
) -> Iterator[PhiFinding]:
    for dataset, tag, path in walk:
        keyword = _keyword(tag)
        if keyword in allow:
            continue
        seen = len(caught)
        holds_value = _has_value(dataset, tag)
        notes.extend(
            ReaderNote(note_code(str(item.message)), _tag_text(tag), keyword)
            for item in caught[seen:]
        )
        if not holds_value or _is_pseudonym(dataset, tag, case_id):
            continue
        if (tag >> 16) % 2 == 1:
            kind, action = FindingKind.PRIVATE_ATTRIBUTE, "X"
            reason = "private attribute (odd group) holds a value"
        else:
            row = match_row(tag)
            if row is None:
                continue
            (kind, reason), action = _row_finding(row, tag), row.action
        yield PhiFinding(case_id, kind, keyword, _tag_text(tag), path, action, reason, claim)


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
                declaration.text(),
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
                declaration.text(),
            )
        )
    return findings


def scan_dataset(
    dataset: Dataset,
    *,
    case_id: str,
    allow: Collection[str] = (),
    notes: list[ReaderNote] | None = None,
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
    notes:
        When given, receives a :class:`~dxval.dicom.notes.ReaderNote` (tag and
        reason code) for each library warning raised while reading an element.
    """
    declaration = _declaration(dataset)
    claim = declaration.text()
    walks: list[Iterable[tuple[Any, int, str]]] = [_walk(dataset, "")]
    file_meta = getattr(dataset, "file_meta", None)
    if file_meta is not None:
        walks.insert(0, _walk(file_meta, "file_meta."))
    findings: list[PhiFinding] = []
    sink: list[ReaderNote] = [] if notes is None else notes
    with captured() as caught:
        for walk in walks:
            findings.extend(
                _element_findings(walk, claim, case_id, allow, caught=caught, notes=sink)
            )
        findings.extend(_flag_findings(dataset, declaration, case_id))
    return tuple(findings)


def scan_file(
    path: Path | str,
    *,
    case_id: str,
    allow: Collection[str] = (),
    notes: list[ReaderNote] | None = None,
) -> tuple[PhiFinding, ...]:
    """PHI findings of one DICOM file; bulk values (Pixel Data) are not loaded.

    ``notes`` receives the library warnings raised while reading, as reason
    codes (see :func:`scan_dataset`); nothing is printed.

    Raises
    ------
    CaseFailure
        ``unreadable``, ``not_dicom`` or ``invalid_header``.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    path = Path(path)
    sink: list[ReaderNote] = [] if notes is None else notes
    try:
        with captured() as caught:
            dataset = pydicom.dcmread(path, defer_size="64 KB")
        sink.extend(ReaderNote(note_code(str(item.message))) for item in caught)
        return scan_dataset(dataset, case_id=case_id, allow=allow, notes=sink)
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


def phi_summary(findings: Collection[PhiFinding], *, limit: int = 10) -> str:
    """One line per attribute (most cases first): ``attribute (kind): n cases``, no values."""
    cases: dict[tuple[str, str], set[str]] = {}
    for finding in findings:
        cases.setdefault((finding.attribute, finding.kind.value), set()).add(finding.case_id)
    if not cases:
        return "PHI scan: no findings"
    counts = Counter({key: len(ids) for key, ids in cases.items()})
    total = len({case for ids in cases.values() for case in ids})
    claiming = len({finding.case_id for finding in findings if finding.claim != "none"})
    claims = f" ({claiming} of them claim de-identification)" if claiming else ""
    lines = [f"PHI scan: findings in {plural(total, 'case')}{claims}"]
    for (attribute, kind), count in counts.most_common(limit):
        lines.append(f"  {attribute} ({kind}): {plural(count, 'case')}")
    if len(counts) > limit:
        lines.append(f"  ... and {plural(len(counts) - limit, 'more attribute')}")
    return "\n".join(lines)
