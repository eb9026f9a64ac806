"""Bring-your-own predictions: exactly one finite score (or a failure reason) per case."""

from __future__ import annotations

from pathlib import Path

import pytest

from dxval.data import check_coverage, read_predictions
from dxval.errors import InputError


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.req("DXV-DATA-002")
def test_reads_scores_and_failure_reasons(tmp_path: Path) -> None:
    path = _write(tmp_path, "id,prob,why\na,0.5,\nb,,image unreadable\nc,1e-3,\n")
    predictions = read_predictions(
        path, case_id_column="id", score_column="prob", failure_reason_column="why"
    )
    assert predictions["a"].score == 0.5
    assert predictions["b"].score is None
    assert predictions["b"].reason == "image unreadable"
    assert predictions["c"].score == 0.001
    check_coverage(path, predictions, ["a", "b", "c"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,prob\na,nan\n", r"p\.csv:2 prob: got 'nan' expected a finite number"),
        ("id,prob\na,inf\n", r"p\.csv:2 prob: got 'inf' expected a finite number"),
        ("id,prob\na,-Infinity\n", r"p\.csv:2 prob: got '-Infinity' expected a finite number"),
        ("id,prob\na,high\n", r"p\.csv:2 prob: got 'high' expected a finite number"),
        ("id,prob\na,\n", r"p\.csv:2 prob: got an empty value expected a finite number$"),
        ("id,prob\na,1\na,2\n", r"p\.csv:3 id: got duplicate 'a' \(first on line 2\)"),
        (
            "id,score\na,1\n",
            r"got no 'prob' column among 2 header fields "
            r"expected a 'prob' column \(predictions\.score\)",
        ),
    ],
)
@pytest.mark.req("DXV-DATA-002")
def test_bad_predictions(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InputError, match=message):
        read_predictions(path, case_id_column="id", score_column="prob")


def test_empty_score_hint_names_the_reason_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "id,prob,why\na,,\n")
    with pytest.raises(InputError, match=r"expected a finite number or a reason in 'why'"):
        read_predictions(
            path, case_id_column="id", score_column="prob", failure_reason_column="why"
        )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"q\.csv: predictions file not found"):
        read_predictions(tmp_path / "q.csv", case_id_column="id", score_column="prob")


@pytest.mark.req("DXV-DATA-002")
def test_coverage_missing_and_extra_cases(tmp_path: Path) -> None:
    path = _write(tmp_path, "id,prob\na,1\nz,2\n")
    predictions = read_predictions(path, case_id_column="id", score_column="prob")
    with pytest.raises(
        InputError, match=r"p\.csv: got no row for 2 cases \('b', 'c'\) expected one row per"
    ):
        check_coverage(path, predictions, ["a", "b", "c", "z"])
    with pytest.raises(InputError, match=r"got rows for 1 case \('z'\) that no manifest lists"):
        check_coverage(path, predictions, ["a"])


def test_coverage_message_summarises_long_lists(tmp_path: Path) -> None:
    path = _write(tmp_path, "id,prob\na,1\n")
    predictions = read_predictions(path, case_id_column="id", score_column="prob")
    with pytest.raises(InputError, match=r"got no row for 7 cases \('c1', .*'c5' and 2 more\)"):
        check_coverage(path, predictions, ["a", *(f"c{i}" for i in range(1, 8))])
