"""Fixtures for the DICOM tests: real files from pydicom and pydicom-data, dcmtk, writers.

Real images come from the pydicom wheel and the ``pydicom-data`` package
(../shared/reference/README.md, "Real DICOM, offline"); dcmtk's ``dcm2pnm``
is the independent peer for the pixel transforms. CI installs both (.ci/run);
when one is missing the tests fail with a message saying what to install —
they never skip.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest
from numpy.typing import NDArray
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid


def real_file(name: str) -> Path:
    """Path of a real test file shipped by pydicom or pydicom-data; fail clearly if absent."""
    from pydicom.data import get_testdata_file

    found = get_testdata_file(name, download=False)
    if found is None:
        pytest.fail(
            f"test file {name} not found: install the 'pydicom-data' package "
            "(pip install pydicom-data; .ci/run does)"
        )
    return Path(str(found))


def require_tool(name: str) -> str:
    """Path of a command-line tool; fail (not skip) with an install hint when absent."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} not found: install Debian's dcmtk (apt-get install dcmtk; .ci/run does)"
        )
    return path


def read_pgm(path: Path) -> NDArray[np.int64]:
    """Read a binary 8-bit PGM (P5) as written by dcm2pnm."""
    data = path.read_bytes()
    magic, width, height, maximum, pixels = data.split(maxsplit=4)
    assert magic == b"P5"
    assert int(maximum) < 256
    count = int(width) * int(height)
    array = np.frombuffer(pixels[:count], dtype=np.uint8)
    return array.reshape(int(height), int(width)).astype(np.int64)


@pytest.fixture
def dcm2pnm(tmp_path: Path) -> Callable[..., NDArray[np.int64]]:
    """Run ``dcm2pnm OPTIONS FILE out.pgm`` and return the 8-bit image."""
    tool = require_tool("dcm2pnm")

    def run(source: Path, *options: str) -> NDArray[np.int64]:
        output = tmp_path / f"{source.stem}.pgm"
        subprocess.run([tool, *options, str(source), str(output)], check=True, capture_output=True)
        return read_pgm(output)

    return run


def make_dataset(
    pixels: NDArray[np.generic],
    *,
    photometric: str = "MONOCHROME2",
    bits_stored: int | None = None,
    **attributes: object,
) -> Dataset:
    """A minimal valid secondary-capture-like data set holding ``pixels`` (2-D or 3-D)."""
    array = np.asarray(pixels)
    signed = array.dtype.kind == "i"
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.SOPClassUID = meta.MediaStorageSOPClassUID
    dataset.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    dataset.Modality = "OT"
    dataset.SamplesPerPixel = 1
    dataset.PhotometricInterpretation = photometric
    dataset.Rows, dataset.Columns = array.shape[-2:]
    if array.ndim == 3:
        dataset.NumberOfFrames = array.shape[0]
    dataset.BitsAllocated = array.dtype.itemsize * 8
    dataset.BitsStored = bits_stored or dataset.BitsAllocated
    dataset.HighBit = dataset.BitsStored - 1
    dataset.PixelRepresentation = int(signed)
    for keyword, value in attributes.items():
        setattr(dataset, keyword, value)
    dataset.PixelData = array.tobytes()
    return dataset


def write(dataset: Dataset, path: Path) -> Path:
    """Write ``dataset`` as a Part 10 file (preamble + meta) and return ``path``."""
    dataset.save_as(path, enforce_file_format=True)
    return path


@pytest.fixture
def write_dataset(tmp_path: Path) -> Callable[..., Path]:
    """Write a :func:`make_dataset` data set under tmp_path; returns its path."""

    def run(name: str, pixels: NDArray[np.generic], **keywords: object) -> Path:
        return write(make_dataset(pixels, **keywords), tmp_path / name)

    return run


def read(path: Path) -> Dataset:
    """pydicom's reading of ``path`` (for reference values)."""
    return pydicom.dcmread(path)


MODEL_PROTOCOL = """\
dxval: 1
id: VAL-DICOM-001
title: DICOM command test
version: "1.0"
device: {name: Test device, version: 0.1.0, intended_use: testing}
model:
  path: model.onnx
  runtime: onnxruntime
  input: {name: image, shape: [null, 1, 32, 32], dtype: float32}
  output: {name: score}
  operating_point: 0.5
preprocessing:
  - {op: modality_lut}
  - {op: window, center: 40, width: 400}
  - {op: monochrome2}
  - {op: resize, size: [32, 32]}
  - {op: to_channels, channels: 1}
test_sets:
  - {id: site-a, site: Site A, manifest: a/manifest.csv}
  - {id: site-b, site: Site B, manifest: b/manifest.csv}
truth: {column: label, positive: 1, negative: 0, reference_standard: biopsy}
requirements:
  - id: PERF-001
    text: Sensitivity at least 0.8.
    criteria:
      - {metric: sensitivity, population: all, bound: lower, op: ">=", value: 0.8}
"""


def write_model_protocol(folder: Path) -> Path:
    """A model protocol with two test sets: a CT (site A), an MR and a non-DICOM file (site B)."""
    for name in ("a", "b"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    shutil.copy(real_file("CT_small.dcm"), folder / "a" / "ct.dcm")
    shutil.copy(real_file("MR_small.dcm"), folder / "b" / "mr.dcm")
    (folder / "b" / "bad.dcm").write_text("not an image\n")
    (folder / "a" / "manifest.csv").write_text("case_id,path,label\nA1,ct.dcm,1\n")
    (folder / "b" / "manifest.csv").write_text("case_id,path,label\nB1,mr.dcm,0\nB2,bad.dcm,1\n")
    protocol = folder / "protocol.yaml"
    protocol.write_text(MODEL_PROTOCOL)
    return protocol
