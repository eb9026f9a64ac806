"""Lesion truth from DICOM SR (TID 1500 Measurement Report) and image geometry from DICOM.

A detection protocol with ``detection.format: sr`` names, per case, a
Comprehensive (3D) SR document holding a TID 1500 Measurement Report; each
TID 1410 "Planar ROI Measurements and Qualitative Evaluations" group is one
lesion, its Image Region (SCOORD, PS3.3 C.18.6) the lesion's extent in
pixel coordinates (column x, row y): a POINT is a point lesion; a POLYLINE,
POLYGON or MULTIPOINT its bounding box; a CIRCLE (centre, a perimeter
point) and an ELLIPSE (the ends of both axes) their bounding boxes. The
lesion ID is the group's Tracking Identifier. Read with highdicom
(``highdicom.sr.srread``). A document without planar ROI groups is a normal
case. 3D (SCOORD3D) regions are refused: their coordinates are in the
patient frame, not in the image's pixels.

:func:`image_geometry` reads the pixel spacing and image size of a case's
DICOM image (PS3.3 C.7.6.3 Rows/Columns, C.7.6.2 Pixel Spacing, else
C.8.11.7 Imager Pixel Spacing), for the distance criterion and the
mark-inside-image check.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dxval.errors import InputError
from dxval.stats.detection import Region

__all__ = ["image_geometry", "read_sr_lesions"]


def _box(points: np.ndarray) -> tuple[float, float, float, float]:
    return (
        float(points[:, 0].min()),
        float(points[:, 1].min()),
        float(points[:, 0].max()),
        float(points[:, 1].max()),
    )


def _region(graphic_type: str, points: np.ndarray, where: str) -> Region:
    """A :class:`Region` from SCOORD graphic data (rows of (column, row) pixel coordinates)."""
    if graphic_type == "POINT":
        return Region.point(float(points[0, 0]), float(points[0, 1]))
    if graphic_type == "CIRCLE":
        (cx, cy), (px, py) = points[0], points[1]
        radius = float(np.hypot(px - cx, py - cy))
        x0, y0, x1, y1 = cx - radius, cy - radius, cx + radius, cy + radius
    elif graphic_type in ("POLYLINE", "POLYGON", "MULTIPOINT", "ELLIPSE"):
        x0, y0, x1, y1 = _box(points)
    else:
        raise InputError(f"{where}: graphic type {graphic_type!r} is not supported")
    try:
        return Region.box(float(x0), float(y0), float(x1), float(y1))
    except ValueError as error:
        raise InputError(f"{where}: {error}") from None


def read_sr_lesions(path: Path) -> tuple[list[Region], list[str]]:
    """The lesions of one case's TID 1500 SR document: regions and tracking identifiers.

    Raises
    ------
    InputError
        Not a readable DICOM SR, a 3D region, an unsupported graphic type, or
        a degenerate box; the message names the file and the group.
    """
    try:
        import highdicom as hd
    except ImportError:
        raise InputError(
            f"{path}: reading DICOM SR truth needs highdicom; expected it installed "
            "(pip install 'dxval[segmentation]')"
        ) from None
    try:
        document = hd.sr.srread(path)
    except Exception as error:
        raise InputError(f"{path}: cannot read as a DICOM SR ({type(error).__name__})") from None
    content = document.content
    if not isinstance(content, hd.sr.MeasurementReport):
        raise InputError(f"{path}: not a TID 1500 Measurement Report")
    regions, names = [], []
    for number, group in enumerate(content.get_planar_roi_measurement_groups(), start=1):
        where = f"{path}: measurement group {number}"
        roi = group.roi
        if roi is None:
            raise InputError(f"{where}: no Image Region (SCOORD); expected a 2D region")
        if isinstance(roi, hd.sr.ImageRegion3D):
            raise InputError(f"{where}: a 3D region (SCOORD3D); expected image coordinates")
        graphic_type = roi.graphic_type.value
        regions.append(_region(graphic_type, np.asarray(roi.value, dtype=np.float64), where))
        names.append(group.tracking_identifier or f"group-{number}")
    return regions, names


def image_geometry(
    files: Sequence[Path],
) -> tuple[tuple[float, float] | None, tuple[float, float] | None]:
    """(spacing x, y in mm; size columns, rows) of the first DICOM image among ``files``.

    Files that are not DICOM images (no Rows) are skipped; (None, None) when
    none is. Pixel Spacing is (row spacing, column spacing): x is the second.
    """
    from dxval.dicom import CaseFailure
    from dxval.dicom.notes import captured
    from dxval.dicom.reader import read_header

    for path in files:
        try:
            with captured():
                header = read_header(path)
        except CaseFailure:
            continue
        rows, columns = header.get("Rows"), header.get("Columns")
        if not rows or not columns:
            continue
        spacing_values = header.get("PixelSpacing") or header.get("ImagerPixelSpacing")
        spacing = None
        if spacing_values is not None and len(spacing_values) == 2:
            row_spacing, column_spacing = (float(value) for value in spacing_values)
            if row_spacing > 0 and column_spacing > 0:
                spacing = (column_spacing, row_spacing)
        return spacing, (float(columns), float(rows))
    return None, None
