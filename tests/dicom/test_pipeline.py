"""Ops applied to images: value-range bookkeeping, MONOCHROME1, shapes, failures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from dxval.dicom import pipeline, steps
from dxval.dicom.failures import CaseFailure, ReasonCode
from dxval.dicom.reader import read_file
from dxval.protocol.preprocessing import plain_steps


def _run(path: Path, *raw: dict[str, object]) -> np.ndarray:
    return pipeline.apply_steps(read_file(path), plain_steps(list(raw)))


def test_every_registered_op_has_a_handler() -> None:
    assert set(pipeline._HANDLERS) == set(steps.STEP_TYPES)


def test_monochrome2_inverts_within_the_stored_range(write_dataset: Callable[..., Path]) -> None:
    pixels = np.array([[0, 1000], [4095, 2000]], dtype=np.uint16)
    path = write_dataset("m1.dcm", pixels, photometric="MONOCHROME1", bits_stored=12)
    assert np.array_equal(_run(path, {"op": "monochrome2"}), 4095 - pixels)
    assert np.array_equal(_run(path, {"op": "monochrome2"}, {"op": "monochrome2"}), 4095 - pixels)
    scaled = _run(path, {"op": "monochrome2"}, {"op": "scale"})
    assert np.allclose(scaled, (4095 - pixels) / 4095)
    monochrome2 = write_dataset("m2.dcm", pixels, bits_stored=12)
    assert np.array_equal(_run(monochrome2, {"op": "monochrome2"}), pixels)


def test_range_follows_rescale_and_window(write_dataset: Callable[..., Path]) -> None:
    pixels = np.array([[0, 10], [20, 4095]], dtype=np.uint16)
    path = write_dataset(
        "ct.dcm",
        pixels,
        bits_stored=12,
        RescaleSlope=-2,
        RescaleIntercept=100,
        PhotometricInterpretation="MONOCHROME1",
    )
    state = pipeline.initial_state(read_file(path))
    assert (state.low, state.high) == (0.0, 4095.0)
    result = _run(path, {"op": "modality_lut"}, {"op": "scale", "low": 0, "high": 1})
    # modality range: -2·4095 + 100 … 100
    assert np.allclose(result, (-2.0 * pixels + 100 - (100 - 8190)) / 8190)
    windowed = _run(
        path,
        {"op": "modality_lut"},
        {"op": "window", "center": 80, "width": 41},
        {"op": "monochrome2"},
    )
    assert windowed.max() <= 1
    assert windowed.min() >= 0
    assert windowed[0, 0] == 0.0  # value 100 is above the window → 1 → inverted to 0


def test_voi_lut_from_the_window_attributes(write_dataset: Callable[..., Path]) -> None:
    pixels = np.arange(16, dtype=np.uint16).reshape(4, 4) * 100
    path = write_dataset(
        "w.dcm",
        pixels,
        WindowCenter=[700, 100],
        WindowWidth=[1401, 201],
        VOILUTFunction="LINEAR_EXACT",
    )
    first = _run(path, {"op": "voi_lut"})
    from dxval.dicom.pixels import apply_window

    assert np.allclose(first, apply_window(pixels, 700, 1401, function="linear_exact"))
    second = _run(path, {"op": "voi_lut", "index": 1})
    assert np.allclose(second, apply_window(pixels, 100, 201, function="linear_exact"))
    with pytest.raises(CaseFailure, match="window 2 requested, file holds 2") as caught:
        _run(path, {"op": "voi_lut", "index": 2})
    assert caught.value.reason_code is ReasonCode.NO_VOI


def test_voi_lut_without_voi_is_a_case_failure(write_dataset: Callable[..., Path]) -> None:
    path = write_dataset("plain.dcm", np.zeros((4, 4), np.uint16))
    with pytest.raises(CaseFailure, match="voi_lut needs a VOI LUT Sequence or a window") as caught:
        _run(path, {"op": "voi_lut"})
    assert caught.value.reason_code is ReasonCode.NO_VOI
    bad = write_dataset(
        "bad.dcm",
        np.zeros((4, 4), np.uint16),
        WindowCenter=1,
        WindowWidth=3,
        VOILUTFunction="CUBIC",
    )
    with pytest.raises(CaseFailure, match="VOILUTFunction 'CUBIC' unknown"):
        _run(bad, {"op": "voi_lut"})


def test_geometry_ops_and_channels(write_dataset: Callable[..., Path]) -> None:
    pixels = np.arange(8 * 6, dtype=np.uint16).reshape(8, 6)
    path = write_dataset("g.dcm", pixels)
    result = _run(
        path,
        {"op": "crop_or_pad", "size": [8, 8]},
        {"op": "resize", "size": [4, 4]},
        {"op": "to_channels", "channels": 3},
        {"op": "normalize", "mean": [0, 1, 2], "std": [1, 1, 2]},
    )
    assert result.shape == (3, 4, 4)
    assert result.dtype == np.float32
    assert np.allclose(result[1], result[0] - 1)


def test_multi_frame_selection_and_shape_mismatch(write_dataset: Callable[..., Path]) -> None:
    frames = np.stack([np.full((4, 4), value, np.uint16) for value in (1, 2, 3)])
    path = write_dataset("mf.dcm", frames)
    assert np.array_equal(_run(path, {"op": "select_frame", "index": -1}), np.full((4, 4), 3))
    with pytest.raises(
        CaseFailure, match=r"preprocessing\[0\] select_frame: index 3 but the image has 3 frames"
    ) as caught:
        _run(path, {"op": "select_frame", "index": 3})
    assert caught.value.reason_code is ReasonCode.SHAPE_MISMATCH
    with pytest.raises(CaseFailure, match="resample needs a series volume"):
        _run(path, {"op": "resample", "spacing": [1, 1, 1]})


def test_resample_a_2d_image_uses_pixel_spacing(write_dataset: Callable[..., Path]) -> None:
    path = write_dataset("ps.dcm", np.zeros((11, 11), np.uint16), PixelSpacing=[0.5, 0.5])
    assert _run(path, {"op": "resample", "spacing": [1, 1, 1]}).shape == (6, 6)


def test_malformed_header_value_is_invalid_header(tmp_path: Path) -> None:
    from pydicom.dataelem import RawDataElement
    from tests.dicom.conftest import make_dataset, write

    dataset = make_dataset(np.zeros((4, 4), np.uint16))
    dataset[0x00281053] = RawDataElement(0x00281053, "DS", 4, b"abc ", 0, False, True)
    path = write(dataset, tmp_path / "rs.dcm")
    with pytest.raises(
        CaseFailure, match=r"preprocessing\[0\] \(modality_lut\) found an unusable header value"
    ) as caught:
        _run(path, {"op": "modality_lut"})
    assert caught.value.reason_code is ReasonCode.INVALID_HEADER
    assert "abc" not in caught.value.message
