"""``dxval agreement``: ICCs of the Shrout & Fleiss (1979) Table 2 data via the CLI; input errors.

Reference values: psych::ICC on this data as printed in github.com/dwoll/RExRepos
(md/interRaterICC.md); see tests/stats/test_agreement.py for the 1e-9 checks.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from dxval.cli import main

TABLE_2 = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
OPTIONS = ["--subject", "target", "--rater", "judge", "--score", "rating"]


def write_long(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    lines = ["target,judge,rating", *(",".join(row) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def table_rows(matrix: list[list[int]]) -> list[tuple[str, str, str]]:
    return [
        (f"T{subject}", f"J{rater}", str(value))
        for subject, row in enumerate(matrix, start=1)
        for rater, value in enumerate(row, start=1)
    ]


def run_json(capsys: pytest.CaptureFixture[str], path: Path, *extra: str) -> dict[str, Any]:
    code = main(["agreement", str(path), *OPTIONS, *extra, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data: dict[str, Any] = json.loads(captured.out)
    return data


def run_error(capsys: pytest.CaptureFixture[str], path: Path, *extra: str) -> str:
    code = main(["agreement", str(path), *OPTIONS, *extra])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("dxval: error:")
    return lines[0]


@pytest.mark.req("DXV-PREC-002")
def test_json_has_the_three_iccs_with_psych_values(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = run_json(capsys, write_long(tmp_path / "r.csv", table_rows(TABLE_2)))
    assert (data["n_subjects"], data["n_raters"]) == (6, 4)
    expected = {"icc1_1": (0.17, -0.133), "icc2_1": (0.29, 0.019), "icc3_1": (0.71, 0.342)}
    for key, (estimate, low) in expected.items():
        assert set(data[key]) >= {"estimate", "low", "high", "confidence_level", "method"}
        assert data[key]["estimate"] == pytest.approx(estimate, abs=0.005)
        assert data[key]["low"] == pytest.approx(low, abs=0.0005)
        assert data[key]["confidence_level"] == 0.95
    assert "bland_altman" not in data  # four raters
    assert "decision_agreement" not in data  # no threshold


@pytest.mark.req("DXV-PREC-002")
def test_rows_in_any_order_give_the_same_result(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rows = table_rows(TABLE_2)
    first = run_json(capsys, write_long(tmp_path / "a.csv", rows))
    second = run_json(capsys, write_long(tmp_path / "b.csv", rows[::-1]))
    for key in ("icc1_1", "icc2_1", "icc3_1"):
        assert second[key]["estimate"] == pytest.approx(first[key]["estimate"], rel=1e-12)
        assert second[key]["low"] == pytest.approx(first[key]["low"], rel=1e-12)


@pytest.mark.req("DXV-PREC-002")
def test_two_raters_add_bland_altman_and_threshold_adds_decisions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    two = [row[:2] for row in TABLE_2]
    data = run_json(
        capsys,
        write_long(tmp_path / "r.csv", table_rows(two)),
        "--threshold",
        "5",
        "--confidence-level",
        "0.9",
    )
    bias = data["bland_altman"]["mean_difference"]
    assert data["bland_altman"]["difference"] == "J2 - J1"
    assert bias["estimate"] == pytest.approx(sum(b - a for a, b in two) / 6)
    assert bias["confidence_level"] == 0.9
    decisions = data["decision_agreement"]
    assert decisions["all_agree_fraction"]["numerator"] == 1  # only T5 (10, 5) agrees
    assert decisions["fleiss_kappa"]["n"] == 6


@pytest.mark.req("DXV-PREC-002")
def test_table_without_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["agreement", str(write_long(tmp_path / "r.csv", table_rows(TABLE_2))), *OPTIONS])
    out = capsys.readouterr().out
    assert code == 0
    assert "6 subjects x 4 raters" in out
    assert "icc2_1  " in out
    assert "0.2898    [0.0188, 0.7611]" in out


@pytest.mark.req("DXV-PREC-003")
@pytest.mark.parametrize(
    ("rows", "match"),
    [
        (
            [r for r in table_rows(TABLE_2) if r[:2] != ("T3", "J2")],
            r"subject first seen on line 10 \(column 'target'\) has no score from rater 'J2' "
            r"\(column 'judge'\)",
        ),
        (
            [*table_rows(TABLE_2), ("T2", "J4", "3")],
            r":26: the subject first seen on line 6 \(column 'target'\) already has a score "
            r"from rater 'J4' \(column 'judge'\) on line 9",
        ),
        ([(f"T{i}", "J1", "1") for i in range(4)], r"got 4 subjects.* and 1 rater \("),
        ([("T1", "J1", "1"), ("T1", "J2", "2")], r"got 1 subject .* expected at least 2"),
        ([("T1", "J1", "1"), ("T1", "J2", "nan")], r":3 column 'rating': got 'nan'"),
        ([("T1", "", "1")], r":2 column 'judge': empty"),
    ],
)
def test_bad_designs_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, rows: list, match: str
) -> None:
    message = run_error(capsys, write_long(tmp_path / "r.csv", rows))
    assert re.search(match, message), message
    # subjects are named by line, not value
    assert "T3" not in message
    assert "T2" not in message


@pytest.mark.req("DXV-PREC-003")
def test_missing_column_and_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("target,reader,rating\nT1,J1,1\n", encoding="utf-8")
    assert "--rater: no column 'judge'" in run_error(capsys, path)
    assert "no such file" in run_error(capsys, tmp_path / "absent.csv")
