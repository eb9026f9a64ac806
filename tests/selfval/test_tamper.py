"""The tamper check: it passes with dxval's verification and fails when verification is blind."""

from __future__ import annotations

from pathlib import Path

import pytest

from dxval.evidence.verify import VerifyReport
from dxval.selfval import tamper
from dxval.selfval.tamper import tamper_checks

from .conftest import SelfValidationRun


@pytest.mark.req("DXV-SELF-001", "DXV-SIGN-005", "DXV-AUDIT-002")
def test_every_tamper_check_passes(fresh_bundle: Path, tmp_path: Path) -> None:
    checks, signed = tamper_checks(fresh_bundle, tmp_path)
    failed = [check for check in checks if not check.passed]
    assert failed == []
    names = [check.name for check in checks]
    for expected in (
        "the author cannot approve",
        "a wrong passphrase is refused",
        "a bundle signed by author and approver verifies",
        "one byte changed in cases.csv",
        "one byte changed in signatures/02-approved.json",
        "a file added",
        "an audit line edited",
        "an audit line deleted",
        "evidence changed and MANIFEST.sha256 recomputed",
        "a signature record forged and MANIFEST.sha256 recomputed",
    ):
        assert expected in names
    assert signed.is_dir()


def test_a_blind_verifier_fails_the_tamper_checks(
    fresh_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tamper, "verify_bundle", lambda bundle: VerifyReport(bundle, 0, ()))
    monkeypatch.setattr(tamper, "check_signatures", lambda bundle: ())
    checks, _ = tamper_checks(fresh_bundle, tmp_path)
    failed = {check.name for check in checks if not check.passed}
    assert "a file added" in failed
    assert "one byte changed in metrics.json" in failed
    assert "a bundle signed by author and approver verifies" not in failed


def test_tamper_group_in_the_report(self_validation: SelfValidationRun) -> None:
    tampered = [c for c in self_validation.record["checks"] if c["group"] == "tamper evidence"]
    assert len(tampered) >= 15
    assert all(check["result"] == "pass" for check in tampered)
