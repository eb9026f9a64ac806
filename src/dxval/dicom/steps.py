"""Preprocessing steps as plain frozen values, their order check, and the preprocessing digest.

The schema of a protocol's ``preprocessing:`` section (validation, error
locations, JSON Schema) belongs to the protocol
(:mod:`dxval.protocol.preprocessing`); it hands this package one plain step
per op, with every default written out. The pixel arithmetic behind each op
is in :mod:`dxval.dicom.pixels` (pure functions citing DICOM PS3.3 C.11),
applied by :mod:`dxval.dicom.pipeline`.

The preprocessing digest (:func:`preprocessing_digest`) is the SHA-256 of the
canonical JSON (sorted keys, no whitespace, defaults written out) of the steps,
dxval's version and the versions of the pixel decoders, so a change of any
parameter, of dxval or of a decoder changes the digest and invalidates cached
predictions.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Literal, Union

__all__ = [
    "DECODER_DISTRIBUTIONS",
    "STEP_TYPES",
    "CropOrPadOp",
    "ModalityLutOp",
    "Monochrome2Op",
    "NormalizeOp",
    "ResampleOp",
    "ResizeOp",
    "ScaleOp",
    "SelectFrameOp",
    "SelectSlicesOp",
    "Step",
    "ToChannelsOp",
    "VoiLutOp",
    "WindowOp",
    "check_pipeline",
    "decoder_versions",
    "preprocessing_digest",
]

#: Distributions whose versions enter the digest: pydicom's pixel backends and
#: the plugins dxval allows (see qms/notes/dicom-decoders.md). Missing ones are
#: recorded as ``"absent"``.
DECODER_DISTRIBUTIONS: tuple[str, ...] = (
    "pydicom",
    "numpy",
    "pylibjpeg",
    "pylibjpeg-openjpeg",
    "pylibjpeg-rle",
    "pillow",
    "python-gdcm",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ModalityLutOp:
    """Stored values → modality values, DICOM PS3.3 C.11.1."""

    op: Literal["modality_lut"] = "modality_lut"


@dataclass(frozen=True, slots=True, kw_only=True)
class VoiLutOp:
    """The VOI transform stored in the file onto [0, 1], PS3.3 C.11.2."""

    op: Literal["voi_lut"] = "voi_lut"
    index: int = 0
    prefer: Literal["lut", "window"] = "lut"


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowOp:
    """Explicit window centre/width onto [0, 1], PS3.3 C.11.2.1.2."""

    op: Literal["window"] = "window"
    center: float
    width: float
    function: Literal["linear", "linear_exact", "sigmoid"] = "linear"


@dataclass(frozen=True, slots=True, kw_only=True)
class Monochrome2Op:
    """Invert MONOCHROME1 within the current value range (PS3.3 C.7.6.3.1.2)."""

    op: Literal["monochrome2"] = "monochrome2"


@dataclass(frozen=True, slots=True, kw_only=True)
class ResizeOp:
    """Resize the in-plane axes to ``size`` = (rows, columns)."""

    op: Literal["resize"] = "resize"
    size: tuple[int, int]
    method: Literal["area", "bilinear"] = "area"


@dataclass(frozen=True, slots=True, kw_only=True)
class CropOrPadOp:
    """Centre-crop or centre-pad the in-plane axes to ``size`` = (rows, columns)."""

    op: Literal["crop_or_pad"] = "crop_or_pad"
    size: tuple[int, int]
    fill: float | Literal["range_low"] = "range_low"


@dataclass(frozen=True, slots=True, kw_only=True)
class ScaleOp:
    """Map values linearly onto [low, high] (from the known range, or the image's own)."""

    op: Literal["scale"] = "scale"
    low: float = 0.0
    high: float = 1.0
    source: Literal["range", "image"] = "range"


@dataclass(frozen=True, slots=True, kw_only=True)
class NormalizeOp:
    """Subtract ``mean`` and divide by ``std``; sequences apply per channel (axis 0)."""

    op: Literal["normalize"] = "normalize"
    mean: float | list[float]
    std: float | list[float]


@dataclass(frozen=True, slots=True, kw_only=True)
class ToChannelsOp:
    """Add a leading channel axis, repeating the image ``channels`` times."""

    op: Literal["to_channels"] = "to_channels"
    channels: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class SelectFrameOp:
    """Pick one frame of a multi-frame image (or one slice of a volume) → 2-D."""

    op: Literal["select_frame"] = "select_frame"
    index: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class SelectSlicesOp:
    """Keep ``count`` consecutive slices (every ``step``-th) of a volume."""

    op: Literal["select_slices"] = "select_slices"
    count: int
    start: int | None = None
    step: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ResampleOp:
    """Resample a volume (slices, rows, columns) to ``spacing`` in mm, trilinear."""

    op: Literal["resample"] = "resample"
    spacing: tuple[float, float, float]


Step = Union[  # noqa: UP007  (a runtime Union; Python 3.10 has no `type` statement)
    ModalityLutOp,
    VoiLutOp,
    WindowOp,
    Monochrome2Op,
    ResizeOp,
    CropOrPadOp,
    ScaleOp,
    NormalizeOp,
    ToChannelsOp,
    SelectFrameOp,
    SelectSlicesOp,
    ResampleOp,
]

#: Op name → step class (the closed registry; the protocol's schema mirrors it).
STEP_TYPES: Mapping[str, type[Step]] = {
    "modality_lut": ModalityLutOp,
    "voi_lut": VoiLutOp,
    "window": WindowOp,
    "monochrome2": Monochrome2Op,
    "resize": ResizeOp,
    "crop_or_pad": CropOrPadOp,
    "scale": ScaleOp,
    "normalize": NormalizeOp,
    "to_channels": ToChannelsOp,
    "select_frame": SelectFrameOp,
    "select_slices": SelectSlicesOp,
    "resample": ResampleOp,
}

_VALUE_OPS = ("window", "voi_lut")
_AFTER_VALUES = ("window", "voi_lut", "scale", "normalize")


def check_pipeline(steps: Sequence[object]) -> None:
    """Reject step orders that would silently produce the wrong tensor.

    Checks: ``modality_lut`` at most once and before any value-changing op
    (PS3.3 C.11: Modality LUT precedes VOI LUT); at most one VOI op
    (``window``/``voi_lut``) and not after ``scale``/``normalize``.

    Raises
    ------
    ValueError
        ``preprocessing[i] (op): reason``.
    """
    seen: list[str] = []
    for index, step in enumerate(steps):
        name = str(getattr(step, "op", ""))
        problem = _order_problem(name, seen)
        if problem is not None:
            raise ValueError(f"preprocessing[{index}] ({name}): {problem}")
        seen.append(name)


def _order_problem(name: str, seen: Sequence[str]) -> str | None:
    """Why op ``name`` cannot follow the ops in ``seen``, or None."""
    if name == "modality_lut":
        if "modality_lut" in seen:
            return "modality_lut appears twice"
        later = [op for op in seen if op in (*_AFTER_VALUES, "monochrome2")]
        if later:
            return f"modality_lut must come before {later[0]} (PS3.3 C.11 order)"
    if name in _VALUE_OPS:
        earlier = [op for op in seen if op in _AFTER_VALUES]
        if earlier:
            return f"{name} cannot follow {earlier[0]}: one VOI transform, on modality values"
    return None


def decoder_versions() -> dict[str, str]:
    """Versions of the pixel-decoding distributions (``"absent"`` when not installed)."""
    versions: dict[str, str] = {}
    for distribution in DECODER_DISTRIBUTIONS:
        try:
            versions[distribution] = version(distribution)
        except PackageNotFoundError:
            versions[distribution] = "absent"
    return versions


def preprocessing_digest(
    steps: Sequence[Step], *, decoders: Mapping[str, str] | None = None
) -> str:
    """SHA-256 (hex) of the canonical JSON of ``steps`` plus dxval's and the decoders' versions.

    Parameters
    ----------
    steps
        Plain steps with every parameter written out, so spelling a default
        explicitly in the protocol does not change the digest.
    decoders
        Decoder distribution → version; default :func:`decoder_versions` of this
        environment.
    """
    from dxval import __version__

    document = {
        "ops": [dataclasses.asdict(step) for step in steps],
        "dxval": __version__,
        "decoders": dict(decoders if decoders is not None else decoder_versions()),
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
