"""Concordance: differences, flips and paired tests between two runs of the same cases."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from dxval.errors import InputError, UsageError
from dxval.inference import CaseResult, CaseStatus, InferenceOptions, Runtime
from dxval.pipeline.concordance import (
    ComparisonStatus,
    compare_results,
    compare_scores,
    parse_against,
    run_concordance,
)

from .conftest import Artifacts, make_cases, make_config
from .npy_loader import NpyLoader


def test_flips_and_differences_are_counted_per_direction() -> None:
    result = compare_scores(
        ["a", "b", "c", "d", "e"],
        [True, True, False, False, True],
        [0.90, 0.55, 0.45, 0.10, None],
        [0.80, 0.45, 0.50, 0.10, 0.70],
        operating_point=0.5,
        reference_label="fp32",
        comparison_label="int8",
    )
    assert result.compared == 4
    assert result.flips == 2
    assert (result.flipped_to_negative, result.flipped_to_positive) == (1, 1)
    assert result.max_absolute_difference == pytest.approx(0.10)
    assert result.max_difference_case_id in {"a", "b"}
    by_id = {case.case_id: case for case in result.cases}
    assert [by_id[key].flipped for key in "abcd"] == [False, True, True, False]
    assert by_id["e"].status is ComparisonStatus.FAILED_IN_REFERENCE
    assert not by_id["e"].flipped
    assert result.failed == {
        "failed_in_reference": 1,
        "failed_in_comparison": 0,
        "failed_in_both": 0,
    }
    # sensitivity: positives a, b → reference correct on both, int8 on a only
    assert result.sensitivity.effect is not None
    assert result.sensitivity.effect.estimate == pytest.approx(0.5)
    # specificity: negatives c, d → reference correct on both, int8 on d only
    assert result.specificity.effect is not None
    assert result.specificity.effect.estimate == pytest.approx(0.5)
    summary = result.to_dict()
    assert summary["flipped_case_ids"] == ["b", "c"]
    json.dumps(summary, allow_nan=False)
    assert "int8 vs fp32: 4 of 5 cases compared" in result.summary()


def test_operating_point_is_inclusive() -> None:
    result = compare_scores(["a"], [True], [0.5], [0.4999999], operating_point=0.5)
    assert result.cases[0].reference_positive is True
    assert result.flips == 1


def test_identical_runs_have_no_differences_and_undefined_tests() -> None:
    scores = [0.1, 0.4, 0.6, 0.9]
    result = compare_scores(
        list("abcd"), [False, False, True, True], scores, scores, operating_point=0.5
    )
    assert result.max_absolute_difference == 0.0
    assert result.flips == 0
    assert result.sensitivity.reason == "no discordant pairs"
    assert result.auc.p_value is None
    assert result.auc.reason is not None


def test_unequal_lengths_and_non_finite_scores_are_input_errors() -> None:
    with pytest.raises(InputError, match=r"expected equal lengths, got \[1, 2\]"):
        compare_scores(["a"], [True], [0.1, 0.2], [0.1], operating_point=0.5)
    with pytest.raises(InputError, match=r"comparison scores must be finite"):
        compare_scores(["a"], [True], [0.1], [float("nan")], operating_point=0.5)


def test_a_case_missing_from_a_run_is_an_input_error() -> None:
    scored = CaseResult("a", 0.3, CaseStatus.SCORED)
    with pytest.raises(InputError, match=r"the comparison run has no result for 1 case, e.g. 'b'"):
        compare_results(
            [scored, CaseResult("b", 0.2, CaseStatus.SCORED)],
            [scored],
            {"a": True, "b": False},
            operating_point=0.5,
        )


def test_parse_against_devices_runtimes_and_artifacts(artifacts: Artifacts) -> None:
    model = make_config(artifacts.onnx)
    on_gpu = parse_against("cuda", model, device="cpu")
    assert (on_gpu.model, on_gpu.device) == (model, "cuda")
    assert on_gpu.label == "onnxruntime tiny.onnx on cuda"
    runtime = parse_against("torch", model, device="cpu")
    assert runtime.model.runtime is Runtime.TORCH
    assert runtime.model.path == model.path
    artifact = parse_against(str(artifacts.torchscript), model, device="cpu", against_sha256="ab")
    assert artifact.model.runtime is Runtime.TORCH
    assert artifact.model.sha256 == "ab"
    assert artifact.model.reference is None
    explicit = parse_against(f"onnxruntime:{artifacts.torchscript}", model, device="cpu")
    assert explicit.model.runtime is Runtime.ONNXRUNTIME
    with pytest.raises(UsageError, match=r"--against: got 'model\.bin'; expected cpu, cuda"):
        parse_against("model.bin", model, device="cpu")


def test_onnx_and_torchscript_exports_of_the_same_weights_agree(
    artifacts: Artifacts, case_paths: list[Path], tmp_path: Path
) -> None:
    """Acceptance: ONNX vs TorchScript of identical weights: max |Δ| ≤ 1e-5, no flips."""
    model = make_config(artifacts.onnx)
    cases = make_cases(case_paths)
    truth = {case.case_id: index % 2 == 0 for index, case in enumerate(cases)}
    counterpart = parse_against(str(artifacts.torchscript), model, device="cpu")
    run = run_concordance(
        model,
        counterpart,
        NpyLoader(),
        cases,
        truth,
        output=tmp_path / "out",
        preprocessing_digest="npy",
        options=InferenceOptions(workers=0, batch_size=8, threads=1, progress=False),
    )
    result = run.result
    assert result.compared == len(cases)
    assert result.max_absolute_difference is not None
    assert result.max_absolute_difference <= 1e-5
    assert result.flips == 0
    assert result.auc.difference.estimate == pytest.approx(0.0, abs=1e-12)
    with run.table_path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(cases)
    assert {row["flipped"] for row in rows} == {"no"}
    summary = json.loads(run.summary_path.read_text())
    assert summary["reference_run"]["runner"]["name"] == "onnxruntime"
    assert summary["comparison_run"]["runner"]["name"] == "torch"
    assert (tmp_path / "out" / "reference.jsonl").is_file()
