"""``dxval metrics``: reference values through the command line, the table, input errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.reference import asah_proc, asah_sklearn, binomial

from dxval.cli import main

ASAH = Path(__file__).resolve().parents[1] / "data" / "aSAH.csv"
RELATIVE = 1e-9


def run_json(capsys: pytest.CaptureFixture[str], *arguments: str) -> dict[str, Any]:
    code = main(
        ["metrics", str(ASAH), "--truth", "outcome", "--positive", "Poor", *arguments, "--json"]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data: dict[str, Any] = json.loads(captured.out)  # stdout holds exactly one JSON object
    return data


def run_error(capsys: pytest.CaptureFixture[str], arguments: list[str]) -> str:
    code = main(["metrics", *arguments])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    assert lines[-1].startswith("dxval: error:")
    return lines[-1]


@pytest.mark.parametrize(("predictor", "level"), sorted(asah_proc.DELONG_CI))
@pytest.mark.req("DXV-METRICS-001")
def test_auc_and_delong_ci_match_proc(
    capsys: pytest.CaptureFixture[str], predictor: str, level: float
) -> None:
    data = run_json(capsys, "--score", predictor, "--confidence-level", str(level))
    auc = data["auc"]
    assert auc["estimate"] == pytest.approx(asah_proc.AUC[predictor], rel=RELATIVE)
    assert auc["variance"] == pytest.approx(asah_proc.DELONG_VARIANCE[predictor], rel=RELATIVE)
    low, high = asah_proc.DELONG_CI[(predictor, level)]
    assert auc["low"] == pytest.approx(low, rel=RELATIVE)
    assert auc["high"] == pytest.approx(high, rel=RELATIVE)
    assert auc["confidence_level"] == level
    assert auc["status"] == "ok"
    assert "DeLong" in auc["method"]
    assert (data["n"], data["n_positive"], data["n_negative"]) == (
        asah_proc.N_POSITIVE + asah_proc.N_NEGATIVE,
        asah_proc.N_POSITIVE,
        asah_proc.N_NEGATIVE,
    )


@pytest.mark.parametrize("pair", sorted(asah_proc.PAIRED_DELONG))
def test_paired_comparison_matches_proc(
    capsys: pytest.CaptureFixture[str], pair: tuple[str, str]
) -> None:
    data = run_json(capsys, "--score", pair[0], "--score2", pair[1])
    comparison = data["comparison"]
    expected = asah_proc.PAIRED_DELONG[pair]
    assert comparison["z"] == pytest.approx(expected["z"], rel=RELATIVE)
    assert comparison["p_value"] == pytest.approx(expected["p_value"], rel=RELATIVE)
    assert comparison["difference"]["low"] == pytest.approx(expected["ci"][0], rel=RELATIVE)
    assert comparison["difference"]["high"] == pytest.approx(expected["ci"][1], rel=RELATIVE)
    assert comparison["auc1"]["estimate"] == pytest.approx(asah_proc.AUC[pair[0]], rel=RELATIVE)
    assert comparison["auc2"]["estimate"] == pytest.approx(asah_proc.AUC[pair[1]], rel=RELATIVE)
    assert "DeLong" in comparison["method"]


@pytest.mark.parametrize("row", asah_proc.COUNTS, ids=lambda row: f"{row[0]}@{row[1]}")
def test_counts_at_thresholds_match_proc(
    capsys: pytest.CaptureFixture[str], row: tuple[str, float, int, int, int, int]
) -> None:
    predictor, threshold, tp, fp, tn, fn = row
    data = run_json(capsys, "--score", predictor, "--threshold", str(threshold))
    assert data["counts"] == {"tp": tp, "fp": fp, "tn": tn, "fn": fn}
    assert data["sensitivity"]["numerator"] == tp
    assert data["sensitivity"]["denominator"] == tp + fn
    assert data["specificity"]["numerator"] == tn
    assert data["specificity"]["denominator"] == tn + fp
    assert data["ppv"]["denominator"] == tp + fp
    assert data["npv"]["denominator"] == tn + fn


def test_proportion_intervals_match_binomial_reference(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "--score", "s100b", "--threshold", "0.205")
    wilson = binomial.WILSON_AND_CLOPPER_PEARSON[(26, 41)][0]
    assert (data["sensitivity"]["low"], data["sensitivity"]["high"]) == pytest.approx(
        wilson, rel=RELATIVE
    )
    wilson = binomial.WILSON_AND_CLOPPER_PEARSON[(58, 72)][0]
    assert (data["specificity"]["low"], data["specificity"]["high"]) == pytest.approx(
        wilson, rel=RELATIVE
    )
    exact = run_json(
        capsys, "--score", "s100b", "--threshold", "0.205", "--proportion-ci", "clopper_pearson"
    )
    expected = binomial.WILSON_AND_CLOPPER_PEARSON[(26, 41)][1]
    assert (exact["sensitivity"]["low"], exact["sensitivity"]["high"]) == pytest.approx(
        expected, rel=RELATIVE
    )
    assert exact["sensitivity"]["method"] == "Clopper-Pearson exact"


@pytest.mark.parametrize("predictor", sorted(asah_sklearn.AVERAGE_PRECISION))
def test_average_precision_matches_scikit_learn(
    capsys: pytest.CaptureFixture[str], predictor: str
) -> None:
    data = run_json(capsys, "--score", predictor, "--bootstrap-replicates", "200", "--seed", "3")
    precision = data["average_precision"]
    assert precision["estimate"] == pytest.approx(
        asah_sklearn.AVERAGE_PRECISION[predictor], rel=RELATIVE
    )
    assert precision["method"].startswith("average precision (step-wise)")
    assert "200 replicates, seed 3" in precision["method"]
    assert precision["low"] <= precision["estimate"] <= precision["high"]


@pytest.mark.req("DXV-METRICS-001")
def test_required_keys_and_no_nan(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "--score", "s100b")
    for name in ("auc", "sensitivity", "specificity", "ppv", "npv", "average_precision"):
        assert {"estimate", "low", "high", "method", "confidence_level", "status"} <= set(
            data[name]
        )
    assert "counts" not in data  # no threshold given
    assert data["sensitivity"]["status"] == "undefined"
    assert data["sensitivity"]["estimate"] is None
    assert "--threshold" in data["sensitivity"]["reason"]
    assert {"numerator", "denominator"} <= set(data["ppv"])
    assert "variance" in data["auc"]


def test_bootstrap_auc_option(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(
        capsys,
        "--score",
        "wfns",
        "--auc-ci",
        "bootstrap",
        "--bootstrap-replicates",
        "300",
        "--bootstrap-interval",
        "bca",
    )
    assert data["auc"]["estimate"] == pytest.approx(asah_proc.AUC["wfns"], rel=RELATIVE)
    assert "bootstrap BCa, 300 replicates" in data["auc"]["method"]
    again = run_json(
        capsys,
        "--score",
        "wfns",
        "--auc-ci",
        "bootstrap",
        "--bootstrap-replicates",
        "300",
        "--bootstrap-interval",
        "bca",
    )
    assert again["auc"] == data["auc"]  # the default seed makes the run reproducible


@pytest.mark.req("DXV-METRICS-001")
def test_readable_table(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "metrics",
            str(ASAH),
            "--truth",
            "outcome",
            "--positive",
            "Poor",
            "--score",
            "s100b",
            "--score2",
            "wfns",
            "--threshold",
            "0.205",
            "--bootstrap-replicates",
            "100",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "TP 26  FP 14  TN 58  FN 15" in out
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("metric"))
    sensitivity = next(line for line in lines if line.startswith("sensitivity"))
    assert header.index("95% CI") == sensitivity.index("[0.4812")  # aligned columns
    assert "26/41" in sensitivity
    assert "z = -2.2090" in out


@pytest.fixture
def write_csv(tmp_path: Path) -> Any:
    def write(text: str) -> str:
        path = tmp_path / "cases.csv"
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def basic(path: str, *extra: str) -> list[str]:
    return [path, "--truth", "label", "--positive", "1", "--score", "score", *extra]


@pytest.mark.req("DXV-METRICS-002")
def test_missing_column(capsys: pytest.CaptureFixture[str], write_csv: Any) -> None:
    path = write_csv("label,value\n1,0.2\n0,0.1\n")
    message = run_error(capsys, basic(path))
    assert "no column 'score'" in message
    assert "'label', 'value'" in message


@pytest.mark.req("DXV-METRICS-002")
def test_non_numeric_score_names_line_and_column(
    capsys: pytest.CaptureFixture[str], write_csv: Any
) -> None:
    path = write_csv("label,score\n1,0.2\n0,abc\n")
    message = run_error(capsys, basic(path))
    assert "line 3 column 'score': got 'abc', expected a finite number" in message


@pytest.mark.req("DXV-METRICS-002")
def test_nan_and_empty_scores_are_rejected(
    capsys: pytest.CaptureFixture[str], write_csv: Any
) -> None:
    message = run_error(capsys, basic(write_csv("label,score\n1,0.2\n0,NaN\n")))
    assert "line 3 column 'score': got 'NaN'" in message
    message = run_error(capsys, basic(write_csv("label,score\n1,\n0,0.3\n")))
    assert "line 2 column 'score': got ''" in message
    message = run_error(capsys, basic(write_csv("label,score\n1,inf\n0,0.3\n")))
    assert "got 'inf', expected a finite number" in message


def test_third_truth_value(capsys: pytest.CaptureFixture[str], write_csv: Any) -> None:
    path = write_csv("label,score\n1,0.2\n0,0.1\n2,0.3\n")
    message = run_error(capsys, basic(path))
    assert "line 4 column 'label': got a third truth value '2', expected '1' or '0'" in message


def test_single_class(capsys: pytest.CaptureFixture[str], write_csv: Any) -> None:
    message = run_error(capsys, basic(write_csv("label,score\n1,0.2\n1,0.1\n")))
    assert "column 'label': every case is '1'; need both classes" in message
    message = run_error(capsys, basic(write_csv("label,score\n0,0.2\n0,0.1\n")))
    assert "no case has the positive value '1'" in message


def test_empty_truth_value(capsys: pytest.CaptureFixture[str], write_csv: Any) -> None:
    message = run_error(capsys, basic(write_csv("label,score\n1,0.2\n,0.1\n0,0.3\n")))
    assert "line 3 column 'label': empty truth value" in message


def test_unreadable_files(
    capsys: pytest.CaptureFixture[str], write_csv: Any, tmp_path: Path
) -> None:
    message = run_error(capsys, basic(str(tmp_path / "absent.csv")))
    assert "absent.csv: no such file" in message
    message = run_error(capsys, basic(write_csv("")))
    assert "not a readable CSV file" in message
    message = run_error(capsys, basic(write_csv("label,score\n")))
    assert "no data rows" in message


def test_usage_errors(capsys: pytest.CaptureFixture[str], write_csv: Any) -> None:
    path = write_csv("label,score\n1,0.2\n0,0.1\n")
    message = run_error(capsys, basic(path, "--confidence-level", "95"))
    assert "--confidence-level: got '95', expected a number in (0, 1)" in message
    message = run_error(capsys, basic(path, "--proportion-ci", "wald"))
    assert "invalid choice: 'wald'" in message
    message = run_error(capsys, basic(path, "--score2", "score"))
    assert "--score2: got the same column as --score" in message
    message = run_error(capsys, basic(path, "--bootstrap-replicates", "1"))
    assert "expected an integer from 2 to 100000" in message


def test_perfect_separation_is_reported_as_undefined_not_nan(
    capsys: pytest.CaptureFixture[str], write_csv: Any
) -> None:
    path = write_csv("label,score\n1,0.9\n1,0.8\n0,0.1\n0,0.2\n")
    code = main(["metrics", *basic(path, "--threshold", "0.5", "--json")])
    captured = capsys.readouterr()
    assert code == 0
    data = json.loads(captured.out)
    assert data["auc"]["estimate"] == 1.0
    assert data["auc"]["status"] == "undefined"
    assert data["auc"]["low"] is None
    assert "zero DeLong variance" in data["auc"]["reason"]
    assert data["sensitivity"]["status"] == "ok"
    assert data["counts"] == {"tp": 2, "fp": 0, "tn": 2, "fn": 0}
