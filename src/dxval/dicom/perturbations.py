"""The closed registry of robustness perturbations, applied after decode, before preprocessing.

A robustness study (FDA draft guidance on AI-enabled device software
functions, 2025, §X.A and Appendix C: "reasonably foreseeable" changes of the
input) scores every case again with its decoded pixels changed in one named,
parameterised way. Every perturbation here is a pure function of (pixel array,
pixel spacing, parameters, seed): the same inputs give the same output, bit
for bit, and nothing is read from or written to disk.

The registry is closed: a name not listed in :class:`PerturbationName` is an
error, as is an unknown or out-of-range parameter. Perturbations that change
what the image means are not in the default registry: a left-right flip of a
chest image swaps lateralised anatomy (heart, aortic arch, stomach bubble) and
makes a "situs inversus" image, so :func:`make_perturbation` refuses
``lateral_flip`` unless ``allow_lateral_flip=True`` comes with a reason.

Each :class:`Perturbation` has a :meth:`~Perturbation.cache_component`
(name, parameters, seed) that callers put into the prediction cache key, so a
perturbed input is never served from, or stored as, the unperturbed case.
At a perturbation's identity level (rotation 0°, noise 0, gamma 1, …)
:func:`apply_perturbation` returns an unchanged copy of the input.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dxval.dicom.pixels import resize
from dxval.dicom.steps import Step, WindowOp
from dxval.errors import InputError, ProtocolError

__all__ = [
    "DEFAULT_PERTURBATIONS",
    "REGISTRY",
    "ParameterSpec",
    "Perturbation",
    "PerturbationName",
    "PerturbationSpec",
    "apply_perturbation",
    "make_perturbation",
    "window_problem",
    "window_steps",
]

FloatArray = NDArray[np.float64]
Spacing = tuple[float, float] | None
LATERAL_FLIP_REASON = (
    "a left-right flip changes what a chest image means (lateralised anatomy: heart, aortic "
    "arch, stomach bubble), so it is not a foreseeable variation of an input"
)


class PerturbationName(str, Enum):
    """Closed vocabulary of perturbations; matched exactly."""

    ROTATION = "rotation"
    TRANSLATION = "translation"
    SCALING = "scaling"
    GAUSSIAN_NOISE = "gaussian_noise"
    BLUR = "blur"
    GAMMA = "gamma"
    BRIGHTNESS = "brightness"
    JPEG = "jpeg"
    RESAMPLING = "resampling"
    LATERAL_FLIP = "lateral_flip"
    CT_WINDOW = "ct_window"


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    """One parameter: its closed range, its identity value (None: no identity), units."""

    name: str
    low: float
    high: float
    identity: float | None
    description: str
    integer: bool = False


Operation = Callable[[FloatArray, Spacing, Mapping[str, float], np.random.Generator], FloatArray]


@dataclass(frozen=True, slots=True)
class PerturbationSpec:
    """A registry entry: the parameters it takes and the pure function that applies it."""

    name: PerturbationName
    parameters: tuple[ParameterSpec, ...]
    operation: Operation
    description: str
    target: str = "pixels"  # "pixels": the decoded image; "window": the model's CT window step


def _intensity_range(image: FloatArray, name: str) -> tuple[float, float]:
    low, high = float(image.min()), float(image.max())
    if high <= low:
        raise InputError(
            f"perturbation {name!r}: got an image of constant intensity, expected an intensity "
            "range to scale the perturbation by"
        )
    return low, high - low


def _spacing(spacing: Spacing, name: str) -> tuple[float, float]:
    if spacing is None:
        raise InputError(
            f"perturbation {name!r}: the image has no pixel spacing, expected one to convert mm "
            "to pixels"
        )
    return spacing


def _rotation(
    image: FloatArray, spacing: Spacing, values: Mapping[str, float], rng: np.random.Generator
) -> FloatArray:
    from scipy import ndimage  # here: loading a protocol (dxval report) needs no scipy

    # Rotation on the pixel grid about the image centre; borders repeat the edge pixels.
    return np.asarray(
        ndimage.rotate(image, values["degrees"], reshape=False, order=1, mode="nearest")
    )


def _translation(
    image: FloatArray, spacing: Spacing, values: Mapping[str, float], rng: np.random.Generator
) -> FloatArray:
    from scipy import ndimage  # here: loading a protocol (dxval report) needs no scipy

    row_mm, column_mm = _spacing(spacing, "translation")
    shift = (values["rows_mm"] / row_mm, values["columns_mm"] / column_mm)
    return np.asarray(ndimage.shift(image, shift, order=1, mode="nearest"))


def _scaling(
    image: FloatArray, spacing: Spacing, values: Mapping[str, float], rng: np.random.Generator
) -> FloatArray:
    from scipy import ndimage  # here: loading a protocol (dxval report) needs no scipy

    factor = values["factor"]
    centre = (np.asarray(image.shape, dtype=np.float64) - 1) / 2
    # output pixel o samples input c + (o - c) / factor: magnification about the centre
    return np.asarray(
        ndimage.affine_transform(
            image, np.full(2, 1 / factor), offset=centre - centre / factor, order=1, mode="nearest"
        )
    )


def _gaussian_noise(
    image: FloatArray, spacing: Spacing, values: Mapping[str, float], rng: np.random.Generator
) -> FloatArray:
    _, width = _intensity_range(image, "gaussian_noise")
    return image + rng.normal(0.0, values["relative_sd"] * width, size=image.shape)


def _blur(
    image: FloatArray, spacing: Spacing, values: Mapping[str, float], rng: np.random.Generator
) -> FloatArray:
    from scipy import ndimage  # here: loading a protocol (dxval report) needs no scipy

    row_mm, column_mm = _spacing(spacing, "blur")
    sigma = (values["sigma_mm"] / row_mm, values["sigma_mm"] / column_mm)
    return np.asarray(ndimage.gaussian_filter(image, sigma, mode="nearest"))


def _gamma(
    image: FloatArray, spacing: Spacing, values: Mapping[str, float], rng: np.random.Generator
) -> FloatArray:
    low, width = _intensity_range(image, "gamma")
    return low + width * ((image - low) / width) ** values["gamma"]


def _brightness(
    image: FloatArray, spacing: Spacing, values: Mapping[str, float], rng: np.random.Generator
) -> FloatArray:
    # adding d to every pixel is the same as moving the display window by -d
    _, width = _intensity_range(image, "brightness")
    return image + values["shift_fraction"] * width


def _jpeg(
    image: FloatArray, spacing: Spacing, values: Mapping[str, float], rng: np.random.Generator
) -> FloatArray:
    from PIL import Image  # imported here: only JPEG re-compression needs Pillow

    low, width = _intensity_range(image, "jpeg")
    eight_bit = np.rint((image - low) / width * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(eight_bit).save(buffer, format="JPEG", quality=int(values["quality"]))
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        restored = np.asarray(decoded, dtype=np.float64)
    return low + restored / 255 * width


def _resampling(
    image: FloatArray, spacing: Spacing, values: Mapping[str, float], rng: np.random.Generator
) -> FloatArray:
    rows, columns = image.shape
    factor = values["factor"]
    small = (max(1, round(rows * factor)), max(1, round(columns * factor)))
    return resize(resize(image, small, method="area"), (rows, columns), method="bilinear")


def _lateral_flip(
    image: FloatArray, spacing: Spacing, values: Mapping[str, float], rng: np.random.Generator
) -> FloatArray:
    return np.ascontiguousarray(image[:, ::-1])


def _ct_window(
    image: FloatArray, spacing: Spacing, values: Mapping[str, float], rng: np.random.Generator
) -> FloatArray:
    raise InputError(
        "perturbation 'ct_window': got a pixel array, expected the model's preprocessing steps "
        "(it shifts the CT window the model applies, see window_steps)"
    )


def _spec(
    name: PerturbationName,
    operation: Operation,
    description: str,
    *parameters: ParameterSpec,
    target: str = "pixels",
) -> PerturbationSpec:
    return PerturbationSpec(name, parameters, operation, description, target)


#: Every perturbation dxval knows, by name.
REGISTRY: Mapping[PerturbationName, PerturbationSpec] = {
    spec.name: spec
    for spec in (
        _spec(
            PerturbationName.ROTATION,
            _rotation,
            "in-plane rotation about the image centre (bilinear, edge pixels repeated)",
            ParameterSpec("degrees", -180, 180, 0, "counter-clockwise angle in degrees"),
        ),
        _spec(
            PerturbationName.TRANSLATION,
            _translation,
            "shift in mm (converted with the pixel spacing; bilinear, edge pixels repeated)",
            ParameterSpec("rows_mm", -500, 500, 0, "shift down the rows, mm"),
            ParameterSpec("columns_mm", -500, 500, 0, "shift along the columns, mm"),
        ),
        _spec(
            PerturbationName.SCALING,
            _scaling,
            "magnification about the image centre, same output size",
            ParameterSpec("factor", 0.5, 2.0, 1, "magnification (> 1 enlarges)"),
        ),
        _spec(
            PerturbationName.GAUSSIAN_NOISE,
            _gaussian_noise,
            "additive Gaussian noise, SD relative to the image's intensity range (seeded)",
            ParameterSpec("relative_sd", 0, 1, 0, "noise SD / (max - min intensity)"),
        ),
        _spec(
            PerturbationName.BLUR,
            _blur,
            "Gaussian blur with a physical SD in mm (converted with the pixel spacing)",
            ParameterSpec("sigma_mm", 0, 50, 0, "Gaussian SD in mm"),
        ),
        _spec(
            PerturbationName.GAMMA,
            _gamma,
            "contrast: power-law transform of the intensity range",
            ParameterSpec("gamma", 0.2, 5.0, 1, "exponent on (value - min) / (max - min)"),
        ),
        _spec(
            PerturbationName.BRIGHTNESS,
            _brightness,
            "brightness: constant shift (a window-level shift), relative to the intensity range",
            ParameterSpec("shift_fraction", -1, 1, 0, "shift / (max - min intensity)"),
        ),
        _spec(
            PerturbationName.JPEG,
            _jpeg,
            "8-bit rendering of the intensity range re-compressed as baseline JPEG (Pillow)",
            ParameterSpec("quality", 1, 95, None, "JPEG quality (libjpeg scale)", integer=True),
        ),
        _spec(
            PerturbationName.RESAMPLING,
            _resampling,
            "down-sampling (area average) and up-sampling back (bilinear) to the original size",
            ParameterSpec("factor", 0.1, 1, 1, "intermediate size / original size"),
        ),
        _spec(
            PerturbationName.LATERAL_FLIP,
            _lateral_flip,
            "left-right flip (columns reversed); changes lateralised anatomy",
        ),
        _spec(
            PerturbationName.CT_WINDOW,
            _ct_window,
            "CT only: the window of the model's preprocessing ({op: window}, in HU after "
            "modality_lut) moved and widened; the pixels are not changed",
            ParameterSpec("center_shift", -2000, 2000, 0, "added to the window centre, HU"),
            ParameterSpec("width_scale", 0.1, 10, 1, "factor on the window width"),
            target="window",
        ),
    )
}

#: Perturbations a protocol may request without an explicit opt-in.
DEFAULT_PERTURBATIONS: frozenset[PerturbationName] = frozenset(REGISTRY) - {
    PerturbationName.LATERAL_FLIP
}


@dataclass(frozen=True, slots=True)
class Perturbation:
    """One validated perturbation level: name, parameters (sorted by name) and seed."""

    name: PerturbationName
    parameters: tuple[tuple[str, float], ...]
    seed: int
    lateral_flip_reason: str | None = None

    @property
    def values(self) -> dict[str, float]:
        """The parameters as a mapping."""
        return dict(self.parameters)

    @property
    def is_identity(self) -> bool:
        """True when every parameter is at its identity value (the output equals the input)."""
        specs = REGISTRY[self.name].parameters
        return bool(specs) and all(spec.identity == self.values[spec.name] for spec in specs)

    @property
    def label(self) -> str:
        """A short population label, e.g. ``gaussian_noise_0.02`` or ``translation_5_0``."""
        return "_".join([self.name.value, *(f"{value:g}" for _, value in self.parameters)])

    @property
    def acts_on_window(self) -> bool:
        """True for a perturbation of the model's CT window step rather than of the pixels."""
        return REGISTRY[self.name].target == "window"

    def cache_component(self) -> dict[str, Any]:
        """The part of a prediction-cache key that identifies this perturbation.

        Callers add it to the key of every perturbed case (the unperturbed run
        has none), so a perturbed input never shares an entry with the original
        or with another level or seed.
        """
        return {
            "perturbation": self.name.value,
            "parameters": dict(self.parameters),
            "seed": self.seed,
        }

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`cache_component`."""
        text = json.dumps(self.cache_component(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _check_parameters(
    spec: PerturbationSpec, parameters: Mapping[str, float], where: str
) -> tuple[tuple[str, float], ...]:
    known = {parameter.name: parameter for parameter in spec.parameters}
    unknown = sorted(set(parameters) - set(known))
    missing = sorted(set(known) - set(parameters))
    expected = ", ".join(sorted(known)) or "no parameters"
    if unknown or missing:
        got = ", ".join(sorted(parameters)) or "no parameters"
        raise ProtocolError(f"{where}: got parameters {got}, expected {expected}")
    checked: list[tuple[str, float]] = []
    for name in sorted(known):
        parameter, value = known[name], parameters[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ProtocolError(f"{where}.{name}: got {value!r}, expected a number")
        number = float(value)
        in_range = math.isfinite(number) and parameter.low <= number <= parameter.high
        if not in_range or (parameter.integer and not number.is_integer()):
            kind = "an integer" if parameter.integer else "a number"
            raise ProtocolError(
                f"{where}.{name}: got {value!r}, expected {kind} from {parameter.low:g} to "
                f"{parameter.high:g} ({parameter.description})"
            )
        checked.append((name, number))
    return tuple(checked)


def make_perturbation(
    name: str,
    parameters: Mapping[str, float],
    *,
    seed: int,
    allow_lateral_flip: bool = False,
    reason: str | None = None,
    where: str = "perturbation",
) -> Perturbation:
    """Validate a requested perturbation against the closed registry.

    Parameters
    ----------
    name : str
        A :class:`PerturbationName` value, matched exactly.
    parameters : mapping of str to number
        Exactly the parameters of that registry entry, each within its range.
    seed : int
        Non-negative seed of the perturbation's random draws (part of its cache key).
    allow_lateral_flip, reason
        ``lateral_flip`` is refused unless ``allow_lateral_flip`` is True and
        ``reason`` is a non-empty statement of why the flip is meaningful.
    where : str
        Location for messages, e.g. ``protocol.yaml:40 robustness[2]``.

    Raises
    ------
    ProtocolError
        Unknown name, unknown/missing/out-of-range parameter, a negative seed,
        or a lateral flip without the opt-in and reason (exit code 2).

    Examples
    --------
    >>> noise = make_perturbation("gaussian_noise", {"relative_sd": 0.02}, seed=1)
    >>> noise.label, noise.is_identity
    ('gaussian_noise_0.02', False)
    """
    try:
        key = PerturbationName(name)
    except ValueError:
        expected = ", ".join(sorted(member.value for member in DEFAULT_PERTURBATIONS))
        raise ProtocolError(
            f"{where}: got perturbation {name!r}, expected one of {expected}"
        ) from None
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ProtocolError(f"{where}.seed: got {seed!r}, expected a non-negative integer")
    flip_reason = None
    if key not in DEFAULT_PERTURBATIONS:
        if not allow_lateral_flip:
            raise ProtocolError(
                f"{where}: got perturbation {name!r} without allow_lateral_flip: true; refused "
                f"because {LATERAL_FLIP_REASON}"
            )
        if reason is None or not reason.strip():
            raise ProtocolError(
                f"{where}: allow_lateral_flip: true needs a non-empty reason, expected a "
                f"statement of why a flip is meaningful here ({LATERAL_FLIP_REASON})"
            )
        flip_reason = reason.strip()
    checked = _check_parameters(REGISTRY[key], parameters, f"{where} {key.value}")
    return Perturbation(key, checked, seed, flip_reason)


def apply_perturbation(
    pixels: NDArray[np.generic], spacing: Spacing, perturbation: Perturbation
) -> NDArray[np.generic]:
    """Apply one perturbation to a decoded 2-D image.

    Parameters
    ----------
    pixels : ndarray, shape (rows, columns)
        Decoded (and modality-LUT'ed) intensities, all finite.
    spacing : (row_mm, column_mm) or None
        Pixel Spacing (DICOM PS3.3 C.7.6.2.1.1: row spacing first); needed by
        ``translation`` and ``blur``.
    perturbation : Perturbation
        From :func:`make_perturbation`.

    Returns
    -------
    ndarray
        A new float64 array of the same shape; at the identity level, an
        unchanged copy of ``pixels`` (same dtype, same bits).

    Raises
    ------
    InputError
        Not 2-D, a non-finite pixel, bad spacing, spacing missing where mm are
        needed, or a constant image for an intensity-relative perturbation.

    Examples
    --------
    >>> image = np.arange(16.0).reshape(4, 4)
    >>> zero = make_perturbation("rotation", {"degrees": 0}, seed=0)
    >>> bool(np.array_equal(apply_perturbation(image, (1.0, 1.0), zero), image))
    True
    """
    array = np.asarray(pixels)
    name = perturbation.name.value
    if array.ndim != 2 or 0 in array.shape:
        raise InputError(
            f"perturbation {name!r}: got shape {array.shape}, expected (rows, columns)"
        )
    if spacing is not None and not all(math.isfinite(s) and s > 0 for s in spacing):
        raise InputError(f"perturbation {name!r}: got pixel spacing {spacing}, expected > 0 mm")
    if perturbation.is_identity:
        return array.copy()
    image = array.astype(np.float64)
    if not np.all(np.isfinite(image)):
        raise InputError(f"perturbation {name!r}: got a non-finite pixel, expected finite values")
    rng = np.random.default_rng(perturbation.seed)
    return REGISTRY[perturbation.name].operation(image, spacing, perturbation.values, rng)


#: The DICOM Modality (0008,0060) a ``ct_window`` perturbation needs (PS3.3 C.7.3.1.1.1).
CT_MODALITY = "CT"


def window_problem(steps: Sequence[object], perturbation: Perturbation) -> str | None:
    """Why ``steps`` cannot take ``perturbation``'s window change, or None when they can.

    A ``ct_window`` level needs a ``{op: window}`` step preceded by
    ``modality_lut`` (so its centre and width are in HU), and the scaled
    width must stay valid (at least 1 for the ``linear`` function, PS3.3
    C.11.2.1.2.1). Works on the protocol's ops and on plain steps alike
    (only ``op``, ``width`` and ``function`` are read). None for a
    perturbation of the pixels.
    """
    if not perturbation.acts_on_window:
        return None
    ops = [str(getattr(step, "op", "")) for step in steps]
    if "window" not in ops:
        return "no window step"
    position = ops.index("window")
    if "modality_lut" not in ops[:position]:
        return "a window step without modality_lut before it (its centre and width are not HU)"
    window = steps[position]
    width = float(getattr(window, "width", 1.0)) * perturbation.values["width_scale"]
    if getattr(window, "function", "linear") == "linear" and width < 1:
        return f"a window width of {width:g} after scaling (the linear function needs >= 1)"
    return None


def window_steps(steps: Sequence[Step], perturbation: Perturbation) -> tuple[Step, ...]:
    """``steps`` with the CT window of a ``ct_window`` level moved (unchanged for other levels).

    The window's centre becomes ``center + center_shift`` and its width
    ``width × width_scale`` (both HU); every other step is unchanged. At the
    identity level (shift 0, scale 1) the steps are returned as they are.

    Raises
    ------
    InputError
        The steps cannot take the change (see :func:`window_problem`).

    Examples
    --------
    >>> from dxval.dicom.steps import ModalityLutOp
    >>> wider = make_perturbation("ct_window", {"center_shift": 20, "width_scale": 1.5}, seed=0)
    >>> moved = window_steps((ModalityLutOp(), WindowOp(center=40, width=400)), wider)
    >>> moved[1].center, moved[1].width
    (60.0, 600.0)
    """
    if not perturbation.acts_on_window or perturbation.is_identity:
        return tuple(steps)
    problem = window_problem(steps, perturbation)
    if problem is not None:
        raise InputError(
            f"perturbation {perturbation.label!r}: got preprocessing with {problem}, expected "
            "{op: window} (HU) after {op: modality_lut}"
        )
    values = perturbation.values
    return tuple(
        dataclasses.replace(
            step,
            center=step.center + values["center_shift"],
            width=step.width * values["width_scale"],
        )
        if isinstance(step, WindowOp)
        else step
        for step in steps
    )
