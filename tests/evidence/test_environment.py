"""environment.json: Python, platform and every installed distribution."""

from __future__ import annotations

import json
import platform
from importlib import metadata

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
