"""``kind: boxes`` in the harness: kept rows, per-case failures, width check, cache key."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from dxval.errors import UsageError
from dxval.inference import RunnerInfo
from dxval.inference.config import InputSpec, OutputSpec
from dxval.inference.harness import HarnessOptions, run_harness
from dxval.inference.outputs import BoxSpec, OutputKind, box_problem, kept_boxes
from dxval.inference.results import CaseInput, CaseStatus
from dxval.inference.runner import file_sha256

from .npy_loader import NpyLoader

SPEC = BoxSpec(shape=(None, 3, 5), score_floor=0.25)


class BoxRunner:
    """Stands in for a detector: the case's (3, 5) input is its boxes; optionally a wrong width."""

    def __init__(self, *, width: int | None = None) -> None:
        self.width = width

    @property
    def info(self) -> RunnerInfo:
        return RunnerInfo("stub", "1", "cpu", "npy", "stub", "0" * 64)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        flat = batch.reshape(batch.shape[0], -1)
        return flat if self.width is None else flat[:, : self.width]


def _cases(folder: Path, rows: list[list[list[float]]]) -> list[CaseInput]:
    cases = []
    for index, boxes in enumerate(rows):
        path = folder / f"case{index}.npy"
        np.save(path, np.asarray(boxes, dtype=np.float32))
        cases.append(CaseInput(f"C{index}", (path,), (file_sha256(path),)))
    return cases


def _options(tmp_path: Path, spec: BoxSpec = SPEC) -> HarnessOptions:
    return HarnessOptions(
        results_path=tmp_path / "results.jsonl",
        input_spec=InputSpec("image", (None, 3, 5)),
        output_spec=OutputSpec("boxes", kind=OutputKind.BOXES, boxes=spec),
        batch_size=2,
        preprocessing_digest="p" * 64,
        cache_dir=tmp_path / "cache",
    )


PAD = [0.0, 0.0, 0.0, 0.0, 0.0]
ROWS = [
    [[1, 2, 5, 6, 0.9], [3, 3, 4, 8, 0.25], PAD],  # two kept (>= floor), one padding row
    [PAD, PAD, PAD],  # nothing above the floor: zero marks, still scored
    [[5, 2, 1, 6, 0.9], PAD, PAD],  # x1 < x0 on a kept box
    [[9, 9, 1, 1, 0.1], PAD, PAD],  # a reversed box below the floor is padding: fine
    [[1, 2, 5, 6, float("nan")], PAD, PAD],  # NaN anywhere: failed
]


@pytest.mark.req("DXV-TASKBOX-001")
def test_kept_boxes_and_the_problems_of_a_row() -> None:
    flat = [float(value) for box in ROWS[0] for value in box]
    assert kept_boxes(flat, SPEC) == [(1, 2, 5, 6, 0.9), (3, 3, 4, 8, 0.25)]
    assert box_problem(flat, SPEC) is None
    reversed_box = [float(value) for box in ROWS[2] for value in box]
    code, reason = box_problem(reversed_box, SPEC) or ("", "")
    assert code == "invalid_box"
    assert reason == (
        "kept box 0 is (5, 2, 1, 6): expected x0 < x1 and y0 < y1 (x0, y0, x1, y1, score)"
    )
    assert box_problem([float(v) for box in ROWS[3] for v in box], SPEC) is None
    empty = [1.0, 1.0, 1.0, 4.0, 0.5] + PAD * 2  # x0 == x1: an empty box is refused too
    assert box_problem(empty, SPEC) is not None
    nan = [float(v) for box in ROWS[4] for v in box]
    assert box_problem(nan, SPEC) == (
        "non_finite_output",
        "the model returned 1 non-finite box values",
    )


@pytest.mark.req("DXV-TASKBOX-002", "DXV-TASKBOX-004")
def test_the_harness_keeps_box_rows_fails_bad_ones_and_serves_them_from_the_cache(
    tmp_path: Path,
) -> None:
    cases = _cases(tmp_path, ROWS)
    first = run_harness(cases, NpyLoader(), BoxRunner(), _options(tmp_path))
    assert (first.total, first.scored, first.failed) == (5, 3, 2)
    assert dict(first.failure_reasons) == {"invalid_box": 1, "non_finite_output": 1}
    results = {result.case_id: result for result in first.iter_results()}
    assert results["C0"].outputs == tuple(np.asarray(ROWS[0], dtype=np.float32).ravel().tolist())
    assert results["C1"].status is CaseStatus.SCORED
    assert results["C2"].reason_code == "invalid_box"

    second_options = replace(_options(tmp_path), results_path=tmp_path / "second.jsonl")
    second = run_harness(cases, NpyLoader(), BoxRunner(), second_options)
    assert second.cache_hits == 3  # failed cases are not cached: scored afresh, same result
    again = {result.case_id: result for result in second.iter_results()}
    assert {k: (r.status, r.outputs, r.reason_code) for k, r in again.items()} == {
        k: (r.status, r.outputs, r.reason_code) for k, r in results.items()
    }

    # the declaration is part of the cache key: another floor scores afresh
    other = BoxSpec(shape=(None, 3, 5), score_floor=0.5)
    third_options = replace(_options(tmp_path, other), results_path=tmp_path / "third.jsonl")
    assert run_harness(cases, NpyLoader(), BoxRunner(), third_options).cache_hits == 0


@pytest.mark.req("DXV-TASKBOX-005")
def test_a_box_output_of_another_width_stops_the_run_on_the_first_batch(tmp_path: Path) -> None:
    cases = _cases(tmp_path, ROWS[:2])
    with pytest.raises(UsageError) as raised:
        run_harness(cases, NpyLoader(), BoxRunner(width=10), _options(tmp_path))
    assert str(raised.value) == (
        "model.output 'boxes': the model returned 10 values per case, the declared shape "
        "[null, 3, 5] needs 15 (model.output.shape)"
    )
