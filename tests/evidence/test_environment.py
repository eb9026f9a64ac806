"""environment.json: Python, platform and the distributions the run depends on."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from importlib import metadata
from typing import Any

import pytest

from dxval.evidence import capture_environment, installed_distributions


def test_environment_record_is_json_safe_and_complete() -> None:
    record = capture_environment()
    json.dumps(record, allow_nan=False)
    assert record["python"]["version"] == platform.python_version()
    assert record["distributions"]["numpy"] == metadata.version("numpy")
    assert record["distributions"]["pydantic"] == metadata.version("pydantic")


def test_distributions_are_sorted_case_insensitively() -> None:
    names = list(installed_distributions())
    assert names == sorted(names, key=str.lower)


DEVELOPMENT_TOOLS = ("pytest", "hypothesis", "mypy", "ruff", "scikit-learn", "onnx", "pandas-stubs")


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def _capture_in_a_fresh_process(preamble: str) -> dict[str, Any]:
    """``capture_environment()`` in a new interpreter that ran ``preamble`` first (a clean run)."""
    code = f"{preamble}\nimport json\nfrom dxval.evidence import capture_environment\n"
    code += "print(json.dumps(capture_environment()))"
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return dict(json.loads(completed.stdout))


@pytest.mark.req("DXV-SETUP-003")
def test_a_run_records_dxvals_runtime_closure_and_no_development_tool() -> None:
    record = _capture_in_a_fresh_process("")
    listed = {name.lower() for name in record["distributions"]}
    assert {"dxval", "numpy", "scipy", "pydicom", "onnxruntime", "weasyprint", "cffi"} <= listed
    installed_tools = [name for name in (*DEVELOPMENT_TOOLS, "torch") if _installed(name)]
    assert installed_tools, "the test environment has the dev extras; they must not be listed"
    assert not listed & set(installed_tools)
    assert record["loaded_outside_dependencies"] == {}


@pytest.mark.req("DXV-SETUP-003")
def test_an_extra_the_run_loaded_is_recorded_and_other_loaded_code_is_listed_apart() -> None:
    record = _capture_in_a_fresh_process("import torch, pytest")
    listed = {name.lower() for name in record["distributions"]}
    assert {"torch", "filelock", "sympy"} <= listed  # the torch extra, with its closure
    assert "pytest" not in listed
    assert record["loaded_outside_dependencies"]["pytest"] == metadata.version("pytest")
    # In this (pytest) process the test runner is loaded, and listed apart.
    here = capture_environment()
    assert "pytest" in here["loaded_outside_dependencies"]
    assert not {name.lower() for name in here["distributions"]} & set(DEVELOPMENT_TOOLS)
