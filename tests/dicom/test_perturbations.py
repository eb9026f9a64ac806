"""Robustness perturbations: identity levels, determinism, physical units, the closed registry."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dxval.dicom.perturbations import (
    DEFAULT_PERTURBATIONS,
    REGISTRY,
    PerturbationName,
    apply_perturbation,
    make_perturbation,
)
from dxval.errors import InputError, ProtocolError

IDENTITY_LEVELS = [
    ("rotation", {"degrees": 0}),
    ("translation", {"rows_mm": 0, "columns_mm": 0}),
    ("scaling", {"factor": 1}),
    ("gaussian_noise", {"relative_sd": 0}),
    ("blur", {"sigma_mm": 0}),
    ("gamma", {"gamma": 1}),
    ("brightness", {"shift_fraction": 0}),
    ("resampling", {"factor": 1}),
    ("ct_window", {"center_shift": 0, "width_scale": 1}),
]
CHANGING_LEVELS = [
    ("rotation", {"degrees": 10}),
    ("translation", {"rows_mm": 3, "columns_mm": -2}),
    ("scaling", {"factor": 1.2}),
    ("gaussian_noise", {"relative_sd": 0.02}),
    ("blur", {"sigma_mm": 1}),
    ("gamma", {"gamma": 1.5}),
    ("brightness", {"shift_fraction": 0.1}),
    ("jpeg", {"quality": 50}),
    ("resampling", {"factor": 0.5}),
]


def _image(dtype: type = np.float64) -> np.ndarray:
    rng = np.random.default_rng(0)
    rows, columns = np.mgrid[0:48, 0:40]
    smooth = 800 + 400 * np.sin(rows / 7) * np.cos(columns / 5)
    return (smooth + rng.normal(0, 30, smooth.shape)).astype(dtype)


def test_every_registry_entry_is_exercised() -> None:
    named = {name for name, _ in CHANGING_LEVELS} | {PerturbationName.LATERAL_FLIP.value}
    named |= {PerturbationName.CT_WINDOW.value}  # moves the model's window, not the pixels:
    # tests/dicom/test_perturbations_window.py
    assert named == {member.value for member in PerturbationName} == {m.value for m in REGISTRY}
    assert PerturbationName.LATERAL_FLIP not in DEFAULT_PERTURBATIONS


@pytest.mark.req("DXV-PREC-004")
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int16])
@pytest.mark.parametrize(("name", "parameters"), IDENTITY_LEVELS)
def test_identity_level_returns_the_input_bit_for_bit(
    name: str, parameters: dict[str, float], dtype: type
) -> None:
    image = _image(dtype)
    perturbation = make_perturbation(name, parameters, seed=5)
    assert perturbation.is_identity
    result = apply_perturbation(image, (0.5, 0.7), perturbation)
    assert result.dtype == image.dtype
    assert result.tobytes() == image.tobytes()
    assert result is not image


@pytest.mark.req("DXV-PREC-004")
@pytest.mark.parametrize(("name", "parameters"), CHANGING_LEVELS)
def test_perturbations_are_deterministic_and_change_the_image(
    name: str, parameters: dict[str, float]
) -> None:
    image = _image()
    first = apply_perturbation(image, (0.5, 0.7), make_perturbation(name, parameters, seed=9))
    again = apply_perturbation(image, (0.5, 0.7), make_perturbation(name, parameters, seed=9))
    assert first.tobytes() == again.tobytes()
    assert first.shape == image.shape
    assert first.dtype == np.float64
    assert not np.array_equal(first, image)
    assert np.array_equal(image, _image())  # input untouched


@pytest.mark.req("DXV-PREC-004")
def test_noise_is_seeded_and_relative_to_the_intensity_range() -> None:
    image = np.zeros((400, 400))
    image[0, 0] = 50.0  # intensity range 50
    level = {"relative_sd": 0.1}
    one = apply_perturbation(image, None, make_perturbation("gaussian_noise", level, seed=1))
    two = apply_perturbation(image, None, make_perturbation("gaussian_noise", level, seed=2))
    assert not np.array_equal(one, two)
    assert float(np.std(one - image)) == pytest.approx(5.0, rel=0.01)


@pytest.mark.req("DXV-PREC-004")
def test_blur_sd_is_in_mm_through_the_pixel_spacing() -> None:
    image = np.zeros((81, 81))
    image[40, 40] = 1.0
    blurred = apply_perturbation(
        image, (0.5, 1.0), make_perturbation("blur", {"sigma_mm": 2}, seed=0)
    )
    offsets = np.arange(81) - 40
    row_variance = float((blurred.sum(axis=1) * offsets**2).sum() / blurred.sum())
    column_variance = float((blurred.sum(axis=0) * offsets**2).sum() / blurred.sum())
    assert row_variance == pytest.approx((2 / 0.5) ** 2, rel=0.02)  # 4 pixels
    assert column_variance == pytest.approx((2 / 1.0) ** 2, rel=0.02)  # 2 pixels


@pytest.mark.req("DXV-PREC-004")
def test_geometric_perturbations_against_exact_cases() -> None:
    image = _image()
    shifted = apply_perturbation(
        image, (0.5, 1.0), make_perturbation("translation", {"rows_mm": 1, "columns_mm": 0}, seed=0)
    )
    np.testing.assert_allclose(shifted[2:], image[:-2], rtol=0, atol=1e-9)  # 1 mm = 2 rows
    square = image[:40, :40]
    rotated = apply_perturbation(
        square, None, make_perturbation("rotation", {"degrees": 90}, seed=0)
    )
    np.testing.assert_allclose(rotated, np.rot90(square), rtol=0, atol=1e-9)
    odd = image[:39, :39]
    zoomed = apply_perturbation(odd, None, make_perturbation("scaling", {"factor": 2}, seed=0))
    assert zoomed[19, 19] == pytest.approx(odd[19, 19])  # centre fixed
    assert zoomed[21, 19] == pytest.approx(odd[20, 19])  # 2 pixels out = 1 pixel in


@pytest.mark.req("DXV-PREC-004")
def test_intensity_perturbations_keep_their_anchors() -> None:
    image = _image()
    low, high = image.min(), image.max()
    gamma = apply_perturbation(image, None, make_perturbation("gamma", {"gamma": 2}, seed=0))
    assert (gamma.min(), gamma.max()) == pytest.approx((low, high))
    assert np.all(np.diff(gamma.ravel()[np.argsort(image.ravel())]) >= 0)  # monotone
    brighter = apply_perturbation(
        image, None, make_perturbation("brightness", {"shift_fraction": -0.25}, seed=0)
    )
    np.testing.assert_allclose(brighter - image, -0.25 * (high - low))


@pytest.mark.req("DXV-PREC-004")
def test_jpeg_and_resampling_lose_more_at_stronger_levels() -> None:
    image = _image()

    def error(name: str, parameters: dict[str, float]) -> float:
        result = apply_perturbation(image, None, make_perturbation(name, parameters, seed=0))
        return float(np.abs(result - image).mean() / (image.max() - image.min()))

    assert error("jpeg", {"quality": 95}) < error("jpeg", {"quality": 5})
    assert error("jpeg", {"quality": 95}) < 0.02
    assert error("resampling", {"factor": 0.9}) < error("resampling", {"factor": 0.2})


@pytest.mark.req("DXV-PREC-005")
def test_lateral_flip_is_refused_without_the_flag_and_a_reason() -> None:
    with pytest.raises(
        ProtocolError,
        match=r"robustness\[1\]: .*'lateral_flip' without "
        r"allow_lateral_flip: true; refused because .*lateralised anatomy",
    ):
        make_perturbation("lateral_flip", {}, seed=0, where="robustness[1]")
    for reason in (None, "", "   "):
        with pytest.raises(ProtocolError, match=r"needs a non-empty reason.*lateralised"):
            make_perturbation("lateral_flip", {}, seed=0, allow_lateral_flip=True, reason=reason)
    flip = make_perturbation(
        "lateral_flip", {}, seed=0, allow_lateral_flip=True, reason=" extremity radiographs "
    )
    assert flip.lateral_flip_reason == "extremity radiographs"
    image = _image()
    assert np.array_equal(apply_perturbation(image, None, flip), image[:, ::-1])


@pytest.mark.req("DXV-PREC-006")
def test_cache_component_names_perturbation_parameters_and_seed() -> None:
    noise = make_perturbation("gaussian_noise", {"relative_sd": 0.02}, seed=3)
    assert noise.cache_component() == {
        "perturbation": "gaussian_noise",
        "parameters": {"relative_sd": 0.02},
        "seed": 3,
    }
    json.dumps(noise.cache_component(), allow_nan=False)
    variants = [
        noise,
        make_perturbation("gaussian_noise", {"relative_sd": 0.02}, seed=4),
        make_perturbation("gaussian_noise", {"relative_sd": 0.03}, seed=3),
        make_perturbation("gaussian_noise", {"relative_sd": 0}, seed=3),  # identity still keyed
        make_perturbation("brightness", {"shift_fraction": 0.02}, seed=3),
    ]
    assert len({variant.digest() for variant in variants}) == len(variants)
    assert make_perturbation("gaussian_noise", {"relative_sd": 0.02}, seed=3).digest() == (
        noise.digest()
    )
    assert noise.label == "gaussian_noise_0.02"


@pytest.mark.req("DXV-PREC-005")
@pytest.mark.parametrize(
    ("name", "parameters", "seed", "match"),
    [
        ("Rotation", {"degrees": 1}, 0, "got perturbation 'Rotation', expected one of blur, "),
        ("rotation", {"angle": 1}, 0, "got parameters angle, expected degrees"),
        ("translation", {"rows_mm": 1}, 0, "got parameters rows_mm, expected columns_mm, rows_mm"),
        ("rotation", {"degrees": 200}, 0, r"degrees: got 200, expected a number from -180 to 180"),
        ("jpeg", {"quality": 50.5}, 0, "quality: got 50.5, expected an integer from 1 to 95"),
        ("gamma", {"gamma": True}, 0, "gamma: got True, expected a number"),
        ("gamma", {"gamma": float("nan")}, 0, "gamma: got nan"),
        ("rotation", {"degrees": 1}, -1, "seed: got -1, expected a non-negative integer"),
    ],
)
def test_bad_requests_are_protocol_errors(
    name: str, parameters: dict[str, float], seed: int, match: str
) -> None:
    with pytest.raises(ProtocolError, match=match):
        make_perturbation(name, parameters, seed=seed)


@pytest.mark.parametrize(
    ("image", "spacing", "name", "parameters", "match"),
    [
        (np.zeros((2, 3, 3)), None, "rotation", {"degrees": 1}, r"got shape \(2, 3, 3\)"),
        (np.full((4, 4), np.nan), None, "rotation", {"degrees": 1}, "non-finite pixel"),
        (np.ones((4, 4)), None, "gaussian_noise", {"relative_sd": 0.1}, "constant intensity"),
        (np.eye(4), None, "blur", {"sigma_mm": 1}, "no pixel spacing"),
        (np.eye(4), (0.0, 1.0), "blur", {"sigma_mm": 1}, "expected > 0 mm"),
    ],
)
def test_bad_images_are_input_errors(
    image: np.ndarray,
    spacing: tuple[float, float] | None,
    name: str,
    parameters: dict[str, float],
    match: str,
) -> None:
    with pytest.raises(InputError, match=match):
        apply_perturbation(image, spacing, make_perturbation(name, parameters, seed=0))
