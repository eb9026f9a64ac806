"""Runner plugins: what a runner is, which are available, and how one is loaded.

A runner wraps one frozen artifact on one device. It is a plugin with an
availability check (like pydicom's pixel decoders): :func:`available_runners`
says which runtimes can be used here and why not, and the runner that ran is
recorded (:class:`RunnerInfo`) in ``environment.json``.

Loading (:func:`load_runner`) refuses before any case runs when:

- the artifact file is missing or is not a valid ONNX / TorchScript /
  torch.export file (:class:`~dxval.errors.UsageError`, exit 2);
- its SHA-256 differs from the pinned one (:class:`~dxval.errors.IntegrityError`,
  exit 3);
- the device is not present, e.g. CUDA asked for on a machine without it
  (exit 2, suggesting ``--device cpu``);
- its inputs/outputs differ from the protocol's declaration (exit 2, expected
  vs actual; see :mod:`dxval.inference.signature`).
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from dxval.errors import IntegrityError, UsageError
from dxval.inference.config import Device, ModelConfig, Runtime

__all__ = [
    "ArtifactSignature",
    "Runner",
    "RunnerInfo",
    "TensorSignature",
    "available_runners",
    "file_sha256",
    "load_runner",
]


@dataclass(frozen=True, slots=True)
class TensorSignature:
    """One input or output as the artifact declares it.

    ``shape`` holds ints for fixed axes and ``None`` for dynamic ones (a symbolic
    name in ONNX, a symbolic size in torch.export); ``shape`` is ``None`` when the
    artifact does not declare a rank (TorchScript before probing).
    """

    name: str
    shape: tuple[int | None, ...] | None
    dtype: str | None


@dataclass(frozen=True, slots=True)
class ArtifactSignature:
    """The inputs and outputs read from (or probed on) an artifact."""

    inputs: tuple[TensorSignature, ...]
    outputs: tuple[TensorSignature, ...]
    named_outputs: bool = True
    """False when the artifact returns one unnamed tensor (TorchScript, torch.export)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for ``environment.json``."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class RunnerInfo:
    """Everything recorded about the runner that scored the cases."""

    name: str
    version: str
    device: str
    artifact_format: str
    model_path: str
    model_sha256: str
    providers: tuple[str, ...] = ()
    threads: Mapping[str, Any] = field(default_factory=dict)
    determinism: Mapping[str, Any] = field(default_factory=dict)
    signature: ArtifactSignature | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for ``environment.json`` and the audit log."""
        return {
            "name": self.name,
            "version": self.version,
            "device": self.device,
            "artifact_format": self.artifact_format,
            "model_path": self.model_path,
            "model_sha256": self.model_sha256,
            "providers": list(self.providers),
            "threads": dict(self.threads),
            "determinism": dict(self.determinism),
            "signature": None if self.signature is None else self.signature.to_dict(),
        }


@runtime_checkable
class Runner(Protocol):
    """A loaded artifact on one device: a batch in, the selected raw output out."""

    @property
    def info(self) -> RunnerInfo:
        """What ran, where, and with which settings."""
        ...

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Run one batch.

        Parameters
        ----------
        batch:
            Array of shape ``(B, *case_shape)`` in the declared input dtype.

        Returns
        -------
        numpy.ndarray
            The selected output as a ``(B, K)`` array (``K = 1`` for a scalar output).
        """
        ...


RunnerLoader = Callable[[ModelConfig, Device, int, str], Runner]


def _load_onnxruntime(config: ModelConfig, device: Device, threads: int, sha256: str) -> Runner:
    from dxval.inference.onnx_runner import OnnxRuntimeRunner

    return OnnxRuntimeRunner.load(config, device=device, threads=threads, sha256=sha256)


def _load_torch(config: ModelConfig, device: Device, threads: int, sha256: str) -> Runner:
    from dxval.inference.torch_runner import TorchRunner

    return TorchRunner.load(config, device=device, threads=threads, sha256=sha256)


_RUNNERS: dict[Runtime, tuple[str, RunnerLoader]] = {
    Runtime.ONNXRUNTIME: ("onnxruntime", _load_onnxruntime),
    Runtime.TORCH: ("torch", _load_torch),
}


def available_runners() -> dict[str, str | None]:
    """Which runner plugins can be used here.

    Returns
    -------
    dict
        Runtime name → ``None`` when available, else the reason it is not (the
        distribution is not installed). Checked without importing the runtime.
    """
    status: dict[str, str | None] = {}
    for runtime, (module_name, _) in _RUNNERS.items():
        try:
            found = importlib.util.find_spec(module_name) is not None
        except (ImportError, ValueError, AttributeError):  # a blocked or broken entry
            found = False
        status[runtime.value] = None if found else f"the {module_name} package is not installed"
    return status


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_runner(config: ModelConfig, *, device: Device | str = Device.CPU, threads: int) -> Runner:
    """Load the artifact of ``config`` on ``device`` and check it before any case runs.

    Parameters
    ----------
    config:
        The model declaration.
    device:
        ``cpu``, ``cuda`` or (onnxruntime only) ``tensorrt``.
    threads:
        Intra-op threads of the runtime (fixed and recorded: thread counts are part of
        a reproducible run).

    Raises
    ------
    UsageError
        Unknown device, runtime not installed, artifact missing or invalid, device not
        present, or signature mismatch (exit 2).
    IntegrityError
        The artifact's SHA-256 differs from ``config.sha256`` (exit 3).
    """
    resolved_device = _parse_device(device)
    sha256 = _check_artifact_file(config)
    module_name, loader = _RUNNERS[config.runtime]
    reason = available_runners()[config.runtime.value]
    if reason is not None:
        raise UsageError(
            f"model.runtime is {config.runtime.value!r} but {reason}; "
            f"install it (pip install {module_name}) or export the model to another runtime"
        )
    if threads < 1:
        raise UsageError(f"runtime threads: got {threads}, expected an integer >= 1")
    return loader(config, resolved_device, threads, sha256)


def _parse_device(device: Device | str) -> Device:
    try:
        return Device(device)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in Device)
        raise UsageError(f"--device: got {device!r}, expected one of {allowed}") from None


def _check_artifact_file(config: ModelConfig) -> str:
    """Return the artifact's SHA-256 after checking it exists and matches the pin."""
    if not config.path.is_file():
        raise UsageError(
            f"model file not found: {config.path} (model.path in the protocol); "
            "expected an existing .onnx, .pt or .pt2 file"
        )
    actual = file_sha256(config.path)
    if config.sha256 is not None and actual != config.sha256:
        raise IntegrityError(
            f"model digest mismatch: {config.path} has SHA-256 {actual}, "
            f"the protocol pins {config.sha256} (model.sha256); a locked protocol never runs "
            "on a changed model"
        )
    return actual
