"""The simulated production log of the demo: deterministic, the change where it is said to be."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from dxval.demo.production import (
    DEMO_MODEL_SHA256,
    NEW_MANUFACTURER,
    simulate_production,
)
from dxval.errors import InputError

ROOT = Path(__file__).resolve().parents[2]


def test_same_seed_same_bytes_and_the_change_starts_in_week_8(tmp_path: Path) -> None:
    first = simulate_production(tmp_path / "a.csv")
    second = simulate_production(tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert first.rows == second.rows == 12 * 330 + 3
    with (tmp_path / "a.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    new = [row for row in rows if row["manufacturer"] == NEW_MANUFACTURER]
    assert len(new) == 5 * 110
    assert min(row["timestamp"] for row in new) >= "2027-02-22"  # Monday of 2027-W08
    assert {row["site"] for row in new} == {"Site A"}
    other = simulate_production(tmp_path / "c.csv", seed=1)
    assert other.rows == first.rows
    assert (tmp_path / "c.csv").read_bytes() != (tmp_path / "a.csv").read_bytes()


def test_the_model_digest_is_the_demo_protocols_pin() -> None:
    assert f"sha256: {DEMO_MODEL_SHA256}" in (ROOT / "protocols" / "demo.yaml").read_text()


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="change week"):
        simulate_production(tmp_path / "a.csv", weeks=4, change_week=9)
