"""Known-answer tests: they pass on this build, and they fail when an answer is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from dxval.errors import InputError
from dxval.selfval import known_answer_checks, reference
from dxval.selfval.known_answers import hanley_mcneil_checks, read_asah

from .conftest import ROOT, SelfValidationRun


@pytest.mark.req("DXV-SELF-001", "DXV-STAT-001", "DXV-STAT-002")
def test_known_answers_pass_with_and_without_the_asah_data() -> None:
    without = known_answer_checks()
    assert all(check.passed for check in without), [c for c in without if not c.passed]
    with_asah = known_answer_checks(ROOT / "tests" / "data" / "aSAH.csv")
    assert all(check.passed for check in with_asah), [c for c in with_asah if not c.passed]
    assert len(with_asah) - len(without) == 3 + 3 + 5 + 3 + 1
    names = [check.name for check in with_asah]
    assert "aSAH s100b: AUC, DeLong variance, 95% CI" in names
    assert "wilson 95% CI of 0/30" in names


def test_a_wrong_reference_value_fails_its_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reference, "HANLEY_MCNEIL_AUC", 0.899)
    published, exact, delong = hanley_mcneil_checks()
    assert not published.passed
    assert published.expected == "0.899 (rel 0, abs 0.0005)"
    assert published.observed == "0.8931710615"
    assert exact.passed
    assert delong.passed


def test_the_report_notes_when_asah_checks_did_not_run(
    self_validation: SelfValidationRun,
) -> None:
    names = [check["name"] for check in self_validation.record["checks"]]
    assert any(name.startswith("aSAH ") for name in names)
    assert not any("aSAH" in note and "not run" in note for note in self_validation.record["notes"])


def test_asah_file_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the aSAH data"):
        read_asah(tmp_path / "missing.csv")
    (tmp_path / "wrong.csv").write_text("outcome,s100b\nPoor,0.1\n")
    with pytest.raises(InputError, match="expected pROC's aSAH CSV with outcome, s100b, ndka"):
        read_asah(tmp_path / "wrong.csv")
    (tmp_path / "short.csv").write_text("outcome,s100b,ndka,wfns\nPoor,0.1,1,2\n")
    with pytest.raises(InputError, match=r"got 1 rows \(1 Poor\) expected pROC's aSAH data"):
        read_asah(tmp_path / "short.csv")
