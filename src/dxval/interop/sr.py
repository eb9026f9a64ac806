"""Per-case DICOM Comprehensive SR (TID 1500 Measurement Report) from an evidence bundle.

Each scored case gets one SR document (PS3.3 A.35.3 Comprehensive SR IOD;
PS3.16 TID 1500 "Measurement Report") written with highdicom:

* observation context (TID 1002/1004): the model as the observing device
  (name, manufacturer, "name version" as model name);
* one Measurements and Qualitative Evaluations group (TID 1501) whose
  Algorithm Identification (TID 4019) names the model, its version and, as
  algorithm parameters, the model's SHA-256, the operating point and the
  evidence run ID; the group and the measurement reference the source
  images' SOP Instance UIDs (TID 1501 "Source image for measurement group",
  TID 300 "Source of Measurement");
* the score as a numeric measurement (value also as Floating Point Value,
  (0040,A161), so the binary64 score of ``cases.csv`` is carried exactly);
* the decision at the operating point as a qualitative evaluation
  (SNOMED CT 10828004 Positive / 260385009 Negative).

Concepts without a standard code use the private coding scheme ``99DXVAL``
(PS3.16 §8: designators starting ``99`` are private). UIDs are derived from
the run ID and the case ID (``2.25`` UUID-derived, PS3.5 B.2), so exporting
the same bundle twice gives the same documents; dates are the run's end.
The SR copies the patient and study of the source images (it belongs to
their study) and stays at the site like them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dxval.errors import InputError
from dxval.interop.results import BundleResults, CaseResult, load_results

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

__all__ = ["SrExport", "export_sr", "sr_for_case"]

PRIVATE_SCHEME = "99DXVAL"
_SCORE = ("SCORE", "Model score")
_DECISION = ("DECISION", "Decision at operating point")


@dataclass(frozen=True, slots=True)
class SrExport:
    """Files written and the cases left out (no score), by case ID."""

    folder: Path
    written: tuple[Path, ...]
    not_exported: tuple[str, ...]


def _uid(*parts: str) -> str:
    from pydicom.uid import generate_uid

    return str(generate_uid(prefix=None, entropy_srcs=["dxval-sr", *parts]))


def _source_datasets(case: CaseResult) -> list[Dataset]:
    import pydicom
    from pydicom.errors import InvalidDicomError

    datasets: list[Dataset] = []
    for path in case.files:
        try:
            datasets.append(pydicom.dcmread(path, stop_before_pixels=True))
        except (InvalidDicomError, OSError, ValueError) as error:
            raise InputError(
                f"{path}: case {case.case_id}: cannot read the source image "
                f"({type(error).__name__})"
            ) from None
    return datasets


def _code(value: str, meaning: str) -> Any:
    from highdicom.sr import CodedConcept

    return CodedConcept(value=value, scheme_designator=PRIVATE_SCHEME, meaning=meaning)


def _date_time(utc: str) -> tuple[str, str]:
    """``2026-12-05T23:24:52.203088Z`` → (``20261205``, ``232452.203088``)."""
    date, _, time = utc.rstrip("Z").partition("T")
    return date.replace("-", ""), time.replace(":", "")


def sr_for_case(results: BundleResults, case: CaseResult, *, instance_number: int) -> Dataset:
    """The Comprehensive SR of one scored case (a pydicom Dataset ready to save)."""
    import highdicom as hd
    from pydicom.dataset import Dataset
    from pydicom.sr.codedict import codes

    sources = _source_datasets(case)
    model = results.model
    score = case.score
    if score is None:
        raise InputError(f"case {case.case_id}: no score; nothing to report")
    algorithm = hd.sr.AlgorithmIdentification(
        name=model.name,
        version=model.version,
        parameters=[
            f"{model.artifact} SHA-256 {model.sha256}",
            f"operating point {results.operating_point!r} (positive when score >= it)",
            f"evidence run {results.run_id}",
            f"protocol {results.protocol_id} version {results.protocol_version}",
        ],
        manufacturer=model.manufacturer,
    )
    images = [(str(d.SOPClassUID), str(d.SOPInstanceUID)) for d in sources]
    measurement = hd.sr.Measurement(
        name=_code(*_SCORE),
        value=score,
        unit=codes.UCUM.NoUnits,
        algorithm_id=algorithm,
        referenced_images=[hd.sr.SourceImageForMeasurement(c, i) for c, i in images],
    )
    decision = codes.SCT.Positive if case.decision == "positive" else codes.SCT.Negative
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=_uid(results.run_id, case.case_id, "tracking"),
            identifier=f"dxval {results.run_id} case {case.case_id}",
        ),
        algorithm_id=algorithm,
        finding_type=codes.SCT.Finding,
        measurements=[measurement],
        qualitative_evaluations=[hd.sr.QualitativeEvaluation(_code(*_DECISION), decision)],
        source_images=[hd.sr.SourceImageForMeasurementGroup(c, i) for c, i in images],
    )
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=_uid(model.sha256, "device"),
            name=model.name[:64],
            manufacturer_name=model.manufacturer,
            model_name=f"{model.name} {model.version}"[:64],
        ),
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=codes.SCT.ImagingProcedure,
        imaging_measurements=[group],
        title=codes.DCM.ImagingMeasurementReport,
    )
    document = hd.sr.ComprehensiveSR(
        evidence=sources,
        content=report,
        series_instance_uid=_uid(results.run_id, "series"),
        series_number=9900,
        sop_instance_uid=_uid(results.run_id, case.case_id, "sr"),
        instance_number=instance_number,
        manufacturer="dxval",
        is_complete=True,
        series_description=f"dxval {results.run_id}"[:64],
    )
    scheme = Dataset()
    scheme.CodingSchemeDesignator = PRIVATE_SCHEME
    scheme.CodingSchemeName = "dxval evidence concepts"
    scheme.CodingSchemeResponsibleOrganization = "dxval"
    document.CodingSchemeIdentificationSequence = [scheme]  # PS3.3 C.12.1.1.2
    date, time = _date_time(results.finished_utc)
    for prefix in ("Content", "Series", "InstanceCreation"):
        setattr(document, f"{prefix}Date", date)
        setattr(document, f"{prefix}Time", time)
    return document


def _save_atomic(dataset: Dataset, path: Path) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(descriptor)
    try:
        dataset.save_as(temporary, enforce_file_format=True)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def export_sr(
    bundle: str | Path,
    out: str | Path,
    *,
    protocol: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> SrExport:
    """Write ``<out>/<case_id>.dcm`` for every scored case of a verified bundle.

    Raises
    ------
    IntegrityError
        The bundle does not verify, or a source image changed since it was scored (exit 3).
    InputError
        The protocol or its manifests cannot be found, or an image cannot be read (exit 2).
    """
    results = load_results(bundle, images=True, protocol=protocol)
    documents: list[tuple[str, Dataset]] = []
    for number, case in enumerate(results.scored, start=1):
        documents.append((case.case_id, sr_for_case(results, case, instance_number=number)))
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for case_id, document in documents:
        path = folder / f"{case_id}.dcm"
        _save_atomic(document, path)
        written.append(path)
        if progress is not None:
            progress(f"export sr: {path}")
    return SrExport(folder, tuple(written), tuple(c.case_id for c in results.unscored))
