"""A tiny frozen segmentation model and the CT series it reads (issue 16 item 5 demo).

The model is a 361-byte ONNX graph: for an input ``image`` of shape
[batch, 16, 48, 48] (float32 Hounsfield units, slices first) it returns
``labels`` of the same shape, ``labels = [image >= 10] + [image >= 95]``
(GreaterOrEqual, Cast to float, Add; 0 background, 1 liver, 2 lesion): a
threshold segmentation of the synthetic phantom below. The bytes were
written once with ``onnx.helper`` (opset 17, IR version 8, producer
``dxval-demo``); ``tests/demo/test_segmentation_model.py`` rebuilds them
from this description and checks they are identical. Shipping the bytes
keeps the generator free of the ``onnx`` package, which dxval does not need
at run time.

The series: one CT slice per truth-mask plane ``truth[:, :, k]`` (rows =
mask axis 0, columns = axis 1, slice k at z = k × slice spacing), stored
values HU + 1024 (Rescale Intercept −1024). Background −40 HU, liver 60 HU,
the lesion 60 + 25…80 HU (a faint lesion partly falls under the model's
95 HU threshold, so the model misses part of it), Gaussian noise whose SD
grows with the site's quality index. Synthetic, for demonstration only: not
a medical device, not patient data.
"""

from __future__ import annotations

import base64
import hashlib
import io

import numpy as np
from numpy.typing import NDArray
from pydicom import Dataset, dcmwrite
from pydicom.sequence import Sequence
from pydicom.uid import UID, ExplicitVRLittleEndian

from dxval.demo.cases import derived_uid
from dxval.demo.writer import (
    DEIDENTIFICATION_CODES,
    DEIDENTIFICATION_METHOD,
    IMPLEMENTATION_CLASS_UID,
    IMPLEMENTATION_VERSION_NAME,
    STUDY_DATE,
    STUDY_TIME,
)

__all__ = [
    "LESION_THRESHOLD_HU",
    "LIVER_THRESHOLD_HU",
    "MODEL_SHA256",
    "expected_labels",
    "model_bytes",
    "phantom_hu",
    "reference_input_bytes",
    "series_bytes",
]

LIVER_THRESHOLD_HU = 10.0
LESION_THRESHOLD_HU = 95.0
MODEL_SHA256 = "fb8e401a5c1ba558b2233112e3640c5cac2f6e90b320221fb98aa1fd9ce816e4"
_MODEL_BASE64 = (
    "CAgSCmR4dmFsLWRlbW860gIKKwoFaW1hZ2UKCGxpdmVyX2h1Eghpbl9saXZlciIOR3JlYXRlck9yRXF1YWwK"
    "LQoFaW1hZ2UKCWxlc2lvbl9odRIJaW5fbGVzaW9uIg5HcmVhdGVyT3JFcXVhbAoiCghpbl9saXZlchIFbGl2"
    "ZXIiBENhc3QqCQoCdG8YAaABAgokCglpbl9sZXNpb24SBmxlc2lvbiIEQ2FzdCoJCgJ0bxgBoAECChwKBWxp"
    "dmVyCgZsZXNpb24SBmxhYmVscyIDQWRkEhZ0aHJlc2hvbGRfc2VnbWVudGF0aW9uKhIQASIEAAAgQUIIbGl2"
    "ZXJfaHUqExABIgQAAL5CQglsZXNpb25faHVaJAoFaW1hZ2USGwoZCAESFQoHEgViYXRjaAoCCBAKAggwCgII"
    "MGIlCgZsYWJlbHMSGwoZCAESFQoHEgViYXRjaAoCCBAKAggwCgIIMEIECgAQEQ=="
)
CT_IMAGE_STORAGE = UID("1.2.840.10008.5.1.4.1.1.2")
_INTERCEPT = -1024


def model_bytes() -> bytes:
    """The ONNX model file's bytes (SHA-256 :data:`MODEL_SHA256`)."""
    data = base64.b64decode(_MODEL_BASE64)
    if hashlib.sha256(data).hexdigest() != MODEL_SHA256:  # a damaged constant, never data
        raise RuntimeError("the bundled demo segmentation model is damaged")
    return data


def expected_labels(hu: NDArray[np.floating]) -> NDArray[np.uint16]:
    """What the model computes, in numpy: 1 where HU ≥ 10, 2 where HU ≥ 95, else 0."""
    values = np.asarray(hu, dtype=np.float32)
    liver = values >= np.float32(LIVER_THRESHOLD_HU)
    lesion = values >= np.float32(LESION_THRESHOLD_HU)
    return liver.astype(np.uint16) + lesion.astype(np.uint16)


def phantom_hu(
    truth: NDArray[np.uint8], rng: np.random.Generator, *, noise_sd: float
) -> NDArray[np.int16]:
    """Hounsfield units of a case whose truth label map (x, y, z) is ``truth`` (whole HU)."""
    lesion_hu = 60.0 + float(rng.uniform(25.0, 80.0))
    mean = np.select([truth == 2, truth == 1], [lesion_hu, 60.0], default=-40.0)
    noisy = mean + rng.normal(0.0, noise_sd, truth.shape)
    return np.round(noisy).astype(np.int16)


def _patient_and_study(dataset: Dataset, ids: dict[str, str], case_id: str) -> None:
    dataset.PatientName = f"DEMO^{case_id}"
    dataset.PatientID = case_id
    dataset.PatientBirthDate = ""
    dataset.PatientSex = ""
    dataset.PatientIdentityRemoved = "YES"
    dataset.DeidentificationMethod = DEIDENTIFICATION_METHOD
    codes = []
    for value, meaning in DEIDENTIFICATION_CODES:
        item = Dataset()
        item.CodeValue = value
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = meaning
        codes.append(item)
    dataset.DeidentificationMethodCodeSequence = Sequence(codes)
    dataset.StudyInstanceUID = ids["study"]
    dataset.SeriesInstanceUID = ids["series"]
    dataset.FrameOfReferenceUID = ids["frame"]
    dataset.StudyDate = STUDY_DATE
    dataset.StudyTime = STUDY_TIME
    dataset.ReferringPhysicianName = ""
    dataset.StudyID = ""
    dataset.AccessionNumber = ""


def _image(
    dataset: Dataset, plane: NDArray[np.int16], index: int, spacing: tuple[float, float, float]
) -> None:
    dataset.Modality = "CT"
    dataset.SeriesNumber = 1
    dataset.InstanceNumber = index + 1
    dataset.Manufacturer = "dxval demo"
    dataset.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    dataset.BurnedInAnnotation = "NO"
    dataset.ImagePositionPatient = ["0", "0", f"{index * spacing[2]:g}"]
    dataset.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    dataset.PixelSpacing = [f"{spacing[0]:g}", f"{spacing[1]:g}"]
    dataset.SliceThickness = f"{spacing[2]:g}"
    dataset.SamplesPerPixel = 1
    dataset.PhotometricInterpretation = "MONOCHROME2"
    dataset.Rows, dataset.Columns = plane.shape[0], plane.shape[1]
    dataset.BitsAllocated = 16
    dataset.BitsStored = 16
    dataset.HighBit = 15
    dataset.PixelRepresentation = 0
    dataset.RescaleIntercept = str(_INTERCEPT)
    dataset.RescaleSlope = "1"
    dataset.RescaleType = "HU"
    dataset.PixelData = (plane.astype(np.int32) - _INTERCEPT).astype("<u2").tobytes()
    dataset["PixelData"].VR = "OW"


def _slice(
    hu: NDArray[np.int16],
    index: int,
    spacing: tuple[float, float, float],
    ids: dict[str, str],
    case_id: str,
) -> bytes:
    dataset = Dataset()
    dataset.SOPClassUID = CT_IMAGE_STORAGE
    dataset.SOPInstanceUID = derived_uid("seg-instance", ids["seed"], case_id, index)
    _patient_and_study(dataset, ids, case_id)
    _image(dataset, hu[:, :, index], index, spacing)
    meta = Dataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = dataset.SOPClassUID
    meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    dataset.file_meta = meta  # type: ignore[assignment]
    buffer = io.BytesIO()
    dcmwrite(buffer, dataset, enforce_file_format=True)
    return buffer.getvalue()


def series_bytes(
    hu: NDArray[np.int16], spacing: tuple[float, float, float], *, seed: int, case_id: str
) -> list[bytes]:
    """One CT Image Storage file per plane ``hu[:, :, k]`` (PS3.3 A.3), deterministic bytes."""
    ids = {
        "seed": str(seed),
        "study": derived_uid("seg-study", seed, case_id),
        "series": derived_uid("seg-series", seed, case_id),
        "frame": derived_uid("seg-frame", seed, case_id),
    }
    return [_slice(hu, index, spacing, ids, case_id) for index in range(hu.shape[2])]


def reference_input_bytes() -> bytes:
    """The golden check's input: one [1, 16, 48, 48] float32 ramp from −200 to 300 HU (.npy)."""
    ramp = np.linspace(-200.0, 300.0, 16 * 48 * 48, dtype=np.float32).reshape(1, 16, 48, 48)
    buffer = io.BytesIO()
    np.save(buffer, ramp, allow_pickle=False)
    return buffer.getvalue()
