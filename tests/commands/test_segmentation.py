"""``dxval segmentation``: manifest in, per-case rows and summaries out; bad inputs as reasons."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dxval.cli import main
from dxval.stats.segmentation import segmentation_metrics

SPACING = (0.7, 0.7, 2.5)


def _cube(offset: int, shape: tuple[int, ...] = (12, 12, 6), label: int = 1) -> np.ndarray:
    mask = np.zeros(shape, dtype=np.uint8)
    mask[2 + offset : 8 + offset, 3:9, 1:4] = label
    return mask


def _npz(path: Path, mask: np.ndarray, spacing: tuple[float, ...] = SPACING) -> str:
    np.savez_compressed(path, mask=mask, spacing=np.array(spacing))
    return path.name


def _nifti(path: Path, mask: np.ndarray, spacing: tuple[float, ...] = SPACING) -> str:
    nibabel = pytest.importorskip("nibabel")
    image = nibabel.Nifti1Image(mask, np.diag([*spacing, 1.0]))
    nibabel.save(image, path)
    return path.name


def _manifest(folder: Path, rows: list[tuple[str, str, str]]) -> Path:
    path = folder / "manifest.csv"
    lines = ["case_id,truth,prediction", *(",".join(row) for row in rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(capsys: pytest.CaptureFixture[str], *arguments: str) -> dict[str, Any]:
    code = main(["segmentation", *arguments, "--json", "--bootstrap-replicates", "200"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data: dict[str, Any] = json.loads(captured.out)
    return data


@pytest.mark.req("DXV-TASK-003")
def test_manifest_of_npz_and_nifti_pairs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        ("c1", _npz(tmp_path / "t1.npz", _cube(0)), _npz(tmp_path / "p1.npz", _cube(1))),
        ("c2", _nifti(tmp_path / "t2.nii.gz", _cube(0)), _nifti(tmp_path / "p2.nii", _cube(2))),
        ("c3", _npz(tmp_path / "t3.npz", _cube(0)), _npz(tmp_path / "p3.npz", _cube(0) * 0)),
    ]
    data = _run(capsys, str(_manifest(tmp_path, rows)), "--nsd-tolerance", "1.0")
    assert [case["case_id"] for case in data["cases"]] == ["c1", "c2", "c3"]
    assert list(data["cases"][0]) == [
        "case_id", "dice", "iou", "hd", "hd95", "assd", "nsd",
        "volume_truth_ml", "volume_prediction_ml", "status", "reason",
    ]  # fmt: skip
    expected = segmentation_metrics(_cube(0) == 1, _cube(2) == 1, SPACING, tolerance=1.0)
    assert data["cases"][1]["hd95"] == pytest.approx(expected.hd95)
    assert data["cases"][1]["dice"] == expected.dice
    assert data["cases"][2]["status"] == "undefined"
    assert data["cases"][2]["reason"] == "empty_prediction"
    assert data["counts"] == {"cases": 3, "ok": 2, "undefined": 1, "error": 0}
    dice = data["summary"]["dice"]["mean"]
    assert set(dice) >= {"estimate", "low", "high", "method", "confidence_level", "n"}
    assert dice["n"] == 3
    assert data["summary"]["hd95"]["median"]["n"] == 2
    assert data["summary"]["hd95"]["cases_undefined"] == 1
    assert main(["segmentation", str(tmp_path / "manifest.csv")]) == 0
    table = capsys.readouterr().out
    assert "c3: undefined (empty_prediction)" in table
    assert table.splitlines()[1].startswith("dice")


@pytest.mark.req("DXV-TASK-004")
def test_grid_mismatch_and_unreadable_cases_are_listed_with_reasons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        ("ok", _npz(tmp_path / "t.npz", _cube(0)), _npz(tmp_path / "p.npz", _cube(1))),
        ("shape", "t.npz", _npz(tmp_path / "ps.npz", _cube(0, shape=(12, 12, 7)))),
        ("spacing", "t.npz", _npz(tmp_path / "pp.npz", _cube(0), spacing=(0.7, 0.7, 3.0))),
        ("missing", "t.npz", "nowhere.npz"),
        ("format", "t.npz", "manifest.csv"),
    ]
    data = _run(capsys, str(_manifest(tmp_path, rows)), "--label", "1")
    reasons = {case["case_id"]: case["reason"] for case in data["cases"]}
    assert reasons["ok"] is None
    assert reasons["shape"] == "shape_mismatch: truth (12, 12, 6), prediction (12, 12, 7)"
    assert reasons["spacing"].startswith("spacing_mismatch: truth (0.7, 0.7, 2.5) mm")
    assert reasons["missing"].startswith("unreadable: ")
    assert "no such file" in reasons["missing"]
    assert "unknown mask format" in reasons["format"]
    assert data["counts"]["error"] == 4
    assert all(case["dice"] is None for case in data["cases"][1:])


@pytest.mark.req("DXV-TASK-004")
def test_label_selects_the_structure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    truth = _cube(0) + _cube(3, label=2) * (_cube(0) == 0)
    rows = [("c", _npz(tmp_path / "t.npz", truth), _npz(tmp_path / "p.npz", truth))]
    data = _run(capsys, str(_manifest(tmp_path, rows)), "--label", "2")
    assert data["label"] == 2
    assert data["cases"][0]["dice"] == 1.0
    assert data["cases"][0]["volume_truth_ml"] == pytest.approx(
        np.sum(truth == 2) * 0.7 * 0.7 * 2.5 / 1000
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("case_id,truth\nc,t.npz\n", "missing column prediction"),
        ("case_id,truth,prediction\nc,t.npz,p.npz\nc,t.npz,p.npz\n", "case_id repeated"),
        ("case_id,truth,prediction\n", "no cases"),
        ("case_id,truth,prediction\nc,,p.npz\n", ":2: empty truth"),
    ],
)
def test_bad_manifest_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "m.csv"
    path.write_text(content)
    assert main(["segmentation", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().startswith("dxval: error:")
    assert message in captured.err
    assert "Traceback" not in captured.err


def test_npz_without_spacing_and_float_masks_are_reasons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    np.savez(tmp_path / "nospacing.npz", mask=_cube(0))
    np.savez(tmp_path / "soft.npz", mask=_cube(0) * 0.5, spacing=np.array(SPACING))
    _npz(tmp_path / "t.npz", _cube(0))
    rows = [("a", "t.npz", "nospacing.npz"), ("b", "t.npz", "soft.npz")]
    data = _run(capsys, str(_manifest(tmp_path, rows)))
    assert "missing array ['spacing']" in data["cases"][0]["reason"]
    assert "non-integer values" in data["cases"][1]["reason"]
