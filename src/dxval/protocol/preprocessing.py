"""The preprocessing schema: one validated, documented pydantic model per op.

A protocol's ``preprocessing:`` section is an ordered list of steps, each a
mapping with an ``op`` key naming one entry of the closed registry :data:`OPS`.
Each op is a pydantic v2 model with ``extra="forbid"``, so an unknown op, an
unknown parameter or a bad value is a validation error located at
``preprocessing[i]...``. :func:`plain_steps` hands the validated steps to the
DICOM layer as plain frozen values (:mod:`dxval.dicom.steps`, every default
written out), where the pixel arithmetic (:mod:`dxval.dicom.pixels`, citing
DICOM PS3.3 C.11), the step-order check and the preprocessing digest live.

Value ranges. Every step knows the range its input values can take (stored
range from BitsStored/PixelRepresentation, mapped through the Modality LUT;
``[0, 1]`` after ``window``/``voi_lut``); ``monochrome2`` inverts within that
range and ``scale`` maps it, so neither depends on the content of one image
unless asked (``scale`` with ``source: image``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from dxval.dicom.steps import STEP_TYPES, Step, check_pipeline

__all__ = [
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
    "parse_steps",
    "plain_steps",
]

PositiveInt = Annotated[int, Field(ge=1)]
Size2D = tuple[PositiveInt, PositiveInt]


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
        A step order that cannot be right (see :func:`dxval.dicom.steps.check_pipeline`).
    """
    steps = tuple(_STEPS_ADAPTER.validate_python(list(raw)))
    check_pipeline(steps)
    return steps


def plain_steps(
    steps: Sequence[BaseModel | Mapping[str, object]],
) -> tuple[Step, ...]:
    """Validated steps (op models, or raw mappings validated here) as plain DICOM-layer steps.

    Every parameter is written out (defaults included, numbers with the
    types the schema gives them), so the preprocessing digest of the plain
    steps does not depend on how the protocol spelled them.

    Raises
    ------
    pydantic.ValidationError
        A raw mapping with an unknown op or a bad parameter.
    ValueError
        A step order that cannot be right.
    """
    if all(isinstance(step, BaseModel) for step in steps):
        models: Sequence[BaseModel] = [step for step in steps if isinstance(step, BaseModel)]
        check_pipeline(models)
    else:
        models = parse_steps([dict(step) for step in steps])
    return tuple(_plain(model) for model in models)


def _plain(model: BaseModel) -> Step:
    values = model.model_dump()
    return STEP_TYPES[values["op"]](**values)
