"""``validate`` on detection and segmentation protocols: end to end, evidence, bad inputs."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.task_bundles import LESIONS, MARKS, write_detection

from dxval.cli import main
from dxval.pipeline.lock import lock_protocol

# The protocols and data are in tests/task_bundles.py (shared with the report tests); the
# segmentation_protocol fixture is in tests/conftest.py.


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def _validate(protocol: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["validate", str(protocol), "--out", str(out), "--no-report"])
    return code, capsys.readouterr().err


def _bundle(out: Path, protocol_id: str) -> Path:
    (bundle,) = (out / protocol_id).iterdir()
    return bundle


@pytest.mark.req("DXV-TASK-009")
def test_segmentation_protocol_end_to_end(
    segmentation_protocol: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "evidence"
    code, err = _validate(segmentation_protocol, out, capsys)
    assert code in (0, 1), err
    bundle = _bundle(out, "SEG-E2E")
    document: dict[str, Any] = json.loads((bundle / "segmentation.json").read_text())
    assert len(document["cases"]) == 9 * 2  # every case, every structure
    # Dice from an exact numpy count of the files (independent of dxval's readers).
    first = next(
        c for c in document["cases"] if c["case_id"] == "AS001" and c["structure"] == "liver"
    )
    folder = tmp_path / "data" / "site-a" / "cases" / "AS001"
    truth = np.load(folder / "truth.npz")["mask"] == 1
    predicted = np.load(folder / "prediction.npz")["mask"] == 1
    both = int(np.count_nonzero(truth & predicted))
    assert first["dice"] == 2 * both / (int(truth.sum()) + int(predicted.sum()))
    # The case without a predicted mask is counted as missed, never dropped.
    missed = [c for c in document["cases"] if c["case_id"] == "CS003"]
    assert [c["dice"] for c in missed] == [0.0, 0.0]
    assert {c["reason"] for c in missed} == {"empty_prediction"}
    rows = {row["case_id"]: row for row in _rows(bundle / "cases.csv")}
    assert len(rows) == 9
    assert rows["CS003"]["reason_code"] == "no_prediction"
    assert rows["CS003"]["status"] == "scored"
    populations = {p["key"]: p for p in document["populations"]}
    assert {"all", "site=Site A", "site=Site B", "site=Site C"} <= set(populations)
    mean = populations["site=Site C"]["structures"]["liver"]["dice"]["mean"]
    assert {"estimate", "low", "high", "method", "confidence_level", "n"} <= set(mean)
    assert mean["n"] == 3
    site_c = [
        c["dice"] for c in document["cases"] if c["site"] == "Site C" and c["structure"] == "liver"
    ]
    assert mean["estimate"] == pytest.approx(sum(site_c) / 3)
    criteria = json.loads((bundle / "criteria.json").read_text())
    first_criterion = criteria["requirements"][0]["criteria"][0]
    assert len(first_criterion["populations"]) == 3
    assert first_criterion["observed"] == pytest.approx(
        min(p["structures"]["liver"]["dice"]["mean"]["estimate"]
            for key, p in populations.items() if key.startswith("site="))
    )  # fmt: skip
    run = json.loads((bundle / "run.json").read_text())
    assert run["task"] == "segmentation"
    assert run["exit_code"] == code
    assert main(["verify", str(bundle)]) == 0


@pytest.mark.req("DXV-TASK-009")
def test_segmentation_grid_mismatch_is_a_reason_and_counts_toward_qc(
    segmentation_protocol: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prediction = tmp_path / "data" / "site-b" / "cases" / "BS002" / "prediction.npz"
    np.savez(prediction, mask=np.zeros((48, 48, 15), dtype=np.uint8), spacing=[0.7, 0.7, 3.0])
    lock_protocol(segmentation_protocol)
    out = tmp_path / "evidence"
    code, err = _validate(segmentation_protocol, out, capsys)
    rows = {row["case_id"]: row for row in _rows(_bundle(out, "SEG-E2E") / "cases.csv")}
    assert rows["BS002"]["status"] == "failed"
    assert rows["BS002"]["reason_code"] == "shape_mismatch"
    assert "truth (48, 48, 16), prediction (48, 48, 15)" in rows["BS002"]["reason"]
    assert code in (0, 1), err  # 1 of 9 failed: within qc.max_failed_fraction 0.2
    segmentation_protocol.write_text(
        segmentation_protocol.read_text().replace(
            "max_failed_fraction: 0.2", "max_failed_fraction: 0.1"
        )
    )
    code, err = _validate(segmentation_protocol, tmp_path / "evidence-2", capsys)
    assert code == 4
    assert "run incomplete: 11.11% of cases are non-evaluable" in err


@pytest.mark.req("DXV-TASK-009")
def test_a_mask_outside_the_pinned_files_is_exit_2(
    segmentation_protocol: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "data" / "site-a" / "manifest.csv"
    (tmp_path / "data" / "site-a" / "elsewhere.npz").write_bytes(b"")
    manifest.write_text(manifest.read_text().replace("cases/AS002/prediction.npz", "elsewhere.npz"))
    lock_protocol(segmentation_protocol)
    code, err = _validate(segmentation_protocol, tmp_path / "evidence", capsys)
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        f"dxval: error: {manifest}:3: prediction_mask: 'elsewhere.npz' is not among the files "
        "of the row's path column; expected a file under `path` (so the test-set pin covers it)"
    )
    assert not (tmp_path / "evidence" / "SEG-E2E").exists()


@pytest.mark.req("DXV-TASK-008")
def test_detection_protocol_reproduces_the_hand_built_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "evidence"
    code, err = _validate(write_detection(tmp_path), out, capsys)
    bundle = _bundle(out, "DET-E2E")
    document: dict[str, Any] = json.loads((bundle / "detection.json").read_text())
    overall = document["populations"][0]
    assert overall["key"] == "all"
    assert (overall["cases"], overall["abnormal_cases"], overall["lesions"]) == (5, 3, 4)
    statistics = overall["statistics"]
    assert statistics["lesion_sensitivity"]["estimate"] == 0.5  # 2 of 4 lesions
    assert statistics["lesion_sensitivity"]["numerator"] == 2
    assert statistics["fp_per_image"]["estimate"] == pytest.approx(0.4)  # 2 FPs ≥ 0.5 / 5
    assert statistics["wafroc_fom"]["estimate"] == pytest.approx(11 / 24)
    assert overall["froc"]["sensitivity"] == pytest.approx([0, 0.25, 0.25, 0.25, 0.5, 0.5, 0.5])
    sites = {p["key"]: p for p in document["populations"] if p["kind"] == "site"}
    # Site A holds A, B, C: 2 FPs at >= 0.5 (A's m2 is a second mark on L1; C's m5) over 3.
    assert sites["site=Site A"]["statistics"]["fp_per_image"]["estimate"] == pytest.approx(2 / 3)
    assert sites["site=Site B"]["statistics"]["fp_per_image"]["estimate"] == 0.0
    case_e = next(case for case in document["cases"] if case["case_id"] == "E")
    assert (case_e["lesions"], case_e["lesions_found"], case_e["case_score"]) == (1, 0, None)
    rows = {row["case_id"]: row for row in _rows(bundle / "cases.csv")}
    assert rows["E"]["reason_code"] == "no_marks"
    assert rows["E"]["truth_label"] == "abnormal"
    assert rows["D"]["truth_label"] == "normal"
    criteria = json.loads((bundle / "criteria.json").read_text())
    verdicts = [r["verdict"] for r in criteria["requirements"]]
    assert verdicts == ["pass", "fail"]  # 0.5 >= 0.5; Site A 0.667 > 0.5
    assert code == 1, err
    assert document["localisation"]["criterion"] == "iou"
    assert main(["verify", str(bundle)]) == 0


@pytest.mark.req("DXV-TASK-008")
@pytest.mark.parametrize(
    ("lesions", "marks", "message"),
    [
        (LESIONS + "F,L9,0,0,10,10,64,64\n", MARKS, "lesions.csv: case 'F' is in the lesion truth "
         "but in no test-set manifest"),
        (LESIONS, MARKS + "A,m7,60,60,70,70,0.4\n", "marks.csv:8: mark outside the image"),
        (LESIONS, MARKS + "Z,m8,1,1,2,2,0.4\n", "marks.csv:8: case 'Z' is not in the truth"),
    ],
)  # fmt: skip
def test_detection_bad_inputs_exit_2_before_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lesions: str, marks: str, message: str
) -> None:
    protocol = write_detection(tmp_path, lesions, marks)
    code, err = _validate(protocol, tmp_path / "evidence", capsys)
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith("dxval: error:")
    assert message in last
    assert not (tmp_path / "evidence" / "DET-E2E").exists()


@pytest.mark.req("DXV-TASK-008")
def test_a_changed_lesion_truth_file_is_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = write_detection(tmp_path)
    (tmp_path / "lesions.csv").write_text(LESIONS.replace("A,L2,20,20,30,30", "A,L2,21,20,30,30"))
    code, err = _validate(protocol, tmp_path / "evidence", capsys)
    assert code == 3
    assert "detection truth file" in err
