"""Fixtures of the statistics tests: the aSAH reference data set."""

from __future__ import annotations

import pytest
from tests.reference.asah_data import Asah, load_asah


@pytest.fixture(scope="session")
def asah() -> Asah:
    return load_asah()
