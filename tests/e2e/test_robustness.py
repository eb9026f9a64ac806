"""``validate`` with a ``robustness:`` study: perturbed levels through the same harness (issue 19).

Real DICOM files (pydicom's CT_small with shifted pixel values, so cases
differ), a tiny ONNX model, the full pipeline. The identity level (noise 0)
must give paired differences of exactly 0 and no flip; a noisy level must
change scores; perturbed scores are cached under their own keys.
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
CASES = 16

PROTOCOL = """\
dxval: 1
id: ROBUST-E2E
title: Robustness end to end
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
  - {{op: window, center: 40, width: 400}}
  - {{op: resize, size: [16, 16], method: area}}
  - {{op: to_channels, channels: 1}}
test_sets:
  - {{id: site-a, site: Site A, manifest: data/manifest.csv}}
truth: {{column: label, positive: "1", negative: "0", reference_standard: test labels}}
qc: {{max_failed_fraction: 0.0, phi: warn}}
statistics: {{bootstrap: {{replicates: 200, seed: 7}}}}
robustness:
  seed: 11
  perturbations:
    - {{id: noise_0, perturbation: gaussian_noise, parameters: {{relative_sd: 0}}}}
    - {{id: noise_0.2, perturbation: gaussian_noise, parameters: {{relative_sd: 0.2}}}}
{extra_levels}{flip}requirements:
  - id: ROB-001
    text: The identity level changes nothing.
    criteria:
      - {{metric: auc_difference, against: unperturbed, population: {{perturbation: noise_0}},
         op: ">=", value: 0}}
      - {{metric: flip_fraction, against: unperturbed, population: {{perturbation: noise_0}},
         op: "<=", value: 0}}
      - {{metric: auc, population: {{perturbation: noise_0.2}}, op: ">=", value: 0}}
{extra_criteria}"""


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
    folder: Path, *, extra_levels: str = "", flip: str = "", extra_criteria: str = ""
) -> Path:
    data = folder / "data"
    data.mkdir()
    rows = ["case_id,path,label"]
    source = pydicom.dcmread(str(get_testdata_file("CT_small.dcm")))
    rng = np.random.default_rng(3)
    for index in range(CASES):
        dataset = source.copy()
        pixels = source.pixel_array.astype(np.int32)
        shift = rng.integers(-150, 150, size=pixels.shape)
        dataset.PixelData = np.clip(pixels + shift, -2000, 3000).astype(np.int16).tobytes()
        dataset.save_as(data / f"case{index}.dcm")
        rows.append(f"c{index},case{index}.dcm,{index % 2}")
    (data / "manifest.csv").write_text("\n".join(rows) + "\n")
    _write_onnx(folder / "model.onnx")
    path = folder / "protocol.yaml"
    text = PROTOCOL.format(extra_levels=extra_levels, flip=flip, extra_criteria=extra_criteria)
    path.write_text(text)
    return path


def _validate(protocol: Path, out: Path, *extra: str) -> int:
    return main(
        ["validate", str(protocol), "--out", str(out), "--workers", "0", "--no-report", *extra]
    )


def _bundle(out: Path) -> Path:
    (bundle,) = (out / "ROBUST-E2E").iterdir()
    return bundle


@pytest.mark.req("DXV-ROBUST-001", "DXV-ROBUST-002", "DXV-ROBUST-003", "DXV-ROBUST-006")
def test_identity_level_has_zero_differences_and_noise_changes_scores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = _make_protocol(tmp_path)
    assert main(["lock", str(protocol)]) == 0
    cache = tmp_path / "cache"
    assert _validate(protocol, tmp_path / "out", "--cache-dir", str(cache)) == 0, (
        capsys.readouterr().err
    )
    bundle = _bundle(tmp_path / "out")
    metrics = json.loads((bundle / "metrics.json").read_text())
    overall = next(p for p in metrics["populations"] if p["key"] == "all")
    levels = {level["level"]: level for level in metrics["robustness"]["levels"]}
    assert metrics["robustness"]["against"] == "unperturbed"
    assert list(levels) == ["noise_0", "noise_0.2"]

    identity = levels["noise_0"]
    assert identity["key"] == "perturbation:noise_0"
    assert identity["perturbation"]["perturbation"] == "gaussian_noise"
    assert identity["perturbation"]["identity"] is True
    for name in ("auc_difference", "sensitivity_difference", "specificity_difference"):
        assert identity["differences"][name]["estimate"] == 0.0, name
    assert identity["differences"]["flip_fraction"]["estimate"] == 0.0
    flips = identity["comparison"]["flips"]
    assert (flips["to_positive"], flips["to_negative"], flips["total"]) == (0, 0, 0)
    assert flips["n"] == CASES
    for name in ("sensitivity", "specificity"):  # Tango's interval and McNemar beside Newcombe
        assert identity["comparison"][name]["tango"]["estimate"] == 0.0
    # zero variance: the point estimate is kept, the interval is undefined with a reason
    assert identity["differences"]["auc_difference"]["status"] == "undefined"
    assert "zero variance" in identity["differences"]["auc_difference"]["reason"]
    assert identity["metrics"] == overall["metrics"]  # every metric, with its CI

    noisy = levels["noise_0.2"]
    assert noisy["metrics"]["auc"]["low"] is not None
    assert noisy["differences"]["auc_difference"]["method"].endswith("paired")
    assert noisy["comparison"]["auc"]["p_value"] is not None

    with (bundle / "robustness.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 * CASES
    with (bundle / "cases.csv").open(newline="") as handle:
        original = {row["case_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    by_level: dict[str, dict[str, float]] = {}
    for row in rows:
        by_level.setdefault(row["level"], {})[row["case_id"]] = float(row["score"])
    assert by_level["noise_0"] == original
    assert all(by_level["noise_0.2"][case] != original[case] for case in original)

    criteria = json.loads((bundle / "criteria.json").read_text())
    verdicts = [c["verdict"] for c in criteria["requirements"][0]["criteria"]]
    assert verdicts == ["pass", "pass", "pass"]
    assert criteria["requirements"][0]["criteria"][0]["against"] == "unperturbed"

    # perturbed inputs have cache entries of their own: original + 2 levels per case
    assert len(list(cache.rglob("*.json"))) == 3 * CASES
    assert main(["verify", str(bundle)]) == 0
    _check_report_sections(bundle)


def _check_report_sections(bundle: Path) -> None:
    """The report's robustness section and the 510(k) summary paragraph, from the bundle."""
    from dxval.evidence.format import read_bundle
    from dxval.report.render import SCREEN, render_html
    from dxval.report.summary import build_summary_view, render_summary_markdown
    from dxval.report.views import build_report_view

    data = read_bundle(bundle)
    html = render_html(build_report_view(data), SCREEN)
    assert "4.5 Robustness to input perturbations" in html  # numbered in order (DXV-RENDER-008)
    assert "Gaussian noise: relative_sd 0.2; seed 11" in html
    assert "0 of 16 (0 to positive, 0 to negative)" in html  # the identity level
    markdown = render_summary_markdown(build_summary_view(data))
    assert "### Robustness" in markdown
    assert "under 2 pre-specified perturbation levels" in markdown


@pytest.mark.req("DXV-ROBUST-004")
def test_perturbed_scores_are_never_served_as_the_original(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A level scored first leaves the original run's cache empty of its scores."""
    protocol = _make_protocol(tmp_path)
    assert main(["lock", str(protocol)]) == 0
    cache = tmp_path / "cache"
    assert _validate(protocol, tmp_path / "a", "--cache-dir", str(cache)) == 0
    assert _validate(protocol, tmp_path / "b", "--cache-dir", str(cache)) == 0
    capsys.readouterr()
    first, second = _bundle(tmp_path / "a"), _bundle(tmp_path / "b")
    for name in ("metrics.json", "criteria.json", "cases.csv", "robustness.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    events = [json.loads(line) for line in (second / "audit.jsonl").read_text().splitlines()]
    scored = [event["object"] for event in events if event["action"] == "robustness.scored"]
    assert [level["cache"]["hits"] for level in scored] == [CASES, CASES]
    assert len({level["loader_digest"] for level in scored}) == 2


@pytest.mark.req("DXV-ROBUST-005")
def test_lateral_flip_without_the_flag_is_refused_naming_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flip = "    - {perturbation: lateral_flip}\n"
    protocol = _make_protocol(tmp_path, extra_levels=flip)
    out = tmp_path / "out"
    assert _validate(protocol, out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert "protocol.yaml:27:22 robustness.perturbations[2].perturbation" in err
    assert "lateralised anatomy" in err
    assert not out.exists()


@pytest.mark.req("DXV-ROBUST-005")
def test_lateral_flip_with_the_flag_and_a_reason_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flip = (
        "    - {perturbation: lateral_flip}\n"
        "  allow_lateral_flip: true\n"
        "  lateral_flip_reason: the finding is not lateralised (test)\n"
    )
    protocol = _make_protocol(tmp_path, extra_levels=flip)
    assert main(["lock", str(protocol)]) == 0
    assert _validate(protocol, tmp_path / "out") == 0, capsys.readouterr().err
    metrics = json.loads((_bundle(tmp_path / "out") / "metrics.json").read_text())
    levels = {level["level"]: level for level in metrics["robustness"]["levels"]}
    reason = levels["lateral_flip"]["perturbation"]["lateral_flip_reason"]
    assert reason == "the finding is not lateralised (test)"
