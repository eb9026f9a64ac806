"""``dxval detection``: CSVs in, lesion-level statistics out; bad inputs exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dxval.cli import main

# The hand-built example of tests/stats/test_detection.py as CSV files; case E has no
# marks at all and must count as missed.
TRUTH = """case_id,lesion_id,x0,y0,x1,y1,width,height
A,L1,0,0,10,10,64,64
A,L2,20,20,30,30,64,64
B,L3,0,0,10,10,64,64
C,,,,,,64,64
D,,,,,,64,64
E,L4,0,0,10,10,64,64
"""
MARKS = """case_id,mark_id,x0,y0,x1,y1,score
A,m1,0,0,10,10,0.9
A,m2,1,1,11,11,0.8
A,m3,50,50,60,60,0.3
B,m4,0,0,10,9,0.5
C,m5,0,0,5,5,0.7
C,m6,5,5,9,9,0.2
"""


def _files(tmp_path: Path, truth: str = TRUTH, marks: str = MARKS) -> list[str]:
    (tmp_path / "truth.csv").write_text(truth)
    (tmp_path / "marks.csv").write_text(marks)
    return [str(tmp_path / "truth.csv"), str(tmp_path / "marks.csv")]


@pytest.mark.req("DXV-TASK-005")
def test_hand_built_example_through_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["detection", *_files(tmp_path), "--iou", "0.5", "--threshold", "0.5", "--json",
         "--bootstrap-replicates", "200"]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data: dict[str, Any] = json.loads(captured.out)
    assert data["counts"] == {"cases": 5, "abnormal_cases": 3, "normal_cases": 2, "lesions": 4}
    statistics = data["statistics"]
    assert statistics["lesion_sensitivity"]["estimate"] == 0.5
    assert statistics["fp_per_image"]["estimate"] == pytest.approx(0.4)
    assert statistics["wafroc_fom"]["estimate"] == pytest.approx(11 / 24)
    for value in statistics.values():
        assert {"estimate", "low", "high", "method", "confidence_level", "n"} <= set(value)
    assert data["froc"]["sensitivity"] == pytest.approx([0, 0.25, 0.25, 0.25, 0.5, 0.5, 0.5])
    missed = next(case for case in data["cases"] if case["case_id"] == "E")
    assert missed == {
        "case_id": "E", "lesions": 1, "lesions_found": 0, "false_positives": 0,
        "case_score": None,
    }  # fmt: skip
    assert data["localisation"]["criterion"] == "iou"


@pytest.mark.req("DXV-TASK-006")
@pytest.mark.parametrize(
    ("truth", "marks", "message"),
    [
        (TRUTH, MARKS + "A,m7,60,60,70,70,0.4\n", "marks.csv:8: mark outside the image"),
        (TRUTH, MARKS + "Z,m8,1,1,2,2,0.4\n", "marks.csv:8: case 'Z' is not in the truth"),
        (TRUTH, MARKS + "A,m9,1,1,2,2,\n", "marks.csv:8: empty score"),
        (TRUTH, MARKS + "A,m9,5,1,2,2,0.1\n", "marks.csv:8: box (5.0, 1.0, 2.0, 2.0)"),
        (TRUTH + "A,L1,0,0,4,4,64,64\n", MARKS, "truth.csv:8: lesion 'L1' repeated"),
        ("case_id,x0,y0,x1,y1\n", MARKS, "missing column lesion_id"),
    ],
)
def test_bad_inputs_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], truth: str, marks: str, message: str
) -> None:
    assert main(["detection", *_files(tmp_path, truth, marks), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().startswith("dxval: error:")
    assert message in captured.err
    assert "Traceback" not in captured.err


@pytest.mark.req("DXV-TASK-006")
def test_distance_criterion_needs_spacing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["detection", *_files(tmp_path), "--distance", "5"]) == 2
    assert "needs the pixel spacing" in capsys.readouterr().err
    spaced = TRUTH.replace("width,height", "width,height,spacing_x,spacing_y").replace(
        ",64,64\n", ",64,64,0.5,0.5\n"
    )
    assert main(["detection", *_files(tmp_path, spaced), "--distance", "5", "--json",
                 "--bootstrap-replicates", "50"]) == 0  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    assert data["localisation"] == {
        "criterion": "distance",
        "threshold": 5.0,
        "matching": "greedy by decreasing score; one mark matches at most one lesion",
    }
