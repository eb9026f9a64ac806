"""``ct_window``: the CT window of the model's preprocessing moved, end to end (issue 19).

Real CT DICOM files (pydicom's CT_small, Rescale Slope/Intercept to HU, with
shifted pixel values so cases differ), a tiny ONNX model whose preprocessing
applies an explicit CT window (centre 40, width 400 HU). The identity level
(shift 0, scale 1) must give paired differences of exactly 0 and no flip; a
moved window must change scores without touching the pixels; a model without
a CT window, or a test set that is not CT, is refused (exit 2, one line).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pydicom
import pytest
from onnx import TensorProto, helper, numpy_helper
from pydicom.data import get_testdata_file

from dxval.cli import main

WEIGHTS = np.linspace(-0.5, 0.5, 256, dtype=np.float32).reshape(256, 1)
CASES = 12
WINDOW = "  - {op: window, center: 40, width: 400}\n"

PROTOCOL = """\
dxval: 1
id: WINDOW-E2E
title: CT window robustness end to end
version: "1.0"
device: {{name: Test model, version: 0.0.1, intended_use: Test only}}
model:
  path: model.onnx
  runtime: onnxruntime
  input: {{name: image, shape: [null, 1, 16, 16], dtype: float32}}
  output: {{name: score, activation: sigmoid, positive_index: 0}}
  operating_point: 0.5
preprocessing:
  - {{op: modality_lut}}
{window}  - {{op: resize, size: [16, 16], method: area}}
  - {{op: scale, low: 0.0, high: 1.0, source: image}}
  - {{op: to_channels, channels: 1}}
test_sets:
  - {{id: ct-a, site: Site A, manifest: data/manifest.csv}}
truth: {{column: label, positive: "1", negative: "0", reference_standard: test labels}}
qc: {{max_failed_fraction: 0.0, phi: warn}}
statistics: {{bootstrap: {{replicates: 200, seed: 7}}}}
robustness:
  seed: 11
  perturbations:
    - {{id: window_same, perturbation: ct_window, parameters: {{center_shift: 0, width_scale: 1}}}}
    - {{id: window_moved, perturbation: ct_window,
       parameters: {{center_shift: 300, width_scale: 0.5}}}}
requirements:
  - id: WIN-001
    text: The identity window changes nothing.
    criteria:
      - {{metric: flip_fraction, against: unperturbed, population: {{perturbation: window_same}},
         op: "<=", value: 0}}
      - {{metric: auc_difference, against: unperturbed, population: {{perturbation: window_same}},
         op: ">=", value: 0}}
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


def _make_protocol(folder: Path, *, window: str = WINDOW, modality: str = "CT") -> Path:
    data = folder / "data"
    data.mkdir()
    rows = ["case_id,path,label"]
    source = pydicom.dcmread(str(get_testdata_file("CT_small.dcm")))
    assert source.Modality == "CT"
    assert "RescaleIntercept" in source
    rng = np.random.default_rng(5)
    for index in range(CASES):
        dataset = source.copy()
        dataset.Modality = modality
        pixels = source.pixel_array.astype(np.int32)
        shift = rng.integers(-300, 300, size=pixels.shape)
        dataset.PixelData = np.clip(pixels + shift, -2000, 3000).astype(np.int16).tobytes()
        dataset.save_as(data / f"case{index}.dcm")
        rows.append(f"c{index},case{index}.dcm,{index % 2}")
    (data / "manifest.csv").write_text("\n".join(rows) + "\n")
    _write_onnx(folder / "model.onnx")
    path = folder / "protocol.yaml"
    path.write_text(PROTOCOL.format(window=window))
    return path


def _validate(protocol: Path, out: Path, *extra: str) -> int:
    return main(
        ["validate", str(protocol), "--out", str(out), "--workers", "0", "--no-report", *extra]
    )


@pytest.mark.req("DXV-ROBUST2-001", "DXV-ROBUST2-002")
def test_identity_window_changes_nothing_and_a_moved_window_changes_scores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = _make_protocol(tmp_path)
    assert main(["lock", str(protocol)]) == 0
    cache = tmp_path / "cache"
    assert _validate(protocol, tmp_path / "out", "--cache-dir", str(cache)) == 0, (
        capsys.readouterr().err
    )
    (bundle,) = (tmp_path / "out" / "WINDOW-E2E").iterdir()
    metrics = json.loads((bundle / "metrics.json").read_text())
    overall = next(p for p in metrics["populations"] if p["key"] == "all")
    levels = {level["level"]: level for level in metrics["robustness"]["levels"]}
    assert list(levels) == ["window_same", "window_moved"]

    identity = levels["window_same"]
    assert identity["perturbation"]["perturbation"] == "ct_window"
    assert identity["perturbation"]["parameters"] == {"center_shift": 0.0, "width_scale": 1.0}
    assert identity["perturbation"]["identity"] is True
    assert identity["perturbation"]["window"] == {"center": 40.0, "width": 400.0}
    assert levels["window_moved"]["perturbation"]["window"] == {"center": 340.0, "width": 200.0}
    for name in ("auc_difference", "sensitivity_difference", "specificity_difference"):
        assert identity["differences"][name]["estimate"] == 0.0, name
    assert identity["differences"]["flip_fraction"]["estimate"] == 0.0
    flips = identity["comparison"]["flips"]
    assert (flips["to_positive"], flips["to_negative"], flips["total"], flips["n"]) == (
        0,
        0,
        0,
        CASES,
    )
    assert identity["metrics"] == overall["metrics"]

    with (bundle / "robustness.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    with (bundle / "cases.csv").open(newline="") as handle:
        original = {row["case_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    by_level: dict[str, dict[str, float]] = {}
    for row in rows:
        by_level.setdefault(row["level"], {})[row["case_id"]] = float(row["score"])
    assert by_level["window_same"] == original  # exactly, case by case
    assert all(by_level["window_moved"][case] != original[case] for case in original)

    criteria = json.loads((bundle / "criteria.json").read_text())
    assert [c["verdict"] for c in criteria["requirements"][0]["criteria"]] == ["pass", "pass"]
    # each level has cache entries of its own (the key includes the perturbation)
    assert len(list(cache.rglob("*.json"))) == 3 * CASES
    events = [json.loads(line) for line in (bundle / "audit.jsonl").read_text().splitlines()]
    scored = [event["object"] for event in events if event["action"] == "robustness.scored"]
    assert len({level["loader_digest"] for level in scored}) == 2
    assert main(["verify", str(bundle)]) == 0
    _check_report(bundle)


def _check_report(bundle: Path) -> None:
    """The report's robustness row names the moved window; the 510(k) paragraph counts it."""
    from dxval.evidence.format import read_bundle
    from dxval.report.render import SCREEN, render_html
    from dxval.report.summary import build_summary_view, render_summary_markdown
    from dxval.report.views import build_report_view

    data = read_bundle(bundle)
    html = render_html(build_report_view(data), SCREEN)
    row = (
        "CT window of the model&#39;s preprocessing (HU): center_shift 300, width_scale 0.5; "
        "seed 11 (window centre 340, width 200 HU)"
    )
    assert row in html
    markdown = render_summary_markdown(build_summary_view(data))
    assert "under 2 pre-specified perturbation levels" in markdown


@pytest.mark.req("DXV-ROBUST2-003")
def test_a_model_without_a_ct_window_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = _make_protocol(tmp_path, window="  - {op: voi_lut}\n")
    out = tmp_path / "out"
    assert _validate(protocol, out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("dxval: error: ")
    assert "Traceback" not in err
    assert "robustness.perturbations[0].perturbation" in err
    assert "'ct_window' (level 'window_same') for model model.onnx" in err
    assert "no window step" in err
    assert "{op: window, center, width} (HU) after {op: modality_lut}" in err
    assert not out.exists()


@pytest.mark.req("DXV-ROBUST2-003")
def test_a_test_set_that_is_not_ct_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = _make_protocol(tmp_path, modality="CR")
    assert main(["lock", str(protocol)]) == 0
    out = tmp_path / "out"
    assert _validate(protocol, out) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (error,) = [line for line in err.splitlines() if line.startswith("dxval: error: ")]
    assert err.splitlines()[-1] == error  # one error line, after the progress lines
    assert "robustness level 'window_same' (ct_window) of model model.onnx" in error
    assert "test set ct-a case c0 has Modality 'CR', expected 'CT'" in error
    assert not out.exists() or not any(out.rglob("metrics.json"))
