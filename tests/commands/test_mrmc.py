"""``dxval mrmc``: published values through the command line, the JSON keys, bad reads."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import pytest
from tests.reference import mrmc_published as published

from dxval.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
VAN_DYKE = DATA / "VanDyke.csv"
IMRMC = DATA / "dfMRMC_example.csv"
VAN_DYKE_COLUMNS = ["--modality", "treatment", "--score", "rating"]
IMRMC_COLUMNS = ["--reader", "readerID", "--case", "caseID", "--modality", "modalityID"]
KEYS = {
    "method",
    "covariance",
    "n_readers",
    "n_cases",
    "n_positive",
    "modalities",
    "auc",
    "readers",
    "f",
    "df1",
    "df2",
    "p_value",
    "difference",
    "variance_components",
}


def run_json(capsys: pytest.CaptureFixture[str], *arguments: str) -> dict[str, Any]:
    code = main(["mrmc", *arguments, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data: dict[str, Any] = json.loads(captured.out)
    return data


def run_error(capsys: pytest.CaptureFixture[str], arguments: list[str]) -> str:
    code = main(["mrmc", *arguments])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("dxval: error:")
    return lines[0]


@pytest.mark.req("DXV-MRMC-007")
@pytest.mark.req("DXV-MRMC-001")
def test_van_dyke_json(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, str(VAN_DYKE), *VAN_DYKE_COLUMNS)
    assert set(data) >= KEYS
    assert data["method"] == "or"
    assert data["covariance"] == "jackknife"
    assert (data["n_readers"], data["n_cases"], data["n_positive"]) == (5, 114, 45)
    assert data["modalities"] == ["1", "2"]
    assert math.isclose(data["p_value"], published.JACKKNIFE_RRRC_P_RJAFROC, rel_tol=1e-8)
    assert data["df1"] == 1
    difference = data["difference"]
    assert (difference["first"], difference["second"]) == ("1", "2")
    assert {"estimate", "variance", "low", "high"} <= set(difference)
    assert math.isclose(difference["estimate"], -0.04380032, rel_tol=1e-6)
    assert set(data["auc"]) == {"1", "2"}
    assert {"estimate", "low", "high"} <= set(data["auc"]["1"])
    assert len(data["readers"]) == 10
    assert {"reader", "modality", "estimate"} <= set(data["readers"][0])
    assert {"reader", "modality_reader", "error", "cov1", "cov2", "cov3"} <= set(
        data["variance_components"]
    )


@pytest.mark.req("DXV-MRMC-001")
def test_delong_covariance_and_reference_option(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(
        capsys, str(VAN_DYKE), *VAN_DYKE_COLUMNS, "--covariance", "delong", "--reference", "1"
    )
    reference = published.DELONG_RRRC
    assert data["covariance"] == "delong"
    assert (data["difference"]["first"], data["difference"]["second"]) == ("2", "1")
    assert math.isclose(data["f"], reference["f"], rel_tol=1e-6)
    assert math.isclose(data["df2"], reference["df2"], rel_tol=1e-6)
    assert math.isclose(data["p_value"], reference["p_value"], rel_tol=1e-6)
    assert math.isclose(data["difference"]["low"], -reference["high"], rel_tol=1e-6)
    assert math.isclose(data["difference"]["high"], -reference["low"], rel_tol=1e-6)


@pytest.mark.req("DXV-MRMC-004")
def test_threshold_adds_sensitivity_and_specificity(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, str(VAN_DYKE), *VAN_DYKE_COLUMNS, "--threshold", "3")
    sensitivity = data["sensitivity"]
    assert math.isclose(sensitivity["p_value"], published.SENSITIVITY_RRRC["p_value"], rel_tol=1e-6)
    assert math.isclose(
        sensitivity["difference"]["low"], published.SENSITIVITY_RRRC["low"], rel_tol=1e-6
    )
    assert "specificity" in data


@pytest.mark.req("DXV-MRMC-003")
@pytest.mark.req("DXV-MRMC-007")
def test_imrmc_layout_and_u_statistic(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, str(IMRMC), *IMRMC_COLUMNS, "--method", "u-statistic")
    assert set(data) >= KEYS
    assert data["method"] == "u-statistic"
    assert (data["n_readers"], data["n_cases"], data["n_positive"]) == (5, 80, 40)
    assert data["modalities"] == ["testA", "testB"]
    assert data["f"] is None
    assert 0.0 < data["p_value"] < 1.0
    assert data["difference"]["variance"] > 0.0


@pytest.mark.req("DXV-MRMC-007")
def test_table_without_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mrmc", str(VAN_DYKE), *VAN_DYKE_COLUMNS]) == 0
    output = capsys.readouterr().out
    assert "Reader study: 5 readers x 2 modalities x 114 cases (45 positive)" in output
    assert "Difference 1 - 2: -0.0438" in output
    assert "F(1, 15.26) = 4.4563" in output


def write_reads(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def small_study(readers: int = 2) -> list[dict[str, str]]:
    rows = []
    for reader in range(1, readers + 1):
        for modality in ("unaided", "aided"):
            for case, truth in (("c1", "1"), ("c2", "1"), ("c3", "0"), ("c4", "0"), ("c5", "1")):
                score = str((reader + int(case[1]) + len(modality)) % 5)
                rows.append(
                    {
                        "reader": f"R{reader}",
                        "case": case,
                        "modality": modality,
                        "truth": truth,
                        "score": score,
                    }
                )
    return rows


@pytest.mark.req("DXV-MRMC-008")
def test_reader_missing_a_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        row
        for row in small_study()
        if not (row["reader"] == "R2" and row["case"] == "c3" and row["modality"] == "aided")
    ]
    message = run_error(capsys, [str(write_reads(tmp_path / "reads.csv", rows))])
    assert "reader 'R2' did not read case 'c3' in modality 'aided'" in message


@pytest.mark.req("DXV-MRMC-008")
def test_case_read_in_one_modality_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        row for row in small_study() if not (row["case"] == "c4" and row["modality"] == "aided")
    ]
    message = run_error(capsys, [str(write_reads(tmp_path / "reads.csv", rows))])
    assert "case 'c4' is read in modality 'unaided' only, not in 'aided'" in message


@pytest.mark.req("DXV-MRMC-008")
def test_truth_differs_between_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = small_study()
    rows[7]["truth"] = "1"  # reader R1, aided, case c3
    message = run_error(capsys, [str(write_reads(tmp_path / "reads.csv", rows))])
    assert "line 9: case 'c3' has truth '1' but '0' at line 4" in message


@pytest.mark.req("DXV-MRMC-008")
def test_repeated_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [*small_study(), dict(small_study()[0])]
    message = run_error(capsys, [str(write_reads(tmp_path / "reads.csv", rows))])
    assert "reader 'R1' read case 'c1' in modality 'unaided' again (first at line 2)" in message


@pytest.mark.req("DXV-MRMC-006")
def test_one_reader_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    message = run_error(capsys, [str(write_reads(tmp_path / "reads.csv", small_study(readers=1)))])
    assert "only reader 'R1'; a random-reader analysis" in message
    assert "needs at least 2 readers" in message


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--score", "rating"], "no column 'modality'"),
        ([*VAN_DYKE_COLUMNS, "--reference", "3"], "--reference: got '3', expected one of '1', '2'"),
        ([*VAN_DYKE_COLUMNS, "--positive", "yes"], "no row has the positive value 'yes'"),
        ([*VAN_DYKE_COLUMNS, "--confidence-level", "2"], "expected a number in (0, 1)"),
        ([*VAN_DYKE_COLUMNS, "--method", "dbm"], "invalid choice: 'dbm'"),
    ],
)
@pytest.mark.req("DXV-MRMC-008")
def test_usage_errors(
    capsys: pytest.CaptureFixture[str], arguments: list[str], expected: str
) -> None:
    code = main(["mrmc", str(VAN_DYKE), *arguments])
    captured = capsys.readouterr()
    assert code == 2
    assert expected in captured.err
    assert "Traceback" not in captured.err


@pytest.mark.req("DXV-MRMC-008")
def test_non_numeric_score(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = small_study()
    rows[2]["score"] = "high"
    message = run_error(capsys, [str(write_reads(tmp_path / "reads.csv", rows))])
    assert "line 4 column 'score': got 'high', expected a finite number" in message


@pytest.mark.req("DXV-MRMC-007")
def test_readme_example_is_the_real_output(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    command = "$ dxval mrmc tests/data/VanDyke.csv --modality treatment --score rating\n"
    shown = readme.split(command, 1)[1].split("```", 1)[0]
    assert main(["mrmc", str(VAN_DYKE), *VAN_DYKE_COLUMNS]) == 0
    assert capsys.readouterr().out == shown


def test_named_command_imports_only_its_module() -> None:
    from dxval.cli import build_parser

    parser = build_parser("mrmc")
    choices = next(action.choices for action in parser._actions if isinstance(action.choices, dict))
    assert set(choices) == {"mrmc"}


@pytest.mark.req("DXV-MRMC-009")
def test_plan_options_size_a_study(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(
        capsys,
        str(VAN_DYKE),
        *VAN_DYKE_COLUMNS,
        "--plan-readers",
        "10",
        "--plan-effect",
        "-0.043800322",
        "--plan-cases",
        "165",
    )
    plan = data["sample_size"]
    assert math.isclose(plan["power_at_cases"], published.POWER["rrrc"][2], rel_tol=1e-6)
    assert plan["power_at_cases_needed"] >= 0.8
    assert plan["cases_needed"] <= 165
    message = run_error(capsys, [str(VAN_DYKE), *VAN_DYKE_COLUMNS, "--plan-readers", "10"])
    assert "--plan-readers and --plan-effect: expected both or neither" in message


@pytest.mark.req("DXV-MRMC-008")
def test_input_limits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = small_study()
    rows[3]["case"] = "c" * 5000
    message = run_error(capsys, [str(write_reads(tmp_path / "long.csv", rows))])
    assert "line 5 column 'case': got a field longer than 4096 characters" in message
    assert run_error(capsys, [str(tmp_path)]).endswith("reader study reads file as a regular file")
    from dxval.analysis import reader_study

    monkeypatch.setattr(reader_study, "MAX_KERNEL_VALUES", 10)
    arguments = [str(write_reads(tmp_path / "reads.csv", small_study())), "--method", "u-statistic"]
    message = run_error(capsys, arguments)
    assert "needs 24 kernel values, expected at most 10 (documented input limit)" in message
