"""dxval self-validate: IQ and OQ, every check in the report, exit 0 only when all pass."""

from __future__ import annotations

import argparse
import subprocess
from importlib import metadata
from pathlib import Path

import pytest
from markupsafe import escape

from dxval import selfval
from dxval.cli import main
from dxval.commands import self_validate as command
from dxval.evidence import verify_bundle
from dxval.evidence.signatures import check_signatures, read_signatures
from dxval.qms.soup import installation_qualification, load_soup, packaged_soup_path
from dxval.selfval import CheckResult, SelfValidation, installation_checks
from dxval.selfval.run import version_drift

from .conftest import ROOT, SelfValidationRun

GROUPS = ["installation qualification", "known answers", "end to end", "tamper evidence"]


@pytest.mark.req("DXV-SELF-001")
def test_self_validation_passes_and_lists_every_check(self_validation: SelfValidationRun) -> None:
    record = self_validation.record
    assert self_validation.exit_code == 0, self_validation.stdout
    assert record["result"] == "pass"
    checks = record["checks"]
    assert record["counts"] == {"total": len(checks), "passed": len(checks), "failed": 0}
    assert list(dict.fromkeys(check["group"] for check in checks)) == GROUPS
    html = (self_validation.out / "tool-validation.html").read_text()
    for check in checks:
        assert check["expected"]
        assert check["observed"]
        assert str(escape(check["name"])) in html
    assert html.count('<td class="pass">pass</td>') == len(checks)
    assert "Installation qualification (IQ)" in html
    assert "PASS: " in self_validation.stdout.splitlines()[0]
    pdf = self_validation.out / "tool-validation.pdf"
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Tool validation report" in text
    assert "Installation qualification (IQ)" in text
    subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True, check=True)


@pytest.mark.req("DXV-SELF-001")
def test_installation_qualification_covers_the_soup_list(
    self_validation: SelfValidationRun,
) -> None:
    names = {c["name"] for c in self_validation.record["checks"] if c["group"] == GROUPS[0]}
    soup = (ROOT / "qms" / "soup.yaml").read_text()
    assert names >= {"numpy", "scipy", "pydicom", "cryptography"}
    assert len(names) - 2 == soup.count("\n  - name: ")
    assert "dxval distribution matches the imported package" in names
    assert "package data installed (SOUP list, report template, report font)" in names


@pytest.mark.req("DXV-SELF-001")
def test_the_signed_end_to_end_bundle_is_kept_and_verifies(
    self_validation: SelfValidationRun,
) -> None:
    bundle = self_validation.out / "end-to-end-bundle"
    assert verify_bundle(bundle).intact
    assert check_signatures(bundle) == ()
    assert [record.meaning.value for record in read_signatures(bundle)] == ["authored", "approved"]


@pytest.mark.req("DXV-SELF-001")
def test_a_failing_check_makes_the_command_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    failing = CheckResult("known answers", "an impossible check", "1", "2", passed=False)
    passing = CheckResult("known answers", "a check", "1", "1", passed=True)

    def fake(out: str, **options: object) -> SelfValidation:
        path = Path(out)
        return SelfValidation((passing, failing), path / "r.html", path / "r.json", path / "b")

    monkeypatch.setattr(selfval, "self_validate", fake)  # looked up at run time
    arguments = argparse.Namespace(
        out=str(tmp_path), soup="soup.yaml", asah=None, strict_versions=False, cases_per_site=4
    )
    assert command._self_validate(arguments) == 1
    out = capsys.readouterr().out
    assert "FAIL known answers: an impossible check: expected 1; got 2" in out
    assert "FAIL: 1 of 2 checks passed" in out


@pytest.mark.req("DXV-SELF-001", "DXV-EXIT-003")
def test_usage_errors_are_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "old.html").write_text("x")
    assert main(["self-validate", "--out", str(tmp_path / "report")]) == 2
    assert "exists and is not an empty folder; expected a new folder" in capsys.readouterr().err
    assert main(["self-validate", "--cases-per-site", "2"]) == 2
    assert "expected an integer from 4 to 200" in capsys.readouterr().err
    arguments = ["self-validate", "--out", str(tmp_path / "new"), "--soup", str(tmp_path / "x")]
    assert main(arguments) == 2
    assert "cannot read" in capsys.readouterr().err


def test_installation_checks_fail_for_a_missing_item(tmp_path: Path) -> None:
    text = (ROOT / "qms" / "soup.yaml").read_text()
    soup = tmp_path / "soup.yaml"
    soup.write_text(text.replace('name: "scipy"', 'name: "scipy-not-installed"'))
    checks = {check.name: check for check in installation_checks(soup, strict=False)}
    assert not checks["scipy-not-installed"].passed
    assert checks["scipy-not-installed"].observed == "missing: not installed"
    assert checks["numpy"].passed


@pytest.mark.req("DXV-SETUP-002")
def test_the_report_names_every_drifted_version_even_when_iq_passes(
    self_validation: SelfValidationRun,
) -> None:
    expected = version_drift(
        installation_qualification(load_soup(ROOT / "qms" / "soup.yaml"), strict=False)
    )
    record = self_validation.record
    assert record["version_drift"] == list(expected)
    note = record["notes"][0]
    html = (self_validation.out / "tool-validation.html").read_text()
    assert str(escape(note)) in html
    if expected:
        heading = f"Installed versions that differ from the SOUP list ({len(expected)})"
        assert note.startswith(heading)
        assert "version drift: " in self_validation.stdout
    for item in expected:
        assert f"{item['name']} {item['installed']} (listed {item['listed']})" in note
        assert f"  {item['name']} {item['installed']} installed, {item['listed']} listed" in (
            self_validation.stdout
        )


@pytest.mark.req("DXV-SETUP-002")
def test_a_drifted_version_passes_by_default_fails_strict_and_is_reported(tmp_path: Path) -> None:
    text = (ROOT / "qms" / "soup.yaml").read_text()
    listed = load_soup(ROOT / "qms" / "soup.yaml")
    numpy = next(item for item in listed.items if item.name == "numpy")
    soup = tmp_path / "soup.yaml"
    soup.write_text(text.replace(f'version: "{numpy.version}"', 'version: "1.26.0"', 1))
    results = installation_qualification(load_soup(soup), strict=False)
    drift = {item["name"]: item for item in version_drift(results)}
    assert drift["numpy"] == {
        "name": "numpy",
        "listed": "1.26.0",
        "installed": metadata.version("numpy"),
    }
    default = {check.name: check for check in installation_checks(soup, strict=False)}
    strict = {check.name: check for check in installation_checks(soup, strict=True)}
    assert default["numpy"].passed
    assert not strict["numpy"].passed
    assert "differs from the SOUP list (1.26.0)" in default["numpy"].observed


@pytest.mark.req("DXV-SETUP-002")
def test_the_command_prints_the_drift_after_the_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    passing = CheckResult("installation qualification", "numpy", "2.0", "2.1: differs", True)
    drift = ({"name": "numpy", "listed": "2.0", "installed": "2.1"},)

    def fake(out: str, **options: object) -> SelfValidation:
        path = Path(out)
        return SelfValidation((passing,), path / "r.pdf", path / "r.json", path / "b", drift)

    monkeypatch.setattr(selfval, "self_validate", fake)  # looked up at run time
    arguments = argparse.Namespace(
        out=str(tmp_path), soup=None, asah=None, strict_versions=False, cases_per_site=4
    )
    assert command._self_validate(arguments) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "PASS: 1 of 1 checks passed"
    assert lines[1].startswith("version drift: 1 installed version differs from the SOUP list")
    assert lines[2] == "  numpy 2.1 installed, 2.0 listed"


@pytest.mark.req("DXV-SETUP-001")
def test_the_packaged_soup_list_is_qms_soup_yaml() -> None:
    packaged = packaged_soup_path()
    assert packaged.read_bytes() == (ROOT / "qms" / "soup.yaml").read_bytes()
