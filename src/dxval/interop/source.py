"""What :mod:`dxval.interop.pull` needs from a PACS, whatever the protocol: find, list, retrieve."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from dxval.errors import InputError

#: Query keys written as the issue's examples write them, mapped to the study-level key
#: the standard defines (PS3.4 C.6.2.1.2: Modalities in Study is the study-level key).
STUDY_KEY_ALIASES = {"Modality": "ModalitiesInStudy"}


class PacsError(InputError):
    """The PACS could not be reached, refused the request or answered something unusable (exit 2).

    Messages name the server and the operation, never an identifying value
    (no patient attribute, no UID).
    """


@dataclass(frozen=True, slots=True)
class InstanceRef:
    """One SOP instance of a study, as a query listed it."""

    study_uid: str
    series_uid: str
    sop_instance_uid: str
    sop_class_uid: str


#: Receives one retrieved instance and its complete DICOM Part 10 bytes.
StoreCallback = Callable[[InstanceRef, bytes], None]


class StudySource(Protocol):
    """A PACS seen through one protocol (DICOMweb or DIMSE)."""

    def describe(self) -> dict[str, Any]:
        """The server as the pull record names it (no credentials)."""
        ...

    def find_studies(self, query: Mapping[str, str]) -> list[str]:
        """Study Instance UIDs matching ``query`` (DICOM keywords to matching values)."""
        ...

    def list_instances(self, study_uid: str) -> list[InstanceRef]:
        """Every instance of one study."""
        ...

    def retrieve(self, instances: Iterable[InstanceRef], store: StoreCallback) -> None:
        """Retrieve ``instances`` in their stored transfer syntax; call ``store`` for each."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def study_query_keys(query: Mapping[str, str]) -> dict[str, str]:
    """``query`` with its keys checked against the DICOM dictionary and aliases applied.

    Raises
    ------
    PacsError
        A key is not a DICOM keyword.
    """
    from pydicom.datadict import tag_for_keyword

    keys: dict[str, str] = {}
    for key, value in query.items():
        name = STUDY_KEY_ALIASES.get(key, key)
        if tag_for_keyword(name) is None:
            raise PacsError(f"--query: got key {key!r} expected a DICOM keyword (e.g. StudyDate)")
        keys[name] = value
    return keys


def parse_query(text: str) -> dict[str, str]:
    """Parse ``'Modality=CR&StudyDate=20240101-20241231'`` into keys and values.

    Raises
    ------
    PacsError
        A term is not ``KEY=VALUE`` or a key repeats.
    """
    query: dict[str, str] = {}
    for term in filter(None, text.split("&")):
        key, separator, value = term.partition("=")
        if not separator or not key.strip():
            raise PacsError(f"--query: got term {term!r} expected KEY=VALUE joined by '&'")
        if key.strip() in query:
            raise PacsError(f"--query: got key {key.strip()!r} twice expected each key once")
        query[key.strip()] = value.strip()
    if not query:
        raise PacsError("--query: got an empty query expected KEY=VALUE terms joined by '&'")
    return study_query_keys(query)
