"""Fixtures for self-validation tests: one full ``dxval self-validate`` run, and a fresh bundle."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dxval.cli import main
from dxval.pipeline import run_validation

ROOT = Path(__file__).parents[2]


@dataclass(frozen=True)
class SelfValidationRun:
    """What one ``dxval self-validate`` command produced."""

    exit_code: int
    stdout: str
    out: Path
    record: dict[str, Any]


@pytest.fixture(scope="session")
def self_validation(tmp_path_factory: pytest.TempPathFactory) -> SelfValidationRun:
    """``dxval self-validate`` with the aSAH data and 4 generated cases per site (do not modify)."""
    out = tmp_path_factory.mktemp("self-validation") / "report"
    capture = tmp_path_factory.mktemp("stdout") / "stdout.txt"
    import contextlib

    with capture.open("w") as handle, contextlib.redirect_stdout(handle):
        code = main(
            [
                "self-validate",
                "--out",
                str(out),
                "--soup",
                str(ROOT / "qms" / "soup.yaml"),
                "--asah",
                str(ROOT / "tests" / "data" / "aSAH.csv"),
                "--cases-per-site",
                "4",
            ]
        )
    record = json.loads((out / "tool-validation.json").read_text())
    return SelfValidationRun(code, capture.read_text(), out, record)


@pytest.fixture
def fresh_bundle(tmp_path: Path) -> Path:
    """An unsigned bundle of the aSAH example in a private folder."""
    return run_validation(
        ROOT / "protocols" / "asah-example.yaml", out=tmp_path / "evidence", run_id="fresh"
    ).bundle
