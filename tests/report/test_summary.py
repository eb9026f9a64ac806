"""dxval summary: the 510(k) Performance Testing section, Markdown and PDF, and its limitations."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from dxval.errors import UsageError
from dxval.report import read_bundle
from dxval.report.summary import (
    attribute_kind,
    build_summary_view,
    proposed_limitations,
    render_summary_markdown,
    write_summary,
)

SECTIONS = (
    "## Performance Testing",
    "### Device and indication",
    "### Test data",
    "### Results",
    "### Conclusion against the pre-specified acceptance criteria",
    "### Proposed labeling limitations",
)


def test_markdown_has_the_sections_in_order(sealed_bundle: Path) -> None:
    markdown = render_summary_markdown(build_summary_view(read_bundle(sealed_bundle)))
    positions = [markdown.index(section) for section in SECTIONS]
    assert positions == sorted(positions)
    assert "Test Classifier, version 1.2.3" in markdown
    assert "| Site A | site-a | 60 | 0 | 60 |" in markdown
    assert "**Reference standard:** Two-reader consensus" in markdown
    assert "| PERF-002 |" in markdown
    assert "**FAIL**" in markdown
    assert (
        "3 of 4 pre-specified acceptance criteria were met; not met or not evaluable: SUB-001"
        in (markdown)
    )
    assert not re.search(r"\| [^|\n]*\n[^|]", markdown.split("### Results")[1].split("###")[0])


@pytest.mark.req("DXV-REPORT-004")
def test_limitations_follow_what_the_test_set_covered(sealed_bundle: Path) -> None:
    statements = proposed_limitations(read_bundle(sealed_bundle))
    text = "\n".join(statements)
    assert "data from 2 sites (Site A, Site B)" in text
    assert "patients of sex F (n = 60), M (n = 60)" in text
    assert "age bands [18, 50), [50, 70), [70, 100] (years)" in text
    assert "scanner model Scanner One, Scanner Two only" in text
    assert "1 of 120 images (0.8%) could not be processed (no_prediction)" in text
    assert "fixed operating point (score ≥ 0.5)" in text
    assert "The protocol analysed no manufacturer attribute" in text
    assert "The protocol analysed no sex attribute" not in text


def test_attribute_kinds() -> None:
    assert attribute_kind("gender", None) == "sex"
    assert attribute_kind("scanner", None) == "model"
    assert attribute_kind("wfns", None) is None


@pytest.mark.req("DXV-REPORT-004")
def test_write_summary_writes_markdown_and_a_two_to_three_page_pdf(
    sealed_bundle: Path, tmp_path: Path
) -> None:
    files = write_summary(sealed_bundle, out=tmp_path / "out" / "section.md")
    assert files.markdown.read_text().startswith("## Performance Testing")
    assert files.pdf == tmp_path / "out" / "section.pdf"
    info = subprocess.run(
        ["pdfinfo", str(files.pdf)], capture_output=True, text=True, check=True
    ).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info)[1])  # type: ignore[index]
    assert 2 <= pages <= 3
    text = subprocess.run(
        ["pdftotext", str(files.pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Proposed labeling limitations" in text


def test_out_must_be_markdown(sealed_bundle: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"expected a Markdown file name ending in .md"):
        write_summary(sealed_bundle, out=tmp_path / "section.txt")
