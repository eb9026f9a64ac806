"""Pure pixel transforms, each named for the DICOM clause it implements.

All functions take and return numpy arrays and never read a file. The grey
scale pipeline of DICOM PS3.3 C.11 (Figure C.11-1) is: stored values →
Modality LUT (C.11.1) → VOI LUT (C.11.2) → Presentation LUT (C.11.6). dxval
maps the VOI output onto [0, 1] rather than onto a display's bit depth, so
``floor(255 * apply_window(...))`` is an 8-bit rendering; its agreement with
dcmtk's ``dcm2pnm +Ww`` is tested in ``tests/dicom/test_pixels_dcmtk.py``.

Arithmetic is float64 (as dcmtk's), so results do not depend on the stored
integer type; callers convert the final model input to float32.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "ShapeError",
    "apply_lut",
    "apply_rescale",
    "apply_window",
    "crop_or_pad",
    "invert_monochrome1",
    "lut_descriptor",
    "normalize",
    "rescale_linear",
    "resize",
    "resize_matrix",
    "select_frame",
    "select_slices",
    "stored_value_range",
    "to_channels",
]

FloatArray = NDArray[np.float64]
WindowFunction = Literal["linear", "linear_exact", "sigmoid"]


class ShapeError(ValueError):
    """The array's shape does not fit the requested operation (e.g. frame index out of range)."""


def stored_value_range(bits_stored: int, pixel_representation: int) -> tuple[float, float]:
    """Smallest and largest stored pixel value, PS3.3 C.7.6.3.1 (Bits Stored, Pixel Representation).

    Parameters
    ----------
    bits_stored:
        Bits Stored (0028,0101), 1-32.
    pixel_representation:
        0 unsigned, 1 two's complement.
    """
    if pixel_representation == 1:
        return (-(2.0 ** (bits_stored - 1)), 2.0 ** (bits_stored - 1) - 1)
    return (0.0, 2.0**bits_stored - 1)


def apply_rescale(stored: NDArray[np.generic], slope: float, intercept: float) -> FloatArray:
    """Linear Modality LUT: ``slope * stored + intercept``, PS3.3 C.11.1 (Rescale Slope/Intercept).

    Parameters
    ----------
    stored:
        Stored values, any shape.
    slope, intercept:
        Rescale Slope (0028,1053) and Rescale Intercept (0028,1052).
    """
    return np.asarray(stored, dtype=np.float64) * float(slope) + float(intercept)


def lut_descriptor(
    descriptor: Sequence[int], *, signed_input: bool = False
) -> tuple[int, int, int]:
    """Decode a LUT Descriptor into (entries, first mapped value, bits per entry).

    PS3.3 C.11.1.1 / C.11.2.1.1: the first value is the number of entries
    (0 means 65536), the second the first input value mapped (interpreted as
    signed when the input pixel values are signed), the third the bits per entry.
    """
    entries, first, bits = (int(value) for value in descriptor)
    entries = 65536 if entries == 0 else entries
    if signed_input and first >= 0x8000:
        first -= 0x10000
    return entries, first, bits


def apply_lut(values: NDArray[np.generic], lut_data: NDArray[np.generic], first: int) -> FloatArray:
    """Table look-up with clamping, PS3.3 C.11.1.1 (Modality LUT) and C.11.2.1.1 (VOI LUT).

    Inputs below ``first`` map to the first entry, inputs at or beyond
    ``first + len(lut_data) - 1`` to the last entry.

    Parameters
    ----------
    values:
        Integer-valued input, any shape.
    lut_data:
        LUT Data, 1-D, one output per entry.
    first:
        First input value mapped (from :func:`lut_descriptor`).
    """
    table = np.asarray(lut_data, dtype=np.float64).ravel()
    index = np.clip(np.rint(np.asarray(values, dtype=np.float64)) - first, 0, table.size - 1)
    return table[index.astype(np.intp)]


def _window_linear(values: FloatArray, center: float, width: float) -> FloatArray:
    # PS3.3 C.11.2.1.2.1: x <= c - 0.5 - (w-1)/2 → 0; x > c - 0.5 + (w-1)/2 → 1;
    # else ((x - (c - 0.5)) / (w - 1) + 0.5). Written as (x - lower) / (w - 1),
    # the same expression dcmtk evaluates, so floor(255 * y) matches dcm2pnm.
    lower = center - 0.5 - (width - 1) / 2
    upper = center - 0.5 + (width - 1) / 2
    if width == 1:  # a step at the centre: the ramp has zero width
        return np.where(values <= lower, 0.0, 1.0)
    ramp = (values - lower) / (width - 1)
    return np.where(values <= lower, 0.0, np.where(values > upper, 1.0, ramp))


def _window_linear_exact(values: FloatArray, center: float, width: float) -> FloatArray:
    # PS3.3 C.11.2.1.3.2: x <= c - w/2 → 0; x > c + w/2 → 1; else (x - c)/w + 0.5.
    lower, upper = center - width / 2, center + width / 2
    ramp = (values - lower) / width
    return np.where(values <= lower, 0.0, np.where(values > upper, 1.0, ramp))


def _window_sigmoid(values: FloatArray, center: float, width: float) -> FloatArray:
    # PS3.3 C.11.2.1.3.1: y = 1 / (1 + exp(-4 (x - c) / w)).
    return 1.0 / (1.0 + np.exp(-4.0 * (values - center) / width))


_WINDOWS: dict[str, Callable[[FloatArray, float, float], FloatArray]] = {
    "linear": _window_linear,
    "linear_exact": _window_linear_exact,
    "sigmoid": _window_sigmoid,
}


def apply_window(
    values: NDArray[np.generic],
    center: float,
    width: float,
    *,
    function: WindowFunction = "linear",
) -> FloatArray:
    """Window centre/width onto [0, 1], PS3.3 C.11.2.1.2 (LINEAR, LINEAR_EXACT, SIGMOID).

    The output range y_min..y_max of the standard's formulas is taken as 0..1.

    Parameters
    ----------
    values:
        Modality values (after :func:`apply_rescale`/:func:`apply_lut`), any shape.
    center, width:
        Window Center (0028,1050) and Window Width (0028,1051).
    function:
        VOI LUT Function (0028,1056), lower-case.

    Raises
    ------
    ValueError
        Width below 1 for LINEAR, or not positive for the others (C.11.2.1.2).
    """
    if function not in _WINDOWS:
        raise ValueError(
            f"unknown VOI LUT function {function!r}; expected one of {sorted(_WINDOWS)}"
        )
    minimum_width = 1.0 if function == "linear" else 0.0
    if not width >= minimum_width or (function != "linear" and width == 0):
        raise ValueError(f"window width {width} not allowed for {function} (PS3.3 C.11.2.1.2)")
    return _WINDOWS[function](np.asarray(values, dtype=np.float64), float(center), float(width))


def invert_monochrome1(values: NDArray[np.generic], low: float, high: float) -> FloatArray:
    """Turn MONOCHROME1 into MONOCHROME2 within [low, high]: ``low + high - x``.

    PS3.3 C.7.6.3.1.2: in MONOCHROME1 the minimum value is displayed white;
    reflecting about the centre of the value range displays it black, as
    MONOCHROME2 does (the effect of an INVERSE Presentation LUT Shape, C.11.6).
    """
    return float(low) + float(high) - np.asarray(values, dtype=np.float64)


def rescale_linear(
    values: NDArray[np.generic],
    source: tuple[float, float],
    target: tuple[float, float],
) -> FloatArray:
    """Map ``source`` = (a, b) linearly onto ``target`` = (low, high); a constant maps to low."""
    array = np.asarray(values, dtype=np.float64)
    (source_low, source_high), (low, high) = source, target
    if source_high == source_low:
        return np.full_like(array, low)
    return (array - source_low) * ((high - low) / (source_high - source_low)) + low


def normalize(
    values: NDArray[np.generic], mean: float | Sequence[float], std: float | Sequence[float]
) -> FloatArray:
    """``(x - mean) / std``; sequences apply per channel along axis 0.

    Raises
    ------
    ShapeError
        A per-channel list whose length differs from the number of channels.
    """
    array = np.asarray(values, dtype=np.float64)
    means, stds = np.atleast_1d(np.asarray(mean, float)), np.atleast_1d(np.asarray(std, float))
    if means.size == 1 and stds.size == 1:
        return (array - means[0]) / stds[0]
    channels = array.shape[0] if array.ndim >= 3 else 1
    for name, given in (("mean", means), ("std", stds)):
        if given.size not in (1, channels):
            raise ShapeError(f"normalize: {given.size} {name} values for {channels} channels")
    shape = (-1,) + (1,) * (array.ndim - 1)
    return (array - means.reshape(shape)) / stds.reshape(shape)


def resize_matrix(source: int, target: int, method: Literal["area", "bilinear"]) -> FloatArray:
    """The (target × source) matrix that resizes one axis; rows sum to 1.

    area: each output pixel averages the input pixels it overlaps, weighted by
    the overlap (exact box filter; OpenCV's INTER_AREA when shrinking).
    bilinear: linear interpolation at half-pixel-aligned centres
    (``x_in = (i + 0.5) * source / target - 0.5``, clamped to the edges), as
    ``torch.nn.functional.interpolate(mode="bilinear", align_corners=False)``.
    """
    scale = source / target
    matrix = np.zeros((target, source), dtype=np.float64)
    if method == "area":
        edges = np.arange(target + 1) * scale
        for row, (start, stop) in enumerate(itertools.pairwise(edges)):
            first, last = int(np.floor(start)), min(int(np.ceil(stop)), source)
            cells = np.arange(first, last)
            overlap = np.minimum(cells + 1, stop) - np.maximum(cells, start)
            matrix[row, cells] = overlap / (stop - start)
        return matrix
    centres = np.clip((np.arange(target) + 0.5) * scale - 0.5, 0, source - 1)
    lower = np.floor(centres).astype(int)
    upper = np.minimum(lower + 1, source - 1)
    fraction = centres - lower
    matrix[np.arange(target), lower] += 1 - fraction
    matrix[np.arange(target), upper] += fraction
    return matrix


@functools.lru_cache(maxsize=64)
def _sparse_resize_matrix(source: int, target: int, method: str) -> Any:
    """:func:`resize_matrix` as a read-only CSR matrix (few non-zeros per row), cached."""
    from scipy import sparse

    return sparse.csr_matrix(resize_matrix(source, target, method))  # type: ignore[arg-type]


def _resize_axis(array: FloatArray, matrix: Any, axis: int) -> FloatArray:
    """Apply a (target × source) matrix along ``axis`` of ``array``."""
    moved = np.moveaxis(array, axis, 0)
    flat = moved.reshape(moved.shape[0], -1)
    result = np.asarray(matrix @ flat)
    return np.moveaxis(result.reshape(matrix.shape[0], *moved.shape[1:]), 0, axis)


def resize(
    values: NDArray[np.generic],
    size: tuple[int, int],
    *,
    method: Literal["area", "bilinear"] = "area",
) -> FloatArray:
    """Resize the last two axes (rows, columns) to ``size`` with separable matrices.

    The matrices of :func:`resize_matrix` are applied as sparse matrices (each
    output pixel depends on a few input pixels), rows first, then columns.

    Parameters
    ----------
    values:
        Array of shape (..., rows, columns).
    size:
        Output (rows, columns).
    method:
        ``area`` or ``bilinear`` (see :func:`resize_matrix`).
    """
    array = np.asarray(values, dtype=np.float64)
    rows = _sparse_resize_matrix(array.shape[-2], size[0], method)
    columns = _sparse_resize_matrix(array.shape[-1], size[1], method)
    return _resize_axis(_resize_axis(array, rows, array.ndim - 2), columns, array.ndim - 1)


def crop_or_pad(values: NDArray[np.generic], size: tuple[int, int], *, fill: float) -> FloatArray:
    """Centre-crop or centre-pad the last two axes to ``size``; padding takes ``fill``.

    When the difference is odd, the extra row/column is cropped from or padded
    at the bottom/right.
    """
    array = np.asarray(values, dtype=np.float64)
    output = np.full((*array.shape[:-2], *size), float(fill))
    source_slices, target_slices = [], []
    for have, want in zip(array.shape[-2:], size, strict=True):
        offset = abs(have - want) // 2
        count = min(have, want)
        if have >= want:
            source_slices.append(slice(offset, offset + count))
            target_slices.append(slice(0, count))
        else:
            source_slices.append(slice(0, count))
            target_slices.append(slice(offset, offset + count))
    output[(Ellipsis, target_slices[0], target_slices[1])] = array[
        (Ellipsis, source_slices[0], source_slices[1])
    ]
    return output


def to_channels(values: NDArray[np.generic], channels: int) -> FloatArray:
    """Add a leading channel axis of length ``channels`` (the image repeated)."""
    array = np.asarray(values, dtype=np.float64)
    return np.repeat(array[np.newaxis], channels, axis=0)


def select_frame(values: NDArray[np.generic], index: int) -> FloatArray:
    """Frame ``index`` of a (frames, rows, columns) array; a 2-D image is its own frame 0.

    Raises
    ------
    ShapeError
        Index outside the frames, or an array that is neither 2-D nor 3-D.
    """
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 2:
        if index in (0, -1):
            return array
        raise ShapeError(f"select_frame: index {index} but the image has 1 frame")
    if array.ndim != 3:
        raise ShapeError(f"select_frame: expected 2-D or 3-D pixels, got shape {array.shape}")
    frames = array.shape[0]
    if not -frames <= index < frames:
        raise ShapeError(f"select_frame: index {index} but the image has {frames} frames")
    return np.asarray(array[index])


def select_slices(
    values: NDArray[np.generic], count: int, *, start: int | None = None, step: int = 1
) -> FloatArray:
    """``count`` slices of a (slices, rows, columns) volume, every ``step``-th from ``start``.

    ``start=None`` centres the selection in the volume.

    Raises
    ------
    ShapeError
        The volume has too few slices, or is not 3-D.
    """
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 3:
        raise ShapeError(f"select_slices: expected a 3-D volume, got shape {array.shape}")
    span = (count - 1) * step + 1
    first = (array.shape[0] - span) // 2 if start is None else start
    if first < 0 or first + span > array.shape[0]:
        raise ShapeError(
            f"select_slices: {count} slices (step {step}) from {first} "
            f"but the volume has {array.shape[0]} slices"
        )
    return np.asarray(array[first : first + span : step])
