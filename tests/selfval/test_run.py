"""dxval self-validate: IQ and OQ, every check in the report, exit 0 only when all pass."""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

import pytest
from markupsafe import escape

from dxval.cli import main
from dxval.commands import self_validate as command
from dxval.evidence import verify_bundle
from dxval.evidence.signatures import check_signatures, read_signatures
from dxval.selfval import CheckResult, SelfValidation, installation_checks

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
    assert len(names) - 1 == soup.count("\n  - name: ")
    assert "dxval distribution matches the imported package" in names


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

    monkeypatch.setattr(command, "self_validate", fake)
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
