"""``validate protocol.yaml`` end to end on the aSAH example, and every bad input.

Reference values: ../shared/reference/README.md (pROC 1.18.0 on aSAH,
s100b; Wilson intervals as statsmodels; average precision as scikit-learn).
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import pytest

from dxval.cli import main

RELATIVE = 1e-9
REPOSITORY = Path(__file__).parents[2]
EXPECTED_VERDICTS = {
    "PERF-001": "pass",
    "PERF-002": "pass",
    "PERF-003": "pass",
    "PERF-004": "fail",
    "PERF-005": "pass",
    "PERF-006": "fail",
    "GEN-001": "pass",
    "QC-001": "pass",
}


def _bundles(out: Path) -> list[Path]:
    return sorted(path for path in out.glob("*/*") if path.is_dir())


def _validate(
    example: Path, out: Path, capsys: pytest.CaptureFixture[str], *options: str
) -> tuple[int, str, str]:
    code = main(["validate", str(example), "--out", str(out), "--no-report", *options])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.req("DXV-EXIT-002", "DXV-VAL-001")
def test_example_end_to_end_matches_reference_values(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "evidence"
    code, stdout, stderr = _validate(example, out, capsys)
    assert code == 1  # PERF-004 and PERF-006 fail on purpose
    (bundle,) = _bundles(out)
    assert bundle.parent.name == "ASAH-EXAMPLE"
    assert f"evidence: {bundle}" in stdout
    assert "PERF-004  auc, lower 95% bound, all cases" in stdout
    assert "validate: 113 cases read from 2 test sets; scoring" in stderr
    metrics = json.loads((bundle / "metrics.json").read_text())
    overall = metrics["populations"][0]
    assert overall["key"] == "all"
    auc = overall["metrics"]["auc"]
    assert auc["estimate"] == pytest.approx(0.7313685637, rel=RELATIVE)
    assert (auc["low"], auc["high"]) == (
        pytest.approx(0.6301182118, rel=RELATIVE),
        pytest.approx(0.8326189156, rel=RELATIVE),
    )
    assert auc["variance"] == pytest.approx(0.002668682457, rel=RELATIVE)
    sensitivity = overall["metrics"]["sensitivity"]
    assert (sensitivity["numerator"], sensitivity["denominator"]) == (26, 41)
    assert sensitivity["low"] == pytest.approx(0.4812070109, rel=RELATIVE)
    assert sensitivity["high"] == pytest.approx(0.7641016898, rel=RELATIVE)
    specificity = overall["metrics"]["specificity"]
    assert (specificity["numerator"], specificity["denominator"]) == (58, 72)
    assert specificity["low"] == pytest.approx(0.6996724105, rel=RELATIVE)
    assert overall["metrics"]["average_precision"]["estimate"] == pytest.approx(
        0.6856209232, rel=RELATIVE
    )
    criteria = json.loads((bundle / "criteria.json").read_text())
    verdicts = {req["id"]: req["verdict"] for req in criteria["requirements"]}
    assert verdicts == EXPECTED_VERDICTS
    with (bundle / "cases.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 113
    assert {row["status"] for row in rows} == {"scored"}
    assert sum(row["decision"] == "positive" and row["truth"] == "1" for row in rows) == 26


@pytest.mark.req("DXV-VAL-002")
def test_rerun_gives_byte_identical_metrics_and_criteria(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "evidence"
    assert _validate(example, out, capsys)[0] == 1
    assert _validate(example, out, capsys)[0] == 1
    first, second = _bundles(out)
    for name in ("metrics.json", "criteria.json", "cases.csv", "protocol.yaml", "lock.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert (first / "run.json").read_bytes() != (second / "run.json").read_bytes()
    assert main(["verify", str(first)]) == 0
    capsys.readouterr()


@pytest.mark.req("DXV-VAL-003")
def test_json_junit_and_github_step_summary(
    example: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    junit = tmp_path / "junit.xml"
    code, stdout, _ = _validate(example, tmp_path / "ev", capsys, "--json", "--junit", str(junit))
    assert code == 1
    document = json.loads(stdout)
    assert document["exit_code"] == 1
    assert document["summary"]["total"] == len(EXPECTED_VERDICTS)
    suite = ElementTree.parse(junit).getroot().find("testsuite")  # noqa: S314  (our own output)
    assert suite is not None
    cases = suite.findall("testcase")
    assert [case.get("name") for case in cases] == list(EXPECTED_VERDICTS)
    failed = [case.get("name") for case in cases if case.find("failure") is not None]
    assert failed == ["PERF-004", "PERF-006"]
    text = summary.read_text()
    assert text.startswith("earlier step\n### dxval validate: ASAH-EXAMPLE — criteria not met")
    assert "| PERF-004 | auc, lower 95% bound, all cases | 0.6301 | >= 0.75 | **FAIL** |" in text


@pytest.mark.req("DXV-CLI-002", "DXV-REPORT-001")
def test_validate_console_script_as_a_subprocess(example: Path, tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "validate"
    completed = subprocess.run(
        [str(script), str(example), "--out", str(tmp_path / "ev")],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "GITHUB_STEP_SUMMARY": ""},
    )
    assert completed.returncode == 1, completed.stderr
    assert "PERF-006" in completed.stdout
    assert "Traceback" not in completed.stderr
    (bundle,) = _bundles(tmp_path / "ev")
    assert f"report:   {bundle / 'report.pdf'}" in completed.stdout
    for rendering in ("report.pdf", "report-submission.pdf", "report.html"):
        assert (bundle / rendering).is_file()
        assert f"  {rendering}" in (bundle / "MANIFEST.sha256").read_text()
    check = subprocess.run(
        ["sha256sum", "-c", "MANIFEST.sha256"], cwd=bundle, capture_output=True, check=False
    )
    assert check.returncode == 0


@pytest.mark.req("DXV-EXIT-001")
def test_all_criteria_met_exits_zero(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = example.read_text()
    for failing in ("PERF-004", "PERF-006"):
        start = text.index(f"  - id: {failing}")
        end = text.index("  - id: ", start + 1)
        text = text[:start] + text[end:]
    example.write_text(text)
    code, stdout, _ = _validate(example, tmp_path / "ev", capsys)
    assert code == 0
    assert "6 of 6 criteria met" in stdout


@pytest.mark.req("DXV-EXIT-005")
def test_non_evaluable_cases_beyond_tolerance_exit_4(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    predictions = example.parent / "data" / "asah" / "predictions.csv"
    lines = predictions.read_text().splitlines()
    lines[0] += ",failure"
    lines[1] = lines[1].split(",")[0] + ",,image unreadable"
    lines[2:] = [line + "," for line in lines[2:]]
    predictions.write_text("\n".join(lines) + "\n")
    text = example.read_text().replace(
        "  score: s100b\n", "  score: s100b\n  failure_reason: failure\n"
    )
    example.write_text(text)
    assert main(["lock", str(example)]) == 0
    code, _, stderr = _validate(example, tmp_path / "ev", capsys)
    assert code == 4
    assert (
        "run incomplete: 0.88% of cases are non-evaluable, above qc.max_failed_fraction 0.00%"
    ) in stderr
    (bundle,) = _bundles(tmp_path / "ev")
    run = json.loads((bundle / "run.json").read_text())
    assert (run["status"], run["exit_code"], run["cases"]["failed"]) == ("incomplete", 4, 1)
    with (bundle / "cases.csv").open(newline="") as handle:
        failed = [row for row in csv.DictReader(handle) if row["status"] == "failed"]
    assert [(row["case_id"], row["reason"], row["decision"]) for row in failed] == [
        ("asah-001", "image unreadable", "")
    ]
    metrics = json.loads((bundle / "metrics.json").read_text())
    imputed = metrics["populations"][0]["non_evaluable_imputed"]
    assert imputed["as_negative"]["specificity"]["denominator"] == 72
    assert metrics["populations"][0]["metrics"]["specificity"]["denominator"] == 71


@pytest.mark.req("DXV-LOCK-001")
def test_lock_command_pins_and_keeps_comments(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = example.read_text()
    unlocked = "\n".join(line for line in original.splitlines() if "sha256:" not in line) + "\n"
    example.write_text(unlocked)
    assert main(["lock", str(example)]) == 0
    assert "predictions.sha256: " in capsys.readouterr().out
    assert example.read_text() == original
    assert main(["lock", str(example)]) == 0
    assert "already locked; not changed" in capsys.readouterr().out


def test_invalid_model_file_is_refused_clearly(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (example.parent / "model.onnx").write_bytes(b"not really a model")
    text = example.read_text()
    start = text.index("predictions:")
    end = text.index("test_sets:")
    model = (
        "model:\n  path: model.onnx\n  runtime: onnxruntime\n"
        "  input: {name: x, shape: [null, 1]}\n  output: {name: y}\n  operating_point: 0.5\n\n"
    )
    example.write_text(text[:start] + model + text[end:])
    assert main(["lock", str(example)]) == 0
    code, _, stderr = _validate(example, tmp_path / "ev", capsys)
    assert code == 2
    assert stderr.count("dxval: error:") == 1
    assert "model.onnx" in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "ev").exists()


Mutation = Callable[[Path], None]


def _replace(relative: str, old: str, new: str) -> Mutation:
    def mutate(protocol: Path) -> None:
        path = protocol.parent / relative
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new, 1))

    return mutate


def _relock(mutation: Mutation) -> Mutation:
    """Apply ``mutation`` then re-lock, so the error is the data's, not the lock's."""

    def mutate(protocol: Path) -> None:
        mutation(protocol)
        assert main(["lock", str(protocol)]) == 0

    return mutate


def _with_image_paths(protocol: Path) -> None:
    """Give site F's manifest a path column naming images, one of which does not exist."""
    manifest = protocol.parent / SITE_F
    lines = manifest.read_text().splitlines()
    images = manifest.parent / "images"
    images.mkdir()
    rewritten = [lines[0].replace("case_id,", "case_id,path,")]
    for line in lines[1:]:
        case_id = line.split(",")[0]
        if case_id != "asah-003":
            (images / f"{case_id}.dcm").write_bytes(case_id.encode())
        rewritten.append(line.replace(",", f",images/{case_id}.dcm,", 1))
    manifest.write_text("\n".join(rewritten) + "\n")


def _without_predictions(protocol: Path) -> None:
    text = protocol.read_text()
    protocol.write_text(text[: text.index("predictions:")] + text[text.index("test_sets:") :])


def _remove(relative: str) -> Mutation:
    return lambda protocol: (protocol.parent / relative).unlink()


PREDICTIONS = "data/asah/predictions.csv"
SITE_F = "data/asah/site-f/manifest.csv"
PROTOCOL = "asah-example.yaml"

BAD_INPUTS: list[tuple[str, Mutation, int, str]] = [
    ("missing protocol", _remove(PROTOCOL), 2, r"asah-example\.yaml: protocol file not found"),
    (
        "YAML syntax error",
        _replace(PROTOCOL, "title: Example", "title: [Example"),
        2,
        r"asah-example\.yaml:\d+:\d+: YAML syntax error",
    ),
    (
        "unknown key",
        _replace(PROTOCOL, "  case_id: case_id\n", "  case_id: case_id\n  scores: s100b\n"),
        2,
        r"asah-example\.yaml:22:3 predictions\.scores: got unknown key 'scores' expected one of "
        r"path, sha256, case_id, score, failure_reason, operating_point$",
    ),
    (
        "wrong type",
        _replace(PROTOCOL, "confidence_level: 0.95", "confidence_level: high"),
        2,
        r":\d+:\d+ statistics\.confidence_level: got 'high' expected a valid number",
    ),
    (
        "duplicate requirement IDs",
        _replace(PROTOCOL, "id: PERF-002", "id: PERF-001"),
        2,
        r"requirements\[1\]\.id: got duplicate ID 'PERF-001' expected a unique requirement ID",
    ),
    (
        "unknown metric",
        _replace(
            PROTOCOL,
            "metric: auc, population: all, bound: point",
            "metric: roc_auc, population: all, bound: point",
        ),
        2,
        r"requirements\[0\]\.criteria\[0\]\.metric: got 'roc_auc' expected one of 'sensitivity'",
    ),
    (
        "unknown op",
        _replace(PROTOCOL, 'op: ">=", value: 0.70}', 'op: "=>", value: 0.70}'),
        2,
        r"requirements\[0\]\.criteria\[0\]\.op: got '=>' expected one of '>=', '<=', '>' or '<'",
    ),
    (
        "unknown population attribute",
        _replace(PROTOCOL, "{each: age}", "{each: sex}"),
        2,
        r"population\.each: got 'sex' expected one of 'site', 'test_set', 'age', 'wfns'",
    ),
    (
        "both model and predictions",
        _replace(
            PROTOCOL,
            "predictions:",
            "model: {path: m.onnx, runtime: torch, input: {name: x, shape: [1]}, "
            "output: {name: y}, operating_point: 0.5}\npredictions:",
        ),
        2,
        r"predictions: got both model and predictions expected exactly one of them",
    ),
    (
        "neither model nor predictions",
        _without_predictions,
        2,
        r"asah-example\.yaml:7:1 \(top level\): got neither model nor predictions expected exactly "
        r"one of them$",
    ),
    (
        "manifest missing",
        _remove(SITE_F),
        2,
        r"site-f/manifest\.csv: manifest of test set site-f not found",
    ),
    (
        "manifest row naming a missing file",
        _with_image_paths,
        2,
        r"site-f/manifest\.csv:4 path: got 'images/asah-003\.dcm' expected an existing file "
        r"\(not found: .*images/asah-003\.dcm\)$",
    ),
    (
        "duplicate case IDs",
        _replace(SITE_F, "asah-002,", "asah-001,"),
        2,
        r"site-f/manifest\.csv:3 case_id: got duplicate 'asah-001' \(first on line 2\)",
    ),
    (
        "predictions missing cases",
        _relock(_replace(PREDICTIONS, "asah-005,0.13\n", "")),
        2,
        r"predictions\.csv: got no row for 1 case \('asah-005'\) expected one row per",
    ),
    (
        "predictions with extra cases",
        _relock(_replace(PREDICTIONS, "asah-005,0.13\n", "asah-005,0.13\nasah-999,0.3\n")),
        2,
        r"predictions\.csv: got rows for 1 case \('asah-999'\) that no manifest lists",
    ),
    (
        "NaN score",
        _relock(_replace(PREDICTIONS, "asah-005,0.13\n", "asah-005,NaN\n")),
        2,
        r"predictions\.csv:6 s100b: got 'NaN' expected a finite number",
    ),
    (
        "infinite score",
        _relock(_replace(PREDICTIONS, "asah-005,0.13\n", "asah-005,inf\n")),
        2,
        r"predictions\.csv:6 s100b: got 'inf' expected a finite number",
    ),
    (
        "truth outside the declared classes",
        _relock(_replace(SITE_F, "asah-002,Good", "asah-002,Fair")),
        2,
        r"site-f/manifest\.csv:3 outcome: got 'Fair' expected one of 'Good', 'Poor'",
    ),
    (
        "lock mismatch on predictions",
        _replace(PREDICTIONS, "asah-005,0.13\n", "asah-005,0.14\n"),
        3,
        r"lock mismatch: predictions file \(.*predictions\.csv\): expected sha256 "
        r"ed445323e412b732ec337259de4c6b93a28b6a3cb33760de94291aadc54da701 got [0-9a-f]{64}$",
    ),
    (
        "lock mismatch on a manifest",
        _replace(SITE_F, "asah-002,Good", "asah-002,Poor"),
        3,
        r"lock mismatch: test set site-f \(manifest and the 0 files it names\) "
        r"\(.*site-f/manifest\.csv\): expected sha256 [0-9a-f]{64} got [0-9a-f]{64}$",
    ),
    (
        "unlocked protocol",
        _replace(PROTOCOL, "  sha256: ed445323", "  # sha256: ed445323"),
        2,
        r"protocol is not locked: predictions\.sha256 not set; run `dxval lock PROTOCOL`",
    ),
]


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
@pytest.mark.req("DXV-EXIT-003", "DXV-EXIT-004")
def test_bad_input_is_one_clear_line_with_the_right_exit_code_and_nothing_written(
    example: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: tuple[str, Mutation, int, str],
) -> None:
    _, mutation, exit_code, message = case
    mutation(example)
    capsys.readouterr()
    out = tmp_path / "evidence"
    code, stdout, stderr = _validate(example, out, capsys)
    assert code == exit_code, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("dxval: error: ")]
    assert len(errors) == 1, stderr
    assert stderr.splitlines()[-1] == errors[0]  # progress lines only before it
    assert re.search(message, errors[0]), errors[0]
    assert "Traceback" not in stderr
    assert stdout == ""
    assert not out.exists()


@pytest.mark.req("DXV-VAL-004")
def test_output_folder_not_writable(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    code, stdout, stderr = _validate(example, blocker / "evidence", capsys)
    assert code == 2
    assert stderr.startswith("dxval: error: output folder ")
    assert "is not a folder" in stderr
    assert stdout == ""
    assert blocker.read_text() == "x"


def test_read_only_output_folder(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    read_only.chmod(0o555)
    try:
        probe_allowed = os.access(read_only, os.W_OK)  # root ignores the mode bits
        code, _, stderr = _validate(example, read_only / "evidence", capsys)
    finally:
        read_only.chmod(0o755)
    if probe_allowed:
        assert code == 1  # as root the folder is writable after all; the run completes
    else:
        assert code == 2
        assert "is not writable" in stderr
        assert list(read_only.iterdir()) == []


def test_example_data_is_derived_from_asah_exactly() -> None:
    with (REPOSITORY / "tests" / "data" / "aSAH.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    manifests: dict[str, list[str]] = {"Female": [], "Male": []}
    predictions = ["case_id,s100b"]
    for number, row in enumerate(rows, start=1):
        case_id = f"asah-{number:03d}"
        age = f"{int(row['age']):03d}Y"
        manifests[row["gender"]].append(
            f"{case_id},{row['outcome']},{row['gender']},{age},{row['wfns']}"
        )
        predictions.append(f"{case_id},{row['s100b']}")
    folder = REPOSITORY / "protocols" / "data" / "asah"
    header = "case_id,outcome,gender,age,wfns"
    for gender, site in (("Female", "site-f"), ("Male", "site-m")):
        expected = "\n".join([header, *manifests[gender]]) + "\n"
        assert (folder / site / "manifest.csv").read_text() == expected
    assert (folder / "predictions.csv").read_text() == "\n".join(predictions) + "\n"


DICOM_PROTOCOL = """\
dxval: 1
id: DICOM-ATTRIBUTES
title: Attributes read from DICOM headers
version: "1"
device: {name: D, version: "1", intended_use: test}
predictions: {path: predictions.csv, operating_point: 0.5}
test_sets:
  - {id: a, site: A, manifest: manifest.csv}
truth: {column: label, positive: 1, negative: 0, reference_standard: test}
attributes:
  manufacturer: {dicom: Manufacturer}
  age: {dicom: PatientAge, bins: [0, 120]}
statistics: {minimum: {positives: 1, negatives: 1}}
requirements:
  - id: R-1
    text: AUC on GE images.
    criteria:
      - {metric: auc, population: {attribute: manufacturer, value: GE MEDICAL SYSTEMS}, op: ">=",
         value: 0.5}
"""


@pytest.mark.req("DXV-VAL-005")
def test_dicom_attributes_from_image_headers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pydicom.data import get_testdata_file

    images = tmp_path / "images"
    images.mkdir()
    sources = {"ct": "CT_small.dcm", "mr": "MR_small.dcm"}
    for prefix, name in sources.items():
        content = Path(str(get_testdata_file(name, download=False))).read_bytes()
        for index in (1, 2):
            (images / f"{prefix}{index}.dcm").write_bytes(content)
    (images / "broken.dcm").write_bytes(b"not DICOM at all")
    rows = [("ct1", 1, 0.9), ("ct2", 0, 0.2), ("mr1", 1, 0.7), ("mr2", 0, 0.4), ("broken", 0, 0.1)]
    (tmp_path / "manifest.csv").write_text(
        "case_id,path,label\n" + "".join(f"{c},images/{c}.dcm,{y}\n" for c, y, _ in rows)
    )
    (tmp_path / "predictions.csv").write_text(
        "case_id,score\n" + "".join(f"{c},{s}\n" for c, _, s in rows)
    )
    protocol = tmp_path / "protocol.yaml"
    protocol.write_text(DICOM_PROTOCOL)
    assert main(["lock", str(protocol)]) == 0
    code, _, stderr = _validate(protocol, tmp_path / "ev", capsys)
    assert code == 0, stderr
    (bundle,) = _bundles(tmp_path / "ev")
    with (bundle / "cases.csv").open(newline="") as handle:
        levels = {
            row["case_id"]: (
                row["attribute.manufacturer"],
                row["attribute.age"],
                row["input_sha256"],
            )
            for row in csv.DictReader(handle)
        }
    assert levels["ct1"][:2] == ("GE MEDICAL SYSTEMS", "[0, 120]")
    assert levels["mr1"][:2] == ("TOSHIBA_MEC", "missing")
    assert levels["broken"][:2] == ("missing", "missing")
    assert levels["ct1"][2] == levels["ct2"][2] != levels["mr1"][2]
    lock = json.loads((bundle / "lock.json").read_text())
    assert lock["test_sets"][0]["files"] == 5


@pytest.mark.req("DXV-ANAL-004")
def test_site_cells_named_by_criteria_are_analysed_without_site_by(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = example.read_text().replace("  site_by: [age]\n", "")
    text += (
        "  - id: SUB-001\n"
        "    text: Specificity in older patients at Site F.\n"
        "    criteria:\n"
        '      - {metric: specificity, population: {attribute: age, value: "[50, 120]", '
        'site: Site F}, op: ">=", value: 0.5}\n'
    )
    example.write_text(text)
    assert _validate(example, tmp_path / "ev", capsys)[0] == 1
    (bundle,) = _bundles(tmp_path / "ev")
    criteria = json.loads((bundle / "criteria.json").read_text())
    (criterion,) = criteria["requirements"][-1]["criteria"]
    assert criterion["verdict"] == "pass"
    assert [p["population"] for p in criterion["populations"]] == ["site=Site F|age=[50, 120]"]
    assert criterion["observed"] == pytest.approx(20 / 27)
