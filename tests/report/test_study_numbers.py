"""Optional study sections are numbered from 4.5 in document order, with no gaps."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from dxval.report.views import ReportView

STUDIES = ("reader_study", "comparison", "robustness", "precision", "latency")


def _numbers(*present: str) -> dict[str, str]:
    view = SimpleNamespace(**{name: (object() if name in present else None) for name in STUDIES})
    getter = ReportView.study_numbers.fget
    assert getter is not None
    return getter(view)


@pytest.mark.req("DXV-RENDER-008")
def test_present_studies_are_numbered_without_gaps() -> None:
    assert _numbers("precision", "latency") == {"precision": "4.5", "latency": "4.6"}
    assert _numbers("comparison") == {"comparison": "4.5"}
    assert _numbers(*STUDIES) == {
        "reader_study": "4.5",
        "comparison": "4.6",
        "robustness": "4.7",
        "precision": "4.8",
        "latency": "4.9",
    }
    assert _numbers() == {}


@pytest.mark.req("DXV-RENDER-008")
def test_contents_and_headings_take_the_numbers_from_the_view() -> None:
    from pathlib import Path

    templates = Path(__file__).resolve().parents[2] / "templates" / "sections"
    contents = (templates / "contents.html").read_text(encoding="utf-8")
    for name in STUDIES:
        heading = (templates / f"{name}.html").read_text(encoding="utf-8")
        assert f"{{{{ report.study_numbers.{name} }}}}" in heading, name
        assert f"{{{{ report.study_numbers.{name} }}}}" in contents, name
