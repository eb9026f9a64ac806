"""Mask outputs (issue 16 item 5): label maps, the harness, the cache and the golden check."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from dxval.errors import IntegrityError, UsageError
from dxval.inference import RunnerInfo
from dxval.inference.config import InputSpec, OutputSpec, ReferenceSpec
from dxval.inference.golden import make_reference, run_golden_check
from dxval.inference.harness import HarnessOptions, run_harness
from dxval.inference.outputs import (
    MaskEncoding,
    MaskSpec,
    MaskStore,
    OutputKind,
    label_map,
)
from dxval.inference.results import CaseInput, CaseStatus
from dxval.inference.runner import file_sha256

from .npy_loader import NpyLoader

CASE = (2, 3, 4)  # (slice, row, column)
LABELS = MaskSpec(shape=(None, *CASE), transpose=(1, 2, 0))


class LabelRunner:
    """Stands in for a segmentation model: labels = rounded input, optionally a wrong width."""

    def __init__(self, *, width: int | None = None) -> None:
        self.width = width
        self.rows = 0

    @property
    def info(self) -> RunnerInfo:
        return RunnerInfo("stub", "1", "cpu", "npy", "stub", "0" * 64)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        self.rows += batch.shape[0]
        flat = np.round(batch).reshape(batch.shape[0], -1)
        return flat if self.width is None else flat[:, : self.width]


def _cases(folder: Path, count: int, *, poison: int | None = None) -> list[CaseInput]:
    cases = []
    for index in range(count):
        array = (np.arange(24, dtype=np.float32).reshape(CASE) + index) % 3
        array[1, 2, 3] = 3 + index  # every case distinct (the cache is content-addressed)
        if index == poison:
            array[0, 0, 0] = np.nan
        path = folder / f"case{index}.npy"
        np.save(path, array)
        cases.append(CaseInput(f"C{index}", (path,), (file_sha256(path),)))
    return cases


def _options(tmp_path: Path, spec: MaskSpec = LABELS, *, cache: bool = True) -> HarnessOptions:
    return HarnessOptions(
        results_path=tmp_path / "results.jsonl",
        input_spec=InputSpec("image", (None, *CASE)),
        output_spec=OutputSpec("labels", kind=OutputKind.MASK, mask=spec),
        batch_size=2,
        preprocessing_digest="p" * 64,
        cache_dir=tmp_path / "cache" if cache else None,
    )


@pytest.mark.req("DXV-TASKMODEL-002")
def test_a_label_map_output_is_transposed_onto_the_truth_axes() -> None:
    raw = np.arange(24, dtype=np.float32) % 3
    labels = label_map(raw, LABELS)
    assert isinstance(labels, np.ndarray)
    assert labels.dtype == np.uint16
    assert labels.shape == (3, 4, 2)
    np.testing.assert_array_equal(labels, np.transpose(raw.reshape(CASE), (1, 2, 0)))


@pytest.mark.req("DXV-TASKMODEL-002")
def test_unusable_mask_values_are_a_case_failure_with_a_reason() -> None:
    assert label_map(np.full(24, 1.5, dtype=np.float32), LABELS)[0] == "invalid_mask_values"
    assert label_map(np.full(24, -1.0), LABELS)[0] == "invalid_mask_values"
    nan = np.zeros(24, dtype=np.float32)
    nan[3] = np.nan
    assert label_map(nan, LABELS) == (
        "non_finite_output",
        "the model returned 1 non-finite mask values",
    )


@pytest.mark.req("DXV-TASKMODEL-002")
def test_probabilities_take_the_most_probable_channel_at_or_above_the_threshold() -> None:
    # channels: background, liver (label 1), lesion (label 2); four voxels
    spec = MaskSpec(
        shape=(None, 3, 4),
        encoding=MaskEncoding.PROBABILITIES,
        channel_labels=(0, 1, 2),
        threshold=0.5,
    )
    probabilities = np.array(
        [
            [0.2, 0.6, 0.0, 0.0],  # background: never chosen
            [0.5, 0.3, 0.5, 0.49],  # liver
            [0.3, 0.1, 0.5, 0.51],  # lesion
        ],
        dtype=np.float32,
    )
    labels = label_map(probabilities.ravel(), spec)
    # 0.5 >= 0.5 is positive; 0.3 < 0.5 is background; a tie goes to the lower channel
    np.testing.assert_array_equal(labels, [1, 0, 1, 2])


@pytest.mark.req("DXV-TASKMODEL-003")
def test_the_harness_stores_masks_and_serves_them_from_the_cache(tmp_path: Path) -> None:
    cases = _cases(tmp_path, 5, poison=3)
    runner = LabelRunner()
    first = run_harness(cases, NpyLoader(), runner, _options(tmp_path))
    assert (first.total, first.scored, first.failed) == (5, 4, 1)  # no case dropped
    assert first.failure_reasons == {"non_finite_output": 1}
    results = {result.case_id: result for result in first.iter_results()}
    assert first.mask_store is not None
    for index in (0, 1, 2, 4):
        result = results[f"C{index}"]
        assert result.status is CaseStatus.SCORED
        assert result.score is None
        assert result.mask_sha256 is not None
        expected = np.transpose(np.load(cases[index].paths[0]), (1, 2, 0))
        np.testing.assert_array_equal(first.mask_store.read(result.mask_sha256), expected)
    assert first.mask_store.folder == tmp_path / "cache" / "masks"

    again = run_harness(cases, NpyLoader(), runner, _options(tmp_path))
    assert again.cache_hits == 4
    assert runner.rows == 6 + 2  # 3 padded batches of 2, then the uncached NaN case padded
    digests = {r.case_id: r.mask_sha256 for r in again.iter_results()}
    assert digests == {case_id: r.mask_sha256 for case_id, r in results.items()}

    # the output declaration is part of the cache key: another transpose misses
    other = MaskSpec(shape=(None, *CASE), transpose=(2, 1, 0))
    changed = run_harness(cases, NpyLoader(), runner, _options(tmp_path, other))
    assert changed.cache_hits == 0

    # a changed label map file is rejected, not served
    store = MaskStore(tmp_path / "cache" / "masks")
    victim = store.path(results["C0"].mask_sha256 or "")
    victim.write_bytes(victim.read_bytes() + b"tampered")
    third = run_harness(cases, NpyLoader(), runner, _options(tmp_path))
    assert (third.cache_hits, third.cache.rejected) == (3, 1)


@pytest.mark.req("DXV-TASKMODEL-005")
def test_an_output_of_another_size_stops_the_run_on_the_first_batch(tmp_path: Path) -> None:
    cases = _cases(tmp_path, 4)
    with pytest.raises(UsageError) as raised:
        run_harness(cases, NpyLoader(), LabelRunner(width=20), _options(tmp_path, cache=False))
    assert str(raised.value) == (
        "model.output 'labels': the model returned 20 values per case, the declared shape "
        "[null, 2, 3, 4] needs 24 (model.output.shape)"
    )


@pytest.mark.req("DXV-TASKMODEL-004")
def test_the_golden_check_of_a_mask_output_is_bit_for_bit(tmp_path: Path) -> None:
    reference = tmp_path / "reference.npy"
    np.save(reference, np.linspace(-1.0, 3.0, 24, dtype=np.float32).reshape(1, *CASE))
    spec = InputSpec("image", (None, *CASE))
    pins = make_reference(LabelRunner(), reference, spec, tolerance=0.0, digest=True)
    expected = np.round(np.linspace(-1.0, 3.0, 24, dtype=np.float32)).reshape(1, 24)
    assert pins["expected_sha256"] == hashlib.sha256(expected.tobytes()).hexdigest()
    pinned = ReferenceSpec(reference, None, (), 0.0, expected_sha256=pins["expected_sha256"])
    result = run_golden_check(pinned, LabelRunner(), spec)
    assert result.to_dict()["output_sha256"] == pins["expected_sha256"]
    moved = ReferenceSpec(reference, None, (), 0.0, expected_sha256="0" * 64)
    with pytest.raises(IntegrityError, match=r"golden check failed: the model's 24 float32"):
        run_golden_check(moved, LabelRunner(), spec)
