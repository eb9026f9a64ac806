"""The tamper check: it passes with dxval's verification and fails when verification is blind."""

from __future__ import annotations

from pathlib import Path

import pytest

from dxval.evidence.verify import VerifyReport
from dxval.selfval import tamper
from dxval.selfval.tamper import tamper_checks

from .conftest import SelfValidationRun

#: The attack classes issue 11 closed, demonstrated by self-validate (DXV-INTEG-012).
NEW_ATTACKS = (
    "unsigned: metrics.json edited and MANIFEST.sha256 regenerated",
    "unsigned: run.json and audit.jsonl deleted, MANIFEST.sha256 regenerated",
    "unsigned: every file deleted, MANIFEST.sha256 left empty",
    "unsigned: a FIFO placed in the bundle",
    "unsigned: an audit line nested 200,000 deep",
    "unsigned: an audit line longer than 1 MiB",
    "unsigned: the run's exit code relabelled in run.json",
    "unsigned: every record rewritten consistently, caught by the evidence ledger",
    "unsigned: every record rewritten consistently, caught by --expect-digest",
    "a signature and its audit events removed, log rechained, caught by the ledger",
    "an evidence-ledger line edited",
    "a test-set ledger line edited",
)


@pytest.mark.req("DXV-SELF-001", "DXV-SIGN-005", "DXV-AUDIT-002", "DXV-INTEG-012")
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
        *NEW_ATTACKS,
    ):
        assert expected in names
    assert signed.is_dir()


def test_a_blind_verifier_fails_the_tamper_checks(
    fresh_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tamper, "verify_bundle", lambda bundle, **_: VerifyReport(bundle, 0, ()))
    monkeypatch.setattr(tamper, "check_signatures", lambda bundle: ())
    checks, _ = tamper_checks(fresh_bundle, tmp_path)
    failed = {check.name for check in checks if not check.passed}
    assert "a file added" in failed
    assert "one byte changed in metrics.json" in failed
    assert "a bundle signed by author and approver verifies" not in failed
    assert set(NEW_ATTACKS) - {"a test-set ledger line edited"} <= failed


@pytest.mark.req("DXV-INTEG-012")
def test_a_blind_ledger_reader_fails_the_test_set_ledger_check(
    fresh_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tamper, "read_ledger", lambda root: ())
    checks, _ = tamper_checks(fresh_bundle, tmp_path)
    failed = {check.name for check in checks if not check.passed}
    assert failed == {"a test-set ledger line edited"}


def test_tamper_group_in_the_report(self_validation: SelfValidationRun) -> None:
    tampered = [c for c in self_validation.record["checks"] if c["group"] == "tamper evidence"]
    assert len(tampered) >= 15 + len(NEW_ATTACKS)
    assert set(NEW_ATTACKS) <= {check["name"] for check in tampered}
    assert all(check["result"] == "pass" for check in tampered)
