"""Counts in words: "1 case", "3 cases", never "case(s)" (analysis reasons and templates)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dxval.analysis import CaseTable, StatisticsSettings
from dxval.analysis.curves import roc_curves
from dxval.analysis.metrics import PopulationCounts
from dxval.analysis.populations import Population
from dxval.report import formatting as fmt
from dxval.report.template_set import SHIPPED, template_environment
from dxval.stats.wording import plural


@pytest.mark.req("DXV-ANAL-009")
@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 cases"), (1, "1 case"), (2, "2 cases")],
)
def test_plural_agrees_in_number(count: int, expected: str) -> None:
    assert plural(count, "case") == expected
    assert fmt.plural is plural  # the report's name for the same helper
    assert plural(count, "study", "studies").endswith("study" if count == 1 else "studies")


@pytest.mark.req("DXV-ANAL-009")
def test_insufficiency_reasons_agree_in_number(settings: StatisticsSettings) -> None:
    one = PopulationCounts(cases=1, evaluable=1, non_evaluable=0, positives=1, negatives=0)
    assert one.insufficient(settings) == (
        "1 positive case < minimum 10",
        "0 negative cases < minimum 10",
    )


@pytest.mark.req("DXV-ANAL-009")
def test_roc_reason_agrees_in_number(table: CaseTable, settings: StatisticsSettings) -> None:
    mask = np.zeros(table.size, dtype=bool)
    mask[int(np.flatnonzero(table.truth & table.evaluable)[0])] = True
    one = Population("one", "One positive case", "attribute", mask)
    (record,) = roc_curves(table, [one], settings)
    assert record["reason"] == "1 evaluable case: 1 positive, 0 negative"


@pytest.mark.req("DXV-ANAL-009")
def test_shipped_templates_write_no_plural_in_brackets() -> None:
    found = [
        f"{path.relative_to(SHIPPED)}:{number}"
        for path in sorted(SHIPPED.rglob("*"))
        if path.suffix in {".html", ".md"}
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"[a-z]\((s|es|ies)\)", line)
    ]
    assert not found


@pytest.mark.req("DXV-ANAL-009")
def test_templates_count_with_the_plural_filter() -> None:
    environment = template_environment()
    text = environment.from_string(
        '{{ 1 | plural("case") }}; {{ 3 | plural("daily" ~ " window") }}; {{ 0 | plural("alert") }}'
    ).render()
    assert text == "1 case; 3 daily windows; 0 alerts"
