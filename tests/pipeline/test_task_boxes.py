"""A frozen box-output detection model through the locked harness (issue 16 item 5).

The model (built here with onnx.helper) scores a fixed 4 x 4 grid of 8 x 8
anchors on its 32 x 32 input: anchor ``k = 4 i + j`` is the box ``(8 j, 8 i,
8 j + 8, 8 i + 8)`` with score ``sqrt(mean of the anchor's pixels) / 32`` (a
negative pixel mean gives NaN). The DICOM images are 64 rows x 96 columns,
spacing 0.5 x 0.8 mm, made of 2 x 3 blocks of one value, so the protocol's
``resize`` to 32 x 32 (area) is exact and the expected marks are computed
here in numpy: each anchor's box scaled by Columns / 32 = 3 and Rows / 32 = 2.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from dxval.cli import main
from dxval.pipeline.lock import lock_protocol
from dxval.stats.detection import Region

ROWS, COLUMNS, GRID = 64, 96, 32
FLOOR = 0.25
# per case: (site, model-grid regions (row0, row1, col0, col1, value), truth boxes in image px)
CASES: dict[str, tuple[str, list[tuple[int, int, int, int, int]], list[tuple[int, ...]]]] = {
    # a lesion the anchor (x 8..16, y 8..16) covers fully (score 1.0); a quarter-bright
    # anchor (x 24..32, y 0..8; score 0.5) where there is no lesion: a false positive
    "C1": ("a", [(8, 16, 8, 16, 1024), (0, 4, 24, 28, 1024)], [(24, 16, 48, 32)]),
    "C2": ("a", [], []),  # normal, dark: no box above the floor, zero marks
    "C3": ("b", [(16, 20, 16, 20, 1024)], [(48, 32, 72, 48)]),  # found at score 0.5
    "C4": ("b", [], [(0, 0, 24, 16)]),  # a lesion the model misses: zero marks, missed
    "C5": ("b", [(0, 8, 0, 8, 256)], []),  # a normal with a faint mark (score 0.5)
}
PROTOCOL = """\
dxval: 1
id: DET-BOX-MODEL
title: Box model through the harness
version: "1.0"
task: detection
device: {{name: Test detector, version: 0.1.0, intended_use: testing}}
detection:
  truth: lesions.csv
  localisation: {{distance_mm: 4}}
{source}
test_sets:
  - {{id: site-a, site: Site A, manifest: data/a.csv}}
  - {{id: site-b, site: Site B, manifest: data/b.csv}}
statistics: {{bootstrap: {{replicates: 200, seed: 7}}}}
qc: {{max_failed_fraction: 0.5, phi: warn}}
requirements:
  - id: DET-001
    text: Lesion sensitivity at least 0.5.
    criteria:
      - {{metric: lesion_sensitivity, op: ">=", value: 0.5}}
  - id: DET-002
    text: FPs per image at most 0.5 at each site.
    criteria:
      - {{metric: fp_per_image, population: {{each: site}}, op: "<=", value: 0.5}}
"""
MODEL = """\
model:
  path: anchors.onnx
  runtime: onnxruntime
  input: {{name: image, shape: [null, 32, 32]}}
  output: {{name: boxes, kind: boxes, shape: {shape}, score_floor: {floor}}}
  operating_point: 0.5
  reference: {{input: reference.npy, expected: {expected}, tolerance: 0.0}}
preprocessing:
  - {{op: modality_lut}}
  - {{op: resize, size: [32, 32], method: area}}"""
BUNDLED = "predictions: {path: marks.csv, operating_point: 0.5}"
FAST = ("--workers", "0", "--no-report")


def anchor_model() -> onnx.ModelProto:
    """The fixed-anchor box graph (module docstring), opset 13."""
    anchors = np.array(
        [[8 * j, 8 * i, 8 * j + 8, 8 * i + 8] for i in range(4) for j in range(4)],
        dtype=np.float32,
    )
    constants = [
        numpy_helper.from_array(np.array([-1, 4, 8, 4, 8], dtype=np.int64), "blocks"),
        numpy_helper.from_array(np.array([-1, 16, 1], dtype=np.int64), "column"),
        numpy_helper.from_array(np.array(1 / 32, dtype=np.float32), "inverse"),
        numpy_helper.from_array(np.zeros((16, 4), dtype=np.float32), "zeros"),
        numpy_helper.from_array(anchors, "anchors"),
    ]
    nodes = [
        helper.make_node("Reshape", ["image", "blocks"], ["tiles"]),
        helper.make_node("ReduceMean", ["tiles"], ["means"], axes=[2, 4], keepdims=0),
        helper.make_node("Reshape", ["means", "column"], ["flat"]),
        helper.make_node("Sqrt", ["flat"], ["root"]),
        helper.make_node("Mul", ["root", "inverse"], ["score"]),
        helper.make_node("Mul", ["score", "zeros"], ["nothing"]),  # NaN score → NaN box
        helper.make_node("Add", ["nothing", "anchors"], ["corners"]),
        helper.make_node("Concat", ["corners", "score"], ["boxes"], axis=2),
    ]
    graph = helper.make_graph(
        nodes,
        "anchors",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [None, GRID, GRID])],
        [helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [None, 16, 5])],
        constants,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _grid(regions: list[tuple[int, int, int, int, int]]) -> np.ndarray:
    grid = np.zeros((GRID, GRID), dtype=np.int16)
    for row0, row1, col0, col1, value in regions:
        grid[row0:row1, col0:col1] = value
    return grid


def _image(number: int, grid: np.ndarray) -> Dataset:
    """A synthetic DX image (signed 16-bit), each model-grid pixel a 2 x 3 block."""
    pixels = np.kron(grid, np.ones((ROWS // GRID, COLUMNS // GRID), dtype=np.int16))
    dataset = Dataset()
    dataset.file_meta = FileMetaDataset()
    dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset.SOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
    dataset.SOPInstanceUID = f"2.25.{7000 + number}"
    dataset.file_meta.MediaStorageSOPClassUID = dataset.SOPClassUID
    dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    dataset.StudyInstanceUID = f"2.25.{7100 + number}"
    dataset.SeriesInstanceUID = f"2.25.{7200 + number}"
    dataset.Modality = "DX"
    dataset.Rows, dataset.Columns = ROWS, COLUMNS
    dataset.PixelSpacing = [0.5, 0.8]
    dataset.SamplesPerPixel = 1
    dataset.PhotometricInterpretation = "MONOCHROME2"
    dataset.BitsAllocated = dataset.BitsStored = 16
    dataset.HighBit = 15
    dataset.PixelRepresentation = 1
    dataset.RescaleSlope, dataset.RescaleIntercept = 1, 0
    dataset.PixelData = pixels.astype("<i2").tobytes()
    return dataset


def _raw_rows(grid: np.ndarray) -> list[float]:
    """The model's 16 x 5 raw output for one input grid, in numpy (the golden check's pin)."""
    means = grid.astype(np.float32).reshape(4, 8, 4, 8).mean(axis=(1, 3), dtype=np.float32)
    scores = (np.sqrt(means) * np.float32(1 / 32)).reshape(16).tolist()
    return [
        float(value)
        for k, score in enumerate(scores)
        for value in (8 * (k % 4), 8 * (k // 4), 8 * (k % 4) + 8, 8 * (k // 4) + 8, score)
    ]


def expected_marks(grid: np.ndarray) -> list[tuple[float, float, float, float, float]]:
    """The model's kept boxes on the image grid, computed in numpy (float32 like the model)."""
    means = grid.astype(np.float32).reshape(4, 8, 4, 8).mean(axis=(1, 3), dtype=np.float32)
    with np.errstate(invalid="ignore"):  # a negative mean: NaN, as the model returns
        scores = np.sqrt(means).reshape(16) * np.float32(1 / 32)
    marks = []
    for k, score in enumerate(scores.tolist()):
        if score >= FLOOR:
            i, j = divmod(k, 4)
            x_scale, y_scale = COLUMNS / GRID, ROWS / GRID
            box = (8 * j * x_scale, 8 * i * y_scale, (8 * j + 8) * x_scale, (8 * i + 8) * y_scale)
            marks.append((*box, score))
    return marks


def write_study(
    folder: Path,
    cases: dict[str, Any] = CASES,
    *,
    shape: str = "[null, 16, 5]",
) -> Path:
    """Images, manifests, lesion truth, the expected marks as a CSV, the model; the protocols."""
    data = folder / "data"
    manifests: dict[str, list[str]] = {"a": ["case_id,path"], "b": ["case_id,path"]}
    lesions = ["case_id,lesion_id,x0,y0,x1,y1"]
    marks = ["case_id,mark_id,x0,y0,x1,y1,score"]
    for number, (case_id, (site, regions, truth)) in enumerate(cases.items()):
        (data / case_id).mkdir(parents=True)
        grid = _grid(regions)
        _image(number, grid).save_as(data / case_id / "image.dcm", enforce_file_format=True)
        manifests[site].append(f"{case_id},{case_id}")
        lesions += [f"{case_id},L{n},{','.join(map(str, box))}" for n, box in enumerate(truth)]
        if not truth:
            lesions.append(f"{case_id},,,,,")
        marks += [
            f"{case_id},m{n},{x0!r},{y0!r},{x1!r},{y1!r},{score!r}"
            for n, (x0, y0, x1, y1, score) in enumerate(expected_marks(grid))
        ]
    for site, rows in manifests.items():
        (data / f"{site}.csv").write_text("\n".join(rows) + "\n")
    (folder / "lesions.csv").write_text("\n".join(lesions) + "\n")
    (folder / "marks.csv").write_text("\n".join(marks) + "\n")
    onnx.save(anchor_model(), folder / "anchors.onnx")
    (folder / "bundled.yaml").write_text(PROTOCOL.format(source=BUNDLED))
    reference = _grid(CASES["C1"][1]).astype(np.float32)[np.newaxis]
    np.save(folder / "reference.npy", reference)
    model = MODEL.format(shape=shape, floor=FLOOR, expected=_raw_rows(reference[0]))
    (folder / "model.yaml").write_text(PROTOCOL.format(source=model))
    return folder


def _validate(protocol: Path, out: Path, *extra: str) -> int:
    lock_protocol(protocol)
    return main(["validate", str(protocol), "--out", str(out), *FAST, *extra])


def _bundle(out: Path) -> Path:
    return max((out / "DET-BOX-MODEL").iterdir())


def _numbers(bundle: Path) -> dict[str, Any]:
    document = json.loads((bundle / "detection.json").read_text())
    return {key: document[key] for key in ("populations", "cases", "localisation")}


def _rows(bundle: Path) -> dict[str, dict[str, str]]:
    text = (bundle / "cases.csv").read_text(encoding="utf-8")
    return {row["case_id"]: row for row in csv.DictReader(io.StringIO(text))}


def _events(bundle: Path) -> dict[str, Any]:
    lines = (bundle / "audit.jsonl").read_text().splitlines()
    return {entry["action"]: entry["object"] for entry in map(json.loads, lines)}


def test_the_fixture_model_computes_the_documented_boxes() -> None:
    """The graph's output equals the numpy description (so the CSV marks are independent)."""
    import onnxruntime

    session = onnxruntime.InferenceSession(anchor_model().SerializeToString())
    grid = _grid(CASES["C1"][1]).astype(np.float32)
    (boxes,) = session.run(None, {"image": grid[np.newaxis]})
    assert boxes.shape == (1, 16, 5)
    assert boxes[0, 5].tolist() == [8, 8, 16, 16, 1.0]  # anchor i=1, j=1
    assert boxes[0, 3].tolist() == [24, 0, 32, 8, 0.5]  # the quarter-bright anchor
    assert int(np.count_nonzero(boxes[0, :, 4] >= FLOOR)) == 2


@pytest.mark.req("DXV-TASKBOX-002", "DXV-TASKBOX-003")
def test_model_boxes_equal_the_same_boxes_as_a_marks_csv_and_the_rerun_hits_the_cache(
    tmp_path: Path,
) -> None:
    study = write_study(tmp_path)
    assert _validate(study / "bundled.yaml", tmp_path / "bundled") == 0
    bundled = _bundle(tmp_path / "bundled")
    assert _validate(study / "model.yaml", tmp_path / "model") == 0
    model = _bundle(tmp_path / "model")
    assert _numbers(model) == _numbers(bundled)
    overall = _numbers(model)["populations"][0]["statistics"]
    # 2 of 3 lesions found (C1 at 1.0, C3 at 0.5; C4 missed); FPs >= 0.5: C1's and C5's over 5
    assert overall["lesion_sensitivity"]["numerator"] == 2
    assert overall["lesion_sensitivity"]["denominator"] == 3
    assert overall["fp_per_image"]["estimate"] == pytest.approx(2 / 5)
    rows = _rows(model)
    assert rows["C4"]["reason_code"] == "no_marks"  # zero marks: counted, its lesion missed
    assert rows["C2"]["status"] == "scored"
    assert [rows[case]["score"] for case in CASES] == [
        _rows(bundled)[case]["score"] for case in CASES
    ]
    lock = json.loads((model / "lock.json").read_text())
    assert lock["runner"]["model_sha256"] == lock["model"]["sha256"]
    assert _events(model)["cache.used"]["stored"] == 5
    assert _events(model)["model.golden_checked"]["max_abs_difference"] == 0.0

    protocol = str(study / "model.yaml")
    assert main(["validate", protocol, "--out", str(tmp_path / "model"), *FAST]) == 0
    # run IDs are the second plus random hex: two runs in one second need not sort in order
    (rerun,) = set((tmp_path / "model" / "DET-BOX-MODEL").iterdir()) - {model}
    assert _events(rerun)["cache.used"]["hits"] == 5
    assert _numbers(rerun) == _numbers(model)
    assert (rerun / "cases.csv").read_bytes() == (model / "cases.csv").read_bytes()

    # the output declaration is part of the cache key: another score_floor misses
    text = (study / "model.yaml").read_text().replace("score_floor: 0.25", "score_floor: 0.3")
    (study / "model.yaml").write_text(text)
    assert _validate(study / "model.yaml", tmp_path / "model") == 0
    (changed,) = set((tmp_path / "model" / "DET-BOX-MODEL").iterdir()) - {model, rerun}
    assert _events(changed)["cache.used"]["hits"] == 0
    assert _numbers(changed) == _numbers(model)  # every kept score is 0.5 or 1.0


@pytest.mark.req("DXV-TASKBOX-004")
def test_a_nan_box_is_a_failed_case_with_its_reason_never_dropped(tmp_path: Path) -> None:
    cases = {**CASES, "C6": ("b", [(24, 32, 24, 32, -1024)], [(72, 48, 96, 64)])}
    study = write_study(tmp_path, cases)
    assert _validate(study / "model.yaml", tmp_path / "model") == 0
    bundle = _bundle(tmp_path / "model")
    rows = _rows(bundle)
    assert rows["C6"]["status"] == "failed"
    assert rows["C6"]["reason_code"] == "non_finite_output"
    assert "non-finite box values" in rows["C6"]["reason"]
    run = json.loads((bundle / "run.json").read_text())
    assert run["cases"] == {"total": 6, "scored": 5, "failed": 1}
    document = json.loads((bundle / "detection.json").read_text())
    case = next(item for item in document["cases"] if item["case_id"] == "C6")
    assert (case["lesions"], case["lesions_found"], case["case_score"]) == (1, 0, None)
    statistics = document["populations"][0]["statistics"]
    assert statistics["lesion_sensitivity"]["denominator"] == 4  # C6's lesion counted, missed


@pytest.mark.req("DXV-TASKBOX-005")
def test_an_output_of_another_shape_is_exit_2_before_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = write_study(tmp_path, shape="[null, 12, 5]")
    assert _validate(study / "model.yaml", tmp_path / "model") == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error == (
        "dxval: error: model anchors.onnx does not match the protocol's model section: "
        "model.output 'boxes': the protocol declares shape [null, 12, 5], "
        "artifact has [null, 16, 5] (model.output.shape)"
    )
    assert not (tmp_path / "model" / "DET-BOX-MODEL").exists()


def test_expected_scores_are_exact() -> None:
    """The fixture's scores are exact binary fractions (so CSV and model agree bit for bit)."""
    grid = _grid(CASES["C1"][1])
    assert [mark[4] for mark in expected_marks(grid)] == [0.5, 1.0]


@pytest.mark.req("DXV-TASKBOX-002", "DXV-TASKBOX-004")
def test_boxes_map_through_the_resize_and_a_box_outside_the_image_fails_the_case() -> None:
    from dxval.inference.outputs import BoxSpec
    from dxval.pipeline.task_model import _case_marks

    spec = BoxSpec(shape=(None, 2, 5), score_floor=0.25)
    row = [8.0, 4.0, 16.0, 12.0, 0.75, 0.0, 0.0, 0.0, 0.0, 0.0]
    # model input 32 x 32 (rows, columns); image 96 columns x 64 rows: x · 3, y · 2
    regions, scores = _case_marks(row, spec, (32, 32), (96.0, 64.0))
    assert scores == [0.75]
    assert regions is not None
    box = regions[0]
    assert (box.x0, box.y0, box.x1, box.y1) == (24.0, 8.0, 48.0, 24.0)
    assert _case_marks(row, spec, None, (96.0, 64.0))[0] == [Region.box(8, 4, 16, 12)]
    outside = [30.0, 4.0, 40.0, 12.0, 0.75, *row[5:]]
    assert _case_marks(outside, spec, (32, 32), (96.0, 64.0)) == (
        None,
        (
            "box_outside_image",
            "box (90, 8, 120, 24) on the image's pixel grid; expected within 0..96 x 0..64 pixels",
        ),
    )
    assert _case_marks(row, spec, (32, 32), None)[1][0] == "no_image_geometry"
    # nothing above the floor needs no geometry: zero marks
    assert _case_marks([0.0] * 10, spec, (32, 32), None) == ([], [])
