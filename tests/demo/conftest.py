"""Fixtures for the demo generator tests: one small generated demo shared by the module tests."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from dxval.demo import DemoResult, generate_demo

#: small enough to be fast, large enough that every site has positives and negatives
SMALL_CASES_PER_SITE = 12
SMALL_SEED = 4242


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    """A demo of ``SMALL_CASES_PER_SITE`` cases per site, generated once per session."""
    folder = tmp_path_factory.mktemp("demo") / "demo-data"
    return generate_demo(folder, cases_per_site=SMALL_CASES_PER_SITE, seed=SMALL_SEED)


@pytest.fixture(scope="session")
def read_manifest() -> Callable[[Path], list[dict[str, str]]]:
    """A function returning the rows of a manifest CSV as dictionaries."""

    def read(path: Path) -> list[dict[str, str]]:
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    return read
