"""The preprocessing contact sheet draws no pixels that may carry identifying text."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from dxval.pipeline.contact_sheet import _no_burned_in
from dxval.protocol.sections import Report


def _write(path: Path, burned_in: str | None) -> Path:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = pydicom.Dataset()
    dataset.file_meta = meta
    dataset.SOPClassUID = meta.MediaStorageSOPClassUID
    dataset.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    if burned_in is not None:
        dataset.BurnedInAnnotation = burned_in
    dataset.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.req("DXV-RA-007")
def test_only_files_declaring_no_burned_in_text_are_drawn(tmp_path: Path) -> None:
    clean = _write(tmp_path / "clean.dcm", "NO")
    marked = _write(tmp_path / "marked.dcm", "YES")
    silent = _write(tmp_path / "silent.dcm", None)
    broken = tmp_path / "broken.dcm"
    broken.write_bytes(b"not dicom")
    assert _no_burned_in([clean])
    assert not _no_burned_in([clean, marked])
    assert not _no_burned_in([silent])
    assert not _no_burned_in([broken])


@pytest.mark.req("DXV-RA-007")
def test_the_protocol_can_turn_the_sheet_off() -> None:
    assert Report().contact_sheet is True
    assert Report.model_validate({"contact_sheet": False}).contact_sheet is False
