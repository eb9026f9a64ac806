"""Pure pixel transforms: formulas of PS3.3 C.11 at their borders, geometry ops."""

from __future__ import annotations

import numpy as np
import pytest

from dxval.dicom import pixels


def test_stored_value_range() -> None:
    assert pixels.stored_value_range(12, 0) == (0.0, 4095.0)
    assert pixels.stored_value_range(16, 1) == (-32768.0, 32767.0)


def test_rescale_and_lut_lookup_clamp() -> None:
    stored = np.array([[0, 1], [2, 3]], dtype=np.uint16)
    assert np.array_equal(
        pixels.apply_rescale(stored, 2.0, -1024), [[-1024, -1022], [-1020, -1018]]
    )
    table = np.array([10, 20, 30])
    assert np.array_equal(
        pixels.apply_lut(np.array([-5, 5, 6, 7, 100]), table, 5), [10, 10, 20, 30, 30]
    )


def test_lut_descriptor_zero_entries_and_signed_first_value() -> None:
    assert pixels.lut_descriptor([0, 0, 16]) == (65536, 0, 16)
    assert pixels.lut_descriptor([4096, 63488, 16], signed_input=True) == (4096, -2048, 16)
    assert pixels.lut_descriptor([4096, 63488, 16]) == (4096, 63488, 16)


def test_linear_window_follows_c_11_2_1_2_1() -> None:
    center, width = 40.0, 400.0
    lower = center - 0.5 - (width - 1) / 2  # -160
    values = np.array([lower - 1, lower, lower + 0.5, center - 0.5, lower + width - 1, 1e9])
    result = pixels.apply_window(values, center, width)
    expected_ramp = ((values[2] - (center - 0.5)) / (width - 1)) + 0.5
    assert result[0] == 0.0
    assert result[1] == 0.0
    assert result[2] == pytest.approx(expected_ramp)
    assert result[3] == pytest.approx(0.5)
    assert result[4] == pytest.approx(1.0)
    assert result[5] == 1.0


def test_width_one_is_a_step() -> None:
    assert np.array_equal(pixels.apply_window(np.array([9.0, 9.5, 10.0]), 10.0, 1.0), [0, 0, 1])


def test_linear_exact_and_sigmoid() -> None:
    values = np.array([-1.0, 0.0, 25.0, 50.0, 51.0])
    exact = pixels.apply_window(values, 25.0, 50.0, function="linear_exact")
    assert np.allclose(exact, [0.0, 0.0, 0.5, 1.0, 1.0])
    sigmoid = pixels.apply_window(np.array([25.0, 75.0]), 25.0, 50.0, function="sigmoid")
    assert sigmoid[0] == pytest.approx(0.5)
    assert sigmoid[1] == pytest.approx(1 / (1 + np.exp(-4.0)))


@pytest.mark.parametrize(
    ("function", "width", "message"),
    [
        ("linear", 0.5, "not allowed for linear"),
        ("sigmoid", 0.0, "not allowed for sigmoid"),
        ("cubic", 5, "unknown VOI LUT function"),
    ],
)
def test_window_rejects_bad_parameters(function: str, width: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pixels.apply_window(np.zeros(2), 0.0, width, function=function)  # type: ignore[arg-type]


def test_invert_monochrome1_reflects_within_the_range() -> None:
    assert np.array_equal(
        pixels.invert_monochrome1(np.array([0.0, 0.25, 1.0]), 0.0, 1.0), [1, 0.75, 0]
    )
    assert np.array_equal(pixels.invert_monochrome1(np.array([0, 4095]), 0, 4095), [4095, 0])


def test_area_resize_averages_overlaps() -> None:
    image = np.arange(16, dtype=float).reshape(4, 4)
    halved = pixels.resize(image, (2, 2), method="area")
    assert np.allclose(halved, image.reshape(2, 2, 2, 2).mean(axis=(1, 3)))
    three_to_two = pixels.resize_matrix(3, 2, "area")
    assert np.allclose(three_to_two, [[2 / 3, 1 / 3, 0], [0, 1 / 3, 2 / 3]])
    for source, target in ((1955, 256), (7, 3), (3, 7)):
        assert np.allclose(pixels.resize_matrix(source, target, "area").sum(axis=1), 1.0)


def test_bilinear_matches_torch_interpolate() -> None:
    import torch  # a dev dependency, installed in CI

    generator = np.random.default_rng(4)
    image = generator.normal(size=(2, 37, 23))
    for size in ((16, 16), (50, 31), (37, 23)):
        ours = pixels.resize(image, size, method="bilinear")
        theirs = torch.nn.functional.interpolate(
            torch.from_numpy(image)[None], size=size, mode="bilinear", align_corners=False
        )[0].numpy()
        assert np.allclose(ours, theirs, atol=1e-12)


def test_crop_or_pad_centres() -> None:
    image = np.arange(12, dtype=float).reshape(3, 4)
    padded = pixels.crop_or_pad(image, (5, 6), fill=-1)
    assert padded.shape == (5, 6)
    assert np.array_equal(padded[1:4, 1:5], image)
    assert (padded[0] == -1).all()
    cropped = pixels.crop_or_pad(image, (1, 2), fill=0)
    assert np.array_equal(cropped, [[5, 6]])
    mixed = pixels.crop_or_pad(image, (2, 6), fill=0)
    assert np.array_equal(mixed[:, 1:5], image[0:2])


def test_scale_normalize_channels() -> None:
    assert np.array_equal(
        pixels.rescale_linear(np.array([0, 50, 100]), (0, 100), (-1, 1)), [-1, 0, 1]
    )
    assert np.array_equal(pixels.rescale_linear(np.array([3, 3]), (3, 3), (0, 1)), [0, 0])
    stacked = pixels.to_channels(np.ones((2, 2)), 3)
    assert stacked.shape == (3, 2, 2)
    normalized = pixels.normalize(stacked * [[[1]], [[2]], [[3]]], [1, 2, 3], [1, 2, 3])
    assert np.array_equal(normalized, np.zeros((3, 2, 2)))
    with pytest.raises(pixels.ShapeError, match="2 mean values for 3 channels"):
        pixels.normalize(stacked, [0, 1], 1)


def test_select_frame_and_slices() -> None:
    volume = np.arange(5 * 2 * 2, dtype=float).reshape(5, 2, 2)
    assert np.array_equal(pixels.select_frame(volume, -1), volume[4])
    assert np.array_equal(pixels.select_frame(volume[0], 0), volume[0])
    with pytest.raises(pixels.ShapeError, match="index 5 but the image has 5 frames"):
        pixels.select_frame(volume, 5)
    with pytest.raises(pixels.ShapeError, match="index 1 but the image has 1 frame"):
        pixels.select_frame(volume[0], 1)
    assert np.array_equal(pixels.select_slices(volume, 3), volume[1:4])
    assert np.array_equal(pixels.select_slices(volume, 2, start=1, step=2), volume[[1, 3]])
    with pytest.raises(
        pixels.ShapeError, match="4 slices \\(step 2\\) from 0 but the volume has 5"
    ):
        pixels.select_slices(volume, 4, start=0, step=2)
    with pytest.raises(pixels.ShapeError, match="expected a 3-D volume"):
        pixels.select_slices(volume[0], 1)
