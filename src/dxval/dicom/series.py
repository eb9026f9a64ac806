"""CT/MR series: sort slices along the slice normal, check consistency, stack, resample.

Geometry follows DICOM PS3.3 C.7.6.2.1.1: Image Orientation (Patient)
(0020,0037) gives the row and column direction cosines, their cross product
the slice normal, and Image Position (Patient) (0020,0032) the centre of the
first transmitted pixel. Slices are ordered by the projection of their
position on the normal (not by Instance Number or file name, which scanners
and anonymisers do not keep reliable).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from dxval.dicom.failures import CaseFailure, ReasonCode
from dxval.dicom.reader import Image, read_file

__all__ = [
    "ORIENTATION_TOLERANCE",
    "POSITION_TOLERANCE_MM",
    "SPACING_TOLERANCE",
    "read_series",
    "resample_volume",
    "slice_positions",
    "stack_slices",
]

#: Largest difference between direction cosines of two slices of one series.
ORIENTATION_TOLERANCE = 1e-4
#: Largest in-plane offset (mm) between slice origins, and smallest gap between slices.
POSITION_TOLERANCE_MM = 1e-2
#: Largest relative deviation of one slice gap from the median gap.
SPACING_TOLERANCE = 0.01


def _floats(image: Image, keyword: str, count: int) -> NDArray[np.float64]:
    value = image.header.get(keyword)
    name = image.sources[0].name
    try:
        array = np.asarray([float(item) for item in value], dtype=np.float64)
    except (TypeError, ValueError):
        raise CaseFailure(
            ReasonCode.INCONSISTENT_SERIES, f"{name}: {keyword} missing or not numeric"
        ) from None
    if array.size != count or not np.all(np.isfinite(array)):
        raise CaseFailure(
            ReasonCode.INCONSISTENT_SERIES, f"{name}: {keyword} must hold {count} numbers"
        )
    return array


def slice_positions(images: Sequence[Image]) -> NDArray[np.float64]:
    """Position (mm) of each slice along the common slice normal, PS3.3 C.7.6.2.1.1.

    Raises
    ------
    CaseFailure
        ``inconsistent_series`` when orientations differ, a position or
        orientation is missing, or slice origins are not collinear along the normal.
    """
    orientation = _floats(images[0], "ImageOrientationPatient", 6)
    row_direction, column_direction = orientation[:3], orientation[3:]
    normal = np.cross(row_direction, column_direction)
    origin = _floats(images[0], "ImagePositionPatient", 3)
    positions = []
    for image in images:
        other = _floats(image, "ImageOrientationPatient", 6)
        if np.max(np.abs(other - orientation)) > ORIENTATION_TOLERANCE:
            raise CaseFailure(
                ReasonCode.INCONSISTENT_SERIES,
                f"{image.sources[0].name}: ImageOrientationPatient differs from "
                f"{images[0].sources[0].name}'s",
            )
        offset = _floats(image, "ImagePositionPatient", 3) - origin
        in_plane = max(abs(offset @ row_direction), abs(offset @ column_direction))
        if in_plane > POSITION_TOLERANCE_MM:
            raise CaseFailure(
                ReasonCode.INCONSISTENT_SERIES,
                f"{image.sources[0].name}: slice origin is {in_plane:.3g} mm off the slice "
                "normal (tilted or mixed series)",
            )
        positions.append(float(offset @ normal))
    return np.asarray(positions)


def _check_same(images: Sequence[Image]) -> None:
    """Every slice: one frame, the same size, pixel spacing and series."""
    first = images[0]
    reference_spacing = _floats(first, "PixelSpacing", 2)
    for image in images:
        name = image.sources[0].name
        if image.pixels.ndim != 2:
            raise CaseFailure(
                ReasonCode.INCONSISTENT_SERIES, f"{name}: a multi-frame file inside a series"
            )
        if image.pixels.shape != first.pixels.shape:
            raise CaseFailure(
                ReasonCode.INCONSISTENT_SERIES,
                f"{name}: {image.pixels.shape} pixels, {first.pixels.shape} in "
                f"{first.sources[0].name}",
            )
        spacing = _floats(image, "PixelSpacing", 2)
        if np.max(np.abs(spacing - reference_spacing)) > SPACING_TOLERANCE * reference_spacing[0]:
            raise CaseFailure(
                ReasonCode.INCONSISTENT_SERIES, f"{name}: PixelSpacing differs within the series"
            )
        if image.header.get("SeriesInstanceUID") != first.header.get("SeriesInstanceUID"):
            raise CaseFailure(
                ReasonCode.INCONSISTENT_SERIES, f"{name}: SeriesInstanceUID differs (mixed series)"
            )


def stack_slices(images: Sequence[Image]) -> Image:
    """Sort single-frame slices along the normal, check spacing, stack to (slices, rows, columns).

    Raises
    ------
    CaseFailure
        ``inconsistent_series``: different sizes, orientations, pixel spacings
        or series; duplicate positions; slice gaps that differ by more than
        :data:`SPACING_TOLERANCE` of the median gap.
    """
    _check_same(images)
    positions = slice_positions(images)
    order = np.argsort(positions, kind="stable")
    gaps = np.diff(positions[order])
    if gaps.size and gaps.min() < POSITION_TOLERANCE_MM:
        duplicate = images[int(order[int(np.argmin(gaps)) + 1])].sources[0].name
        raise CaseFailure(
            ReasonCode.INCONSISTENT_SERIES, f"{duplicate}: two slices at the same position"
        )
    median_gap = float(np.median(gaps)) if gaps.size else 1.0
    if gaps.size and np.max(np.abs(gaps - median_gap)) > SPACING_TOLERANCE * median_gap:
        raise CaseFailure(
            ReasonCode.INCONSISTENT_SERIES,
            f"slice gaps range {gaps.min():.4g}-{gaps.max():.4g} mm (missing or uneven slices)",
        )
    ordered = [images[int(index)] for index in order]
    row_spacing, column_spacing = _floats(ordered[0], "PixelSpacing", 2)
    return Image(
        pixels=np.stack([image.pixels for image in ordered]),
        headers=tuple(image.header for image in ordered),
        decoders=tuple(dict.fromkeys(d for image in ordered for d in image.decoders)),
        sources=tuple(image.sources[0] for image in ordered),
        spacing=(median_gap, float(row_spacing), float(column_spacing)),
    )


def read_series(paths: Sequence[Path]) -> Image:
    """Read the files of one series and stack them (see :func:`stack_slices`).

    A single file is returned as read (2-D or multi-frame).
    """
    images = [read_file(path) for path in paths]
    if len(images) == 1:
        return images[0]
    return stack_slices(images)


def _interpolate_axis(
    volume: NDArray[np.float64], positions: NDArray[np.float64], axis: int
) -> NDArray[np.float64]:
    """Linear interpolation of ``volume`` at fractional indices ``positions`` along ``axis``."""
    size = volume.shape[axis]
    lower = np.clip(np.floor(positions).astype(np.intp), 0, size - 1)
    upper = np.minimum(lower + 1, size - 1)
    fraction = (positions - lower).reshape([-1 if dim == axis else 1 for dim in range(volume.ndim)])
    below = np.take(volume, lower, axis=axis)
    above = np.take(volume, upper, axis=axis)
    return np.asarray(below * (1 - fraction) + above * fraction)


def resample_volume(
    volume: NDArray[np.generic],
    spacing: Sequence[float],
    target: Sequence[float],
) -> tuple[NDArray[np.float64], tuple[float, ...]]:
    """Trilinear resampling of a (slices, rows, columns) volume to ``target`` spacing (mm).

    Samples sit at 0, t, 2t, … mm from the first voxel centre along each axis,
    up to the last voxel centre, so no value is extrapolated. Also accepts a
    2-D image with two spacings.

    Returns
    -------
    (resampled, spacing)
        The new array and its spacing (equal to ``target``).
    """
    array = np.asarray(volume, dtype=np.float64)
    if len(spacing) != array.ndim or len(target) != array.ndim:
        raise ValueError(f"{array.ndim}-D array needs {array.ndim} spacings")
    for axis, (have, want) in enumerate(zip(spacing, target, strict=True)):
        extent = (array.shape[axis] - 1) * float(have)
        count = int(np.floor(extent / float(want) + 1e-9)) + 1
        positions = np.arange(count, dtype=np.float64) * (float(want) / float(have))
        array = _interpolate_axis(array, positions, axis)
    return array, tuple(float(value) for value in target)
