"""C-FIND and C-GET over DIMSE with pynetdicom (PS3.4 Annex C Query/Retrieve, PS3.7).

Queries use the Study Root information model, level by level (STUDY, then
SERIES, then IMAGE; PS3.4 C.4.1.2.1 hierarchical search). Retrieval is C-GET
(PS3.4 C.4.3): the instances come back on the same association as C-STORE
sub-operations, so the PACS needs no route back to this host. For every SOP
class to be received, one presentation context is proposed per transfer
syntax, with the SCP role (PS3.7 D.3.3.4), so the PACS can send each file in
the transfer syntax it stores instead of transcoding it.

A DIMSE peer sends the data set only: the File Meta Information (group
0002) of each file is written here (PS3.10 §7.1), from the presentation
context that carried it. The data set bytes are those the PACS sent.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from dxval.interop.source import InstanceRef, PacsError, StoreCallback

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

__all__ = ["DimseSource", "parse_address"]

#: Transfer syntaxes proposed for every received SOP class, one presentation context each.
TRANSFER_SYNTAXES = (
    "1.2.840.10008.1.2.1",  # Explicit VR Little Endian
    "1.2.840.10008.1.2",  # Implicit VR Little Endian
    "1.2.840.10008.1.2.5",  # RLE Lossless
    "1.2.840.10008.1.2.4.70",  # JPEG Lossless, SV1
    "1.2.840.10008.1.2.4.50",  # JPEG Baseline
    "1.2.840.10008.1.2.4.80",  # JPEG-LS Lossless
    "1.2.840.10008.1.2.4.90",  # JPEG 2000 Lossless
    "1.2.840.10008.1.2.4.91",  # JPEG 2000
    "1.2.840.10008.1.2.1.99",  # Deflated Explicit VR Little Endian
)
_PENDING = (0xFF00, 0xFF01)
_MAX_CONTEXTS = 128  # PS3.8 9.3.2.2: presentation context IDs are odd numbers 1-255


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` → (host, port).

    Raises
    ------
    PacsError
        Not ``HOST:PORT`` with a port in 1-65535.
    """
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise PacsError(f"--dimse: got {text!r} expected HOST:PORT")
    return host, int(port)


def _check_aet(option: str, title: str) -> str:
    if not 0 < len(title.strip()) <= 16 or "\\" in title or not title.isascii():
        raise PacsError(f"{option}: got {title!r} expected 1-16 ASCII characters (PS3.5 AE)")
    return title.strip()


@contextmanager
def _quiet_pynetdicom() -> Iterator[None]:
    """pynetdicom logs failures itself; dxval reports them as one line instead."""
    logger = logging.getLogger("pynetdicom")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _reachable(host: str, port: int, timeout: float) -> str | None:
    """Why a TCP connection to ``host:port`` fails, or None when it opens."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as error:
        return error.strerror or type(error).__name__


class DimseSource:
    """A DICOM Q/R SCP at ``host:port``, called ``called_aet``, calling as ``calling_aet``."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        calling_aet: str,
        called_aet: str,
        timeout: float = 30.0,
    ) -> None:
        self.host, self.port = host, port
        self.calling_aet = _check_aet("--aet", calling_aet)
        self.called_aet = _check_aet("--called-aet", called_aet)
        self.timeout = timeout
        self._find_association: Any = None

    def describe(self) -> dict[str, Any]:
        """Protocol, address and AE titles."""
        return {
            "protocol": "DIMSE",
            "host": self.host,
            "port": self.port,
            "calling_aet": self.calling_aet,
            "called_aet": self.called_aet,
        }

    @property
    def _where(self) -> str:
        return f"DICOM peer {self.host}:{self.port} (called AE {self.called_aet!r})"

    def _application_entity(self) -> Any:
        from pynetdicom import AE

        entity = AE(ae_title=self.calling_aet)
        entity.acse_timeout = entity.dimse_timeout = entity.network_timeout = self.timeout
        entity.connection_timeout = self.timeout
        return entity

    def _associate(self, entity: Any, **options: Any) -> Any:
        with _quiet_pynetdicom():
            association = entity.associate(
                self.host, self.port, ae_title=self.called_aet, **options
            )
        if association.is_established:
            return association
        if association.is_rejected:
            raise PacsError(
                f"{self._where}: association rejected (check --aet {self.calling_aet!r} and "
                "--called-aet against the PACS configuration)"
            )
        reachable = _reachable(self.host, self.port, self.timeout)
        if reachable is not None:  # pynetdicom reports a refused connection as an abort
            raise PacsError(f"{self._where}: cannot connect ({reachable})")
        if association.is_aborted:
            raise PacsError(f"{self._where}: association aborted by the peer")
        raise PacsError(f"{self._where}: no association (the peer did not answer)")

    def _find(self, identifier: Dataset, *, what: str) -> list[Dataset]:
        from pynetdicom.sop_class import (  # type: ignore[attr-defined]  # generated at import
            StudyRootQueryRetrieveInformationModelFind as Find,
        )

        if self._find_association is None or not self._find_association.is_established:
            entity = self._application_entity()
            entity.add_requested_context(Find)
            self._find_association = self._associate(entity)
        found: list[Dataset] = []
        with _quiet_pynetdicom():
            responses = list(self._find_association.send_c_find(identifier, Find))
        for status, answer in responses:
            code = getattr(status, "Status", None)
            if code is None:
                raise PacsError(
                    f"{self._where}: {what}: no response (connection lost or timed out)"
                )
            if code in _PENDING:
                if answer is not None:
                    found.append(answer)
            elif code != 0x0000:
                raise PacsError(f"{self._where}: {what}: C-FIND failed with status 0x{code:04X}")
        return found

    def find_studies(self, query: Mapping[str, str]) -> list[str]:
        """C-FIND at STUDY level with the query's keys as matching keys."""
        from pydicom.dataset import Dataset

        identifier = Dataset()
        identifier.QueryRetrieveLevel = "STUDY"
        identifier.StudyInstanceUID = ""
        for keyword, value in query.items():
            setattr(identifier, keyword, value)
        answers = self._find(identifier, what="C-FIND studies")
        return sorted({str(a.StudyInstanceUID) for a in answers if a.get("StudyInstanceUID")})

    def list_instances(self, study_uid: str) -> list[InstanceRef]:
        """C-FIND at SERIES level, then IMAGE level for each series."""
        from pydicom.dataset import Dataset

        series = Dataset()
        series.QueryRetrieveLevel = "SERIES"
        series.StudyInstanceUID = study_uid
        series.SeriesInstanceUID = ""
        series_uids = sorted(
            {
                str(answer.SeriesInstanceUID)
                for answer in self._find(series, what="C-FIND series")
                if answer.get("SeriesInstanceUID")
            }
        )
        instances = []
        for series_uid in series_uids:
            image = Dataset()
            image.QueryRetrieveLevel = "IMAGE"
            image.StudyInstanceUID = study_uid
            image.SeriesInstanceUID = series_uid
            image.SOPInstanceUID = ""
            image.SOPClassUID = ""
            for answer in self._find(image, what="C-FIND instances"):
                sop, sop_class = answer.get("SOPInstanceUID"), answer.get("SOPClassUID")
                if not sop or not sop_class:
                    raise PacsError(
                        f"{self._where}: C-FIND instances: an answer lacks SOPInstanceUID or "
                        "SOPClassUID"
                    )
                instances.append(InstanceRef(study_uid, series_uid, str(sop), str(sop_class)))
        return sorted(instances, key=lambda ref: (ref.series_uid, ref.sop_instance_uid))

    def retrieve(self, instances: Iterable[InstanceRef], store: StoreCallback) -> None:
        """C-GET each instance at IMAGE level on one association; ``store`` gets each file."""
        from pynetdicom import build_role, evt
        from pynetdicom.sop_class import (  # type: ignore[attr-defined]  # generated at import
            StudyRootQueryRetrieveInformationModelGet as Get,
        )

        wanted = list(instances)
        if not wanted:
            return
        sop_classes = sorted({ref.sop_class_uid for ref in wanted})
        if 1 + len(sop_classes) * len(TRANSFER_SYNTAXES) > _MAX_CONTEXTS:
            raise PacsError(
                f"{self._where}: C-GET: {len(sop_classes)} SOP classes in one pull "
                "exceed the 127 presentation contexts of one association"
            )
        entity = self._application_entity()
        entity.add_requested_context(Get)
        for sop_class in sop_classes:
            for syntax in TRANSFER_SYNTAXES:
                entity.add_requested_context(sop_class, [syntax])
        by_uid = {ref.sop_instance_uid: ref for ref in wanted}
        received: dict[str, bool] = {}
        problems: list[BaseException] = []

        def on_store(event: Any) -> int:
            uid = str(event.request.AffectedSOPInstanceUID)
            ref = by_uid.get(uid)
            if ref is None:
                return 0x0000  # not asked for: acknowledged, not kept
            try:
                store(ref, event.encoded_dataset())
            except BaseException as error:  # re-raised after the association closes
                problems.append(error)
                return 0xA700
            received[uid] = True
            return 0x0000

        association = self._associate(
            entity,
            ext_neg=[build_role(sop_class, scp_role=True) for sop_class in sop_classes],
            evt_handlers=[(evt.EVT_C_STORE, on_store)],
        )
        try:
            for ref in wanted:
                self._get_one(association, Get, ref)
                if problems:
                    raise problems[0]
                if ref.sop_instance_uid not in received:
                    raise PacsError(
                        f"{self._where}: C-GET: the peer sent no instance for a request"
                    )
        finally:
            association.release()

    def _get_one(self, association: Any, model: Any, ref: InstanceRef) -> None:
        from pydicom.dataset import Dataset

        identifier = Dataset()
        identifier.QueryRetrieveLevel = "IMAGE"
        identifier.StudyInstanceUID = ref.study_uid
        identifier.SeriesInstanceUID = ref.series_uid
        identifier.SOPInstanceUID = ref.sop_instance_uid
        with _quiet_pynetdicom():
            responses = list(association.send_c_get(identifier, model))
        for status, _ in responses:
            code = getattr(status, "Status", None)
            if code is None:
                raise PacsError(f"{self._where}: C-GET: no response (connection lost or timed out)")
            if code not in _PENDING and code != 0x0000:
                raise PacsError(f"{self._where}: C-GET failed with status 0x{code:04X}")

    def close(self) -> None:
        """Release the query association, if one is open."""
        if self._find_association is not None and self._find_association.is_established:
            with _quiet_pynetdicom():
                self._find_association.release()
        self._find_association = None
