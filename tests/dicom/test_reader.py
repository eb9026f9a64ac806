"""Reading files: shapes, and every kind of bad file as a reason-coded case failure."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.dicom.conftest import make_dataset, real_file, write

from dxval.dicom.failures import CaseFailure, ReasonCode
from dxval.dicom.loader import CaseLoader
from dxval.dicom.reader import read_case, read_file, read_header
from dxval.protocol.preprocessing import plain_steps


def _reason(call: object, *args: object) -> ReasonCode:
    with pytest.raises(CaseFailure) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.reason_code


def test_single_and_multi_frame_shapes() -> None:
    single = read_file(real_file("CT_small.dcm"))
    assert single.pixels.shape == (128, 128)
    assert single.pixels.dtype == np.int16
    multi = read_file(real_file("emri_small.dcm"))
    assert multi.pixels.shape == (10, 64, 64)
    assert "PixelData" not in multi.header  # the header is kept without the bulk data


def test_read_case_accepts_one_file_or_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "one"
    folder.mkdir()
    write(pydicom.dcmread(real_file("CT_small.dcm")), folder / "a.dcm")
    assert read_case([folder]).pixels.shape == (128, 128)
    assert read_case([folder / "a.dcm"]).sources == (folder / "a.dcm",)


def test_not_dicom(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("this is not an image\n" * 20)
    assert _reason(read_file, text) is ReasonCode.NOT_DICOM
    assert _reason(read_file, real_file("no_meta.dcm")) is ReasonCode.NOT_DICOM


def test_missing_file_and_empty_folder(tmp_path: Path) -> None:
    assert _reason(read_file, tmp_path / "absent.dcm") is ReasonCode.UNREADABLE
    with pytest.raises(CaseFailure, match="folder holds no files"):
        read_case([tmp_path])
    with pytest.raises(CaseFailure, match="the case lists no files"):
        read_case([])


@pytest.mark.req("DXV-DICOM-004")
def test_truncated_pixel_data(tmp_path: Path) -> None:
    with pytest.raises(CaseFailure, match="Pixel Data holds 8130 bytes, 8192 expected") as caught:
        read_file(real_file("MR_truncated.dcm"))
    assert caught.value.reason_code is ReasonCode.TRUNCATED_PIXEL_DATA
    short = write(make_dataset(np.zeros((8, 8), np.uint16)), tmp_path / "short.dcm")
    dataset = pydicom.dcmread(short)
    dataset.PixelData = dataset.PixelData[:-10]
    write(dataset, short)
    assert _reason(read_file, short) is ReasonCode.TRUNCATED_PIXEL_DATA
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(real_file("MR_small_jp2klossless.dcm").read_bytes()[:-500])
    assert _reason(read_file, cut) is ReasonCode.TRUNCATED_PIXEL_DATA
    assert _reason(read_file, real_file("emri_small_jpeg_2k_lossless_too_short.dcm")) is (
        ReasonCode.TRUNCATED_PIXEL_DATA
    )


def test_no_pixel_data(tmp_path: Path) -> None:
    with pytest.raises(CaseFailure, match=r"no Pixel Data \(7FE0,0010\)") as caught:
        read_file(real_file("rtplan.dcm"))
    assert caught.value.reason_code is ReasonCode.NO_PIXEL_DATA


def test_unsupported_transfer_syntax(tmp_path: Path) -> None:
    dataset = pydicom.dcmread(real_file("MR_small_jp2klossless.dcm"))
    dataset.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.92"  # JPEG 2000 Part 2 MC
    path = write(dataset, tmp_path / "part2.dcm")
    with pytest.raises(
        CaseFailure, match=r"1.2.840.10008.1.2.4.92 \(JPEG 2000 Part 2.* has no allowed decoder"
    ):
        read_file(path)
    assert _reason(read_file, path) is ReasonCode.UNSUPPORTED_TRANSFER_SYNTAX


def test_colour_and_bad_headers(tmp_path: Path) -> None:
    assert (
        _reason(read_file, real_file("SC_rgb.dcm"))
        is ReasonCode.UNSUPPORTED_PHOTOMETRIC_INTERPRETATION
    )
    dataset = make_dataset(np.zeros((4, 4), np.uint16))
    dataset.BitsStored = 17
    with pytest.raises(CaseFailure, match=r"BitsStored 17 outside 1\.\.BitsAllocated"):
        read_file(write(dataset, tmp_path / "bits.dcm"))
    del dataset.Rows
    dataset.BitsStored = 16
    with pytest.raises(CaseFailure, match="Rows missing") as caught:
        read_file(write(dataset, tmp_path / "rows.dcm"))
    assert caught.value.reason_code is ReasonCode.INVALID_HEADER


def test_corrupt_compressed_stream_is_a_decode_error(tmp_path: Path) -> None:
    dataset = pydicom.dcmread(real_file("MR_small_jp2klossless.dcm"))
    from pydicom.encaps import encapsulate, generate_frames

    frame = next(generate_frames(dataset.PixelData, number_of_frames=1))
    dataset.PixelData = encapsulate([frame[:20] + bytes(len(frame) - 20)])
    path = write(dataset, tmp_path / "garbled.dcm")
    with pytest.raises(CaseFailure, match="pylibjpeg-openjpeg could not decode the pixel data"):
        read_file(path)


def test_header_only_read() -> None:
    header = read_header(real_file("RG1_UNCR.dcm"))
    assert "PixelData" not in header
    assert header.Rows == 1955


def _load_or_failure(loader: CaseLoader, path: Path) -> np.ndarray | CaseFailure:
    """The tensor, or the CaseFailure raised; any other exception propagates (a test failure)."""
    try:
        return loader([path])
    except CaseFailure as failure:
        return failure


_FUZZ_SOURCES = ("MR_small.dcm", "CT_small.dcm", "MR_small_RLE.dcm", "MR_small_jp2klossless.dcm")


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom warns about the mutated values
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(
    source=st.sampled_from(_FUZZ_SOURCES),
    mutations=st.lists(
        st.tuples(st.floats(min_value=0, max_value=1, exclude_max=True), st.integers(0, 255)),
        min_size=1,
        max_size=8,
    ),
    keep=st.one_of(st.none(), st.floats(min_value=0.0, max_value=1.0)),
)
@pytest.mark.req("DXV-DICOM-004")
def test_mutated_real_files_fail_only_with_reason_codes(
    source: str, mutations: list[tuple[float, int]], keep: float | None
) -> None:
    data = bytearray(real_file(source).read_bytes())
    for where, value in mutations:
        data[int(where * len(data))] = value
    if keep is not None:
        data = data[: int(keep * len(data))]
    loader = CaseLoader(
        plain_steps(
            [{"op": "modality_lut"}, {"op": "select_frame"}, {"op": "scale", "source": "image"}]
        )
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mutated.dcm"
        path.write_bytes(bytes(data))
        outcome = _load_or_failure(loader, path)
    if isinstance(outcome, CaseFailure):
        assert outcome.reason_code in set(ReasonCode)
        assert outcome.message
    else:
        assert outcome.dtype == np.float32
        assert outcome.ndim == 2
