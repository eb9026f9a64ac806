"""The latency study on recorded timings: hardware identity and when criteria are judged (issue 19).

No model runs here: a :class:`ModelScores` with timings and a runtime record
as the harness writes them (a GPU run on an A100), so the GPU-name case of the
acceptance point is covered without a GPU.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from dxval.inference.hardware import HardwareIdentity, run_hardware
from dxval.inference.timing import CaseTiming
from dxval.pipeline.latency import LatencyPlan, latency_study
from dxval.pipeline.score import ModelScores
from dxval.stats.results import Status

A100 = "NVIDIA A100-SXM4-80GB"


def _runtime(device: str = "cuda", gpu: str = A100, executor: str = "inline") -> dict[str, Any]:
    return {
        "runners": [{"device": device}],
        "cpu": {"model": "AMD EPYC 7B13", "usable_cores": 16},
        "gpus": {"devices": [{"name": gpu}], "driver_cuda_version": "12.4"},
        "torch": {"loaded": False},
        "executor": {"name": executor},
    }


def _run(count: int = 30, *, cached: int = 0, runtime: dict[str, Any] | None = None) -> ModelScores:
    timings: dict[str, CaseTiming | None] = {}
    scores: dict[str, float | None] = {}
    for index in range(count):
        case_id = f"c{index:02d}"
        scores[case_id] = 0.5
        timings[case_id] = CaseTiming(
            "done",
            decode_ns=1_000_000 * (index + 1),
            preprocess_ns=500_000,
            load_ns=1_000_000 * (index + 1) + 500_000,
            inference_ns=2_000_000,
            end_to_end_ns=10_000_000 * (index + 1),
            batch_cases=16,
        )
    for index in range(cached):
        case_id = f"h{index:02d}"
        scores[case_id] = 0.5
        timings[case_id] = None
    return ModelScores(
        scores=scores,
        failures={},
        decoders={},
        preprocessing_digest="0" * 64,
        runner={},
        cache={},
        cache_hit_case_ids=tuple(f"h{index:02d}" for index in range(cached)),
        golden=None,
        environment=runtime if runtime is not None else _runtime(),
        timings=timings,
    )


def _plan(
    name: str | None = "NVIDIA H100 80GB HBM3", device: str = "cuda", **extra: Any
) -> LatencyPlan:
    return LatencyPlan(
        HardwareIdentity(device, name, extra.get("count")),
        extra.get("stage", "end_to_end"),
        extra.get("minimum_timed", 20),
    )


@pytest.mark.req("DXV-LAT-003")
def test_another_gpu_makes_every_latency_estimate_undefined_with_the_reason() -> None:
    run = _run()
    study = latency_study(list(run.scores), run, _plan(), confidence_level=0.95)
    expected = (
        "run on cuda, NVIDIA A100-SXM4-80GB (1 GPU), criterion states cuda, NVIDIA H100 80GB HBM3"
    )
    assert set(study.estimates) == {"latency_p50", "latency_p95", "latency_max"}
    for estimate in study.estimates.values():
        assert estimate.status is Status.UNDEFINED
        assert estimate.estimate is None
        assert estimate.reason == expected
    assert study.document["criteria_reason"] == expected
    # the timings themselves are still summarised for the report
    stages = {item["stage"]: item for item in study.document["stages"]}
    assert stages["end_to_end"]["p50"]["estimate"] == 0.15


@pytest.mark.req("DXV-LAT-003")
@pytest.mark.parametrize(
    ("plan", "judged"),
    [
        (_plan("nvidia  a100-sxm4-80gb"), True),  # case and spaces folded
        (_plan(A100, count=1), True),
        (_plan(A100, count=2), False),
        (_plan(None, device="cpu"), False),
    ],
)
def test_hardware_comparison(plan: LatencyPlan, *, judged: bool) -> None:
    run = _run()
    study = latency_study(list(run.scores), run, plan, confidence_level=0.95)
    assert (study.document["criteria_reason"] is None) == judged


@pytest.mark.req("DXV-LAT-004")
def test_matching_hardware_gives_the_percentiles_of_the_stated_stage() -> None:
    run = _run(cached=5)
    study = latency_study(
        list(run.scores), run, _plan(A100, stage="inference"), confidence_level=0.95
    )
    p95 = study.estimates["latency_p95"]
    assert p95.estimate == 0.002
    assert p95.n == 30  # the 5 cache hits are not timed, not zero
    end_to_end = latency_study(list(run.scores), run, _plan(A100), confidence_level=0.95)
    assert end_to_end.estimates["latency_p50"].estimate == 0.15  # rank 15 of 30
    assert end_to_end.estimates["latency_max"].estimate == 0.3


@pytest.mark.req("DXV-LAT-002")
def test_too_few_timed_cases_is_undefined_with_the_counts() -> None:
    run = _run(count=3, cached=40)
    study = latency_study(list(run.scores), run, _plan(A100), confidence_level=0.95)
    reason = study.estimates["latency_p95"].reason
    assert reason == (
        "3 scored cases timed at stage end_to_end in this run, fewer than "
        "latency.minimum_timed 20 (40 not timed (cache hit))"
    )
    rows = list(csv.DictReader(io.StringIO(study.cases_csv.decode())))
    assert sum(row["timing"] == "not timed (cache hit)" for row in rows) == 40
    assert all(row["end_to_end_s"] == "" for row in rows if row["case_id"].startswith("h"))


def test_run_hardware_reads_the_runtime_record() -> None:
    assert run_hardware(_runtime()) == HardwareIdentity("cuda", A100, 1)
    cpu = run_hardware(_runtime(device="cpu"))
    assert cpu == HardwareIdentity("cpu", "AMD EPYC 7B13", 16)
    assert cpu.describe() == "cpu, AMD EPYC 7B13 (16 cores)"
    assert run_hardware(_runtime(device="tensorrt")).device == "cuda"
    ray = run_hardware(_runtime(executor="ray"))
    assert ray.name is None
    assert ray.differences(HardwareIdentity("cuda", A100)) == ["name"]
