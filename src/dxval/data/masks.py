"""Segmentation masks from files: NIfTI (nibabel), ``.npz`` and DICOM SEG (highdicom).

Every reader returns a :class:`LabelMap`: an integer array, the voxel
spacing in millimetres along each array axis, taken from the file, and the
names of the labels where the file has them (DICOM SEG segment labels).
:func:`structure_mask` turns one label into a binary mask;
:func:`check_same_grid` refuses a truth/prediction pair whose shape or
spacing differ (the metrics would otherwise compare different voxels).

``.npz`` files hold two arrays: ``mask`` (integer or boolean, 2-D or 3-D)
and ``spacing`` (one positive number per axis, mm). NIfTI spacing is the
header's ``pixdim`` (``get_zooms``) in the file's voxel order; DICOM SEG
spacing is the geometry of the segmentation's volume (PS3.3 C.7.6.2,
C.8.20.2), with the segments combined into one label map whose values are
segment numbers.

nibabel and highdicom are imported lazily: install ``dxval[segmentation]``.
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dxval.errors import InputError

#: Spacing values closer than this (relative) are the same grid.
SPACING_RELATIVE_TOLERANCE = 1e-5
#: Voxel placements (affine entries, mm) closer than this are the same.
POSITION_TOLERANCE_MM = 1e-3


@dataclass(frozen=True, slots=True)
class LabelMap:
    """An integer label map with its voxel spacing (mm per array axis)."""

    array: NDArray[np.integer]
    spacing: tuple[float, ...]
    names: Mapping[int, str] = field(default_factory=dict)
    source: str = ""
    #: Voxel index → patient/scanner mm (4x4), where the format has one (NIfTI, DICOM SEG).
    affine: NDArray[np.float64] | None = None


def _fail(path: Path, what: str) -> InputError:
    return InputError(f"{path}: {what}")


def _integer_labels(path: Path, array: np.ndarray) -> NDArray[np.integer]:
    if array.dtype == np.bool_:
        return array.astype(np.uint8)
    if np.issubdtype(array.dtype, np.integer):
        return array
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise _fail(path, "mask holds non-integer values; expected a label map (0, 1, 2, ...)")
        return array.astype(np.int32)
    raise _fail(path, f"mask has dtype {array.dtype}; expected integer or boolean labels")


def _spacing(path: Path, values: object, ndim: int) -> tuple[float, ...]:
    try:
        spacing = tuple(float(value) for value in np.asarray(values, dtype=np.float64).ravel())
    except (TypeError, ValueError):
        raise _fail(path, f"spacing {values!r} is not numeric") from None
    if len(spacing) < ndim or not all(math.isfinite(s) and s > 0 for s in spacing[:ndim]):
        raise _fail(path, f"spacing {spacing}: expected {ndim} positive numbers (mm)")
    return spacing[:ndim]


def _check_dimensions(path: Path, array: np.ndarray) -> np.ndarray:
    if array.ndim == 4 and array.shape[3] == 1:  # NIfTI stores a 3-D volume with a unit 4th axis
        array = array[..., 0]
    if array.ndim not in (2, 3):
        raise _fail(path, f"mask has shape {array.shape}; expected a 2-D or 3-D label map")
    return array


def read_npz(path: Path) -> LabelMap:
    """Read a ``.npz`` file with arrays ``mask`` and ``spacing``."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = {"mask", "spacing"} - set(archive.files)
            if missing:
                raise _fail(
                    path,
                    f"missing {'array' if len(missing) == 1 else 'arrays'} {sorted(missing)}; "
                    "expected 'mask' and 'spacing'",
                )
            array = _check_dimensions(path, archive["mask"])
            spacing = _spacing(path, archive["spacing"], array.ndim)
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise _fail(path, f"cannot read the .npz file ({error})") from None
    return LabelMap(_integer_labels(path, array), spacing, source="npz")


def read_nifti(path: Path) -> LabelMap:
    """Read a NIfTI-1/2 file (``.nii`` or ``.nii.gz``) with nibabel."""
    try:
        import nibabel
    except ImportError:
        raise _fail(path, "reading NIfTI needs nibabel: install dxval[segmentation]") from None
    try:
        image: Any = nibabel.load(path)  # a Nifti1Image or Nifti2Image
        array = _check_dimensions(path, np.asanyarray(image.dataobj))
        spacing = _spacing(path, image.header.get_zooms(), array.ndim)
    except (OSError, ValueError, EOFError, nibabel.filebasedimages.ImageFileError) as error:
        raise _fail(path, f"cannot read the NIfTI file ({error})") from None
    return LabelMap(
        _integer_labels(path, array),
        spacing,
        source="nifti",
        affine=np.asarray(image.affine, dtype=np.float64),
    )


def read_dicom_seg(path: Path) -> LabelMap:
    """Read a DICOM Segmentation (binary or fractional) as a label map of segment numbers.

    Segments are combined (``combine_segments=True``): overlapping segments
    are refused by highdicom. Names are the Segment Label (0062,0005).

    The volume spans the frames the file stores. A SEG written with empty
    frames omitted (highdicom's default) covers only the segmented slices,
    so a truth/prediction pair then differs in shape and is reported as
    ``shape_mismatch`` rather than compared on different voxels; resampling
    onto the source series' geometry is not done here.
    """
    try:
        import highdicom
        from pydicom.errors import InvalidDicomError
    except ImportError:
        raise _fail(
            path, "reading DICOM SEG needs highdicom: install dxval[segmentation]"
        ) from None
    try:
        segmentation = highdicom.seg.segread(path)
        volume = segmentation.get_volume(combine_segments=True)
        names = {
            int(number): str(segmentation.get_segment_description(number).segment_label)
            for number in segmentation.segment_numbers
        }
    except (
        OSError,
        ValueError,
        RuntimeError,
        AttributeError,
        KeyError,
        InvalidDicomError,
    ) as error:
        raise _fail(path, f"cannot read the DICOM SEG as a volume ({error})") from None
    array = _check_dimensions(path, np.asarray(volume.array))
    return LabelMap(
        _integer_labels(path, array),
        _spacing(path, volume.spacing, array.ndim),
        names=names,
        source="dicom-seg",
        affine=np.asarray(volume.affine, dtype=np.float64),
    )


def read_label_map(path: Path) -> LabelMap:
    """Read a mask by its file name: ``.npz``, ``.nii``/``.nii.gz``, ``.dcm`` (DICOM SEG)."""
    name = path.name.lower()
    if not path.is_file():
        raise _fail(path, "no such file")
    if name.endswith(".npz"):
        return read_npz(path)
    if name.endswith((".nii", ".nii.gz")):
        return read_nifti(path)
    if name.endswith(".dcm"):
        return read_dicom_seg(path)
    raise _fail(path, "unknown mask format; expected .npz, .nii, .nii.gz or .dcm (DICOM SEG)")


def check_same_grid(truth: LabelMap, prediction: LabelMap) -> str | None:
    """The reason code when ``truth`` and ``prediction`` are not on the same voxel grid.

    Returns ``"shape_mismatch"``, ``"spacing_mismatch"`` or, when both files
    place their voxels in space (NIfTI, DICOM SEG) and the placements differ
    by more than :data:`POSITION_TOLERANCE_MM`, ``"geometry_mismatch"`` (same
    grid size and spacing, but a different origin or orientation); None when
    they agree. :func:`grid_problem` gives the values.
    """
    if truth.array.shape != prediction.array.shape:
        return "shape_mismatch"
    if not np.allclose(truth.spacing, prediction.spacing, rtol=SPACING_RELATIVE_TOLERANCE, atol=0):
        return "spacing_mismatch"
    if (
        truth.affine is not None
        and prediction.affine is not None
        and not np.allclose(truth.affine, prediction.affine, rtol=0, atol=POSITION_TOLERANCE_MM)
    ):
        return "geometry_mismatch"
    return None


def grid_problem(truth: LabelMap, prediction: LabelMap) -> str | None:
    """A one-line description of a grid mismatch, or None."""
    code = check_same_grid(truth, prediction)
    if code == "shape_mismatch":
        return f"shape_mismatch: truth {truth.array.shape}, prediction {prediction.array.shape}"
    if code == "spacing_mismatch":
        return f"spacing_mismatch: truth {truth.spacing} mm, prediction {prediction.spacing} mm"
    if code == "geometry_mismatch":
        return (
            "geometry_mismatch: same grid size and spacing but different origin or orientation "
            "(affine)"
        )
    return None


def structure_mask(labels: LabelMap, label: int) -> NDArray[np.bool_]:
    """The binary mask of one label (``labels.array == label``)."""
    return np.asarray(labels.array == label)
