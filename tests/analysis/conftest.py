"""Fixtures for analysis tests: pROC's aSAH data as a case table split by gender into sites."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from dxval.analysis import (
    AttributeSpec,
    CaseRecord,
    CaseTable,
    PopulationIndex,
    StatisticsSettings,
    band_of,
    build_populations,
)

ASAH = Path(__file__).parents[1] / "data" / "aSAH.csv"
AGE = AttributeSpec("age", "Age", (0.0, 50.0, 120.0))
WFNS = AttributeSpec("wfns", "WFNS")


def asah_records(*, failed: frozenset[int] = frozenset()) -> list[CaseRecord]:
    """aSAH as records: site by gender, s100b as score; rows in ``failed`` (0-based) unscored."""
    with ASAH.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        CaseRecord(
            case_id=f"asah-{index + 1:03d}",
            site=f"Site {row['gender'][0]}",
            test_set=f"site-{row['gender'][0].lower()}",
            truth=row["outcome"] == "Poor",
            score=None if index in failed else float(row["s100b"]),
            levels={"age": band_of(row["age"], AGE.bins or (), where="aSAH"), "wfns": row["wfns"]},
        )
        for index, row in enumerate(rows)
    ]


def asah_table(*, failed: frozenset[int] = frozenset(), threshold: float = 0.205) -> CaseTable:
    """The aSAH case table at ``threshold``."""
    return CaseTable.from_records(
        asah_records(failed=failed), operating_point=threshold, attributes=["age", "wfns"]
    )


def asah_populations(table: CaseTable, *, site_by: tuple[str, ...] = ()) -> PopulationIndex:
    """Every population of the aSAH table."""
    return build_populations(
        table.sites,
        table.test_sets,
        table.levels,
        site_order=["Site F", "Site M"],
        test_set_order=["site-f", "site-m"],
        attributes=[AGE, WFNS],
        site_by=site_by,
    )


MakeTable = Callable[..., CaseTable]
MakePopulations = Callable[..., PopulationIndex]


@pytest.fixture
def make_table() -> MakeTable:
    """``asah_table`` (keyword options ``failed``, ``threshold``)."""
    return asah_table


@pytest.fixture
def make_populations() -> MakePopulations:
    """``asah_populations`` (keyword option ``site_by``)."""
    return asah_populations


@pytest.fixture
def records() -> list[CaseRecord]:
    """The aSAH records, all scored."""
    return asah_records()


@pytest.fixture
def table() -> CaseTable:
    """aSAH at the Youden-optimal threshold 0.205."""
    return asah_table()


@pytest.fixture
def populations(table: CaseTable) -> PopulationIndex:
    """Populations of the aSAH table."""
    return asah_populations(table)


@pytest.fixture
def settings() -> StatisticsSettings:
    """DeLong AUC, Wilson proportions, small bootstrap (tests stay fast)."""
    return StatisticsSettings(operating_point=0.205, bootstrap_replicates=200, bootstrap_seed=7)
