"""Fixtures for end-to-end tests: a private copy of the aSAH example protocol and its data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

PROTOCOLS = Path(__file__).parents[2] / "protocols"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """``tmp_path/protocols/asah-example.yaml`` with its data beside it; returns the protocol."""
    folder = tmp_path / "protocols"
    shutil.copytree(PROTOCOLS / "data" / "asah", folder / "data" / "asah")
    shutil.copy2(PROTOCOLS / "asah-example.yaml", folder / "asah-example.yaml")
    return folder / "asah-example.yaml"
