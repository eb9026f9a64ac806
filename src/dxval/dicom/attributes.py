"""Subgroup attributes read from DICOM headers, as JSON-safe values.

Any keyword of the DICOM data dictionary (PS3.6) can be named; the values
come from the top-level data set or, for enhanced multi-frame objects, from
the first item of a Shared Functional Groups Sequence (PS3.3 C.7.6.16) macro.
Patient's Age (AS, PS3.5 6.2: ``nnnD``, ``nnnW``, ``nnnM`` or ``nnnY``) is
converted to years.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

__all__ = [
    "DEFAULT_KEYWORDS",
    "AttributeValue",
    "attribute_value",
    "extract_attributes",
    "is_known_keyword",
    "parse_age",
    "read_attribute_texts",
]

AttributeValue = str | int | float | list[str | int | float] | None

#: The subgroup attributes dxval extracts when the protocol names none.
DEFAULT_KEYWORDS: tuple[str, ...] = (
    "PatientSex",
    "PatientAge",
    "Manufacturer",
    "ManufacturerModelName",
    "KVP",
    "SliceThickness",
    "PixelSpacing",
    "BodyPartExamined",
    "ViewPosition",
)

_AGE = re.compile(r"^\s*(\d{1,3})\s*([DWMY])\s*$")
_DAYS_PER_YEAR = 365.25
_AGE_UNIT_IN_YEARS = {"D": 1 / _DAYS_PER_YEAR, "W": 7 / _DAYS_PER_YEAR, "M": 1 / 12, "Y": 1.0}
_INTEGER_VRS = {"IS", "US", "SS", "UL", "SL", "UV", "SV"}
_FLOAT_VRS = {"DS", "FL", "FD"}


def parse_age(value: str) -> float:
    """Patient's Age (AS, PS3.5 Table 6.2-1) in years: days/365.25, weeks·7/365.25, months/12.

    Raises
    ------
    ValueError
        Not of the form ``nnnD``/``nnnW``/``nnnM``/``nnnY``.
    """
    match = _AGE.match(str(value))
    if match is None:
        raise ValueError(f"PatientAge {value!r} is not nnnD, nnnW, nnnM or nnnY (PS3.5 6.2)")
    return int(match.group(1)) * _AGE_UNIT_IN_YEARS[match.group(2)]


def is_known_keyword(keyword: str) -> bool:
    """Whether ``keyword`` names an attribute of pydicom's copy of the PS3.6 dictionary."""
    from pydicom.datadict import tag_for_keyword

    return tag_for_keyword(keyword) is not None


def _find(dataset: Dataset, keyword: str) -> Any:
    """The element named ``keyword`` at the top level or in a shared functional group."""
    if keyword in dataset:
        return dataset[keyword]
    shared = dataset.get("SharedFunctionalGroupsSequence")
    if shared:
        for macro in shared[0]:
            if macro.VR == "SQ" and len(macro.value) and keyword in macro.value[0]:
                return macro.value[0][keyword]
    return None


def _plain(item: Any, vr: str) -> str | int | float:
    if vr in _INTEGER_VRS:
        return int(item)
    if vr in _FLOAT_VRS:
        return float(item)
    return str(item).strip()


def attribute_value(dataset: Dataset, keyword: str) -> AttributeValue:
    """The value of ``keyword`` in ``dataset`` as a JSON-safe value; None when absent or empty.

    Numbers become int/float, text is stripped, multi-valued attributes become
    lists; PatientAge becomes years (None if malformed).

    Raises
    ------
    ValueError
        ``keyword`` is not a DICOM keyword, or names a sequence.
    """
    if not is_known_keyword(keyword):
        raise ValueError(f"{keyword!r} is not a DICOM keyword (PS3.6)")
    element = _find(dataset, keyword)
    if element is None or element.is_empty:
        return None
    if element.VR == "SQ":
        raise ValueError(f"{keyword} is a sequence; name an attribute inside it")
    if keyword == "PatientAge":
        try:
            return parse_age(str(element.value))
        except ValueError:
            return None
    value = element.value
    if element.VM > 1:
        return [_plain(item, element.VR) for item in value]
    try:
        return _plain(value, element.VR)
    except (TypeError, ValueError):
        return None


def extract_attributes(
    dataset: Dataset, keywords: Iterable[str] = DEFAULT_KEYWORDS
) -> dict[str, AttributeValue]:
    """``{keyword: value}`` for each keyword (see :func:`attribute_value`)."""
    return {keyword: attribute_value(dataset, keyword) for keyword in keywords}


def _as_text(value: AttributeValue) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\\".join(_as_text(item) for item in value)
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def read_attribute_texts(path: Path, keywords: Sequence[str]) -> Mapping[str, str]:
    """``{keyword: value as text}`` from one file's header ('' when absent or malformed).

    Matches :data:`dxval.data.cases.DicomAttributeReader`. Numbers print with
    up to 10 significant digits; PatientAge is in years; multi-valued
    attributes are joined with a backslash (the DICOM value separator).

    Raises
    ------
    CaseFailure
        The file cannot be read as DICOM.
    ValueError
        A keyword is not a DICOM keyword or names a sequence.
    """
    from dxval.dicom.notes import captured
    from dxval.dicom.reader import read_header

    with captured():  # pydicom's warnings quote raw values: never shown
        dataset = read_header(Path(path))
        return {keyword: _as_text(attribute_value(dataset, keyword)) for keyword in keywords}
