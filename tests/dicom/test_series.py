"""CT series: slices sorted along the normal, consistency checks, stacking, resampling."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid
from tests.dicom.conftest import real_file, write

from dxval.dicom.failures import CaseFailure, ReasonCode
from dxval.dicom.loader import CaseLoader
from dxval.dicom.reader import read_case
from dxval.dicom.series import resample_volume
from dxval.protocol.preprocessing import plain_steps

SLICES = 6
GAP = 2.5


def _write_series(
    folder: Path,
    *,
    orientation: tuple[float, ...] = (1, 0, 0, 0, 1, 0),
    seed: int = 0,
    change: dict[int, dict[str, object]] | None = None,
) -> list[Path]:
    """Copies of the real CT_small slice at positions 0, GAP, 2·GAP… along the normal.

    Each slice's pixels are offset by 10·index so that order is visible, and
    files are written in a shuffled order under shuffled names.
    """
    folder.mkdir(parents=True, exist_ok=True)
    source = pydicom.dcmread(real_file("CT_small.dcm"))
    base = source.pixel_array.copy()
    row, column = np.array(orientation[:3]), np.array(orientation[3:])
    normal = np.cross(row, column)
    series_uid = generate_uid()
    order = [int(index) for index in np.random.default_rng(seed).permutation(SLICES)]
    paths = []
    for written, index in enumerate(order):
        dataset = copy.deepcopy(source)
        dataset.SOPInstanceUID = dataset.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        dataset.SeriesInstanceUID = series_uid
        dataset.ImageOrientationPatient = list(orientation)
        dataset.ImagePositionPatient = list(np.array([-50.0, 20.0, 100.0]) + index * GAP * normal)
        dataset.InstanceNumber = SLICES - index  # deliberately misleading
        dataset.PixelData = (base + 10 * index).astype(np.int16).tobytes()
        for keyword, value in (change or {}).get(index, {}).items():
            if value is None:
                delattr(dataset, keyword)
            else:
                setattr(dataset, keyword, value)
        paths.append(write(dataset, folder / f"file{written:02d}.dcm"))
    return paths


@pytest.mark.req("DXV-DICOM-009")
def test_shuffled_series_stacks_into_the_same_volume(tmp_path: Path) -> None:
    _write_series(tmp_path / "a", seed=1)
    first = read_case([tmp_path / "a"])
    second = read_case(_write_series(tmp_path / "b", seed=2))
    base = pydicom.dcmread(real_file("CT_small.dcm")).pixel_array
    expected = np.stack([base + 10 * index for index in range(SLICES)])
    assert np.array_equal(first.pixels, expected)
    assert np.array_equal(second.pixels, expected)
    assert first.spacing == pytest.approx((GAP, 0.661468, 0.661468))
    assert len(first.headers) == SLICES
    assert [float(h.ImagePositionPatient[2]) for h in first.headers] == pytest.approx(
        [100 + GAP * index for index in range(SLICES)]
    )


@pytest.mark.req("DXV-DICOM-009")
def test_oblique_series_sorts_along_its_normal(tmp_path: Path) -> None:
    c, s = np.cos(0.3), np.sin(0.3)
    image = read_case(_write_series(tmp_path, orientation=(c, s, 0, 0, 0, -1), seed=3))
    assert np.array_equal(image.pixels[:, 0, 0] - image.pixels[0, 0, 0], 10 * np.arange(SLICES))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({2: {"ImageOrientationPatient": [0, 1, 0, 0, 0, -1]}}, "ImageOrientationPatient differs"),
        ({3: {"ImagePositionPatient": None}}, "ImagePositionPatient missing or not numeric"),
        ({1: {"SeriesInstanceUID": "1.2.3"}}, r"SeriesInstanceUID differs \(mixed series\)"),
        ({4: {"PixelSpacing": [0.9, 0.9]}}, "PixelSpacing differs within the series"),
        ({4: {"ImagePositionPatient": [-50.0, 20.0, 100.0]}}, "two slices at the same position"),
        (
            {5: {"ImagePositionPatient": [-50.0, 20.0, 100.0 + 7 * GAP]}},
            "slice gaps range 2.5-7.5 mm",
        ),
        ({2: {"ImagePositionPatient": [-45.0, 20.0, 105.0]}}, "off the slice normal"),
    ],
)
@pytest.mark.req("DXV-DICOM-009")
def test_inconsistent_series_is_a_case_failure(
    tmp_path: Path, change: dict[int, dict[str, object]], message: str
) -> None:
    paths = _write_series(tmp_path, change=change)
    with pytest.raises(CaseFailure, match=message) as caught:
        read_case([tmp_path])
    assert caught.value.reason_code is ReasonCode.INCONSISTENT_SERIES
    assert len(paths) == SLICES


def test_series_of_different_sizes_is_inconsistent(tmp_path: Path) -> None:
    _write_series(tmp_path)
    odd = pydicom.dcmread(real_file("MR_small.dcm"))
    write(odd, tmp_path / "zz.dcm")
    with pytest.raises(CaseFailure, match=r"\(64, 64\) pixels, \(128, 128\)"):
        read_case([tmp_path])


def test_series_pipeline_applies_per_slice_rescale_and_selects(tmp_path: Path) -> None:
    change = {index: {"RescaleIntercept": -1024 + 100 * index} for index in range(SLICES)}
    _write_series(tmp_path, change=change)
    loader = CaseLoader(
        plain_steps(
            [{"op": "modality_lut"}, {"op": "select_slices", "count": 2, "start": 1, "step": 2}]
        )
    )
    volume = loader([tmp_path])
    base = pydicom.dcmread(real_file("CT_small.dcm")).pixel_array.astype(np.float32)
    for position, index in enumerate((1, 3)):
        assert np.array_equal(volume[position], base + 10 * index - 1024 + 100 * index)


def test_resample_volume_is_linear_and_keeps_the_extent() -> None:
    volume = np.arange(5, dtype=float)[:, None, None] * np.ones((5, 4, 4))
    resampled, spacing = resample_volume(volume, (2.0, 1.0, 1.0), (0.5, 1.0, 1.0))
    assert spacing == (0.5, 1.0, 1.0)
    assert resampled.shape == (17, 4, 4)
    assert np.allclose(resampled[:, 0, 0], np.arange(17) / 4)
    coarse, _ = resample_volume(volume, (2.0, 1.0, 1.0), (3.0, 2.0, 2.0))
    assert coarse.shape == (3, 2, 2)
    assert np.allclose(coarse[:, 0, 0], [0, 1.5, 3])
    with pytest.raises(ValueError, match="3-D array needs 3 spacings"):
        resample_volume(volume, (1.0, 1.0), (1.0, 1.0))


def test_resample_op_on_a_series(tmp_path: Path) -> None:
    _write_series(tmp_path)
    volume = CaseLoader(plain_steps([{"op": "resample", "spacing": [1.25, 1.0, 1.0]}]))([tmp_path])
    assert volume.shape[0] == 11  # 5 gaps of 2.5 mm at 1.25 mm
    assert volume.shape[1:] == (85, 85)  # 127 pixels × 0.661468 mm = 84.0 mm → 85 samples
