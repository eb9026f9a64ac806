"""``validate`` with a ``latency:`` section: per-case timings and latency criteria (issue 19).

A tiny ONNX model over real DICOM files (the fixtures of test_validate_model).
The run here is on the CPU, so a protocol stating a GPU is "other hardware":
its latency criteria must be undefined with the reason, never met.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file
from tests.e2e.test_validate_model import DICOM_FILES, _write_onnx

from dxval.cli import main

PROTOCOL = """\
dxval: 1
id: LAT-E2E
title: Latency end to end
version: "1.0"
device: {{name: Test model, version: 0.0.1, intended_use: Test only}}
{source}
test_sets:
  - {{id: site-a, site: Site A, manifest: data/manifest.csv}}
truth: {{column: label, positive: "1", negative: "0", reference_standard: test labels}}
qc: {{max_failed_fraction: 0.5, phi: warn}}
{latency}
requirements:
  - id: PERF-001
    text: AUC at least 0.0.
    criteria:
      - {{metric: auc, population: all, bound: point, op: ">=", value: 0.0}}
  - id: LAT-001
    text: A result within the stated time.
    criteria:
      - {{metric: {metric}, op: "<=", value: {value}}}
"""
MODEL = """\
model:
  path: model.onnx
  runtime: onnxruntime
  input: {name: image, shape: [null, 1, 16, 16], dtype: float32}
  output: {name: score, activation: sigmoid, positive_index: 0}
  operating_point: 0.5
preprocessing:
  - {op: modality_lut}
  - {op: window, center: 40, width: 400}
  - {op: resize, size: [16, 16], method: area}
  - {op: to_channels, channels: 1}"""
ANY_CPU = "latency: {hardware: {device: cpu}, minimum_timed: 5}"
H100 = 'latency: {hardware: {device: cuda, gpu: "NVIDIA H100 80GB HBM3"}, minimum_timed: 5}'


def _protocol(
    folder: Path,
    *,
    latency: str = ANY_CPU,
    metric: str = "latency_p95",
    value: float = 60.0,
    source: str = MODEL,
) -> Path:
    data = folder / "data"
    data.mkdir(exist_ok=True)
    rows = ["case_id,path,label"]
    for index in range(8):
        target = data / f"case{index}.dcm"
        shutil.copyfile(str(get_testdata_file(DICOM_FILES[index % len(DICOM_FILES)])), target)
        rows.append(f"c{index},{target.name},{index % 2}")
    broken = data / "broken.dcm"
    broken.write_bytes(Path(str(get_testdata_file("CT_small.dcm"))).read_bytes()[:2000])
    rows.append("c8,broken.dcm,1")
    (data / "manifest.csv").write_text("\n".join(rows) + "\n")
    _write_onnx(folder / "model.onnx")
    path = folder / "protocol.yaml"
    path.write_text(
        PROTOCOL.format(source=source, latency=latency, metric=metric, value=value),
        encoding="utf-8",
    )
    assert main(["lock", str(path)]) == 0
    return path


def _validate(protocol: Path, out: Path, *extra: str) -> int:
    arguments = ["validate", str(protocol), "--out", str(out), "--workers", "0", "--no-report"]
    return main([*arguments, *extra])


def _bundle(out: Path) -> Path:
    (bundle,) = (out / "LAT-E2E").iterdir()
    return bundle


def _latency_criterion(bundle: Path) -> dict[str, object]:
    criteria = json.loads((bundle / "criteria.json").read_text())
    (requirement,) = [item for item in criteria["requirements"] if item["id"] == "LAT-001"]
    (criterion,) = requirement["criteria"]
    return dict(criterion)


def _rows(bundle: Path) -> dict[str, dict[str, str]]:
    with (bundle / "latency.csv").open(newline="", encoding="utf-8") as handle:
        return {row["case_id"]: row for row in csv.DictReader(handle)}


@pytest.mark.req("DXV-LAT-001")
@pytest.mark.req("DXV-LAT-004")
def test_timings_are_recorded_and_a_generous_cpu_criterion_is_met(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = _protocol(tmp_path)
    out = tmp_path / "out"
    assert _validate(protocol, out, "--no-cache") == 0, capsys.readouterr().err
    bundle = _bundle(out)
    rows = _rows(bundle)
    assert len(rows) == 9  # every case, failed included
    for index in range(8):
        row = rows[f"c{index}"]
        assert row["timing"] == "timed"
        assert row["stage_reached"] == "done"
        for stage in ("decode", "preprocess", "load", "inference", "end_to_end"):
            assert float(row[f"{stage}_s"]) > 0.0, (index, stage)
        assert float(row["end_to_end_s"]) >= float(row["inference_s"])
        assert float(row["load_s"]) >= float(row["decode_s"])
    assert rows["c8"]["status"] == "failed"
    assert rows["c8"]["stage_reached"] == "decode"  # a truncated file fails while decoding
    assert rows["c8"]["inference_s"] == ""
    document = json.loads((bundle / "latency.json").read_text())
    assert document["hardware"]["device"] == "cpu"
    end_to_end = next(item for item in document["stages"] if item["stage"] == "end_to_end")
    assert end_to_end["n"] == 8
    assert end_to_end["p95"]["n"] == 8
    assert "type 1" in end_to_end["p95"]["method"]
    criterion = _latency_criterion(bundle)
    assert criterion["verdict"] == "pass"
    assert criterion["observed"] == end_to_end["p95"]["estimate"]
    assert main(["verify", str(bundle)]) == 0


@pytest.mark.req("DXV-LAT-004")
def test_matching_hardware_fails_on_the_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = _protocol(tmp_path, metric="latency_max", value=1e-9)
    out = tmp_path / "out"
    assert _validate(protocol, out, "--no-cache") == 1, capsys.readouterr().err
    criterion = _latency_criterion(_bundle(out))
    assert criterion["verdict"] == "fail"
    assert isinstance(criterion["observed"], float)
    assert criterion["observed"] > 1e-9


@pytest.mark.req("DXV-LAT-003")
@pytest.mark.req("DXV-LAT-009")
def test_other_hardware_is_undefined_with_the_reason_never_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Acceptance (issue 19): a generous bound on a GPU the run did not use is not met."""
    protocol = _protocol(tmp_path, latency=H100, value=1e9)
    out = tmp_path / "out"
    assert _validate(protocol, out, "--no-cache") == 1, capsys.readouterr().err
    criterion = _latency_criterion(_bundle(out))
    assert criterion["verdict"] == "undefined"
    assert criterion["observed"] is None
    assert criterion["description"] == (
        "latency_p95, point estimate, scored cases timed in this run, stage end_to_end"
    )
    reason = str(criterion["reason"])
    assert reason.startswith("run on cpu, ")
    assert reason.endswith("criterion states cuda, NVIDIA H100 80GB HBM3")
    _check_report_sections(_bundle(out), reason)


def _check_report_sections(bundle: Path, reason: str) -> None:
    """The report's latency section and the 510(k) summary paragraph, from the bundle."""
    from dxval.evidence.format import read_bundle
    from dxval.report.render import SCREEN, render_html
    from dxval.report.summary import build_summary_view, render_summary_markdown
    from dxval.report.views import build_report_view

    data = read_bundle(bundle)
    html = render_html(build_report_view(data), SCREEN)
    assert "4.5 Latency" in html  # the only study here: numbered in order (DXV-RENDER-008)
    assert "stated for cuda, NVIDIA H100 80GB HBM3; stage end_to_end" in html
    assert reason in html
    assert "0 served from the prediction cache" in html
    markdown = render_summary_markdown(build_summary_view(data))
    assert "### Latency" in markdown
    assert "over 8 scored cases timed: median " in markdown
    assert f"LAT-001 UNDEFINED ({reason})" in markdown


@pytest.mark.req("DXV-LAT-002")
@pytest.mark.req("DXV-LAT-005")
def test_cache_hits_are_not_timed_and_timings_stay_out_of_compared_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = _protocol(tmp_path)
    cache = tmp_path / "cache"
    assert _validate(protocol, tmp_path / "a", "--cache-dir", str(cache)) == 0
    assert _validate(protocol, tmp_path / "b", "--cache-dir", str(cache)) == 1
    capsys.readouterr()
    first, second = _bundle(tmp_path / "a"), _bundle(tmp_path / "b")
    for name in ("cases.csv", "metrics.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    rows = _rows(second)
    assert [rows[f"c{index}"]["timing"] for index in range(8)] == ["not timed (cache hit)"] * 8
    assert all(rows[f"c{index}"]["end_to_end_s"] == "" for index in range(8))  # never 0
    document = json.loads((second / "latency.json").read_text())
    assert document["cases"]["cache_hits"] == 8
    end_to_end = next(item for item in document["stages"] if item["stage"] == "end_to_end")
    assert end_to_end["n"] == 0
    assert end_to_end["not_timed"] == {"not timed (cache hit)": 8}
    assert end_to_end["p95"]["estimate"] is None
    criterion = _latency_criterion(second)
    assert criterion["verdict"] == "undefined"
    assert "0 scored cases timed" in str(criterion["reason"])
    assert "8 not timed (cache hit)" in str(criterion["reason"])


@pytest.mark.req("DXV-LAT-006")
def test_tampering_with_latency_csv_is_detected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = _protocol(tmp_path)
    out = tmp_path / "out"
    assert _validate(protocol, out, "--no-cache") == 0
    bundle = _bundle(out)
    manifest = (bundle / "MANIFEST.sha256").read_text()
    assert "latency.csv" in manifest
    assert "latency.json" in manifest
    path = bundle / "latency.csv"
    path.write_text(path.read_text().replace("timed", "TIMED", 1))
    capsys.readouterr()
    assert main(["verify", str(bundle)]) == 3
    assert "latency.csv" in capsys.readouterr().out + capsys.readouterr().err


@pytest.mark.req("DXV-LAT-007")
def test_latency_criterion_on_a_predictions_protocol_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "manifest.csv").write_text("case_id,label\na,1\nb,0\n")
    (tmp_path / "predictions.csv").write_text("case_id,score\na,0.9\nb,0.1\n")
    source = "predictions: {path: predictions.csv, score: score, operating_point: 0.5}"
    path = tmp_path / "protocol.yaml"
    path.write_text(
        PROTOCOL.format(source=source, latency="", metric="latency_p95", value=30),
        encoding="utf-8",
    )
    assert main(["validate", str(path), "--out", str(tmp_path / "out"), "--no-report"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "latency_p95" in err
    assert "a predictions protocol has no timings" in err
    assert not (tmp_path / "out").exists()
