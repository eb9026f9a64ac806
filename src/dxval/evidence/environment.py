"""``environment.json``: the software and machine a run used (IEC 62304 SOUP record).

The basic record (Python, operating system, CPU, every installed
distribution with its version) is captured here; runtime details (ONNX
Runtime providers, torch and CUDA versions, GPU, determinism flags) come from
``dxval.inference.capture_environment()`` when that function exists in this
build, and are recorded under ``"runtime"``.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
from importlib import metadata
from typing import Any

from dxval import __version__


def installed_distributions() -> dict[str, str]:
    """Every installed distribution → version, sorted by lower-case name."""
    found: dict[str, str] = {}
    for distribution in metadata.distributions():
        name = distribution.metadata["Name"]
        if name:
            found.setdefault(str(name), str(distribution.version))
    return dict(sorted(found.items(), key=lambda item: item[0].lower()))


def _runtime_environment() -> dict[str, Any] | None:
    """Runtime details from the inference package, or None when this build has none."""
    try:
        inference = importlib.import_module("dxval.inference")
    except ImportError:
        return None
    capture = getattr(inference, "capture_environment", None)
    return dict(capture()) if callable(capture) else None


def capture_environment() -> dict[str, Any]:
    """The JSON-safe environment record written to ``environment.json``."""
    return {
        "dxval": __version__,
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "platform": {
            "system": platform.system(),
            "release": platform.release(),
            "machine": platform.machine(),
            "description": platform.platform(),
        },
        "cpu": {"count": os.cpu_count(), "processor": platform.processor()},
        "distributions": installed_distributions(),
        "runtime": _runtime_environment(),
    }
