"""Model outputs other than one score per case: label maps (issue 16 item 5).

The protocol's ``model.output.kind`` says what the artifact returns:

``score``
    One score per case (the default; :func:`dxval.inference.harness.score_from_outputs`).
``boxes``
    Detection marks, declared by :class:`BoxSpec`: ``N`` rows of ``x0, y0, x1,
    y1, score`` per case (shape ``[null, N, 5]``), in the model input's pixel
    coordinates; rows whose score is below ``score_floor`` are padding. The
    harness keeps the raw row (so the cache and the golden check are the score
    path's); a row with a non-finite value or a kept box with ``x1 <= x0`` or
    ``y1 <= y0`` is a failed case with its reason (:func:`box_problem`).
``mask``
    A segmentation, declared by :class:`MaskSpec`: the output's full shape
    (batch axis first), its encoding and how its spatial axes map onto the
    truth label map's axes. ``labels``: the output holds the label of each
    voxel (integer values, any numeric dtype). ``probabilities``: axis 1
    holds one map per channel, ``channel_labels[c]`` is the label channel
    ``c`` stands for (0 = background, never chosen); a voxel takes the label
    of its most probable non-background channel among those whose
    probability is >= the threshold (``model.operating_point``; positive ⇔
    probability ≥ threshold, the project's rule), ties to the lower channel,
    else 0.

The harness checks the number of values the runtime returned per case
against the declared shape on every batch (so on the first one): a model that returns another
shape stops the run with :class:`~dxval.errors.UsageError` (exit 2) before
any evidence is written. A case whose output holds NaN/inf or, for
``labels``, a value that is not a whole number from 0 to 65535 is a failed
case with its reason code.

Label maps are stored as ``.npz`` files (one array ``mask``, uint16, fixed
member timestamp, so equal maps give equal bytes) named by the SHA-256 of
their bytes in a :class:`MaskStore`: the prediction cache keeps only that
digest, and a hit is verified against the file's bytes before use.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from dxval.errors import UsageError
from dxval.inference.results import CaseResult, CaseStatus

__all__ = [
    "MAX_LABEL",
    "BoxSpec",
    "MaskEncoding",
    "MaskSpec",
    "MaskStore",
    "OutputKind",
    "box_problem",
    "check_batch_width",
    "kept_boxes",
    "label_map",
    "mask_case_result",
    "mask_npz_bytes",
]

#: Largest label a mask output may hold (label maps are stored as uint16).
MAX_LABEL = 65535


class OutputKind(str, Enum):
    """What a model output is."""

    SCORE = "score"
    MASK = "mask"
    BOXES = "boxes"


class MaskEncoding(str, Enum):
    """How a mask output encodes labels."""

    LABELS = "labels"
    PROBABILITIES = "probabilities"


@dataclass(frozen=True, slots=True)
class MaskSpec:
    """A mask output's declaration (``model.output`` with ``kind: mask``).

    Attributes
    ----------
    shape:
        Full output shape, batch axis first (``None`` only for the batch axis).
    encoding:
        ``labels`` or ``probabilities`` (then axis 1 holds the channels).
    channel_labels:
        ``probabilities``: the label of each channel (0 = background).
    transpose:
        Permutation of the spatial axes into the truth label map's order; ``()``
        keeps the order.
    threshold:
        ``probabilities``: a channel is a candidate where its probability is >= it.
    """

    shape: tuple[int | None, ...]
    encoding: MaskEncoding = MaskEncoding.LABELS
    channel_labels: tuple[int, ...] = ()
    transpose: tuple[int, ...] = ()
    threshold: float = 0.5

    @property
    def case_shape(self) -> tuple[int, ...]:
        """One case's output shape (without the batch axis)."""
        return tuple(int(axis or 0) for axis in self.shape[1:])

    @property
    def values_per_case(self) -> int:
        """How many values the runtime returns per case."""
        return math.prod(self.case_shape)

    def describe(self) -> dict[str, object]:
        """JSON-safe form (part of the prediction cache key)."""
        return {
            "kind": OutputKind.MASK.value,
            "shape": list(self.shape),
            "encoding": self.encoding.value,
            "channel_labels": list(self.channel_labels),
            "transpose": list(self.transpose),
            "threshold": self.threshold,
        }


@dataclass(frozen=True, slots=True)
class BoxSpec:
    """A box output's declaration (``model.output`` with ``kind: boxes``).

    Attributes
    ----------
    shape:
        ``(None, N, 5)``: up to ``N`` boxes per case, each ``x0, y0, x1, y1, score``
        in the model input's pixel coordinates (after the preprocessing ``resize``).
    score_floor:
        Rows whose score is below it are padding (not marks).
    """

    shape: tuple[int | None, ...]
    score_floor: float

    @property
    def values_per_case(self) -> int:
        """How many values the runtime returns per case (``N * 5``)."""
        return math.prod(int(axis or 0) for axis in self.shape[1:])

    def describe(self) -> dict[str, object]:
        """JSON-safe form (part of the prediction cache key)."""
        return {
            "kind": OutputKind.BOXES.value,
            "shape": list(self.shape),
            "score_floor": self.score_floor,
        }


Box = tuple[float, float, float, float, float]


def kept_boxes(row: Sequence[float], spec: BoxSpec) -> list[Box]:
    """The rows of a (finite) box output whose score is >= ``score_floor``, in output order."""
    boxes = [tuple(row[start : start + 5]) for start in range(0, len(row), 5)]
    return [(box[0], box[1], box[2], box[3], box[4]) for box in boxes if box[4] >= spec.score_floor]


def box_problem(row: Sequence[float], spec: BoxSpec) -> tuple[str, str] | None:
    """Why a case's box output is unusable (``(reason_code, reason)``), or None.

    Any non-finite value (padding rows included: a NaN score cannot be compared
    with the floor) is ``non_finite_output``; a kept box with ``x1 < x0`` or
    ``y1 < y0`` is ``invalid_box``.
    """
    bad = sum(1 for value in row if not math.isfinite(value))
    if bad:
        return "non_finite_output", f"the model returned {bad} non-finite box values"
    for number, (x0, y0, x1, y1, _) in enumerate(kept_boxes(row, spec)):
        if not (x0 < x1 and y0 < y1):
            return (
                "invalid_box",
                f"kept box {number} is ({x0:g}, {y0:g}, {x1:g}, {y1:g}): expected x0 < x1 and "
                "y0 < y1 (x0, y0, x1, y1, score)",
            )
    return None


def check_batch_width(spec: MaskSpec | BoxSpec, width: int, output_name: str) -> None:
    """Refuse a runtime output whose per-case size differs from the declaration.

    Raises
    ------
    UsageError
        ``width`` (values per case the runtime returned) differs from the product of
        ``spec.shape`` without the batch axis (exit 2).
    """
    if width != spec.values_per_case:
        declared = "[" + ", ".join("null" if a is None else str(a) for a in spec.shape) + "]"
        raise UsageError(
            f"model.output {output_name!r}: the model returned {width} values per case, "
            f"the declared shape {declared} needs {spec.values_per_case} "
            "(model.output.shape)"
        )


def _from_probabilities(values: NDArray[np.floating], spec: MaskSpec) -> NDArray[np.uint16]:
    labels = np.asarray(spec.channel_labels, dtype=np.uint16)
    candidates = labels != 0
    if not candidates.any():
        return np.zeros(values.shape[1:], dtype=np.uint16)
    chosen = values[candidates]
    chosen_labels = labels[candidates]
    best = np.argmax(chosen, axis=0)  # first maximum: ties go to the lower channel
    best_value = np.take_along_axis(chosen, best[np.newaxis], axis=0)[0]
    result = chosen_labels[best]
    result[best_value < spec.threshold] = 0
    return result.astype(np.uint16)


def label_map(row: NDArray[np.generic], spec: MaskSpec) -> NDArray[np.uint16] | tuple[str, str]:
    """One case's raw output values → its label map on the truth's axis order.

    Parameters
    ----------
    row:
        The runtime's values for one case, flattened in C order (length
        :attr:`MaskSpec.values_per_case`).
    spec:
        The mask declaration.

    Returns
    -------
    numpy.ndarray or tuple
        The uint16 label map, transposed by ``spec.transpose``; or ``(reason_code,
        reason)`` for a case whose output is unusable (``non_finite_output``,
        ``invalid_mask_values``).
    """
    values = np.asarray(row).reshape(spec.case_shape)
    if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
        count = int(np.count_nonzero(~np.isfinite(values)))
        return "non_finite_output", f"the model returned {count} non-finite mask values"
    if spec.encoding is MaskEncoding.PROBABILITIES:
        labels = _from_probabilities(values, spec)
    else:
        whole = values == np.round(values) if values.dtype.kind == "f" else True
        if not np.all(whole) or values.min() < 0 or values.max() > MAX_LABEL:
            return (
                "invalid_mask_values",
                f"the label map holds values from {values.min()!r} to {values.max()!r} that are "
                f"not all whole numbers in 0..{MAX_LABEL} (encoding: labels)",
            )
        labels = values.astype(np.uint16)
    if spec.transpose:
        labels = np.ascontiguousarray(np.transpose(labels, spec.transpose))
    return labels


def mask_npz_bytes(labels: NDArray[np.uint16]) -> bytes:
    """The ``.npz`` bytes of a label map (array ``mask``; equal maps give equal bytes)."""
    member = io.BytesIO()
    np.save(member, np.ascontiguousarray(labels, dtype=np.uint16), allow_pickle=False)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("mask.npy", date_time=(2026, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, member.getvalue())
    return buffer.getvalue()


class MaskStore:
    """A folder of label maps named by the SHA-256 of their ``.npz`` bytes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, digest: str) -> Path:
        """Where the map with ``digest`` lives."""
        return self.folder / digest[:2] / f"{digest}.npz"

    def put(self, labels: NDArray[np.uint16]) -> str:
        """Store a map (atomically; a file already there is kept) and return its digest."""
        data = mask_npz_bytes(labels)
        digest = hashlib.sha256(data).hexdigest()
        path = self.path(digest)
        if self.verified(digest):
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return digest

    def verified(self, digest: str) -> bool:
        """True when the file for ``digest`` exists and its bytes hash to ``digest``."""
        try:
            data = self.path(digest).read_bytes()
        except OSError:
            return False
        return hashlib.sha256(data).hexdigest() == digest

    def read(self, digest: str) -> NDArray[np.uint16]:
        """The label map stored under ``digest`` (verified against its bytes).

        Raises
        ------
        ValueError
            The file is missing, changed or unreadable.
        """
        try:
            data = self.path(digest).read_bytes()
        except OSError as error:
            raise ValueError(f"stored mask {digest} is missing ({error})") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise ValueError(f"stored mask {digest} was changed after it was written")
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            return np.asarray(archive["mask"], dtype=np.uint16)


def mask_case_result(
    case_id: str,
    row: NDArray[np.generic],
    spec: MaskSpec,
    store: MaskStore | None,
    *,
    decoder: str | None,
) -> CaseResult:
    """One case's mask output → a scored result naming its stored label map, or a failure.

    Raises
    ------
    UsageError
        No mask store (an executor that scores away from the driver, e.g. Ray): mask
        outputs are scored by the local executors only (exit 2).
    """
    if store is None:
        raise UsageError(
            "model.output.kind 'mask' is scored by the local executor only; "
            "run without --executor ray"
        )
    labels = label_map(row, spec)
    if isinstance(labels, tuple):
        code, reason = labels
        return CaseResult(
            case_id, None, CaseStatus.FAILED, reason_code=code, reason=reason, decoder=decoder
        )
    digest = store.put(labels)
    return CaseResult(case_id, None, CaseStatus.SCORED, decoder=decoder, mask_sha256=digest)
