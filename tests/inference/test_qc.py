"""QC tolerance on the failed fraction; exceeding it is exit 4."""

from __future__ import annotations

import pytest

from dxval.errors import ExitCode, IncompleteRunError
from dxval.inference import check_qc


def test_within_tolerance_passes() -> None:
    outcome = check_qc(1, 100, max_failed_fraction=0.01)
    assert not outcome.exceeded
    assert outcome.failed_fraction == 0.01
    outcome.raise_if_exceeded()
    assert outcome.reason == (
        "QC: 1 of 100 cases failed (1.00%), which is within qc.max_failed_fraction 0.01"
    )


def test_exceeded_tolerance_is_exit_4() -> None:
    outcome = check_qc(2, 100, max_failed_fraction=0.01)
    assert outcome.exceeded
    with pytest.raises(
        IncompleteRunError, match=r"2 of 100 cases failed \(2\.00%\), which exceeds"
    ) as caught:
        outcome.raise_if_exceeded()
    assert caught.value.exit_code == ExitCode.INCOMPLETE
    assert outcome.to_dict()["exceeded"] is True


def test_zero_tolerance_and_no_failures() -> None:
    assert not check_qc(0, 5, max_failed_fraction=0.0).exceeded
    assert check_qc(1, 5, max_failed_fraction=0.0).exceeded


def test_no_cases_is_undefined_and_incomplete() -> None:
    outcome = check_qc(0, 0, max_failed_fraction=0.5)
    assert outcome.failed_fraction is None
    assert outcome.exceeded
    assert "no case was run" in outcome.reason


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match=r"max_failed_fraction: got 1.5, expected \[0, 1\]"):
        check_qc(0, 1, max_failed_fraction=1.5)
    with pytest.raises(ValueError, match=r"counts: got failed=3, total=2"):
        check_qc(3, 2, max_failed_fraction=0.1)
