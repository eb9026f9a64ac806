"""A company's own report templates: --templates, report.templates, the template digest, errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from dxval.cli import main
from dxval.evidence import verify_bundle
from dxval.report.template_set import SHIPPED, template_set

from .conftest import write_protocol

REPOSITORY = Path(__file__).resolve().parents[2]
COVER = "sections/cover.html"


def _pdf_text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def _custom_folder(folder: Path, marker: str) -> Path:
    """A template folder holding only a cover that carries ``marker`` (the rest falls back)."""
    cover = (REPOSITORY / "templates" / COVER).read_text(encoding="utf-8")
    assert '<section class="cover"' in cover
    changed = cover.replace(
        '<section class="cover"', f'<p class="small">{marker}</p><section class="cover"', 1
    )
    (folder / "sections").mkdir(parents=True)
    (folder / COVER).write_text(changed, encoding="utf-8")
    return folder


def _broken_folder(folder: Path, statement: str) -> Path:
    """A cover whose second line is ``statement`` (an undefined name, a syntax error)."""
    lines = (REPOSITORY / "templates" / COVER).read_text(encoding="utf-8").splitlines()
    (folder / "sections").mkdir(parents=True)
    (folder / COVER).write_text("\n".join([lines[0], statement, *lines[1:]]) + "\n")
    return folder


def _sha256sum_listing(folder: Path, names: list[str]) -> str:
    """The listing as GNU sha256sum writes it; each file from ``folder``, else the shipped set."""
    lines = []
    for name in sorted(names):
        path = folder / name if (folder / name).is_file() else REPOSITORY / "templates" / name
        digest = subprocess.run(
            ["sha256sum", str(path)], capture_output=True, text=True, check=True
        ).stdout.split()[0]
        lines.append(f"{digest}  {name}\n")
    return "".join(lines)


def test_top_level_templates_are_the_shipped_templates() -> None:
    shipped = sorted(p.relative_to(SHIPPED) for p in SHIPPED.rglob("*") if p.is_file())
    top = REPOSITORY / "templates"
    assert shipped == sorted(p.relative_to(top) for p in top.rglob("*") if p.is_file())
    for name in shipped:
        assert (SHIPPED / name).read_bytes() == (top / name).read_bytes()


@pytest.mark.req("DXV-ARCH-003")
def test_the_shipped_set_lists_every_loaded_file_with_its_sha256() -> None:
    used = template_set()
    names = [item.name for item in used.files]
    assert {"report.html", "report.css", COVER, "sections/methods.html"} <= set(names)
    assert "fonts/DejaVuSans.ttf" in names  # assets of @font-face are loaded too
    assert "summary.md" not in names  # not loaded by the report
    assert not [item for item in used.files if item.custom]
    expected = _sha256sum_listing(SHIPPED, names)
    assert used.listing == expected
    assert (
        used.sha256
        == subprocess.run(
            ["sha256sum"], input=expected, capture_output=True, text=True, check=True
        ).stdout.split()[0]
    )


@pytest.mark.slow
@pytest.mark.req("DXV-ARCH-003")
def test_protocol_templates_change_the_pdf_and_run_json_records_the_set(tmp_path: Path) -> None:
    protocol = write_protocol(tmp_path / "protocol")
    _custom_folder(tmp_path / "protocol" / "company-templates", "ACME-DOC-CTRL-4711")
    with protocol.open("a") as stream:
        stream.write("report: {templates: company-templates}\n")
    code = main(["validate", str(protocol), "--out", str(tmp_path / "evidence")])
    assert code in (0, 1)
    (bundle,) = (tmp_path / "evidence").glob("RPT-TEST/*")
    text = _pdf_text(bundle / "report.pdf")
    assert "ACME-DOC-CTRL-4711" in text
    recorded = json.loads((bundle / "run.json").read_text())["templates"]
    assert recorded["custom"] == [COVER]
    folder = tmp_path / "protocol" / "company-templates"
    listing = _sha256sum_listing(folder, recorded["files"])
    assert recorded["listing"] == listing.splitlines()
    assert (
        recorded["sha256"]
        == subprocess.run(
            ["sha256sum"], input=listing, capture_output=True, text=True, check=True
        ).stdout.split()[0]
    )
    assert recorded["sha256"] != template_set().sha256
    assert recorded["sha256"] in " ".join(text.split())  # shown in the methods section
    assert verify_bundle(bundle).intact


@pytest.mark.slow
@pytest.mark.req("DXV-ARCH-003")
def test_report_templates_option_re_renders_with_a_marker(
    bundle_copy: Path, tmp_path: Path
) -> None:
    folder = _custom_folder(tmp_path / "mine", "MARKER-ON-THE-COVER-93")
    assert "MARKER-ON-THE-COVER-93" not in _pdf_text(bundle_copy / "report.pdf")
    assert main(["report", str(bundle_copy), "--templates", str(folder)]) == 0
    text = " ".join(_pdf_text(bundle_copy / "report.pdf").split())
    assert "MARKER-ON-THE-COVER-93" in text
    assert template_set(folder.absolute()).sha256 in text
    assert "Re-rendered with another template set than the one recorded in run.json" in text
    assert verify_bundle(bundle_copy).intact


@pytest.mark.req("DXV-ARCH-004")
def test_an_undefined_variable_is_exit_2_with_file_and_line_and_no_report(
    bundle_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _broken_folder(tmp_path / "broken", "{{ report.cover.no_such_field }}")
    error = _refused(bundle_copy, folder, capsys)
    assert f"{folder / COVER}:2: template undefined variable" in error
    assert "no_such_field" in error


def _refused(bundle: Path, folder: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """The one error line of ``dxval report --templates folder`` (exit 2, nothing written)."""
    before = {p.name: p.read_bytes() for p in bundle.iterdir() if p.is_file()}
    assert main(["report", str(bundle), "--templates", str(folder)]) == 2
    lines = capsys.readouterr().err.splitlines()
    # progress lines ("dxval report: ...") come first when the render passed 2 s
    errors = [line for line in lines if not line.startswith("dxval report: ")]
    assert len(errors) == 1, lines
    assert errors[0].startswith("dxval: error: ")
    assert {p.name: p.read_bytes() for p in bundle.iterdir() if p.is_file()} == before
    return errors[0]


@pytest.mark.req("DXV-ARCH-004")
def test_a_syntax_error_stops_validate_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = write_protocol(tmp_path / "protocol", cases_per_site=20)
    folder = _broken_folder(tmp_path / "broken", "{% if %}")
    out = tmp_path / "evidence"
    assert main(["validate", str(protocol), "--out", str(out), "--templates", str(folder)]) == 2
    error = capsys.readouterr().err
    assert f"{folder / COVER}:2: template syntax error" in error
    assert not out.exists()


@pytest.mark.req("DXV-ARCH-004")
def test_a_missing_template_folder_is_exit_2(
    bundle_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-folder"
    assert main(["report", str(bundle_copy), "--templates", str(missing)]) == 2
    assert f"--templates {missing}: got no such folder" in capsys.readouterr().err


@pytest.mark.req("DXV-RENDER4-003")
def test_an_image_the_typesetter_cannot_load_is_exit_2_and_no_report(
    bundle_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """WeasyPrint leaves out an image it cannot load and goes on; dxval refuses the report."""
    folder = _broken_folder(tmp_path / "logo", '<img src="company-logo.png" alt="Company logo">')
    error = _refused(bundle_copy, folder, capsys)
    assert error.startswith(f"dxval: error: {folder}: the typesetter left something out: ")
    assert "Failed to load image" in error
    assert "company-logo.png" in error


@pytest.mark.req("DXV-RENDER4-002")
def test_a_figure_the_report_does_not_have_is_exit_2_and_no_report(
    bundle_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A template refers to a figure by a print URL the report has none for."""
    line = '<img src="dxval-figure:figures/logo.svg" alt="Company logo">'
    error = _refused(bundle_copy, _broken_folder(tmp_path / "figure", line), capsys)
    assert error == (
        f"dxval: error: {tmp_path / 'figure'}: the report refers to a figure it does not have: "
        "dxval-figure:figures/logo.svg"
    )
