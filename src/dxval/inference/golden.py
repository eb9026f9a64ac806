"""Golden check: the artifact must reproduce pinned outputs on a pinned input before any case.

A runtime upgrade, a different execution provider or a changed kernel can
shift a model's outputs while every file digest still matches. The
protocol's ``model.reference`` pins an input (a ``.npy`` file and its
SHA-256) and the raw outputs the artifact gave on it; the harness runs that
input first and refuses the run (exit 3) when any output moved by more than
the pinned tolerance.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dxval.errors import IntegrityError, UsageError
from dxval.inference.config import InputSpec, ReferenceSpec
from dxval.inference.runner import Runner, file_sha256

__all__ = ["GoldenCheckResult", "make_reference", "run_golden_check"]


@dataclass(frozen=True, slots=True)
class GoldenCheckResult:
    """A passed golden check, for ``environment.json`` and the audit log."""

    input_path: str
    input_sha256: str
    values: int
    max_abs_difference: float
    tolerance: float
    output_sha256: str | None = None
    """Set for a bit-for-bit check (``model.reference.expected_sha256``)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        record: dict[str, Any] = {
            "input_path": self.input_path,
            "input_sha256": self.input_sha256,
            "values": self.values,
            "max_abs_difference": self.max_abs_difference,
            "tolerance": self.tolerance,
            "passed": True,
        }
        if self.output_sha256 is not None:
            record["output_sha256"] = self.output_sha256
        return record


def _load_reference_input(path: Path, spec: InputSpec) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise UsageError(
            f"model.reference.input: {path} is not a readable .npy file ({error})"
        ) from error
    if array.ndim == len(spec.case_shape):
        array = array[np.newaxis, ...]
    if str(array.dtype) != spec.dtype:
        raise UsageError(
            f"model.reference.input: {path} holds {array.dtype}, expected {spec.dtype} "
            "(model.input.dtype)"
        )
    return np.ascontiguousarray(array)


def _reference_outputs(runner: Runner, path: Path, spec: InputSpec) -> np.ndarray:
    return np.asarray(_raw_reference_outputs(runner, path, spec), dtype=np.float64).ravel()


def _raw_reference_outputs(runner: Runner, path: Path, spec: InputSpec) -> np.ndarray:
    """The runtime's outputs on the pinned input, in its own dtype, C-contiguous."""
    batch = _load_reference_input(path, spec)
    return np.ascontiguousarray(runner.predict(batch))


def _digest_check(reference: ReferenceSpec, raw: np.ndarray, path: Path) -> None:
    """Bit-for-bit: the SHA-256 of the raw output bytes must equal the pin."""
    actual = hashlib.sha256(raw.tobytes()).hexdigest()
    if actual != reference.expected_sha256:
        raise IntegrityError(
            f"golden check failed: the model's {raw.size} {raw.dtype} output values on "
            f"{path.name} have SHA-256 {actual}, the protocol pins {reference.expected_sha256} "
            "(model.reference.expected_sha256); the runtime, device or artifact now computes "
            "different results"
        )


def run_golden_check(
    reference: ReferenceSpec, runner: Runner, input_spec: InputSpec
) -> GoldenCheckResult:
    """Run the pinned input and compare the raw outputs with the pinned ones.

    Parameters
    ----------
    reference:
        Pinned input file, its SHA-256, expected flattened outputs and tolerance.
    runner:
        The loaded artifact.
    input_spec:
        The declared input (dtype and case shape of the pinned array).

    Raises
    ------
    UsageError
        The reference input is missing or unreadable (exit 2).
    IntegrityError
        The reference input's digest differs from the pin, the output count differs,
        an output is not finite, or an output moved by more than the tolerance; with
        ``expected_sha256``, the raw output bytes hash to another digest (exit 3).
    """
    path = reference.input_path
    if not path.is_file():
        raise UsageError(f"model.reference.input: file not found: {path}")
    actual_digest = file_sha256(path)
    if reference.input_sha256 is not None and actual_digest != reference.input_sha256:
        raise IntegrityError(
            f"golden check: {path} has SHA-256 {actual_digest}, the protocol pins "
            f"{reference.input_sha256} (model.reference.input_sha256)"
        )
    if reference.expected_sha256 is not None:
        raw = _raw_reference_outputs(runner, path, input_spec)
        _digest_check(reference, raw, path)
        return GoldenCheckResult(
            input_path=str(path),
            input_sha256=actual_digest,
            values=int(raw.size),
            max_abs_difference=0.0,
            tolerance=0.0,
            output_sha256=reference.expected_sha256,
        )
    outputs = _reference_outputs(runner, path, input_spec)
    expected = np.asarray(reference.expected, dtype=np.float64)
    if outputs.shape != expected.shape:
        raise IntegrityError(
            f"golden check: the model gave {outputs.size} output values on {path.name}, "
            f"the protocol pins {expected.size} (model.reference.expected)"
        )
    if not np.all(np.isfinite(outputs)):
        raise IntegrityError(f"golden check: the model gave non-finite outputs on {path.name}")
    differences = np.abs(outputs - expected)
    worst = int(np.argmax(differences)) if differences.size else 0
    largest = float(differences[worst]) if differences.size else 0.0
    if largest > reference.tolerance:
        raise IntegrityError(
            f"golden check failed: output[{worst}] is {outputs[worst]!r}, the protocol pins "
            f"{expected[worst]!r} (|Δ| = {largest:.3g} > tolerance {reference.tolerance:g}); "
            "the runtime, device or artifact now computes different results"
        )
    return GoldenCheckResult(
        input_path=str(path),
        input_sha256=actual_digest,
        values=int(outputs.size),
        max_abs_difference=largest,
        tolerance=reference.tolerance,
    )


def make_reference(
    runner: Runner,
    input_path: Path,
    input_spec: InputSpec,
    *,
    tolerance: float,
    digest: bool = False,
) -> dict[str, Any]:
    """Compute the pins of a golden check for ``model.reference`` (used by ``dxval lock``).

    Parameters
    ----------
    runner:
        The loaded artifact, on the device the protocol will run on.
    input_path:
        ``.npy`` file with the input batch (or one case without the batch axis).
    input_spec:
        The declared input.
    tolerance:
        Absolute tolerance to pin (e.g. ``1e-5`` to allow a device change, ``0`` for
        bitwise reproduction on the same machine type).
    digest:
        Pin the SHA-256 of the raw output bytes (``expected_sha256``, bit for bit)
        instead of the values: for large outputs such as masks.

    Returns
    -------
    dict
        ``{"input", "input_sha256", "expected", "tolerance"}``, ready to write into
        the protocol.
    """
    if digest:
        raw = _raw_reference_outputs(runner, input_path, input_spec)
        return {
            "input": str(input_path),
            "input_sha256": file_sha256(input_path),
            "expected_sha256": hashlib.sha256(raw.tobytes()).hexdigest(),
        }
    outputs = _reference_outputs(runner, input_path, input_spec)
    return {
        "input": str(input_path),
        "input_sha256": file_sha256(input_path),
        "expected": [float(value) for value in outputs],
        "tolerance": float(tolerance),
    }
