"""Populations: all, sites, test sets, attribute levels with bins, site × attribute."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from dxval.analysis import (
    MISSING_LEVEL,
    AttributeSpec,
    CaseTable,
    PopulationIndex,
    band_labels,
    band_of,
    build_populations,
    parse_dicom_age,
)
from dxval.errors import InputError


@pytest.mark.parametrize(
    ("text", "years"),
    [("045Y", 45.0), ("006M", 0.5), ("014D", 14 / 365.25), ("002W", 14 / 365.25), ("45", None)],
)
def test_dicom_age_strings(text: str, years: float | None) -> None:
    assert parse_dicom_age(text) == years


def test_band_labels_are_left_closed_and_the_last_closed() -> None:
    assert band_labels([0, 40, 65, 120]) == ["[0, 40)", "[40, 65)", "[65, 120]"]
    assert band_labels([0.5, 1.25]) == ["[0.5, 1.25]"]


@pytest.mark.parametrize(
    ("text", "band"),
    [
        ("0", "[0, 40)"),
        ("39.99", "[0, 40)"),
        ("40", "[40, 65)"),
        ("064Y", "[40, 65)"),
        ("065Y", "[65, 120]"),
        ("120", "[65, 120]"),
        ("", MISSING_LEVEL),
    ],
)
def test_band_of(text: str, band: str) -> None:
    assert band_of(text, [0, 40, 65, 120], where="m.csv:2 age") == band


def test_band_of_rejects_out_of_range_and_text() -> None:
    with pytest.raises(
        InputError, match=r"m\.csv:2 age: got '121' expected a value within the bins \[0, 120\]"
    ):
        band_of("121", [0, 120], where="m.csv:2 age")
    with pytest.raises(
        InputError, match=r"got 'old' expected a number or a DICOM age such as '045Y'"
    ):
        band_of("old", [0, 120], where="m.csv:2 age")
    with pytest.raises(InputError, match=r"got 'nan' expected a number"):
        band_of("nan", [0, 120], where="m.csv:2 age")


@pytest.mark.req("DXV-ANAL-004")
def test_asah_populations_in_report_order(
    table: CaseTable, make_populations: Callable[..., PopulationIndex]
) -> None:
    index = make_populations(table, site_by=("age",))
    keys = [population.key for population in index.populations]
    assert keys == [
        "all",
        "site=Site F",
        "site=Site M",
        "age=[0, 50)",
        "age=[50, 120]",
        "wfns=1",
        "wfns=2",
        "wfns=3",
        "wfns=4",
        "wfns=5",
        "site=Site F|age=[0, 50)",
        "site=Site F|age=[50, 120]",
        "site=Site M|age=[0, 50)",
        "site=Site M|age=[50, 120]",
    ]
    sizes = {population.key: int(population.mask.sum()) for population in index.populations}
    assert sizes["all"] == 113
    assert sizes["site=Site F"] + sizes["site=Site M"] == 113
    assert sizes["age=[0, 50)"] + sizes["age=[50, 120]"] == 113
    assert (
        sizes["site=Site F|age=[0, 50)"] + sizes["site=Site M|age=[0, 50)"] == sizes["age=[0, 50)"]
    )
    site = index.by_key["site=Site F"]
    assert (site.label, site.test_set) == ("Site F", "site-f")
    assert [p.key for p in index.family("site_attribute", attribute="age", site="Site M")] == [
        "site=Site M|age=[0, 50)",
        "site=Site M|age=[50, 120]",
    ]


@pytest.mark.req("DXV-ANAL-004")
def test_test_set_populations_when_a_site_has_several() -> None:
    sites = np.array(["A", "A", "B"])
    test_sets = np.array(["a1", "a2", "b"])
    levels = {"sex": np.array(["F", MISSING_LEVEL, "M"])}
    index = build_populations(
        sites,
        test_sets,
        levels,
        site_order=["A", "B"],
        test_set_order=["a1", "a2", "b"],
        attributes=[AttributeSpec("sex", "Sex")],
    )
    keys = [population.key for population in index.populations]
    assert keys == [
        "all",
        "site=A",
        "site=B",
        "test_set=a1",
        "test_set=a2",
        "test_set=b",
        "sex=F",
        "sex=M",
        f"sex={MISSING_LEVEL}",
    ]
    assert index.by_key["site=A"].test_set is None
    assert index.by_key["test_set=a2"].mask.tolist() == [False, True, False]
