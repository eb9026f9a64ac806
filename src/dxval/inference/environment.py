"""``environment.json``: everything about the machine and software a run depends on.

Captured: Python, the distributions the run depends on and their versions
(dxval's runtime closure, :func:`dxval.evidence.environment.runtime_distributions`:
development tools installed beside dxval are not listed), the
operating system, the CPU model and its flags (``/proc/cpuinfo`` on Linux),
the GPUs with driver, CUDA and cuDNN versions when present, onnxruntime's
version, build and providers, torch's version and CUDA/cuDNN builds when
torch is loaded, thread settings (environment variables and what the
runtimes use) and the determinism flags of each runner that ran.

Capturing never imports torch (slow and optional): torch details are read
only when a torch runner has already loaded it.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dxval.inference.runner import RunnerInfo

__all__ = ["capture_environment", "cpu_description", "installed_distributions"]

_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "CUBLAS_WORKSPACE_CONFIG",
    "CUDA_VISIBLE_DEVICES",
)


def installed_distributions() -> dict[str, str]:
    """dxval's runtime dependency closure (and loaded extras) → version, sorted by name."""
    from dxval.evidence.environment import installed_distributions as runtime

    return runtime()


def cpu_description(cpuinfo: Path = Path("/proc/cpuinfo")) -> dict[str, Any]:
    """CPU model, flags and core counts (``/proc/cpuinfo`` where it exists)."""
    fields: dict[str, str] = {}
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        if not line.strip():
            break  # the first processor block is enough
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = fields.get("flags") or fields.get("Features") or ""
    return {
        "model": fields.get("model name") or platform.processor() or platform.machine(),
        "vendor": fields.get("vendor_id"),
        "flags": sorted(flags.split()),
        "logical_cores": os.cpu_count(),
        "usable_cores": _usable_cores(),
    }


def _usable_cores() -> int | None:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count()


def _run_nvidia_smi(arguments: list[str]) -> str:
    executable = shutil.which("nvidia-smi")
    if executable is None:
        return ""
    try:
        completed = subprocess.run(  # noqa: S603  (fixed arguments, resolved executable)
            [executable, *arguments], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return completed.stdout


def _gpus() -> dict[str, Any]:
    """GPU names, driver, memory and the driver's CUDA version from ``nvidia-smi``."""
    fields = ("name", "driver", "memory", "compute_capability")
    listing = _run_nvidia_smi(
        ["--query-gpu=name,driver_version,memory.total,compute_cap", "--format=csv,noheader"]
    )
    devices = []
    for line in listing.splitlines():
        values = [value.strip() for value in line.split(",")]
        if len(values) == len(fields):
            devices.append(dict(zip(fields, values, strict=True)))
    if not devices:
        return {"devices": [], "driver_cuda_version": None}
    header = _run_nvidia_smi([])
    match = re.search(r"CUDA Version:\s*([0-9.]+)", header)
    return {"devices": devices, "driver_cuda_version": match.group(1) if match else None}


def _onnxruntime_details() -> dict[str, Any]:
    try:
        import onnxruntime
    except ImportError as error:
        return {"available": False, "reason": str(error)}
    build = getattr(onnxruntime, "get_build_info", lambda: None)()
    return {
        "available": True,
        "version": onnxruntime.__version__,
        "build": build,
        "device": onnxruntime.get_device(),
        "providers": list(onnxruntime.get_available_providers()),
    }


def _torch_details() -> dict[str, Any]:
    torch = sys.modules.get("torch")
    if torch is None:
        return {"loaded": False}
    details: dict[str, Any] = {
        "loaded": True,
        "version": str(torch.__version__),
        "cuda_build": torch.version.cuda,
        "cuda_available": bool(torch.cuda.is_available()),
        "num_threads": torch.get_num_threads(),
        "num_interop_threads": torch.get_num_interop_threads(),
    }
    if details["cuda_available"]:
        details["cudnn"] = torch.backends.cudnn.version()
        details["devices"] = [
            torch.cuda.get_device_name(index) for index in range(torch.cuda.device_count())
        ]
    return details


def capture_environment(
    *, runners: Sequence[RunnerInfo] = (), executor: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Describe the machine and software for ``environment.json``.

    Parameters
    ----------
    runners:
        The runners that ran (their versions, providers, threads, determinism flags).
    executor:
        The executor's settings (workers, start method, read-ahead).

    Returns
    -------
    dict
        JSON-safe mapping with keys ``python``, ``platform``, ``cpu``, ``gpus``,
        ``onnxruntime``, ``torch``, ``threads``, ``runners``, ``executor``,
        ``distributions``.
    """
    return {
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "platform": {
            "system": platform.system(),
            "release": platform.release(),
            "version": platform.version(),
            "machine": platform.machine(),
            "libc": "-".join(part for part in platform.libc_ver() if part) or None,
        },
        "cpu": cpu_description(),
        "gpus": _gpus(),
        "onnxruntime": _onnxruntime_details(),
        "torch": _torch_details(),
        "threads": {name: os.environ.get(name) for name in _THREAD_VARIABLES},
        "runners": [runner.to_dict() for runner in runners],
        "executor": dict(executor) if executor is not None else None,
        "distributions": installed_distributions(),
    }
