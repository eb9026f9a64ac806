"""Golden check: pinned input, pinned outputs, tolerance; refusal with exit 3 beyond it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from dxval.errors import ExitCode, IntegrityError, UsageError
from dxval.inference import (
    InferenceOptions,
    ReferenceSpec,
    file_sha256,
    load_runner,
    make_reference,
    run_golden_check,
    score_cases,
)

from .conftest import Artifacts, make_cases, make_config
from .models import CASE_SHAPE
from .npy_loader import NpyLoader


@pytest.fixture
def reference_input(tmp_path: Path) -> Path:
    path = tmp_path / "golden.npy"
    np.save(path, np.random.default_rng(3).normal(size=(4, *CASE_SHAPE)).astype(np.float32))
    return path


def _reference(pins: dict[str, object]) -> ReferenceSpec:
    return ReferenceSpec(
        input_path=Path(str(pins["input"])),
        input_sha256=str(pins["input_sha256"]),
        expected=tuple(pins["expected"]),  # type: ignore[arg-type]
        tolerance=float(pins["tolerance"]),  # type: ignore[arg-type]
    )


def test_reference_made_on_onnx_passes_on_torchscript(
    artifacts: Artifacts, reference_input: Path
) -> None:
    config = make_config(artifacts.onnx)
    pins = make_reference(
        load_runner(config, threads=1), reference_input, config.input, tolerance=1e-5
    )
    assert len(pins["expected"]) == 8  # 4 cases × 2 outputs
    torch_runner = load_runner(make_config(artifacts.torchscript), threads=1)
    result = run_golden_check(_reference(pins), torch_runner, config.input)
    assert result.max_abs_difference <= 1e-5
    assert result.to_dict()["passed"] is True


@pytest.mark.req("DXV-INFER-002")
def test_outputs_beyond_tolerance_refuse_with_exit_3(
    artifacts: Artifacts, reference_input: Path
) -> None:
    config = make_config(artifacts.onnx)
    runner = load_runner(config, threads=1)
    pins = make_reference(runner, reference_input, config.input, tolerance=1e-6)
    moved = list(pins["expected"])  # type: ignore[call-overload]
    moved[5] += 1e-3
    reference = replace(_reference(pins), expected=tuple(moved))
    with pytest.raises(IntegrityError, match=r"golden check failed: output\[5\] .*tolerance 1e-06"):
        run_golden_check(reference, runner, config.input)
    assert IntegrityError("x").exit_code == ExitCode.INTEGRITY


def test_changed_reference_input_is_an_integrity_error(
    artifacts: Artifacts, reference_input: Path
) -> None:
    config = make_config(artifacts.onnx)
    runner = load_runner(config, threads=1)
    reference = _reference(make_reference(runner, reference_input, config.input, tolerance=0.0))
    np.save(reference_input, np.zeros((4, *CASE_SHAPE), dtype=np.float32))
    with pytest.raises(IntegrityError, match=r"golden check: .*golden\.npy has SHA-256"):
        run_golden_check(reference, runner, config.input)


def test_wrong_number_of_expected_values(artifacts: Artifacts, reference_input: Path) -> None:
    config = make_config(artifacts.onnx)
    runner = load_runner(config, threads=1)
    reference = ReferenceSpec(reference_input, file_sha256(reference_input), (0.0,), 1.0)
    with pytest.raises(IntegrityError, match=r"gave 8 output values .* the protocol pins 1"):
        run_golden_check(reference, runner, config.input)


def test_missing_reference_input_is_exit_2(artifacts: Artifacts, tmp_path: Path) -> None:
    config = make_config(artifacts.onnx)
    reference = ReferenceSpec(tmp_path / "absent.npy", "0" * 64, (0.0,), 1.0)
    with pytest.raises(UsageError, match=r"model.reference.input: file not found"):
        run_golden_check(reference, load_runner(config, threads=1), config.input)


def test_reference_input_of_wrong_dtype_is_exit_2(artifacts: Artifacts, tmp_path: Path) -> None:
    path = tmp_path / "golden64.npy"
    np.save(path, np.zeros((1, *CASE_SHAPE), dtype=np.float64))
    config = make_config(artifacts.onnx)
    reference = ReferenceSpec(path, file_sha256(path), (0.0, 0.0), 1.0)
    with pytest.raises(UsageError, match=r"holds float64, expected float32"):
        run_golden_check(reference, load_runner(config, threads=1), config.input)


@pytest.mark.req("DXV-INFER-002")
def test_harness_runs_the_golden_check_before_any_case(
    artifacts: Artifacts, reference_input: Path, case_paths: list[Path], tmp_path: Path
) -> None:
    config = make_config(artifacts.onnx)
    pins = make_reference(
        load_runner(config, threads=1), reference_input, config.input, tolerance=0.0
    )
    good = replace(config, reference=_reference(pins))
    result = score_cases(
        good,
        NpyLoader(),
        make_cases(case_paths[:2]),
        results_path=tmp_path / "results.jsonl",
        preprocessing_digest="p",
        options=InferenceOptions(workers=0, threads=1, progress=False),
    )
    assert result.golden is not None
    assert result.golden.max_abs_difference == 0.0
    moved = tuple(value + 1.0 for value in pins["expected"])  # type: ignore[attr-defined]
    bad = replace(config, reference=replace(_reference(pins), expected=moved))
    results_path = tmp_path / "refused.jsonl"
    with pytest.raises(IntegrityError, match="golden check failed"):
        score_cases(
            bad,
            NpyLoader(),
            make_cases(case_paths[:2]),
            results_path=results_path,
            preprocessing_digest="p",
            options=InferenceOptions(workers=0, threads=1, progress=False),
        )
    assert not results_path.exists()
