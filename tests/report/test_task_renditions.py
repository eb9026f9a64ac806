"""Task (detection, segmentation) reports have the classification report's renditions.

PDF/A-3b with the evidence attached and a PDF/A-2b submission copy, the
signature block before and after ``dxval sign``, ``--templates`` over the
shipped templates, a re-render that gives the same bytes, and one document
shell and shared partials for both kinds of report. The bundles are the
session fixture ``task_bundles`` (tests/conftest.py); a test that changes a
bundle works on a copy.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from tests.task_bundles import write_detection

from dxval.cli import main
from dxval.evidence.format import TASK_ATTACHED_FILES, TASK_REQUIRED_FILES
from dxval.evidence.signatures import generate_key
from dxval.report import build_report_view, read_bundle
from dxval.report.render import PRINT, SCREEN, render_html, templates_view
from dxval.report.task_report import TASK_REPORT_ROOTS, build_task_report, render_task_html
from dxval.report.template_set import REPORT_ROOTS, template_set

PASSPHRASE = "task report signing passphrase"  # noqa: S105  (a test key's passphrase)
SHARED = ("base.html", "sections/signatures.html", "sections/evidence_files.html")


def _run(*command: str) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def _text(pdf: Path) -> str:
    return _run("pdftotext", "-layout", str(pdf), "-")


def _copy(bundle: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    return copy


@pytest.mark.parametrize("task", ["detection", "segmentation"])
@pytest.mark.req("DXV-TASKRPT-001")
def test_task_report_is_pdfa3b_with_its_evidence_attached_and_a_pdfa2b_copy(
    task_bundles: dict[str, Path], tmp_path: Path, task: str
) -> None:
    bundle = task_bundles[task]
    for name in ("report.pdf", "report-submission.pdf"):
        check = subprocess.run(
            ["qpdf", "--check", str(bundle / name)], capture_output=True, check=False
        )
        assert check.returncode == 0, check.stdout + check.stderr
        assert b"No syntax or stream encoding errors" in check.stdout
        assert re.search(r"Tagged:\s+yes", _run("pdfinfo", str(bundle / name)))
    report = _run("pdfinfo", "-meta", str(bundle / "report.pdf"))
    assert 'pdfaid:part="3"' in report
    assert 'pdfaid:conformance="B"' in report
    assert 'pdfaid:part="2"' in _run("pdfinfo", "-meta", str(bundle / "report-submission.pdf"))
    assert _run("pdfdetach", "-list", str(bundle / "report-submission.pdf")).strip() == (
        "0 embedded files"
    )
    listing = _run("pdfdetach", "-list", str(bundle / "report.pdf"))
    names = re.findall(r"^\d+: (.+)$", listing, flags=re.MULTILINE)
    assert sorted(names) == sorted(TASK_ATTACHED_FILES[task])
    assert f"{task}.json" in names
    _run("pdfdetach", "-saveall", "-o", str(tmp_path), str(bundle / "report.pdf"))
    for name in names:
        assert (tmp_path / name).read_bytes() == (bundle / name).read_bytes(), name
    text = _text(bundle / "report.pdf")
    assert f"report.pdf (PDF/A-3b) embeds protocol.yaml, {task}.json" in " ".join(text.split())


@pytest.mark.req("DXV-TASKRPT-002")
def test_unsigned_task_report_shows_the_empty_signature_block(
    task_bundles: dict[str, Path],
) -> None:
    first_page = _run(
        "pdftotext", "-layout", "-l", "1", str(task_bundles["segmentation"] / "report.pdf"), "-"
    )
    assert "Signatures" in first_page
    for meaning in ("Authored by", "Reviewed by", "Approved by"):
        assert meaning in first_page
    assert "No electronic signature was recorded" in " ".join(first_page.split())


@pytest.mark.req("DXV-TASKRPT-002")
def test_signing_a_task_bundle_shows_the_signature_and_it_stays_valid(
    task_bundles: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bundle = _copy(task_bundles["detection"], tmp_path)
    key, _ = generate_key("Tess Taskwriter", tmp_path / "author.key", passphrase=PASSPHRASE)
    monkeypatch.setenv("DXVAL_KEY_PASSPHRASE", PASSPHRASE)
    assert main(["sign", str(bundle), "--meaning", "authored", "--key", str(key)]) == 0
    record = json.loads((bundle / "signatures" / "01-authored.json").read_text())
    # The statement names the task bundle's own required files (no metrics.json).
    assert record["required_files"] == list(TASK_REQUIRED_FILES["detection"])
    first_page = " ".join(
        _run("pdftotext", "-layout", "-l", "1", str(bundle / "report.pdf"), "-").split()
    )
    assert "Tess Taskwriter" in first_page
    assert "VALID" in first_page
    assert "NOT VALID" not in first_page
    assert "Tess Taskwriter" in (bundle / "report.html").read_text()
    capsys.readouterr()
    assert main(["verify", str(bundle)]) == 0
    assert "signature signatures/01-authored.json: authored by 'Tess Taskwriter'" in (
        capsys.readouterr().out
    )


@pytest.mark.req("DXV-TASKRPT-003")
def test_templates_folder_overrides_a_task_section_and_a_broken_one_is_exit_2(
    task_bundles: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = _copy(task_bundles["segmentation"], tmp_path)
    custom = tmp_path / "templates" / "sections"
    custom.mkdir(parents=True)
    shipped = Path(__file__).parents[2] / "templates" / "sections" / "segmentation.html"
    section = shipped.read_text().replace(
        "<h1>Segmentation performance</h1>", "<h1>Segmentation performance (ACME layout)</h1>"
    )
    (custom / "segmentation.html").write_text(section)
    assert main(["report", str(bundle), "--templates", str(custom.parent)]) == 0
    text = " ".join(_text(bundle / "report.pdf").split())
    assert "Segmentation performance (ACME layout)" in text
    assert "Custom templates sections/segmentation.html" in text
    assert "Re-rendered with another template set than the one recorded in run.json" in text
    assert main(["verify", str(bundle)]) == 0
    before = (bundle / "report.html").read_bytes()
    (custom / "segmentation.html").write_text(section.replace("{{ v.tolerance }}", "{{ v.nope }}"))
    capsys.readouterr()
    assert main(["report", str(bundle), "--templates", str(custom.parent)]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith(f"dxval: error: {custom / 'segmentation.html'}:4: template undefined")
    assert (bundle / "report.html").read_bytes() == before


@pytest.mark.req("DXV-TASKRPT-003")
def test_validate_renders_a_task_report_from_the_templates_folder_and_records_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    custom = tmp_path / "templates" / "sections"
    custom.mkdir(parents=True)
    (custom / "signatures.html").write_text("<h4>Signatures (ACME form 12)</h4>\n")
    protocol = write_detection(tmp_path)
    out = tmp_path / "evidence"
    assert (
        main(["validate", str(protocol), "--out", str(out), "--templates", str(custom.parent)]) == 1
    )
    capsys.readouterr()
    (bundle,) = (out / "DET-E2E").iterdir()
    recorded = json.loads((bundle / "run.json").read_text())["templates"]
    assert recorded["custom"] == ["sections/signatures.html"]
    assert "task_report.html" in recorded["files"]
    assert "Signatures (ACME form 12)" in (bundle / "report.html").read_text()
    assert "The same template set is recorded in run.json" in (bundle / "report.html").read_text()


@pytest.mark.req("DXV-TASKRPT-004")
def test_rerendering_a_task_bundle_gives_the_same_bytes_and_it_verifies(
    task_bundles: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Detection only, to keep the suite short: the rendering path is the same for
    # segmentation, whose re-render under --templates is checked above.
    original = task_bundles["detection"]
    bundle = _copy(original, tmp_path)
    assert main(["report", str(bundle)]) == 0
    rendered = ["report.pdf", "report-submission.pdf", "report.html"]
    rendered += [f"figures/{p.name}" for p in (original / "figures").iterdir()]
    for name in rendered:
        assert (bundle / name).read_bytes() == (original / name).read_bytes(), name
    assert (bundle / "MANIFEST.sha256").read_bytes() == (original / "MANIFEST.sha256").read_bytes()
    capsys.readouterr()
    assert main(["verify", str(bundle)]) == 0
    assert "intact" in capsys.readouterr().out


@pytest.mark.req("DXV-TASKRPT-005")
def test_both_reports_share_one_document_shell_and_the_signature_and_evidence_partials(
    task_bundles: dict[str, Path], sealed_bundle: Path, tmp_path: Path
) -> None:
    for roots in (REPORT_ROOTS, TASK_REPORT_ROOTS):
        names = {item.name for item in template_set(None, roots).files}
        assert set(SHARED) <= names, roots
    # One override of a shared partial changes both kinds of report.
    custom = tmp_path / "templates"
    (custom / "sections").mkdir(parents=True)
    (custom / "base.html").write_text(
        (Path(__file__).parents[2] / "templates" / "base.html")
        .read_text()
        .replace("<body>", '<body>\n<div class="acme-banner">ACME controlled copy</div>')
    )
    (custom / "sections" / "signatures.html").write_text("<h4>ACME signature page</h4>\n")
    used = templates_view(template_set(custom), None)
    classification = replace(build_report_view(read_bundle(sealed_bundle)), templates=used)
    task = replace(build_task_report(task_bundles["detection"]), templates=used)
    for html in (
        render_html(classification, SCREEN, custom),
        render_task_html(task, PRINT, custom),
    ):
        assert "ACME controlled copy" in html
        assert "ACME signature page" in html
        assert html.count("<title>") == 1
