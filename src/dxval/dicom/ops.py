"""The preprocessing registry: one validated, documented, hashable model per op.

A protocol's ``preprocessing:`` section is an ordered list of steps, each a
mapping with an ``op`` key naming one entry of the closed registry :data:`OPS`.
Each op is a pydantic v2 model with ``extra="forbid"``, so an unknown op, an
unknown parameter or a bad value is a validation error located at
``preprocessing[i]...``. The pixel arithmetic behind each op lives in
:mod:`dxval.dicom.pixels` (pure functions citing DICOM PS3.3 C.11) and is
applied by :mod:`dxval.dicom.pipeline`; this module imports only pydantic and
the standard library so that the protocol schema can import it cheaply.

Value ranges. Every step knows the range its input values can take (stored
range from BitsStored/PixelRepresentation, mapped through the Modality LUT;
``[0, 1]`` after ``window``/``voi_lut``); ``monochrome2`` inverts within that
range and ``scale`` maps it, so neither depends on the content of one image
unless asked (``scale`` with ``source: image``).

The preprocessing digest (:func:`preprocessing_digest`) is the SHA-256 of the
canonical JSON (sorted keys, no whitespace, defaults written out) of the ops,
dxval's version and the versions of the pixel decoders, so a change of any
parameter, of dxval or of a decoder changes the digest and invalidates cached
predictions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

__all__ = [
    "DECODER_DISTRIBUTIONS",
    "OPS",
    "CropOrPadOp",
    "ModalityLutOp",
    "Monochrome2Op",
    "NormalizeOp",
    "PreprocessingStep",
    "ResampleOp",
    "ResizeOp",
    "ScaleOp",
    "SelectFrameOp",
    "SelectSlicesOp",
    "ToChannelsOp",
    "VoiLutOp",
    "WindowOp",
    "check_pipeline",
    "decoder_versions",
    "parse_steps",
    "preprocessing_digest",
]

PositiveInt = Annotated[int, Field(ge=1)]
Size2D = tuple[PositiveInt, PositiveInt]

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


class _Op(BaseModel):
    """Common configuration: frozen, no unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ModalityLutOp(_Op):
    """Stored values → modality values (e.g. Hounsfield units), DICOM PS3.3 C.11.1.

    Uses the Modality LUT Sequence (0028,3000) when present, otherwise Rescale
    Slope (0028,1053) and Rescale Intercept (0028,1052); without either the
    values pass unchanged (identity transform, as PS3.3 C.11.1 specifies).
    """

    op: Literal["modality_lut"] = Field(description="Operation name.")


class VoiLutOp(_Op):
    """Apply the VOI transform stored in the file, output in [0, 1], PS3.3 C.11.2.

    Uses the VOI LUT Sequence (0028,3010) or Window Center/Width (0028,1050/1051)
    with VOI LUT Function (0028,1056) LINEAR, LINEAR_EXACT or SIGMOID. A LUT's
    output is divided by ``2**bits - 1`` (bits from its LUT Descriptor); a window
    maps onto [0, 1] exactly like :class:`WindowOp`. A file with neither is a case
    failure (``no_voi``).
    """

    op: Literal["voi_lut"] = Field(description="Operation name.")
    index: int = Field(
        default=0, ge=0, description="Which window or LUT when the file holds several (0-based)."
    )
    prefer: Literal["lut", "window"] = Field(
        default="lut",
        description="Which to use when the file holds both a VOI LUT Sequence and a window.",
    )


class WindowOp(_Op):
    """Explicit window centre/width onto [0, 1], PS3.3 C.11.2.1.2 (e.g. CT lung/mediastinum)."""

    op: Literal["window"] = Field(description="Operation name.")
    center: float = Field(description="Window centre, in modality units (after modality_lut).")
    width: float = Field(gt=0, description="Window width; at least 1 for function 'linear'.")
    function: Literal["linear", "linear_exact", "sigmoid"] = Field(
        default="linear", description="VOI LUT Function, PS3.3 C.11.2.1.2-3."
    )

    @model_validator(mode="after")
    def _linear_width(self) -> WindowOp:
        if self.function == "linear" and self.width < 1:
            raise ValueError(
                f"width must be >= 1 for function 'linear' (PS3.3 C.11.2.1.2.1), got {self.width}"
            )
        return self


class Monochrome2Op(_Op):
    """Invert MONOCHROME1 images within the current value range (PS3.3 C.7.6.3.1.2).

    A MONOCHROME1 image shows its minimum as white; ``x → low + high - x``
    turns it into MONOCHROME2 (minimum black). MONOCHROME2 images pass unchanged.
    """

    op: Literal["monochrome2"] = Field(description="Operation name.")


class ResizeOp(_Op):
    """Resize the in-plane axes to ``size`` = [rows, columns]."""

    op: Literal["resize"] = Field(description="Operation name.")
    size: Size2D = Field(description="Output [rows, columns].")
    method: Literal["area", "bilinear"] = Field(
        default="area",
        description="area: exact box averaging of overlapped pixels (use to shrink); "
        "bilinear: half-pixel-centre linear interpolation without antialiasing.",
    )


class CropOrPadOp(_Op):
    """Centre-crop or centre-pad the in-plane axes to ``size`` = [rows, columns]."""

    op: Literal["crop_or_pad"] = Field(description="Operation name.")
    size: Size2D = Field(description="Output [rows, columns].")
    fill: float | Literal["range_low"] = Field(
        default="range_low",
        description="Padding value, or 'range_low' for the low end of the current value range.",
    )


class ScaleOp(_Op):
    """Map values linearly onto [low, high]."""

    op: Literal["scale"] = Field(description="Operation name.")
    low: float = Field(default=0.0, description="Output value of the source minimum.")
    high: float = Field(default=1.0, description="Output value of the source maximum.")
    source: Literal["range", "image"] = Field(
        default="range",
        description="range: the value range known from the DICOM header and earlier ops; "
        "image: this image's own minimum and maximum.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> ScaleOp:
        if self.high <= self.low:
            raise ValueError(f"high must exceed low ({self.low}), got {self.high}")
        return self


class NormalizeOp(_Op):
    """Subtract ``mean`` and divide by ``std``; lists apply per channel (axis 0)."""

    op: Literal["normalize"] = Field(description="Operation name.")
    mean: float | list[float] = Field(description="Mean, or one per channel.")
    std: float | list[float] = Field(description="Standard deviation (> 0), or one per channel.")

    @field_validator("std")
    @classmethod
    def _positive(cls, std: float | list[float]) -> float | list[float]:
        values = std if isinstance(std, list) else [std]
        if not values or any(value <= 0 for value in values):
            raise ValueError(f"std must be > 0, got {std}")
        return std


class ToChannelsOp(_Op):
    """Add a leading channel axis, repeating the image ``channels`` times."""

    op: Literal["to_channels"] = Field(description="Operation name.")
    channels: PositiveInt = Field(default=1, description="Number of channels (e.g. 3 for RGB).")


class SelectFrameOp(_Op):
    """Pick one frame of a multi-frame image (or one slice of a volume) → 2-D."""

    op: Literal["select_frame"] = Field(description="Operation name.")
    index: int = Field(
        default=0, description="0-based frame index; negative counts from the end (-1 = last)."
    )


class SelectSlicesOp(_Op):
    """Keep ``count`` consecutive slices (every ``step``-th) of a volume."""

    op: Literal["select_slices"] = Field(description="Operation name.")
    count: PositiveInt = Field(description="Number of slices kept.")
    start: int | None = Field(
        default=None, ge=0, description="First slice (0-based); null centres the selection."
    )
    step: PositiveInt = Field(default=1, description="Stride between kept slices.")


class ResampleOp(_Op):
    """Resample a volume (slices, rows, columns) to ``spacing`` in mm, trilinear."""

    op: Literal["resample"] = Field(description="Operation name.")
    spacing: tuple[
        Annotated[float, Field(gt=0)], Annotated[float, Field(gt=0)], Annotated[float, Field(gt=0)]
    ] = Field(description="Target [slice, row, column] spacing in millimetres.")


PreprocessingStep = Annotated[
    Union[  # noqa: UP007  (a discriminated union needs the Union form on Python 3.10)
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
    ],
    Field(discriminator="op"),
]

OPS: Mapping[str, type[BaseModel]] = {
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

_STEPS_ADAPTER: TypeAdapter[list[PreprocessingStep]] = TypeAdapter(list[PreprocessingStep])

_VALUE_OPS = ("window", "voi_lut")
_AFTER_VALUES = ("window", "voi_lut", "scale", "normalize")


def parse_steps(raw: Sequence[Mapping[str, object]]) -> tuple[PreprocessingStep, ...]:
    """Validate raw step mappings (as read from YAML) into op models.

    Parameters
    ----------
    raw:
        One mapping per step, each with an ``op`` key.

    Raises
    ------
    pydantic.ValidationError
        An unknown op or a bad parameter, located at ``[i].field``.
    ValueError
        A step order that cannot be right (see :func:`check_pipeline`).
    """
    steps = tuple(_STEPS_ADAPTER.validate_python(list(raw)))
    check_pipeline(steps)
    return steps


def check_pipeline(steps: Sequence[BaseModel]) -> None:
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
    steps: Sequence[BaseModel], *, decoders: Mapping[str, str] | None = None
) -> str:
    """SHA-256 (hex) of the canonical JSON of ``steps`` plus dxval's and the decoders' versions.

    Parameters
    ----------
    steps:
        Op models (from :data:`PreprocessingStep`); defaults are written out, so
        spelling a default explicitly does not change the digest.
    decoders:
        Decoder distribution → version; default :func:`decoder_versions` of this
        environment.
    """
    from dxval import __version__

    document = {
        "ops": [step.model_dump(mode="json") for step in steps],
        "dxval": __version__,
        "decoders": dict(decoders if decoders is not None else decoder_versions()),
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
