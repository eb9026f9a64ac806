"""The harness: batch invariance, failures recorded, cache, executors, streamed results."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from dxval.errors import UsageError
from dxval.inference import (
    Activation,
    CaseInput,
    CaseResult,
    CaseStatus,
    HarnessOptions,
    HarnessResult,
    InferenceOptions,
    InlineExecutor,
    ModelConfig,
    OutputSpec,
    ProcessExecutor,
    Runner,
    load_runner,
    run_harness,
    score_cases,
    score_from_outputs,
)

from .conftest import Artifacts, make_cases, make_config
from .models import CASE_SHAPE
from .npy_loader import CountingRunner, NpyLoader


def _run(
    runner: Runner,
    cases: list[CaseInput],
    results_path: Path,
    *,
    config: ModelConfig,
    batch_size: int = 4,
    executor: object | None = None,
    cache_dir: Path | None = None,
    use_cache: bool = True,
) -> HarnessResult:
    options = HarnessOptions(
        results_path=results_path,
        input_spec=config.input,
        output_spec=config.output,
        batch_size=batch_size,
        preprocessing_digest="preprocessing-digest",
        cache_dir=cache_dir,
        use_cache=use_cache,
        executor=executor or InlineExecutor(),  # type: ignore[arg-type]
    )
    return run_harness(cases, NpyLoader(), runner, options)


def _scores(result: HarnessResult) -> dict[str, float | None]:
    return {row.case_id: row.score for row in result.iter_results()}


@pytest.fixture
def onnx_setup(artifacts: Artifacts) -> tuple[ModelConfig, Runner]:
    config = make_config(artifacts.onnx)
    return config, load_runner(config, threads=2)


@pytest.fixture
def torch_setup(artifacts: Artifacts) -> tuple[ModelConfig, Runner]:
    config = make_config(artifacts.torchscript)
    return config, load_runner(config, threads=2)


@pytest.mark.parametrize("setup", ["onnx_setup", "torch_setup"])
@pytest.mark.req("DXV-INFER-001")
def test_cpu_scores_are_bitwise_independent_of_batch_size(
    setup: str, case_paths: list[Path], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Batch size 1 vs 3, 8, 16 and 24 over the same cases: exact float equality."""
    config, runner = request.getfixturevalue(setup)
    cases = make_cases(case_paths)
    reference = _scores(_run(runner, cases, tmp_path / "b1.jsonl", config=config, batch_size=1))
    for batch_size in (3, 8, 16, 24):
        other = _run(
            runner, cases, tmp_path / f"b{batch_size}.jsonl", config=config, batch_size=batch_size
        )
        assert _scores(other) == reference


@pytest.mark.parametrize("setup", ["onnx_setup", "torch_setup"])
@pytest.mark.req("DXV-INFER-001")
def test_score_does_not_depend_on_batch_composition(
    setup: str, case_paths: list[Path], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Same batch size, cases shuffled into other batches and positions: bitwise equal."""
    config, runner = request.getfixturevalue(setup)
    cases = make_cases(case_paths)
    shuffled = [cases[index] for index in np.random.default_rng(11).permutation(len(cases))]
    first = _scores(_run(runner, cases, tmp_path / "a.jsonl", config=config, batch_size=5))
    second = _scores(_run(runner, shuffled, tmp_path / "b.jsonl", config=config, batch_size=5))
    assert first == second


def test_process_workers_give_the_inline_results(
    onnx_setup: tuple[ModelConfig, Runner], case_paths: list[Path], tmp_path: Path
) -> None:
    config, runner = onnx_setup
    cases = make_cases(case_paths)
    inline = _run(runner, cases, tmp_path / "inline.jsonl", config=config)
    pooled = _run(
        runner,
        cases,
        tmp_path / "pool.jsonl",
        config=config,
        executor=ProcessExecutor(2, max_in_flight=6, chunk_size=2),
    )
    assert _scores(pooled) == _scores(inline)
    assert pooled.executor["workers"] == 2
    assert [row.case_id for row in pooled.iter_results()] == [case.case_id for case in cases]


def _failure_cases(folder: Path, good: list[Path]) -> list[CaseInput]:
    folder.mkdir()
    bad = folder / "bad-0001.npy"
    bad.write_bytes(b"not an image")
    buggy = folder / "buggy-0002.npy"
    buggy.write_bytes(b"")
    wrong_shape = folder / "wide-0003.npy"
    np.save(wrong_shape, np.zeros((1, 16, 32), dtype=np.float32))
    non_finite = folder / "nan-0004.npy"
    image = np.zeros(CASE_SHAPE, dtype=np.float32)
    image[0, 3, 3] = np.nan
    np.save(non_finite, image)
    paths = [good[0], bad, good[1], buggy, wrong_shape, non_finite, good[2]]
    return [CaseInput(case_id=path.stem, paths=(path,)) for path in paths]


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.req("DXV-INFER-004")
def test_failing_cases_are_recorded_not_dropped(
    onnx_setup: tuple[ModelConfig, Runner], case_paths: list[Path], tmp_path: Path, workers: int
) -> None:
    config, runner = onnx_setup
    cases = _failure_cases(tmp_path / "cases", case_paths)
    executor = ProcessExecutor(2) if workers else InlineExecutor()
    result = _run(runner, cases, tmp_path / "r.jsonl", config=config, executor=executor)
    rows = {row.case_id: row for row in result.iter_results()}
    assert len(rows) == len(cases) == result.total == result.scored + result.failed
    assert (result.scored, result.failed) == (3, 4)
    assert rows["bad-0001"].reason_code == "not_dicom"
    assert rows["bad-0001"].reason == "bad-0001.npy is not a DICOM file"
    assert rows["buggy-0002"].reason_code == "loader_error"
    assert rows["buggy-0002"].reason == "ZeroDivisionError: division by zero in preprocessing"
    assert rows["wide-0003"].reason_code == "input_shape_mismatch"
    assert "shape [1, 16, 32], the model input needs [1, 16, 16]" in str(rows["wide-0003"].reason)
    assert rows["nan-0004"].reason_code == "non_finite_output"
    assert rows["nan-0004"].score is None
    assert rows["case-0000"].status is CaseStatus.SCORED
    assert rows["case-0000"].decoder == "numpy.load"
    assert result.failure_reasons == {
        "input_shape_mismatch": 1,
        "loader_error": 1,
        "non_finite_output": 1,
        "not_dicom": 1,
    }


@pytest.mark.req("DXV-INFER-004")
def test_worker_crash_fails_only_that_case(
    onnx_setup: tuple[ModelConfig, Runner], case_paths: list[Path], tmp_path: Path
) -> None:
    config, runner = onnx_setup
    crash = tmp_path / "crash-0001.npy"
    crash.write_bytes(b"")
    paths = [case_paths[0], crash, *case_paths[1:6]]
    cases = [CaseInput(case_id=path.stem, paths=(path,)) for path in paths]
    result = _run(
        runner,
        cases,
        tmp_path / "r.jsonl",
        config=config,
        executor=ProcessExecutor(2, max_in_flight=4),
    )
    rows = {row.case_id: row for row in result.iter_results()}
    assert rows["crash-0001"].reason_code == "worker_crashed"
    assert (result.total, result.failed) == (7, 1)
    assert sorted(rows) == sorted(case.case_id for case in cases)


def test_runtime_error_fails_only_the_offending_case(
    onnx_setup: tuple[ModelConfig, Runner], case_paths: list[Path], tmp_path: Path
) -> None:
    config, runner = onnx_setup

    class Picky:
        """Raises for any batch holding a case whose first pixel is exactly 0."""

        info = runner.info

        def predict(self, batch: np.ndarray) -> np.ndarray:
            if np.any(batch[:, 0, 0, 0] == 0.0):
                raise RuntimeError("kernel rejected the input")
            return runner.predict(batch)

    zero = tmp_path / "zero.npy"
    np.save(zero, np.zeros(CASE_SHAPE, dtype=np.float32))
    cases = make_cases([case_paths[0], zero, case_paths[1], case_paths[2]])
    result = _run(Picky(), cases, tmp_path / "r.jsonl", config=config, batch_size=4)
    rows = {row.case_id: row for row in result.iter_results()}
    assert rows["zero"].reason_code == "inference_error"
    assert rows["zero"].reason == "RuntimeError: kernel rejected the input"
    assert result.scored == 3


def test_infinite_output_is_a_case_failure(
    onnx_setup: tuple[ModelConfig, Runner], case_paths: list[Path], tmp_path: Path
) -> None:
    config, runner = onnx_setup

    class Overflowing:
        """Returns +inf as the second output of the first row of every batch."""

        info = runner.info

        def predict(self, batch: np.ndarray) -> np.ndarray:
            rows = runner.predict(batch)
            rows[0, 1] = np.inf
            return rows

    cases = make_cases(case_paths[:3])
    result = _run(Overflowing(), cases, tmp_path / "r.jsonl", config=config, batch_size=2)
    rows = {row.case_id: row for row in result.iter_results()}
    assert rows["case-0000"].reason_code == "non_finite_output"
    assert "inf" in str(rows["case-0000"].reason)
    assert rows["case-0002"].reason_code == "non_finite_output"  # first row of batch 2
    assert rows["case-0001"].status is CaseStatus.SCORED
    assert (result.scored, result.failed) == (1, 2)


@pytest.mark.req("DXV-INFER-005")
def test_cache_hit_skips_decode_and_inference(
    onnx_setup: tuple[ModelConfig, Runner], case_paths: list[Path], tmp_path: Path
) -> None:
    config, runner = onnx_setup
    cases = make_cases(case_paths[:10])
    cache_dir = tmp_path / "cache"
    counting = CountingRunner(runner)
    first = _run(counting, cases, tmp_path / "1.jsonl", config=config, cache_dir=cache_dir)
    assert counting.calls == 3  # 10 cases in batches of 4
    assert (first.cache.stored, first.cache.hits, first.cache_hits) == (10, 0, 0)
    counting.calls = 0
    second = _run(counting, cases, tmp_path / "2.jsonl", config=config, cache_dir=cache_dir)
    assert counting.calls == 0
    assert second.cache_hits == second.cache.hits == 10
    assert all(row.cache_hit for row in second.iter_results())
    assert sorted(second.cache_hit_case_ids()) == sorted(case.case_id for case in cases)
    assert _scores(second) == _scores(first)
    third = _run(
        counting, cases, tmp_path / "3.jsonl", config=config, cache_dir=cache_dir, use_cache=False
    )
    assert counting.calls == 3
    assert third.cache.enabled is False
    assert third.cache_hits == 0


@pytest.mark.req("DXV-INFER-005")
def test_cache_entries_are_verified_before_use(
    onnx_setup: tuple[ModelConfig, Runner], case_paths: list[Path], tmp_path: Path
) -> None:
    config, runner = onnx_setup
    cases = make_cases(case_paths[:3])
    cache_dir = tmp_path / "cache"
    first = _run(runner, cases, tmp_path / "1.jsonl", config=config, cache_dir=cache_dir)
    entry = next(cache_dir.rglob("*.json"))
    data = json.loads(entry.read_text())
    data["outputs"][0] += 0.5  # tampered; the entry's own digest no longer matches
    entry.write_text(json.dumps(data))
    counting = CountingRunner(runner)
    second = _run(counting, cases, tmp_path / "2.jsonl", config=config, cache_dir=cache_dir)
    assert second.cache.rejected == 1
    assert (second.cache_hits, counting.rows) == (2, 4)  # one case rescored, padded to 4
    assert _scores(second) == _scores(first)


def test_cache_key_changes_with_preprocessing_and_batch_size(
    onnx_setup: tuple[ModelConfig, Runner], case_paths: list[Path], tmp_path: Path
) -> None:
    config, runner = onnx_setup
    cases = make_cases(case_paths[:2])
    cache_dir = tmp_path / "cache"
    _run(runner, cases, tmp_path / "1.jsonl", config=config, cache_dir=cache_dir)
    other_batch = _run(
        runner, cases, tmp_path / "2.jsonl", config=config, cache_dir=cache_dir, batch_size=2
    )
    assert other_batch.cache_hits == 0
    options = HarnessOptions(
        results_path=tmp_path / "3.jsonl",
        input_spec=config.input,
        output_spec=config.output,
        batch_size=4,
        preprocessing_digest="another-preprocessing",
        cache_dir=cache_dir,
    )
    assert run_harness(cases, NpyLoader(), runner, options).cache_hits == 0


def test_cached_raw_outputs_follow_a_changed_activation(
    onnx_setup: tuple[ModelConfig, Runner], case_paths: list[Path], tmp_path: Path
) -> None:
    config, runner = onnx_setup
    cases = make_cases(case_paths[:2])
    cache_dir = tmp_path / "cache"
    _run(runner, cases, tmp_path / "1.jsonl", config=config, cache_dir=cache_dir)
    raw = replace(config, output=OutputSpec("score", Activation.NONE, 1))
    second = _run(runner, cases, tmp_path / "2.jsonl", config=raw, cache_dir=cache_dir)
    assert second.cache_hits == 2
    for row in second.iter_results():
        assert row.outputs is not None
        assert row.score == row.outputs[1]


def test_results_stream_to_json_lines(
    onnx_setup: tuple[ModelConfig, Runner], case_paths: list[Path], tmp_path: Path
) -> None:
    config, runner = onnx_setup
    result = _run(runner, make_cases(case_paths[:5]), tmp_path / "r.jsonl", config=config)
    lines = (tmp_path / "r.jsonl").read_text().splitlines()
    assert len(lines) == 5
    first = CaseResult.from_dict(json.loads(lines[0]))
    assert first == next(result.iter_results())
    assert json.loads(lines[0])["status"] == "scored"
    summary = result.to_dict()
    assert summary["total"] == 5
    assert summary["runner"]["name"] == "onnxruntime"


def test_score_from_outputs_applies_the_declared_activation() -> None:
    row = np.array([0.5, -1.5])
    assert score_from_outputs(row, OutputSpec("s", Activation.NONE, 1)) == -1.5
    assert score_from_outputs(row, OutputSpec("s", Activation.SIGMOID, 0)) == pytest.approx(
        1 / (1 + np.exp(-0.5)), abs=1e-16
    )
    softmax = score_from_outputs(row, OutputSpec("s", Activation.SOFTMAX, 0))
    assert softmax == pytest.approx(np.exp(0.5) / (np.exp(0.5) + np.exp(-1.5)), rel=1e-15)
    assert score_from_outputs(np.array([-800.0]), OutputSpec("s", Activation.SIGMOID, 0)) == 0.0


def test_score_cases_end_to_end_with_environment(
    artifacts: Artifacts, case_paths: list[Path], tmp_path: Path
) -> None:
    config = make_config(artifacts.torchscript)
    result = score_cases(
        config,
        NpyLoader(),
        make_cases(case_paths[:6]),
        results_path=tmp_path / "r.jsonl",
        preprocessing_digest="digest",
        options=InferenceOptions(
            workers=2, batch_size=4, threads=1, cache_dir=tmp_path / "cache", progress=False
        ),
    )
    assert (result.total, result.scored) == (6, 6)
    assert result.runner.name == "torch"
    assert result.environment["runners"][0]["determinism"]["use_deterministic_algorithms"]
    assert result.environment["executor"]["workers"] == 2


def test_bad_batch_size_and_workers_are_usage_errors(artifacts: Artifacts, tmp_path: Path) -> None:
    config = make_config(artifacts.onnx)
    common = {"results_path": tmp_path / "r.jsonl", "preprocessing_digest": "d"}
    with pytest.raises(UsageError, match=r"--batch-size: got 0, expected an integer >= 1"):
        score_cases(
            config, NpyLoader(), [], options=InferenceOptions(batch_size=0, threads=1), **common
        )  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=r"--workers: got -1"):
        score_cases(
            config, NpyLoader(), [], options=InferenceOptions(workers=-1, threads=1), **common
        )  # type: ignore[arg-type]


def test_dicom_case_loader_in_workers(tmp_path: Path) -> None:
    """Integration with dxval.dicom.loader.CaseLoader on real pydicom test files."""
    from pydicom.data import get_testdata_file

    from dxval.dicom.loader import CaseLoader
    from dxval.protocol.preprocessing import plain_steps

    from .models import make_weights, write_onnx

    config = make_config(write_onnx(make_weights(), tmp_path / "tiny.onnx"))
    loader = CaseLoader(
        plain_steps(
            [
                {"op": "modality_lut"},
                {"op": "window", "center": 40, "width": 400},
                {"op": "resize", "size": [16, 16], "method": "area"},
                {"op": "to_channels", "channels": 1},
            ]
        ),
        expected_shape=config.input.case_shape,
    )
    names = ("CT_small.dcm", "JPEG2000.dcm", "rtplan.dcm", "MR_small_RLE.dcm")
    cases = [CaseInput(name, (Path(str(get_testdata_file(name))),)) for name in names]
    result = score_cases(
        config,
        loader,
        cases,
        results_path=tmp_path / "r.jsonl",
        preprocessing_digest=loader.digest,
        options=InferenceOptions(
            workers=2, threads=1, cache_dir=tmp_path / "cache", progress=False
        ),
    )
    rows = {row.case_id: row for row in result.iter_results()}
    assert (result.scored, result.failed) == (3, 1)
    assert rows["rtplan.dcm"].reason_code == "no_pixel_data"
    assert str(rows["JPEG2000.dcm"].decoder).startswith("pylibjpeg-openjpeg ")
    assert str(rows["CT_small.dcm"].decoder).startswith("pydicom ")
    again = score_cases(
        config,
        loader,
        cases,
        results_path=tmp_path / "again.jsonl",
        preprocessing_digest=loader.digest,
        options=InferenceOptions(
            workers=2, threads=1, cache_dir=tmp_path / "cache", progress=False
        ),
    )
    assert again.cache_hits == 3
    assert {row.case_id: row.score for row in again.iter_results()} == {
        key: row.score for key, row in rows.items()
    }
