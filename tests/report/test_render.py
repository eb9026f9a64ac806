"""report.pdf, report-submission.pdf and report.html: conformance, content, attachments, bytes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import jinja2
import pytest

from dxval.report import ATTACHED_FILES, build_report_view, read_bundle
from dxval.report.render import PRINT, SCREEN, render_html

from .conftest import RUN_ID


def _text(pdf: Path, *pages: str) -> str:
    result = subprocess.run(
        ["pdftotext", "-layout", *pages, str(pdf), "-"], capture_output=True, check=True
    )
    return result.stdout.decode("utf-8")


def _metadata(pdf: Path) -> str:
    return subprocess.run(
        ["pdfinfo", "-meta", str(pdf)], capture_output=True, check=True, text=True
    ).stdout


def _observed_values(bundle: Path) -> list[str]:
    """Every observed value of criteria.json, criterion level and population level."""
    criteria = json.loads((bundle / "criteria.json").read_text())
    values = []
    for requirement in criteria["requirements"]:
        for criterion in requirement["criteria"]:
            values.append(criterion["observed"])
            values += [population["observed"] for population in criterion["populations"]]
    return ["undefined" if value is None else f"{value:.4f}" for value in values]


@pytest.mark.parametrize("name", ["report.pdf", "report-submission.pdf"])
@pytest.mark.req("DXV-REPORT-001")
def test_qpdf_check_passes(rendered_bundle: Path, name: str) -> None:
    result = subprocess.run(
        ["qpdf", "--check", str(rendered_bundle / name)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax or stream encoding errors" in result.stdout


@pytest.mark.req("DXV-REPORT-001")
def test_report_text_holds_every_requirement_id_and_observed_value(rendered_bundle: Path) -> None:
    text = _text(rendered_bundle / "report.pdf")
    criteria = json.loads((rendered_bundle / "criteria.json").read_text())
    for requirement in criteria["requirements"]:
        assert requirement["id"] in text
        assert requirement["text"].split(",")[0] in text
    observed = _observed_values(rendered_bundle)
    assert len(observed) > 8
    for value in observed:
        assert value in text, value


def test_pages_carry_document_id_run_id_and_page_numbers(rendered_bundle: Path) -> None:
    pages = int(re.search(r"Pages:\s+(\d+)", _pdfinfo(rendered_bundle / "report.pdf"))[1])
    assert pages >= 10
    second = _text(rendered_bundle / "report.pdf", "-f", "2", "-l", "2")
    assert f"RPT-TEST-VR-{RUN_ID}" in second
    assert f"Run {RUN_ID}" in second
    assert f"Page 2 of {pages}" in second
    last = _text(rendered_bundle / "report.pdf", "-f", str(pages), "-l", str(pages))
    assert f"Page {pages} of {pages}" in last


def _pdfinfo(pdf: Path) -> str:
    return subprocess.run(
        ["pdfinfo", "-isodates", str(pdf)], capture_output=True, check=True, text=True
    ).stdout


@pytest.mark.req("DXV-REPORT-001")
def test_report_is_tagged_pdfa3b_dated_by_the_run(rendered_bundle: Path) -> None:
    info = _pdfinfo(rendered_bundle / "report.pdf")
    assert re.search(r"Tagged:\s+yes", info)
    started = json.loads((rendered_bundle / "run.json").read_text())["started_utc"]
    assert re.search(rf"CreationDate:\s+{started[:19]}Z", info)
    assert re.search(rf"ModDate:\s+{started[:19]}Z", info)
    metadata = _metadata(rendered_bundle / "report.pdf")
    assert 'pdfaid:part="3"' in metadata
    assert 'pdfaid:conformance="B"' in metadata


@pytest.mark.req("DXV-REPORT-001")
def test_submission_copy_is_pdfa2b_without_attachments(rendered_bundle: Path) -> None:
    pdf = rendered_bundle / "report-submission.pdf"
    metadata = _metadata(pdf)
    assert 'pdfaid:part="2"' in metadata
    listing = subprocess.run(
        ["pdfdetach", "-list", str(pdf)], capture_output=True, text=True, check=True
    )
    assert listing.stdout.strip() == "0 embedded files"
    assert re.search(r"Tagged:\s+yes", _pdfinfo(pdf))


@pytest.mark.req("DXV-REPORT-001")
def test_attachments_equal_the_bundle_files_byte_for_byte(
    rendered_bundle: Path, tmp_path: Path
) -> None:
    pdf = rendered_bundle / "report.pdf"
    listing = subprocess.run(
        ["pdfdetach", "-list", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    names = re.findall(r"^\d+: (.+)$", listing, flags=re.MULTILINE)
    assert sorted(names) == sorted(ATTACHED_FILES)
    subprocess.run(["pdfdetach", "-saveall", "-o", str(tmp_path), str(pdf)], check=True)
    for name in ATTACHED_FILES:
        assert (tmp_path / name).read_bytes() == (rendered_bundle / name).read_bytes(), name


@pytest.mark.slow
@pytest.mark.req("DXV-REPORT-002")
def test_two_renders_are_byte_identical_even_without_system_fonts(
    rendered_bundle: Path, tmp_path: Path
) -> None:
    """A second render, in a process whose fontconfig knows no font, gives the same bytes."""
    copy = tmp_path / "bundle"
    shutil.copytree(rendered_bundle, copy)
    for name in ("report.pdf", "report-submission.pdf", "report.html"):
        (copy / name).unlink()
    shutil.rmtree(copy / "figures")
    config = tmp_path / "fonts.conf"
    config.write_text('<?xml version="1.0"?><fontconfig><cachedir>cache</cachedir></fontconfig>')
    script = "import sys; from dxval.report import render_bundle_reports as r; r(sys.argv[1])"
    subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script, str(copy)],
        env={
            "FONTCONFIG_FILE": str(config),
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            # the tree under test, where it is not the installed one
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        },
        check=True,
    )
    names = ["report.pdf", "report-submission.pdf", "report.html"]
    names += [f"figures/{path.name}" for path in (rendered_bundle / "figures").glob("*.svg")]
    assert len(names) >= 6
    for name in names:
        assert (copy / name).read_bytes() == (rendered_bundle / name).read_bytes(), name


@pytest.mark.req("DXV-REPORT-002")
def test_only_bundled_fonts_are_embedded(rendered_bundle: Path) -> None:
    fonts = subprocess.run(
        ["pdffonts", str(rendered_bundle / "report.pdf")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()[2:]
    assert len(fonts) == 4
    for line in fonts:
        name, embedded = line.split()[0], line.split()[-5]
        assert "+dxval-DejaVu-Sans" in name, line
        assert embedded == "yes", line


def test_html_twin_is_self_contained_and_links_requirements_to_evidence(
    rendered_bundle: Path,
) -> None:
    html = (rendered_bundle / "report.html").read_text()
    assert not re.search(r'(src|href)="(https?:|//|file:)', html)
    assert re.findall(r'<img src="([^"]+)"', html)
    assert all(
        src.startswith("data:image/svg+xml;base64,")
        for src in re.findall(r'<img src="([^"]+)"', html)
    )
    assert '<a id="req-PERF-002" href="#trace-req-PERF-002">' in html
    assert 'id="trace-req-PERF-002"' in html
    assert '<a href="criteria.json">criteria.json</a>' in html
    assert "/requirements/1/criteria/0/populations/0" in html
    assert "Report test protocol &lt;with markup &amp; symbols&gt;" in html


def test_strict_undefined_catches_a_missing_view_field(rendered_bundle: Path) -> None:
    view = build_report_view(read_bundle(rendered_bundle))
    fields = {name: getattr(view, name) for name in view.__dataclass_fields__}
    del fields["summary_counts"]
    with pytest.raises(jinja2.UndefinedError, match="summary_counts"):
        render_html(SimpleNamespace(**fields), PRINT)  # type: ignore[arg-type]


def test_print_and_screen_renditions_link_evidence_differently(rendered_bundle: Path) -> None:
    view = build_report_view(read_bundle(rendered_bundle))
    assert 'href="#file-metrics.json"' in render_html(view, PRINT)
    screen = render_html(view, SCREEN)
    assert 'href="metrics.json"' in screen
    assert "@font-face" not in screen
