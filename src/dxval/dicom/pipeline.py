"""Apply an ordered list of preprocessing steps (:mod:`dxval.dicom.steps`) to an :class:`Image`.

The pipeline carries, beside the array, the range its values can take (from
Bits Stored and Pixel Representation, mapped through each op) and the
photometric interpretation, so ``monochrome2`` and ``scale`` never depend on
one image's content unless asked to. Each op's arithmetic is a pure function
of :mod:`dxval.dicom.pixels` (PS3.3 C.11); this module only reads the
parameters the standard says to read and keeps the range bookkeeping.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from dxval.dicom import pixels, steps
from dxval.dicom.failures import CaseFailure, ReasonCode
from dxval.dicom.reader import Image
from dxval.dicom.series import resample_volume

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

__all__ = ["PixelState", "apply_steps", "initial_state", "modality_parameters"]

FloatArray = NDArray[np.float64]

#: What pydicom raises when converting a corrupt header value on access.
_HEADER_ERRORS = (
    ValueError,
    TypeError,
    LookupError,
    AttributeError,
    ArithmeticError,
    NotImplementedError,
)


@dataclass(frozen=True, slots=True)
class PixelState:
    """Values between ops, with the range they can take and how to display them."""

    values: FloatArray
    low: float
    high: float
    photometric: str
    headers: tuple[Dataset, ...]
    spacing: tuple[float, ...] | None
    source: str


def initial_state(image: Image) -> PixelState:
    """Stored values as float64 with the stored value range (PS3.3 C.7.6.3.1)."""
    header = image.header
    allocated = int(header.BitsAllocated)
    low, high = pixels.stored_value_range(
        int(header.get("BitsStored", allocated)), int(header.get("PixelRepresentation", 0))
    )
    spacing: tuple[float, ...] | None = image.spacing
    if spacing is None and image.pixels.ndim == 2:
        in_plane = header.get("PixelSpacing") or header.get("ImagerPixelSpacing")
        spacing = tuple(float(value) for value in in_plane) if in_plane else None
    return PixelState(
        values=np.asarray(image.pixels, dtype=np.float64),
        low=low,
        high=high,
        photometric=str(header.PhotometricInterpretation).strip(),
        headers=image.headers,
        spacing=spacing,
        source=image.sources[0].name,
    )


def modality_parameters(header: Dataset) -> tuple[str, Any]:
    """Which Modality LUT a header specifies, PS3.3 C.11.1.

    Returns ``("lut", item)`` for a Modality LUT Sequence item, ``("rescale",
    (slope, intercept))`` from the top level or the shared functional groups'
    Pixel Value Transformation Sequence (enhanced multi-frame, C.7.6.16.2.9),
    or ``("identity", None)``.
    """
    if "ModalityLUTSequence" in header and len(header.ModalityLUTSequence):
        return "lut", header.ModalityLUTSequence[0]
    source: Dataset | None = header if "RescaleSlope" in header else None
    shared = header.get("SharedFunctionalGroupsSequence")
    if source is None and shared:
        transformation = shared[0].get("PixelValueTransformationSequence")
        source = transformation[0] if transformation else None
    if source is not None and "RescaleSlope" in source:
        return "rescale", (float(source.RescaleSlope), float(source.get("RescaleIntercept", 0.0)))
    return "identity", None


def _modality_one(
    values: FloatArray, header: Dataset, low: float, high: float
) -> tuple[FloatArray, float, float]:
    kind, parameters = modality_parameters(header)
    if kind == "lut":
        _, first, _ = pixels.lut_descriptor(parameters.LUTDescriptor, signed_input=low < 0)
        table = np.asarray(parameters.LUTData, dtype=np.float64)
        return pixels.apply_lut(values, table, first), float(table.min()), float(table.max())
    if kind == "rescale":
        slope, intercept = parameters
        ends = sorted((slope * low + intercept, slope * high + intercept))
        return pixels.apply_rescale(values, slope, intercept), ends[0], ends[1]
    return values, low, high


def _modality_lut(state: PixelState, step: steps.ModalityLutOp) -> PixelState:
    per_slice = state.values.ndim == 3 and len(state.headers) == state.values.shape[0] > 1
    if not per_slice:
        values, low, high = _modality_one(state.values, state.headers[0], state.low, state.high)
        return replace(state, values=values, low=low, high=high)
    results = [
        _modality_one(frame, header, state.low, state.high)
        for frame, header in zip(state.values, state.headers, strict=True)
    ]
    return replace(
        state,
        values=np.stack([result[0] for result in results]),
        low=min(result[1] for result in results),
        high=max(result[2] for result in results),
    )


def _as_list(value: Any) -> list[Any]:
    """A multi-valued attribute as a list (a single value as a one-item list)."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def _window_from_header(header: Dataset, index: int, source: str) -> tuple[float, float, str]:
    centers = _as_list(header.get("WindowCenter"))
    widths = _as_list(header.get("WindowWidth"))
    if index >= min(len(centers), len(widths)):
        raise CaseFailure(
            ReasonCode.NO_VOI, f"{source}: window {index} requested, file holds {len(centers)}"
        )
    function = str(header.get("VOILUTFunction", "LINEAR") or "LINEAR").strip().lower()
    if function not in ("linear", "linear_exact", "sigmoid"):
        raise CaseFailure(
            ReasonCode.INVALID_HEADER, f"{source}: VOILUTFunction {function.upper()!r} unknown"
        )
    return float(centers[index]), float(widths[index]), function


def _voi_lut(state: PixelState, step: steps.VoiLutOp) -> PixelState:
    header = state.headers[0]
    has_lut = "VOILUTSequence" in header and len(header.VOILUTSequence) > 0
    has_window = header.get("WindowCenter") is not None and header.get("WindowWidth") is not None
    if not (has_lut or has_window):
        raise CaseFailure(
            ReasonCode.NO_VOI, f"{state.source}: voi_lut needs a VOI LUT Sequence or a window"
        )
    if has_lut and (step.prefer == "lut" or not has_window):
        if step.index >= len(header.VOILUTSequence):
            raise CaseFailure(ReasonCode.NO_VOI, f"{state.source}: VOI LUT {step.index} absent")
        item = header.VOILUTSequence[step.index]
        _, first, bits = pixels.lut_descriptor(item.LUTDescriptor, signed_input=state.low < 0)
        looked_up = pixels.apply_lut(state.values, np.asarray(item.LUTData), first)
        return replace(state, values=looked_up / (2.0**bits - 1), low=0.0, high=1.0)
    center, width, function = _window_from_header(header, step.index, state.source)
    try:
        windowed = pixels.apply_window(state.values, center, width, function=function)  # type: ignore[arg-type]
    except ValueError as error:
        raise CaseFailure(ReasonCode.INVALID_HEADER, f"{state.source}: {error}") from None
    return replace(state, values=windowed, low=0.0, high=1.0)


def _window(state: PixelState, step: steps.WindowOp) -> PixelState:
    windowed = pixels.apply_window(state.values, step.center, step.width, function=step.function)
    return replace(state, values=windowed, low=0.0, high=1.0)


def _monochrome2(state: PixelState, step: steps.Monochrome2Op) -> PixelState:
    if state.photometric != "MONOCHROME1":
        return state
    inverted = pixels.invert_monochrome1(state.values, state.low, state.high)
    return replace(state, values=inverted, photometric="MONOCHROME2")


def _resize(state: PixelState, step: steps.ResizeOp) -> PixelState:
    resized = pixels.resize(state.values, step.size, method=step.method)
    return replace(state, values=resized, spacing=None)


def _crop_or_pad(state: PixelState, step: steps.CropOrPadOp) -> PixelState:
    fill = state.low if step.fill == "range_low" else float(step.fill)
    values = pixels.crop_or_pad(state.values, step.size, fill=fill)
    return replace(state, values=values, low=min(state.low, fill), high=max(state.high, fill))


def _scale(state: PixelState, step: steps.ScaleOp) -> PixelState:
    if step.source == "image":
        source = (float(state.values.min()), float(state.values.max()))
    else:
        source = (state.low, state.high)
    values = pixels.rescale_linear(state.values, source, (step.low, step.high))
    return replace(state, values=values, low=step.low, high=step.high)


def _normalize(state: PixelState, step: steps.NormalizeOp) -> PixelState:
    values = pixels.normalize(state.values, step.mean, step.std)
    means = np.atleast_1d(np.asarray(step.mean, dtype=np.float64))
    stds = np.atleast_1d(np.asarray(step.std, dtype=np.float64))
    ends = np.concatenate([(state.low - means) / stds, (state.high - means) / stds])
    return replace(state, values=values, low=float(ends.min()), high=float(ends.max()))


def _to_channels(state: PixelState, step: steps.ToChannelsOp) -> PixelState:
    return replace(state, values=pixels.to_channels(state.values, step.channels))


def _select_frame(state: PixelState, step: steps.SelectFrameOp) -> PixelState:
    values = pixels.select_frame(state.values, step.index)
    headers = state.headers
    if len(headers) > 1 and state.values.ndim == 3:
        headers = (headers[step.index],)
    spacing = (
        state.spacing[1:]
        if state.spacing is not None and len(state.spacing) == 3
        else state.spacing
    )
    return replace(state, values=values, headers=headers, spacing=spacing)


def _select_slices(state: PixelState, step: steps.SelectSlicesOp) -> PixelState:
    values = pixels.select_slices(state.values, step.count, start=step.start, step=step.step)
    spacing = state.spacing
    if spacing is not None and len(spacing) == 3:
        spacing = (spacing[0] * step.step, *spacing[1:])
    return replace(state, values=values, spacing=spacing)


def _resample(state: PixelState, step: steps.ResampleOp) -> PixelState:
    if state.spacing is None or len(state.spacing) != state.values.ndim:
        raise CaseFailure(
            ReasonCode.SHAPE_MISMATCH,
            f"{state.source}: resample needs a series volume or a 2-D image with PixelSpacing",
        )
    target = step.spacing[-state.values.ndim :]
    values, spacing = resample_volume(state.values, state.spacing, target)
    return replace(state, values=values, spacing=spacing)


_HANDLERS: dict[str, Callable[[PixelState, Any], PixelState]] = {
    "modality_lut": _modality_lut,
    "voi_lut": _voi_lut,
    "window": _window,
    "monochrome2": _monochrome2,
    "resize": _resize,
    "crop_or_pad": _crop_or_pad,
    "scale": _scale,
    "normalize": _normalize,
    "to_channels": _to_channels,
    "select_frame": _select_frame,
    "select_slices": _select_slices,
    "resample": _resample,
}


def apply_steps(image: Image, plan: Sequence[steps.Step]) -> NDArray[np.float32]:
    """Run the steps of ``plan`` in order on ``image``; return the model input as float32.

    Raises
    ------
    CaseFailure
        ``shape_mismatch`` when an op does not fit the image's shape (e.g.
        ``select_frame`` beyond the frames), ``no_voi`` from ``voi_lut``,
        ``invalid_header`` when an op reads a malformed header value.
    """
    try:
        state = initial_state(image)
    except _HEADER_ERRORS as error:
        raise CaseFailure(
            ReasonCode.INVALID_HEADER,
            f"{image.sources[0].name}: unusable pixel attributes ({type(error).__name__})",
        ) from None
    for index, step in enumerate(plan):
        name = str(getattr(step, "op", ""))
        try:
            state = _HANDLERS[name](state, step)
        except pixels.ShapeError as error:
            raise CaseFailure(
                ReasonCode.SHAPE_MISMATCH, f"{state.source}: preprocessing[{index}] {error}"
            ) from None
        except _HEADER_ERRORS as error:
            # A header value the op reads (PixelSpacing, RescaleSlope, LUT Data, ...) is
            # malformed; op parameters were validated by the protocol schema. The value
            # itself is not echoed: headers may carry identifying text.
            raise CaseFailure(
                ReasonCode.INVALID_HEADER,
                f"{state.source}: preprocessing[{index}] ({name}) found an unusable header "
                f"value ({type(error).__name__})",
            ) from None
    return np.ascontiguousarray(state.values, dtype=np.float32)
