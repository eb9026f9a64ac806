"""``validate`` on a ``model:`` protocol: real DICOM files, a tiny ONNX model, the harness.

Covers the wiring of :mod:`dxval.inference` and :mod:`dxval.dicom` into the
pipeline: lock record (preprocessing digest, decoders), cache use recorded in
the audit log, failed cases kept, the PHI policy and the decoder pin.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from pydicom.data import get_testdata_file

from dxval.cli import main

DICOM_FILES = ("CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "MR_small_RLE.dcm")
WEIGHTS = np.linspace(-0.3, 0.5, 256, dtype=np.float32).reshape(256, 1)

PROTOCOL = """\
dxval: 1
id: MODEL-E2E
title: Model protocol end to end
version: "1.0"
device: {{name: Test model, version: 0.0.1, intended_use: Test only}}
model:
  path: model.onnx
  runtime: onnxruntime
  input: {{name: image, shape: [null, 1, 16, 16], dtype: float32}}
  output: {{name: score, activation: sigmoid, positive_index: 0}}
  operating_point: 0.5
{decoders}preprocessing:
  - {{op: modality_lut}}
  - {{op: window, center: 40, width: 400}}
  - {{op: resize, size: [16, 16], method: area}}
  - {{op: to_channels, channels: 1}}
test_sets:
  - {{id: site-a, site: Site A, manifest: data/manifest.csv}}
truth: {{column: label, positive: "1", negative: "0", reference_standard: test labels}}
attributes:
  sex: {{dicom: PatientSex}}
qc: {{max_failed_fraction: {tolerance}, phi: {phi}}}
requirements:
  - id: PERF-001
    text: AUC at least 0.0.
    criteria:
      - {{metric: auc, population: all, bound: point, op: ">=", value: 0.0}}
"""


def _write_onnx(path: Path) -> None:
    """score = sigmoid(flatten(image) · w): one linear layer over the 16×16 image."""
    graph = helper.make_graph(
        [
            helper.make_node("Flatten", ["image"], ["flat"], axis=1),
            helper.make_node("MatMul", ["flat", "w"], ["score"]),
        ],
        "linear",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, 16, 16])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["batch", 1])],
        [numpy_helper.from_array(WEIGHTS, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())


def _make_protocol(
    folder: Path, *, phi: str = "warn", tolerance: float = 0.5, decoders: str = ""
) -> Path:
    data = folder / "data"
    data.mkdir()
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
    path.write_text(PROTOCOL.format(phi=phi, tolerance=tolerance, decoders=decoders))
    assert main(["lock", str(path)]) == 0
    return path


def _bundle(out: Path) -> Path:
    (bundle,) = (out / "MODEL-E2E").iterdir()
    return bundle


def _audit(bundle: Path) -> dict[str, dict[str, object]]:
    events = [json.loads(line) for line in (bundle / "audit.jsonl").read_text().splitlines()]
    return {event["action"]: event for event in events}


def _validate(protocol: Path, out: Path, *extra: str) -> int:
    return main(
        ["validate", str(protocol), "--out", str(out), "--workers", "0", "--no-report", *extra]
    )


def test_model_protocol_runs_and_records_the_model_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = _make_protocol(tmp_path)
    out = tmp_path / "first"
    assert _validate(protocol, out) == 0, capsys.readouterr().err
    bundle = _bundle(out)
    lock = json.loads((bundle / "lock.json").read_text())
    assert len(lock["preprocessing_digest"]) == 64
    assert any(decoder.startswith("pylibjpeg-openjpeg") for decoder in lock["decoders"])
    assert lock["runner"]["name"] == "onnxruntime"
    with (bundle / "cases.csv").open(newline="") as handle:
        rows = {row["case_id"]: row for row in csv.DictReader(handle)}
    assert len(rows) == 9
    assert rows["c8"]["status"] == "failed"
    assert rows["c8"]["reason_code"]
    assert all(rows[f"c{index}"]["status"] == "scored" for index in range(8))
    audit = _audit(bundle)
    assert audit["model.loaded"]["object"]["name"] == "onnxruntime"
    assert audit["phi.warned"]["object"]["findings"] > 0
    findings = json.loads((bundle / "phi.json").read_text())["findings"]
    assert {"case_id", "attribute"} <= set(findings[0])
    assert "CompressedSamples^CT1" not in (bundle / "phi.json").read_text()
    assert main(["verify", str(bundle)]) == 0


def test_rerun_uses_the_cache_and_no_cache_scores_afresh(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = _make_protocol(tmp_path)
    cache = tmp_path / "cache"
    assert _validate(protocol, tmp_path / "a", "--cache-dir", str(cache)) == 0
    assert _validate(protocol, tmp_path / "b", "--cache-dir", str(cache)) == 0
    assert _validate(protocol, tmp_path / "c", "--cache-dir", str(cache), "--no-cache") == 0
    capsys.readouterr()
    first, second, third = (_bundle(tmp_path / name) for name in ("a", "b", "c"))
    assert _audit(first)["cache.used"]["object"]["hit_case_ids"] == []
    assert sorted(_audit(second)["cache.used"]["object"]["hit_case_ids"]) == [
        f"c{index}" for index in range(8)
    ]
    assert _audit(third)["cache.used"]["object"]["hit_case_ids"] == []
    for name in ("metrics.json", "criteria.json", "cases.csv"):
        assert (
            (first / name).read_bytes()
            == (second / name).read_bytes()
            == (third / name).read_bytes()
        )


def test_phi_refused_by_default_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = _make_protocol(tmp_path, phi="refuse")
    out = tmp_path / "out"
    assert _validate(protocol, out) == 2
    err = capsys.readouterr().err
    assert "qc.phi is 'refuse'" in err
    assert "PatientName" in err
    assert "CompressedSamples" not in err  # the value itself is never shown
    assert not out.exists()


def test_failed_cases_beyond_tolerance_are_exit_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = _make_protocol(tmp_path, tolerance=0.0)
    out = tmp_path / "out"
    assert _validate(protocol, out) == 4
    assert "run incomplete" in capsys.readouterr().err
    run = json.loads((_bundle(out) / "run.json").read_text())
    assert run["status"] == "incomplete"


def test_decoder_other_than_the_pinned_one_is_a_lock_mismatch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = _make_protocol(tmp_path, decoders="  decoders: {pylibjpeg-openjpeg: 0.0.1}\n")
    out = tmp_path / "out"
    assert _validate(protocol, out) == 3
    err = capsys.readouterr().err
    assert "decoder mismatch" in err
    assert "pylibjpeg-openjpeg==0.0.1" in err
    assert not out.exists()
