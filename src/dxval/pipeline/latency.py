"""The latency study of a model run (issue 19): ``latency.csv``, ``latency.json`` and criteria.

From the per-case timings the harness recorded (:mod:`dxval.inference.timing`
says what each stage's time is) and the hardware the run scored on
(:mod:`dxval.inference.hardware`), :func:`latency_study` builds

- ``latency.csv``: one row per case in manifest order, with its stage times
  in seconds, or why it was not timed (``not timed (cache hit)``, a failure
  with the stage it reached);
- ``latency.json``: for each stage, the nearest-rank p50 and p95 with their
  distribution-free intervals and the maximum, over the **scored cases timed
  in this run** (n given; failed cases are listed, not summarised: a failure
  has no result whose latency could be measured), the counts not timed and
  why, the run's hardware identity and the protocol's ``latency:`` section;
- the estimates of the ``latency_*`` criteria, for the stage the protocol
  states. A run on other hardware than the protocol states, or with fewer
  timed cases than ``latency.minimum_timed``, gives undefined estimates with
  the reason, so such a criterion is never met.

Timings differ from run to run, so they stay out of ``cases.csv``,
``metrics.json`` and every file compared byte for byte across runs; the
bundle's manifest covers the two latency files like every other.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dxval.inference.hardware import HardwareIdentity, run_hardware
from dxval.inference.timing import STAGES, CaseTiming
from dxval.stats.results import Estimate
from dxval.stats.vocabulary import LATENCY_METRICS

if TYPE_CHECKING:  # the plan imports this module; the run's records only at run time
    from dxval.pipeline.score import ModelScores

__all__ = ["LATENCY_SCHEMA", "LatencyPlan", "LatencyStudy", "latency_plan", "latency_study"]

LATENCY_SCHEMA = "dxval-latency/1"
CACHE_HIT = "not timed (cache hit)"

#: What each stage's time is, as written into latency.json and the report.
STAGE_DEFINITIONS = {
    "decode": "reading and decoding the case's files",
    "preprocess": "the preprocessing steps and the shape check",
    "load": "decode + preprocess (one loader call)",
    "inference": "wall time of the model call for the case's batch",
    "end_to_end": "start of the case's decode to the end of its batch",
}

_COLUMNS = (
    "case_id",
    "status",
    "timing",
    "stage_reached",
    *(f"{stage}_s" for stage in STAGES),
    "batch_cases",
)


@dataclass(frozen=True, slots=True)
class LatencyPlan:
    """The protocol's ``latency:`` section as plain values."""

    hardware: HardwareIdentity
    stage: str
    minimum_timed: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (``latency.json`` ``stated``)."""
        return {
            "hardware": self.hardware.to_dict(),
            "stage": self.stage,
            "minimum_timed": self.minimum_timed,
        }


def latency_plan(section: Any) -> LatencyPlan | None:
    """Plain values of a :class:`dxval.protocol.latency.Latency` section (``None``: none)."""
    if section is None:
        return None
    hardware = section.hardware
    name = hardware.gpu if hardware.device == "cuda" else hardware.cpu_model
    stated = HardwareIdentity(hardware.device, name, hardware.count)
    return LatencyPlan(stated, section.stage, section.minimum_timed)


@dataclass(frozen=True, slots=True)
class LatencyStudy:
    """What the latency study adds to a run: two bundle files and the criteria's estimates."""

    cases_csv: bytes
    document: dict[str, Any]
    estimates: dict[str, Estimate]


def _seconds(value: int | None) -> str:
    return "" if value is None else f"{value / 1e9:.9f}"


def _timing_text(status: str, timing: CaseTiming | None, cache_hit: bool) -> str:
    if cache_hit:
        return CACHE_HIT
    if timing is None:
        return "not timed (no timing recorded)"
    return "timed" if status == "scored" else f"not timed (failed at {timing.stage_reached})"


def _cases_csv(case_ids: Sequence[str], run: ModelScores, hits: set[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_COLUMNS)
    for case_id in case_ids:
        timing = run.timings.get(case_id)
        status = "scored" if run.scores.get(case_id) is not None else "failed"
        hit = case_id in hits
        row = [case_id, status, _timing_text(status, timing, hit)]
        if timing is None or hit:
            row += ["", *([""] * len(STAGES)), ""]
        else:
            row += [timing.stage_reached]
            row += [_seconds(getattr(timing, f"{stage}_ns")) for stage in STAGES]
            row += ["" if timing.batch_cases is None else str(timing.batch_cases)]
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")


def _stage_times(
    case_ids: Sequence[str], run: ModelScores, hits: set[str], stage: str
) -> tuple[np.ndarray, dict[str, int]]:
    """Seconds of ``stage`` over the scored cases timed in this run; counts of the others."""
    values: list[float] = []
    not_timed: dict[str, int] = {}
    for case_id in case_ids:
        if run.scores.get(case_id) is None:
            continue  # failed: listed in latency.csv, not summarised
        timing = run.timings.get(case_id)
        seconds = None if timing is None or case_id in hits else timing.seconds(stage)
        if seconds is not None:
            values.append(seconds)
            continue
        if case_id in hits:
            why = CACHE_HIT
        elif timing is not None and stage == "end_to_end" and timing.end_to_end_note:
            why = timing.end_to_end_note
        else:
            why = "not timed (the loader does not report this stage)"
        not_timed[why] = not_timed.get(why, 0) + 1
    return np.asarray(values, dtype=np.float64), not_timed


def _stage_summary(
    stage: str, times: np.ndarray, not_timed: Mapping[str, int], level: float
) -> dict[str, Any]:
    from dxval.stats.quantile import quantile_estimate, sample_maximum

    return {
        "stage": stage,
        "definition": STAGE_DEFINITIONS[stage],
        "n": int(times.size),
        "not_timed": dict(sorted(not_timed.items())),
        "p50": quantile_estimate(times, 0.5, confidence_level=level).to_dict(),
        "p95": quantile_estimate(times, 0.95, confidence_level=level).to_dict(),
        "max": sample_maximum(times, confidence_level=level).to_dict(),
    }


def _not_judged(
    plan: LatencyPlan, hardware: HardwareIdentity, times: np.ndarray, not_timed: Mapping[str, int]
) -> str | None:
    """Why the latency criteria cannot be judged on this run (``None``: they can)."""
    if hardware.differences(plan.hardware):
        return f"run on {hardware.describe()}, criterion states {plan.hardware.describe()}"
    if times.size < plan.minimum_timed:
        why = ", ".join(f"{count} {text}" for text, count in sorted(not_timed.items()))
        return (
            f"{times.size} scored cases timed at stage {plan.stage} in this run, fewer than "
            f"latency.minimum_timed {plan.minimum_timed}" + (f" ({why})" if why else "")
        )
    return None


def _criteria_estimates(times: np.ndarray, reason: str | None, level: float) -> dict[str, Estimate]:
    """Estimates of latency_p50/p95/max at the stated stage, or undefined ones with ``reason``."""
    from dxval.stats.quantile import (
        NEAREST_RANK,
        ORDER_STATISTIC,
        quantile_estimate,
        sample_maximum,
    )

    if reason is not None:
        method = f"{NEAREST_RANK}; {ORDER_STATISTIC}"
        return {
            metric: Estimate.undefined(
                reason, confidence_level=level, method=method, n=int(times.size)
            )
            for metric in LATENCY_METRICS
        }
    return {
        "latency_p50": quantile_estimate(times, 0.5, confidence_level=level),
        "latency_p95": quantile_estimate(times, 0.95, confidence_level=level),
        "latency_max": sample_maximum(times, confidence_level=level),
    }


def latency_study(
    case_ids: Sequence[str],
    run: ModelScores,
    plan: LatencyPlan | None,
    *,
    confidence_level: float,
) -> LatencyStudy:
    """``latency.csv``, ``latency.json`` and the latency criteria's estimates of a model run.

    Parameters
    ----------
    case_ids:
        Every case in manifest order.
    run:
        The model run, with its per-case timings and runtime environment.
    plan:
        The protocol's latency section (``None``: timings are reported, no criteria).
    confidence_level:
        The protocol's level for the percentile intervals.
    """
    from dxval.stats.quantile import NEAREST_RANK, ORDER_STATISTIC

    hits = set(run.cache_hit_case_ids)
    hardware = run_hardware(run.environment)
    stages = []
    for stage in STAGES:
        times, not_timed = _stage_times(case_ids, run, hits, stage)
        stages.append(_stage_summary(stage, times, not_timed, confidence_level))
    estimates: dict[str, Estimate] = {}
    reason = None
    if plan is not None:
        times, not_timed = _stage_times(case_ids, run, hits, plan.stage)
        reason = _not_judged(plan, hardware, times, not_timed)
        estimates = _criteria_estimates(times, reason, confidence_level)
    scored = sum(1 for case_id in case_ids if run.scores.get(case_id) is not None)
    document = {
        "schema": LATENCY_SCHEMA,
        "clock": "time.perf_counter_ns (monotonic; CLOCK_MONOTONIC on Linux)",
        "unit": "seconds",
        "percentile_method": NEAREST_RANK,
        "interval_method": ORDER_STATISTIC,
        "confidence_level": confidence_level,
        "hardware": hardware.to_dict(),
        "hardware_text": hardware.describe(),
        "executor": (run.environment.get("executor") or {}).get("name"),
        "cases": {
            "total": len(case_ids),
            "scored": scored,
            "failed": len(case_ids) - scored,
            "cache_hits": len(hits),
        },
        "stages": stages,
        "stated": None if plan is None else plan.to_dict(),
        "stated_text": None if plan is None else plan.hardware.describe(),
        "criteria_reason": reason,
    }
    return LatencyStudy(_cases_csv(case_ids, run, hits), document, estimates)
