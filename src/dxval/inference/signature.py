"""Signature check: the artifact's inputs and outputs against the protocol's declaration.

Runs before any case: a model exported with another input name, a fixed
batch axis, another dtype or an output too narrow for ``positive_index`` is
refused with exit 2, the message listing every difference as expected vs
actual, so a wrong artifact never produces a bundle of plausible numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

from dxval.errors import UsageError
from dxval.inference.config import Activation, InputSpec, ModelConfig, OutputSpec
from dxval.inference.runner import ArtifactSignature, TensorSignature

__all__ = ["check_inputs", "check_signature", "format_shape"]

_FLOAT_DTYPES = frozenset({"float16", "float32", "float64", "bfloat16"})
_NUMERIC_DTYPES = _FLOAT_DTYPES | {
    "bool", "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64",
}  # fmt: skip


def format_shape(shape: Sequence[int | None] | None) -> str:
    """Write a shape the way the protocol does (``null`` for a dynamic axis)."""
    if shape is None:
        return "(undeclared)"
    return "[" + ", ".join("null" if axis is None else str(axis) for axis in shape) + "]"


def check_signature(config: ModelConfig, signature: ArtifactSignature) -> None:
    """Compare an artifact's signature with the protocol's ``model.input`` / ``model.output``.

    Parameters
    ----------
    config:
        The declaration.
    signature:
        What the artifact declares (ONNX graph, torch.export placeholders) or what a
        probe run showed (TorchScript).

    Raises
    ------
    UsageError
        One or more mismatches (exit 2); the message lists each as expected vs actual.
    """
    problems = [
        *_input_problems(config.input, signature.inputs),
        *_output_problems(config.output, signature),
    ]
    if problems:
        raise UsageError(
            f"model {config.path.name} does not match the protocol's model section: "
            + "; ".join(problems)
        )


def check_inputs(config: ModelConfig, inputs: Sequence[TensorSignature]) -> None:
    """Check only the inputs (before a probe run, which needs the right input to succeed).

    Raises
    ------
    UsageError
        The inputs differ from ``config.input`` (exit 2), expected vs actual.
    """
    problems = _input_problems(config.input, inputs)
    if problems:
        raise UsageError(
            f"model {config.path.name} does not match the protocol's model section: "
            + "; ".join(problems)
        )


def _input_problems(spec: InputSpec, inputs: Sequence[TensorSignature]) -> list[str]:
    problems: list[str] = []
    if not spec.shape or spec.shape[0] is not None:
        problems.append(
            f"model.input.shape: expected the batch axis first and null (dynamic), "
            f"got {format_shape(spec.shape)}"
        )
    if len(inputs) != 1:
        names = ", ".join(repr(tensor.name) for tensor in inputs) or "none"
        return [*problems, f"model inputs: expected exactly one input, artifact has {names}"]
    actual = inputs[0]
    if actual.name != spec.name:
        problems.append(f"model.input.name: expected {spec.name!r}, artifact has {actual.name!r}")
    if actual.dtype is not None and actual.dtype != spec.dtype:
        problems.append(f"model.input.dtype: expected {spec.dtype}, artifact has {actual.dtype}")
    if actual.shape is not None:
        problems.extend(_input_shape_problems(spec.shape, actual.shape))
    return problems


def _input_shape_problems(
    declared: tuple[int | None, ...], actual: tuple[int | None, ...]
) -> list[str]:
    expected_text = f"expected {format_shape(declared)}, artifact has {format_shape(actual)}"
    if len(declared) != len(actual):
        return [f"model.input.shape: {expected_text} (rank {len(declared)} vs {len(actual)})"]
    problems: list[str] = []
    if actual and actual[0] is not None:
        problems.append(
            f"model.input.shape: the artifact's batch axis is fixed at {actual[0]}; "
            "dxval needs a dynamic batch axis (export with a dynamic batch dimension)"
        )
    differing = [
        index
        for index, (want, have) in enumerate(zip(declared, actual, strict=True))
        if index > 0 and want != have
    ]
    if differing:
        axes = ", ".join(str(index) for index in differing)
        problems.append(f"model.input.shape: {expected_text} (axis {axes})")
    return problems


def _output_problems(spec: OutputSpec, signature: ArtifactSignature) -> list[str]:
    outputs = signature.outputs
    if signature.named_outputs:
        matches = [tensor for tensor in outputs if tensor.name == spec.name]
        if not matches:
            names = ", ".join(repr(tensor.name) for tensor in outputs) or "none"
            return [f"model.output.name: expected {spec.name!r}, artifact outputs are {names}"]
        selected = matches[0]
    elif len(outputs) != 1:
        return [f"model outputs: expected one unnamed output tensor, artifact has {len(outputs)}"]
    else:
        selected = outputs[0]
    if spec.mask is not None:  # kind: mask (issue 16 item 5)
        return _mask_output_problems(spec, selected, spec.mask.shape)
    if spec.boxes is not None:  # kind: boxes
        return _box_output_problems(spec, selected, spec.boxes.shape)
    problems: list[str] = []
    if selected.dtype is not None and selected.dtype not in _FLOAT_DTYPES:
        problems.append(
            f"model.output {spec.name!r}: expected a floating-point tensor, "
            f"artifact has {selected.dtype}"
        )
    if selected.shape is not None:
        problems.extend(_output_shape_problems(spec, selected.shape))
    return problems


def _box_output_problems(
    spec: OutputSpec, selected: TensorSignature, declared: tuple[int | None, ...]
) -> list[str]:
    """A box output: floating point; fixed axes the artifact declares must match."""
    if selected.dtype is not None and selected.dtype not in _FLOAT_DTYPES:
        return [
            f"model.output {spec.name!r}: expected a floating-point tensor of boxes, "
            f"artifact has {selected.dtype}"
        ]
    return _mask_output_problems(spec, selected, declared)


def _mask_output_problems(
    spec: OutputSpec, selected: TensorSignature, declared: tuple[int | None, ...]
) -> list[str]:
    """A mask (or box) output: any numeric dtype; fixed axes the artifact declares must match."""
    label = f"model.output {spec.name!r}"
    problems: list[str] = []
    if selected.dtype is not None and selected.dtype not in _NUMERIC_DTYPES:
        problems.append(f"{label}: expected a numeric tensor, artifact has {selected.dtype}")
    shape = selected.shape
    if shape is not None and (
        len(shape) != len(declared)
        or any(
            have is not None and want is not None and have != want
            for want, have in zip(declared, shape, strict=True)
        )
    ):
        problems.append(
            f"{label}: the protocol declares shape {format_shape(declared)}, "
            f"artifact has {format_shape(shape)} (model.output.shape)"
        )
    return problems


def _output_shape_problems(spec: OutputSpec, shape: tuple[int | None, ...]) -> list[str]:
    label = f"model.output {spec.name!r}"
    if len(shape) not in (1, 2):
        return [
            f"{label}: expected shape [null] or [null, K] (one score row per case), "
            f"artifact has {format_shape(shape)}"
        ]
    problems: list[str] = []
    if shape[0] is not None:
        problems.append(
            f"{label}: the artifact's batch axis is fixed at {shape[0]}; "
            "dxval needs a dynamic batch axis"
        )
    width = 1 if len(shape) == 1 else shape[1]
    if width is not None and spec.positive_index >= width:
        problems.append(
            f"model.output.positive_index: expected an index below the output width {width}, "
            f"got {spec.positive_index}"
        )
    if width == 1 and spec.activation is Activation.SOFTMAX:
        problems.append(
            "model.output.activation: softmax over a single output is always 1; "
            "expected sigmoid or none for a one-column output"
        )
    return problems
