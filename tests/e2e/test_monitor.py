"""``dxval monitor`` end to end on a small model-protocol baseline bundle.

The baseline is a real ``validate`` bundle of the tiny ONNX model protocol of
:mod:`tests.e2e.test_validate_model` (8 DICOM cases, PatientSex as attribute).
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from tests.e2e.test_validate_model import _bundle, _make_protocol, _validate

from dxval.cli import main
from dxval.data.hashing import sha256_file
from dxval.evidence import verify_bundle
from dxval.report.template_set import SHIPPED as TEMPLATES


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("baseline")
    protocol = _make_protocol(folder)
    assert _validate(protocol, folder / "evidence") in (0, 1)
    return _bundle(folder / "evidence")


def _cases(bundle: Path) -> list[dict[str, str]]:
    with (bundle / "cases.csv").open(newline="") as handle:
        return [row for row in csv.DictReader(handle) if row["status"] == "scored"]


def _model(bundle: Path) -> str:
    return str(json.loads((bundle / "lock.json").read_text())["model"]["sha256"])


def _production(path: Path, bundle: Path, *, sex: str | None = None, extra: str = "") -> Path:
    """30 rows per week for two weeks, scores and sex levels taken from the baseline's cases."""
    cases, model = _cases(bundle), _model(bundle)
    lines = ["timestamp,score,model_sha256,sex,truth"]
    for index in range(60):
        case = cases[index % len(cases)]
        day = 4 + index // 30 * 7 + index % 5
        level = sex if sex is not None and index >= 30 else case["attribute.sex"]
        lines.append(
            f"2027-01-{day:02d}T08:{index % 60:02d}:00Z,{case['score']},{model},{level},"
            f"{case['truth']}"
        )
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def _only_bundle(out: Path) -> Path:
    (protocol_folder,) = [path for path in out.iterdir() if path.is_dir()]
    (bundle,) = protocol_folder.iterdir()
    return bundle


@pytest.mark.req("DXV-MON-005")
@pytest.mark.req("DXV-MON-006")
def test_stable_production_exits_0_with_a_verifiable_bundle(
    baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    production = _production(tmp_path / "prod.csv", baseline)
    out = tmp_path / "out"
    code = main(["monitor", str(baseline), str(production), "--out", str(out), "--no-report"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "0 alerts; exit code 0" in captured.out
    bundle = _only_bundle(out)
    assert bundle.parent.name == "MODEL-E2E-monitoring"
    report = verify_bundle(bundle)
    assert report.intact, report.problems
    assert any("ledger" in anchor for anchor in report.anchors)  # anchored like a validation
    assert main(["verify", str(bundle)]) == 0
    copy = tmp_path / "copy" / "bundle"
    shutil.copytree(bundle, copy)
    (copy / "monitoring.json").unlink()
    problems = [str(problem) for problem in verify_bundle(copy).problems]
    assert "missing: monitoring.json (required in every bundle)" in problems
    recorded = json.loads((bundle / "baseline.json").read_text())
    assert recorded["manifest_sha256"] == sha256_file(baseline / "MANIFEST.sha256")
    run = json.loads((bundle / "run.json").read_text())
    assert run["baseline"]["manifest_sha256"] == recorded["manifest_sha256"]
    document = json.loads((bundle / "monitoring.json").read_text())
    assert [w["label"] for w in document["windows"]] == ["2027-W01", "2027-W02"]
    assert all(not w["drift_rules_applied"] for w in document["windows"])  # n 30 < 100


@pytest.mark.req("DXV-MON-004")
@pytest.mark.req("DXV-MON-005")
@pytest.mark.req("DXV-MON-006")
def test_new_level_alerts_exit_1_and_json_has_the_issue_shape(
    baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    production = _production(tmp_path / "prod.csv", baseline, sex="X")
    config = tmp_path / "monitor.yaml"
    config.write_text("monitor: 1\nmin_window_n: 10\n")
    out = tmp_path / "out"
    # a company's own monitoring template over the shipped set (report.css, fonts fall back)
    custom = tmp_path / "company-templates"
    custom.mkdir()
    shipped = (TEMPLATES / "monitoring.html").read_text()
    (custom / "monitoring.html").write_text(shipped.replace("<body>", "<body>ACME-MON-7731", 1))
    arguments = ["monitor", str(baseline), str(production), "--out", str(out), "--json"]
    code = main([*arguments, "--config", str(config), "--templates", str(custom)])
    captured = capsys.readouterr()
    assert code == 1, captured.err
    document = json.loads(captured.out)
    assert {"baseline", "windows", "alerts"} <= set(document)
    window = document["windows"][1]
    assert {"start", "end", "n", "score_drift", "positive_rate", "attributes", "performance",
            "alerts"} <= set(window)  # fmt: skip
    assert set(window["score_drift"]) >= {"psi", "ks", "wasserstein"}
    assert set(window["score_drift"]["ks"]) == {"statistic", "p_value"}
    assert window["attributes"]["sex"]["new_levels"] == ["X"]
    # every row of week 2 has the new level: it is also a shift of the distribution
    alerts = {(a["window"], a["kind"], a["subject"]) for a in document["alerts"]}
    assert alerts == {("2027-W02", "new_level", "sex"), ("2027-W02", "input_drift", "sex")}
    assert window["performance"]["adjudicated"] == 30
    assert set(window["performance"]["metrics"]) == {"sensitivity", "specificity", "auc"}
    assert window["performance"]["criteria"][0]["id"] == "PERF-001"
    bundle = _only_bundle(out)
    assert (bundle / "monitor.yaml").read_bytes() == config.read_bytes()
    # the report: PDF and HTML with a time series per metric and the alert
    html = (bundle / "report.html").read_text()
    assert (bundle / "report.pdf").read_bytes().startswith(b"%PDF-")
    assert "Time series" in html
    assert "never seen in validation" in html
    assert (bundle / "figures" / "monitoring-psi.svg").is_file()
    assert "ACME-MON-7731" in html
    run = json.loads((bundle / "run.json").read_text())
    templates = run["templates"]
    assert templates["custom"] == ["monitoring.html"]  # report.css and fonts: shipped ones
    assert {"monitoring.html", "report.css", "fonts/DejaVuSans.ttf"} <= set(templates["files"])
    custom_digest = sha256_file(custom / "monitoring.html")
    assert f"{custom_digest}  monitoring.html" in templates["listing"]
    assert verify_bundle(bundle).intact


@pytest.mark.req("DXV-ARCH-004")
def test_a_failing_monitoring_template_is_exit_2_naming_file_and_line(
    baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    production = _production(tmp_path / "prod.csv", baseline)
    custom = tmp_path / "company-templates"
    custom.mkdir()
    out = tmp_path / "out"
    arguments = ["monitor", str(baseline), str(production), "--out", str(out)]
    (custom / "monitoring.html").write_text("<html>\n{% if %}\n</html>\n")
    assert main([*arguments, "--templates", str(custom)]) == 2
    error = capsys.readouterr().err
    assert f"{custom / 'monitoring.html'}:2: template syntax error" in error
    assert not out.exists() or not any(out.iterdir())
    (custom / "monitoring.html").write_text("<html>\n{{ view.no_such_field }}\n</html>\n")
    assert main([*arguments, "--templates", str(custom)]) == 2
    error = capsys.readouterr().err
    assert f"{custom / 'monitoring.html'}:2: template undefined variable" in error
    assert "Traceback" not in error
    assert not list(out.glob("*/*"))  # no monitoring bundle published
    assert main([*arguments, "--templates", str(tmp_path / "missing")]) == 2


@pytest.mark.req("DXV-MON-003")
def test_bad_rows_are_counted_in_the_output_and_listed_in_the_bundle(
    baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _model(baseline)
    extra = (
        f"yesterday,0.5,{model},F,\n"
        f"2027-01-05T08:00:00Z,7,{model},F,\n"
        f"2027-01-05T08:00:00Z,0.5,{'0' * 64},F,\n"
    )
    production = _production(tmp_path / "prod.csv", baseline, extra=extra)
    out = tmp_path / "out"
    code = main(["monitor", str(baseline), str(production), "--out", str(out), "--no-report"])
    captured = capsys.readouterr()
    assert code == 1  # 3 of 63 rows excluded: above the default 1% data-quality limit
    assert "60 used, 3 excluded" in captured.out
    assert "ALERT run data_quality" in captured.out
    bundle = _only_bundle(out)
    production_record = json.loads((bundle / "production.json").read_text())
    assert production_record["excluded"] == {
        "model_sha256_mismatch": 1,
        "timestamp_unparsable": 1,
        "score_missing": 0,
        "score_not_a_number": 0,
        "score_out_of_range": 1,
    }
    listed = (bundle / "excluded.csv").read_text().splitlines()
    assert listed[1:] == [
        "62,timestamp_unparsable,timestamp empty or not ISO 8601",
        "63,score_out_of_range,score outside score_range",
        "64,model_sha256_mismatch,model_sha256 differs from the baseline model's SHA-256",
    ]


@pytest.mark.req("DXV-MON-002")
def test_a_baseline_that_does_not_verify_is_exit_3_and_writes_nothing(
    baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tampered = tmp_path / "tampered"
    shutil.copytree(baseline, tampered)
    cases = tampered / "cases.csv"
    cases.write_text(cases.read_text().replace("scored", "scored ", 1))
    production = _production(tmp_path / "prod.csv", baseline)
    out = tmp_path / "out"
    code = main(["monitor", str(tampered), str(production), "--out", str(out)])
    error = capsys.readouterr().err
    assert code == 3
    assert error.startswith("dxval: error: ")
    assert "baseline bundle does not verify" in error
    assert "changed: cases.csv" in error
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.req("DXV-MON-002")
@pytest.mark.req("DXV-MON-005")
def test_another_model_or_a_bad_config_is_exit_2_and_writes_nothing(
    baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    production = _production(tmp_path / "prod.csv", baseline)
    other = tmp_path / "other.csv"
    other.write_text(production.read_text().replace(_model(baseline), "f" * 64))
    out = tmp_path / "out"
    assert main(["monitor", str(baseline), str(other), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    errors = [line for line in error.splitlines() if line.startswith("dxval: error: ")]
    assert len(errors) == 1
    assert "no row names the baseline model" in errors[0]
    assert "Traceback" not in error
    config = tmp_path / "monitor.yaml"
    config.write_text("score_drift: {psi_max: -0.5}\n")
    arguments = ["monitor", str(baseline), str(production), "--out", str(out)]
    assert main([*arguments, "--config", str(config)]) == 2
    assert "score_drift.psi_max" in capsys.readouterr().err
    assert main([*arguments, "--window", "year"]) == 2
    assert not out.exists() or not any(out.iterdir())


def test_command_window_choices_equal_the_enum() -> None:
    """The --window choices spelled in the command (import-free for start-up) match Window."""
    from dxval.commands import monitor
    from dxval.monitor import Window

    assert tuple(window.value for window in Window) == monitor.WINDOW_CHOICES
