"""Hospital integration: pull test sets from a PACS, export results as DICOM SR and FHIR.

* :mod:`dxval.interop.dicomweb` – a small DICOMweb client (QIDO-RS, WADO-RS; PS3.18).
* :mod:`dxval.interop.dimse` – C-FIND and C-GET over DIMSE (PS3.4 Annex C, PS3.7) with pynetdicom.
* :mod:`dxval.interop.pull` – resumable retrieval into a dxval test-set manifest with
  pseudonymous case IDs, a pull record and the PHI scan on arrival.
* :mod:`dxval.interop.sr` – per-case Comprehensive SR (TID 1500) from an evidence bundle.
* :mod:`dxval.interop.fhir` – a FHIR R4 Bundle (DiagnosticReport, Observation, Device).

pynetdicom, highdicom and fhir.resources are the optional extra ``pacs``; they
are imported lazily, so the rest of dxval runs without them.
"""

from dxval.interop.source import InstanceRef, PacsError, StudySource

__all__ = ["InstanceRef", "PacsError", "StudySource"]
