"""A frozen segmentation model through the locked harness (issue 16 item 5).

The demo generator's threshold model (``dxval demo generate --task
segmentation-model``) on 2 cases per site: validate through the harness, the
same masks fed as bundled predictions, the cache on a rerun, the golden
check, and the errors of a misdeclared output.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest

from dxval.cli import main
from dxval.demo.segmentation_model import expected_labels
from dxval.demo.tasks import generate_task_demo

CRITERIA = """\
requirements:
  - id: SEGM-001
    text: Mean liver Dice at least 0.9 over all sites.
    criteria:
      - {metric: dice, statistic: mean, structure: liver, bound: lower, op: ">=", value: 0.9}
  - id: SEGM-002
    text: Mean lesion NSD at least 0.5 at each site.
    criteria:
      - {metric: nsd, statistic: mean, structure: lesion, population: {each: site},
         op: ">=", value: 0.5}
"""


def _header(data: str) -> str:
    sites = "".join(
        f"  - {{id: site-{s}, site: Site {s.upper()}, manifest: {data}/site-{s}/manifest.csv}}\n"
        for s in "abc"
    )
    return f"""\
dxval: 1
id: SEG-MODEL-TEST
title: Threshold segmentation model through the harness
version: "1.0"
task: segmentation
device: {{name: Test segmentation, version: 0.1.0, intended_use: Testing only.}}
test_sets:
{sites}attributes:
  sex: {{column: sex}}
statistics: {{bootstrap: {{replicates: 200, seed: 7}}}}
qc: {{max_failed_fraction: 0.05, phi: warn}}
"""


def _model_section(
    data: str, *, shape: str = "[null, 16, 48, 48]", golden: str | None = None
) -> str:
    pinned = f"{{input: {data}/model/reference-input.npy, expected_sha256: {golden}}}"
    reference = "" if golden is None else f"  reference: {pinned}\n"
    return f"""\
model:
  path: {data}/model/demo-liver-threshold.onnx
  runtime: onnxruntime
  input: {{name: image, shape: [null, 16, 48, 48]}}
  output: {{name: labels, kind: mask, shape: {shape}, transpose: [1, 2, 0]}}
  operating_point: 0.5
{reference}preprocessing:
  - {{op: modality_lut}}
segmentation: {{structures: {{liver: 1, lesion: 2}}, nsd_tolerance_mm: 2.0}}
"""


FAST = ("--workers", "0")  # decode in-process: 6 small cases do not pay for a pool
GOLDEN = "c1d2826367bfeff886d9f31330e67abe593aab3a5c929db40fb166b0e563d5da"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("segmodel")
    generate_task_demo(folder / "data", task="segmentation-model", cases_per_site=2, seed=11)
    return folder


def _validate(protocol: Path, out: Path, *extra: str) -> int:
    assert main(["lock", str(protocol)]) == 0
    return main(["validate", str(protocol), "--out", str(out), "--no-report", *FAST, *extra])


def _bundle(out: Path) -> Path:
    (run,) = [path for path in (out / "SEG-MODEL-TEST").iterdir() if path.is_dir()]
    return run


def _events(bundle: Path) -> dict[str, dict[str, object]]:
    lines = (bundle / "audit.jsonl").read_text().splitlines()
    return {entry["action"]: entry["object"] for entry in map(json.loads, lines)}


def _model_labels(case_folder: Path) -> np.ndarray:
    """The model's label map computed independently: numpy thresholds on the DICOM HU."""
    slices = [pydicom.dcmread(path) for path in sorted((case_folder / "series").iterdir())]
    slices.sort(key=lambda item: float(item.ImagePositionPatient[2]))
    hu = np.stack(
        [
            item.pixel_array * float(item.RescaleSlope) + float(item.RescaleIntercept)
            for item in slices
        ]
    )  # (slice, row, column)
    return np.transpose(expected_labels(hu), (1, 2, 0))


def _bundled_copy(source: Path, target: Path) -> None:
    """The same cases with the independently computed masks as bundled predictions."""
    shutil.copytree(source, target)
    for manifest in target.glob("site-*/manifest.csv"):
        rows = list(csv.DictReader(io.StringIO(manifest.read_text())))
        for row in rows:
            case_folder = manifest.parent / row["path"]
            with np.load(case_folder / "truth.npz") as truth:
                spacing = truth["spacing"]
            np.savez(
                case_folder / "prediction.npz", mask=_model_labels(case_folder), spacing=spacing
            )
            row["prediction_mask"] = f"{row['path']}/prediction.npz"
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        manifest.write_text(buffer.getvalue())


def _numbers(bundle: Path) -> dict[str, object]:
    document = json.loads((bundle / "segmentation.json").read_text())
    return {"populations": document["populations"], "cases": document["cases"]}


@pytest.mark.req("DXV-TASKMODEL-002", "DXV-TASKMODEL-003")
def test_model_masks_equal_the_same_masks_bundled_and_the_rerun_hits_the_cache(
    demo: Path, tmp_path: Path
) -> None:
    protocol = tmp_path / "model.yaml"
    data = str(demo / "data")
    protocol.write_text(_header(data) + _model_section(data, golden=GOLDEN) + CRITERIA)
    first = tmp_path / "first"
    assert _validate(protocol, first) == 0
    model_bundle = _bundle(first)
    events = _events(model_bundle)
    assert events["model.golden_checked"]["output_sha256"] == GOLDEN
    assert events["cache.used"]["stored"] == 6
    lock = json.loads((model_bundle / "lock.json").read_text())
    assert lock["runner"]["model_sha256"] == lock["model"]["sha256"]

    bundled_data = tmp_path / "bundled-data"
    _bundled_copy(demo / "data", bundled_data)
    bundled = tmp_path / "bundled.yaml"
    text = _header(str(bundled_data)) + CRITERIA
    text += "segmentation: {structures: {liver: 1, lesion: 2}, nsd_tolerance_mm: 2.0}\n"
    bundled.write_text(text)
    assert _validate(bundled, tmp_path / "bundled") == 0
    assert _numbers(model_bundle) == _numbers(_bundle(tmp_path / "bundled"))

    # the rerun serves every label map from the cache, verified, with the same evidence
    assert main(["validate", str(protocol), "--out", str(first), "--no-report", *FAST]) == 0
    # run IDs are the second plus random hex: two runs in one second need not sort in order
    (rerun,) = set((first / "SEG-MODEL-TEST").iterdir()) - {model_bundle}
    assert _events(rerun)["cache.used"]["hits"] == 6
    assert _numbers(rerun) == _numbers(model_bundle)
    assert (rerun / "cases.csv").read_bytes() == (model_bundle / "cases.csv").read_bytes()


@pytest.mark.req("DXV-TASKMODEL-004")
def test_a_golden_check_that_does_not_reproduce_is_exit_3(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = tmp_path / "model.yaml"
    data = str(demo / "data")
    protocol.write_text(_header(data) + _model_section(data, golden="f" * 64) + CRITERIA)
    assert _validate(protocol, tmp_path / "out") == 3
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("dxval: error: golden check failed: the model's 36864 float32")
    assert "model.reference.expected_sha256" in error
    assert not (tmp_path / "out" / "SEG-MODEL-TEST").exists()


@pytest.mark.req("DXV-TASKMODEL-005")
def test_a_declared_shape_the_artifact_contradicts_is_exit_2(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = tmp_path / "model.yaml"
    data = str(demo / "data")
    section = _model_section(data, shape="[null, 16, 48, 40]")
    protocol.write_text(_header(data) + section + CRITERIA)
    assert _validate(protocol, tmp_path / "out") == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "model.output 'labels': the protocol declares shape [null, 16, 48, 40]" in error
    assert "artifact has [null, 16, 48, 48] (model.output.shape)" in error
    assert not (tmp_path / "out" / "SEG-MODEL-TEST").exists()


@pytest.mark.req("DXV-TASKMODEL-001")
def test_an_output_kind_that_does_not_fit_the_task_is_exit_2_at_load(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(demo / "data")
    text = _header(data) + _model_section(data) + CRITERIA
    protocol = tmp_path / "model.yaml"
    protocol.write_text(text.replace("kind: mask", "kind: score"))
    code = main(["validate", str(protocol), "--out", str(tmp_path / "out"), "--no-report"])
    assert code == 2
    (error,) = capsys.readouterr().err.strip().splitlines()
    assert error.startswith(f"dxval: error: {protocol}:")
    assert error.endswith("model.output.kind: got 'score' for task: segmentation expected 'mask'")
    assert not (tmp_path / "out").exists()
