"""Fixtures for protocol tests: a small valid predictions protocol written to a folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

VALID_PROTOCOL = """\
dxval: 1
id: VAL-TEST-001
title: Test protocol
version: "1.0"
device: {name: Test device, version: 0.1.0, intended_use: testing}
predictions:
  path: predictions.csv
  score: score
  operating_point: 0.5
test_sets:
  - {id: site-a, site: Site A, manifest: a/manifest.csv}
  - {id: site-b, site: Site B, manifest: b/manifest.csv}
truth: {column: label, positive: 1, negative: 0, reference_standard: biopsy}
attributes:
  sex: {column: sex}
  age: {column: age, bins: [0, 50, 120]}
requirements:
  - id: PERF-001
    text: Sensitivity at least 0.8.
    criteria:
      - {metric: sensitivity, population: all, bound: lower, op: ">=", value: 0.8}
  - id: PERF-002
    text: AUC at each site.
    criteria:
      - {metric: auc, population: {each: site}, op: ">=", value: 0.7}
"""

WriteProtocol = Callable[[str], Path]


@pytest.fixture
def write_protocol(tmp_path: Path) -> WriteProtocol:
    """Write protocol text to ``tmp_path/protocol.yaml`` and return its path."""

    def write(text: str) -> Path:
        path = tmp_path / "protocol.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def valid_protocol() -> str:
    """The text of a valid predictions protocol (files it names are not created)."""
    return VALID_PROTOCOL
