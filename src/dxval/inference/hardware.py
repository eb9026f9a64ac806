"""The hardware a model run scored on, as a normalised identity a latency criterion can name.

Read from the runtime record the harness writes to ``environment.json``
(:func:`dxval.inference.capture_environment`: ``runners``, ``cpu``, ``gpus``,
``torch``, ``executor``), never measured again, so the report and the
criteria say the same thing:

- **device**: ``cpu``, or ``cuda`` for a runner on an NVIDIA GPU (onnxruntime's
  TensorRT provider included: the hardware is the GPU);
- **name**: the CPU model name (``/proc/cpuinfo`` ``model name``) or the GPU
  name (torch's name of the device the runner used when torch is loaded,
  else ``nvidia-smi``'s, when every GPU it lists has the same name);
- **count**: the CPU cores the process may use, or 1 GPU (the local harness
  runs one runner on one device).

Names compare after folding case and runs of white space, so
``"NVIDIA  H100 80GB HBM3"`` and ``"nvidia h100 80gb hbm3"`` are the same GPU.
A run on the Ray executor scored on cluster nodes, not on the machine this
record describes: its identity is unknown (``name`` ``None``), and a latency
criterion on it is undefined.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["HardwareIdentity", "fold_name", "run_hardware"]


def fold_name(name: str) -> str:
    """A hardware name folded for comparison: lower case, white space runs as one space."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True, slots=True)
class HardwareIdentity:
    """Device kind, model name and count of the hardware that ran (or that a criterion states).

    ``name`` or ``count`` ``None``: not known (for a run), not stated (for a criterion).
    ``note`` says why a run's name is unknown.
    """

    device: str
    name: str | None = None
    count: int | None = None
    note: str | None = None

    def describe(self) -> str:
        """Text such as ``cuda, NVIDIA H100 80GB HBM3 (1)`` or ``cpu, AMD EPYC 7B13 (2 cores)``."""
        name = self.name if self.name is not None else (self.note or "model not identified")
        if self.count is None:
            return f"{self.device}, {name}"
        unit = "core" if self.device == "cpu" else "GPU"
        return f"{self.device}, {name} ({self.count} {unit}{'' if self.count == 1 else 's'})"

    def differences(self, stated: HardwareIdentity) -> list[str]:
        """The fields of ``stated`` (a criterion's hardware) this run does not match."""
        different = []
        if self.device != stated.device:
            different.append("device")
        if stated.name is not None and (
            self.name is None or fold_name(self.name) != fold_name(stated.name)
        ):
            different.append("name")
        if stated.count is not None and self.count != stated.count:
            different.append("count")
        return different

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (``latency.json``)."""
        return {"device": self.device, "name": self.name, "count": self.count, "note": self.note}


def _gpu_name(runtime: Mapping[str, Any]) -> str | None:
    torch = runtime.get("torch") or {}
    devices = torch.get("devices") or []
    if devices:
        return str(devices[0])
    listed = [str(gpu.get("name")) for gpu in (runtime.get("gpus") or {}).get("devices") or []]
    return listed[0] if listed and len(set(listed)) == 1 else None


def run_hardware(runtime: Mapping[str, Any]) -> HardwareIdentity:
    """The identity of the hardware a harness run scored on, from its runtime record.

    Parameters
    ----------
    runtime:
        :func:`dxval.inference.capture_environment`'s record of the run (the
        ``runtime`` entry of ``environment.json``).
    """
    runners = runtime.get("runners") or []
    device = str(runners[0].get("device", "cpu")) if runners else "cpu"
    device = "cuda" if device in ("cuda", "tensorrt") else device
    executor = runtime.get("executor") or {}
    if executor.get("name") == "ray":
        note = "not identified (ray executor: scored on cluster nodes)"
        return HardwareIdentity(device, None, None, note)
    if device == "cuda":
        name = _gpu_name(runtime)
        return HardwareIdentity(device, name, 1, None if name else "GPU name not recorded")
    cpu = runtime.get("cpu") or {}
    model = cpu.get("model")
    cores = cpu.get("usable_cores") or cpu.get("logical_cores")
    return HardwareIdentity(
        "cpu",
        None if not model else str(model),
        None if cores is None else int(cores),
        None if model else "CPU model not recorded",
    )
