"""Fixtures for evidence tests: a real bundle from the aSAH example, copied per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dxval.pipeline import run_validation

EXAMPLE = Path(__file__).parents[2] / "protocols" / "asah-example.yaml"


@pytest.fixture(scope="session")
def sealed_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One bundle written by ``run_validation`` on the aSAH example (do not modify)."""
    root = tmp_path_factory.mktemp("evidence")
    return run_validation(EXAMPLE, out=root, run_id="20260101T000000Z-abcdef", reports=False).bundle


@pytest.fixture
def bundle(sealed_bundle: Path, tmp_path: Path) -> Path:
    """A private copy of the aSAH bundle that a test may alter."""
    copy = tmp_path / "bundle"
    shutil.copytree(sealed_bundle, copy)
    return copy
