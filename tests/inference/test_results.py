"""Per-case results and their JSON Lines file."""

from __future__ import annotations

from pathlib import Path

import pytest

from dxval.inference import CaseResult, CaseStatus, read_results
from dxval.inference.results import ResultWriter


def test_results_round_trip_through_json_lines(tmp_path: Path) -> None:
    rows = [
        CaseResult("a", 0.25, CaseStatus.SCORED, outputs=(-1.0986122886681098,), decoder="x"),
        CaseResult("b", None, CaseStatus.FAILED, "not_dicom", "b.dcm is not DICOM"),
    ]
    path = tmp_path / "sub" / "results.jsonl"
    with ResultWriter(path) as writer:
        for row in rows:
            writer.write(row)
    assert list(read_results(path)) == rows


def test_nan_never_reaches_the_file(tmp_path: Path) -> None:
    with ResultWriter(tmp_path / "r.jsonl") as writer, pytest.raises(ValueError, match="JSON"):
        writer.write(CaseResult("a", float("nan"), CaseStatus.SCORED))


def test_writer_outside_its_block_refuses(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="outside its with-block"):
        ResultWriter(tmp_path / "r.jsonl").write(CaseResult("a", 0.1, CaseStatus.SCORED))
