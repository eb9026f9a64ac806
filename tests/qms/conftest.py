"""Fixtures for the quality-record tests: paths of the repository's records."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="session")
def repository() -> Path:
    """The repository root (holding qms/, tests/ and pyproject.toml)."""
    return ROOT
