"""The frozen model description the harness runs: plain values mirroring the protocol.

The protocol's ``model:`` section (validated by pydantic in
:mod:`dxval.protocol`) is converted once into a :class:`ModelConfig`; from
then on the harness sees only these frozen dataclasses and closed enums, so
the inference code never depends on the schema layer.

Shapes include the batch axis first; ``None`` marks a dynamic axis (the
protocol writes ``null``). The batch axis must be dynamic: dxval batches
cases itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from dxval.errors import ProtocolError
from dxval.inference.outputs import BoxSpec, MaskEncoding, MaskSpec, OutputKind

__all__ = [
    "SUPPORTED_DTYPES",
    "Activation",
    "Device",
    "InputSpec",
    "ModelConfig",
    "OutputSpec",
    "ReferenceSpec",
    "Runtime",
]

#: Input dtypes a protocol may declare (numpy names).
SUPPORTED_DTYPES: tuple[str, ...] = (
    "float32",
    "float16",
    "float64",
    "uint8",
    "int8",
    "int16",
    "int32",
    "int64",
)


class Runtime(str, Enum):
    """Which runner plugin loads the artifact."""

    ONNXRUNTIME = "onnxruntime"
    TORCH = "torch"


class Activation(str, Enum):
    """How raw model outputs become a score (applied by dxval in float64, not by the runner)."""

    NONE = "none"
    SIGMOID = "sigmoid"
    SOFTMAX = "softmax"


class Device(str, Enum):
    """Where inference runs. ``tensorrt`` is onnxruntime's TensorRT execution provider."""

    CPU = "cpu"
    CUDA = "cuda"
    TENSORRT = "tensorrt"


@dataclass(frozen=True, slots=True)
class InputSpec:
    """The model input the protocol declares.

    Attributes
    ----------
    name:
        Input name in the artifact (ONNX graph input, TorchScript/export argument name).
    shape:
        Full shape, batch axis first; ``None`` marks a dynamic axis.
    dtype:
        numpy dtype name, one of :data:`SUPPORTED_DTYPES`.
    """

    name: str
    shape: tuple[int | None, ...]
    dtype: str = "float32"

    @property
    def case_shape(self) -> tuple[int | None, ...]:
        """Shape of one case's tensor: :attr:`shape` without the batch axis."""
        return self.shape[1:]


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """The model output that carries the score and how it becomes one.

    Attributes
    ----------
    name:
        Output name in the artifact.
    activation:
        Applied by dxval to the raw output row, in float64.
    positive_index:
        Which element of the (activated) output row is the positive-class score.
    kind:
        ``score`` (one score per case) or ``mask`` (a label map per case).
    mask:
        The mask declaration when ``kind`` is ``mask`` (:mod:`dxval.inference.outputs`).
    boxes:
        The box declaration when ``kind`` is ``boxes``.
    """

    name: str
    activation: Activation = Activation.NONE
    positive_index: int = 0
    kind: OutputKind = OutputKind.SCORE
    mask: MaskSpec | None = None
    boxes: BoxSpec | None = None


@dataclass(frozen=True, slots=True)
class ReferenceSpec:
    """Golden check: a pinned input and the raw outputs the artifact must reproduce.

    Attributes
    ----------
    input_path:
        ``.npy`` file holding the input batch (batch axis first, or one case without it).
    input_sha256:
        SHA-256 of that file's bytes; ``None`` before ``dxval lock`` pins it (the
        input's digest is then recorded but not checked).
    expected:
        The raw outputs of the selected output, flattened in C order (empty when
        ``expected_sha256`` is given instead).
    tolerance:
        Largest absolute difference accepted per element.
    expected_sha256:
        SHA-256 of the raw output bytes (C order, the runtime's dtype): a bit-for-bit
        check, for outputs too large to list (masks).
    """

    input_path: Path
    input_sha256: str | None
    expected: tuple[float, ...]
    tolerance: float
    expected_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """A frozen model artifact and how to call it (the protocol's ``model:`` section).

    Attributes
    ----------
    path:
        The artifact file (``.onnx``; ``.pt`` TorchScript; ``.pt2`` torch.export).
    runtime:
        Which runner loads it.
    input, output:
        The declared signature, checked against the artifact before any case runs.
    operating_point:
        Frozen decision threshold: positive ⇔ score ≥ operating_point.
    sha256:
        Pinned SHA-256 of the artifact; ``None`` when the protocol is not locked yet.
    reference:
        Optional golden check.
    """

    path: Path
    runtime: Runtime
    input: InputSpec
    output: OutputSpec
    operating_point: float
    sha256: str | None = None
    reference: ReferenceSpec | None = None

    @classmethod
    def from_mapping(cls, model: Mapping[str, Any], *, folder: Path) -> ModelConfig:
        """Build a config from the protocol's ``model:`` mapping (e.g. ``model_dump()``).

        Parameters
        ----------
        model:
            Keys ``path``, ``runtime``, ``input`` {name, shape, dtype}, ``output``
            {name, activation, positive_index}, ``operating_point``, optional
            ``sha256`` and ``reference`` {input, input_sha256, expected, tolerance}.
        folder:
            Relative paths (artifact, reference input) are resolved against it: the
            protocol file's folder.

        Raises
        ------
        ProtocolError
            A key is missing or a value has the wrong type (the protocol layer normally
            catches this first, with line numbers).
        """
        try:
            return _config_from_mapping(model, folder)
        except (KeyError, TypeError, ValueError) as error:
            raise ProtocolError(f"model: cannot read the model section ({error!r})") from error


def _config_from_mapping(model: Mapping[str, Any], folder: Path) -> ModelConfig:
    input_section = model["input"]
    output_section = model["output"]
    reference_section = model.get("reference")
    reference = None
    if reference_section is not None:
        pinned_input = reference_section.get("input_sha256")
        pinned_output = reference_section.get("expected_sha256")
        reference = ReferenceSpec(
            input_path=_resolve(reference_section["input"], folder),
            input_sha256=None if pinned_input is None else str(pinned_input).lower(),
            expected=tuple(float(value) for value in reference_section.get("expected") or ()),
            tolerance=float(reference_section.get("tolerance") or 0.0),
            expected_sha256=None if pinned_output is None else str(pinned_output).lower(),
        )
    shape = tuple(None if axis is None else int(axis) for axis in input_section["shape"])
    sha256 = model.get("sha256")
    return ModelConfig(
        path=_resolve(model["path"], folder),
        runtime=Runtime(_enum_value(model["runtime"])),
        input=InputSpec(
            name=str(input_section["name"]),
            shape=shape,
            dtype=str(input_section.get("dtype") or "float32"),
        ),
        output=OutputSpec(
            name=str(output_section["name"]),
            activation=Activation(_enum_value(output_section.get("activation") or "none")),
            positive_index=int(output_section.get("positive_index") or 0),
            kind=OutputKind(_enum_value(output_section.get("kind") or "score")),
            mask=_mask_spec(output_section, float(model["operating_point"])),
            boxes=_box_spec(output_section),
        ),
        operating_point=float(model["operating_point"]),
        sha256=None if sha256 is None else str(sha256).lower(),
        reference=reference,
    )


def _mask_spec(output: Mapping[str, Any], threshold: float) -> MaskSpec | None:
    """The mask declaration of a ``kind: mask`` output (checked by the protocol layer)."""
    if _enum_value(output.get("kind") or "score") != OutputKind.MASK.value:
        return None
    return MaskSpec(
        shape=tuple(None if axis is None else int(axis) for axis in output["shape"]),
        encoding=MaskEncoding(_enum_value(output.get("encoding") or "labels")),
        channel_labels=tuple(int(label) for label in output.get("channel_labels") or ()),
        transpose=tuple(int(axis) for axis in output.get("transpose") or ()),
        threshold=threshold,
    )


def _box_spec(output: Mapping[str, Any]) -> BoxSpec | None:
    """The box declaration of a ``kind: boxes`` output (checked by the protocol layer)."""
    if _enum_value(output.get("kind") or "score") != OutputKind.BOXES.value:
        return None
    return BoxSpec(
        shape=tuple(None if axis is None else int(axis) for axis in output["shape"]),
        score_floor=float(output["score_floor"]),
    )


def _enum_value(value: object) -> str:
    return str(value.value) if isinstance(value, Enum) else str(value)


def _resolve(path: str | Path, folder: Path) -> Path:
    candidate = Path(path)
    return candidate if candidate.is_absolute() else folder / candidate
