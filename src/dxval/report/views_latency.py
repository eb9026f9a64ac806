"""The report's latency section and 510(k) paragraph, read from ``latency.json`` (issue 19).

One row per timed stage of the model run (decode, preprocess, load, the
batch's inference, end to end) with the number of scored cases timed, the
nearest-rank p50 and p95 with their distribution-free intervals and the
maximum; the hardware the run scored on, the cache hits (not timed) and the
latency criteria with the hardware they state. Nothing is recomputed: every
number is read from the bundle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dxval.evidence.format import BundleData
from dxval.report import formatting as fmt
from dxval.stats.vocabulary import LATENCY_METRICS

__all__ = [
    "LatencyCriterionRow",
    "LatencyRow",
    "LatencyView",
    "build_latency",
    "latency_paragraph",
]

STAGE_TEXT = {
    "decode": "Decode",
    "preprocess": "Preprocess",
    "load": "Decode + preprocess",
    "inference": "Inference (its batch)",
    "end_to_end": "End to end",
}


@dataclass(frozen=True, slots=True)
class LatencyRow:
    """One stage as printed."""

    stage: str
    definition: str
    n: int
    timed: str
    p50: str
    p50_interval: str
    p95: str
    p95_interval: str
    maximum: str


@dataclass(frozen=True, slots=True)
class LatencyCriterionRow:
    """One latency criterion as printed."""

    name: str
    description: str
    required: str
    observed: str
    verdict: str
    reason: str


@dataclass(frozen=True, slots=True)
class LatencyView:
    """The latency section."""

    hardware: str
    executor: str
    level: str
    counts: str
    method: str
    rows: tuple[LatencyRow, ...]
    stated: str | None
    criteria: tuple[LatencyCriterionRow, ...]


def _seconds(value: float | None) -> str:
    return fmt.UNDEFINED if value is None else f"{value:.4g} s"


def _interval(record: Mapping[str, Any]) -> str:
    """``(0.0733 – 0.101 s)``; a missing bound says so."""
    if record.get("estimate") is None:
        return ""
    low, high = record.get("low"), record.get("high")
    if low is None or high is None:
        return f"(CI undefined, n = {record['n']})"
    return f"({low:.3g}{fmt.RANGE}{high:.3g} s)"


def _not_timed(stage: Mapping[str, Any]) -> str:
    skipped = stage.get("not_timed") or {}
    if not skipped:
        return str(stage["n"])
    return f"{stage['n']}; " + ", ".join(f"{count} {why}" for why, count in skipped.items())


def _criteria(bundle: BundleData) -> tuple[LatencyCriterionRow, ...]:
    return tuple(
        LatencyCriterionRow(
            name=criterion.name,
            description=criterion.description,
            required=f"{criterion.required} s",
            observed=_seconds(criterion.observed),
            verdict=criterion.verdict.upper(),
            reason=criterion.reason or "",
        )
        for requirement in bundle.criteria.requirements
        for criterion in requirement.criteria
        if criterion.metric in LATENCY_METRICS
    )


def build_latency(bundle: BundleData) -> LatencyView | None:
    """The latency section's view, or None when the bundle has no ``latency.json``."""
    document = bundle.latency
    if not document:
        return None
    cases = document["cases"]
    stated = document.get("stated")
    stated_text = None
    if stated is not None:
        stated_text = (
            f"{document['stated_text']}; stage {stated['stage']}; at least "
            f"{fmt.plural(stated['minimum_timed'], 'timed case')}"
        )
    return LatencyView(
        hardware=str(document["hardware_text"]),
        executor=str(document.get("executor") or "not recorded"),
        level=fmt.level_text(float(document["confidence_level"])),
        counts=(
            f"{fmt.plural(cases['total'], 'case')}: {cases['scored']} scored, "
            f"{cases['failed']} failed; {cases['cache_hits']} served from the prediction cache "
            "(not timed in this run)"
        ),
        method=f"{document['percentile_method']}; {document['interval_method']}",
        rows=tuple(
            LatencyRow(
                stage=STAGE_TEXT.get(stage["stage"], stage["stage"]),
                definition=stage["definition"],
                n=int(stage["n"]),
                timed=_not_timed(stage),
                p50=_seconds(stage["p50"]["estimate"]),
                p50_interval=_interval(stage["p50"]),
                p95=_seconds(stage["p95"]["estimate"]),
                p95_interval=_interval(stage["p95"]),
                maximum=_seconds(stage["max"]["estimate"]),
            )
            for stage in document["stages"]
        ),
        stated=stated_text,
        criteria=_criteria(bundle),
    )


def latency_paragraph(bundle: BundleData) -> str | None:
    """The 510(k) summary's latency paragraph (None without ``latency.json``)."""
    view = build_latency(bundle)
    if view is None:
        return None
    end_to_end = next(row for row in view.rows if row.stage == STAGE_TEXT["end_to_end"])
    p50 = f"{end_to_end.p50} {end_to_end.p50_interval}".strip()
    p95 = f"{end_to_end.p95} {end_to_end.p95_interval}".strip()
    text = (
        f"Per-case latency of the locked model on {view.hardware} ({view.counts}); end to end, "
        f"from the start of decoding to the end of the case's inference batch, over "
        f"{fmt.plural(end_to_end.n, 'scored case')} timed: median {p50}, "
        f"95th percentile {p95}, maximum {end_to_end.maximum} ({view.level} distribution-free "
        "intervals)."
    )
    if view.stated is not None:
        verdicts = "; ".join(
            f"{row.name} {row.verdict}" + (f" ({row.reason})" if row.reason else "")
            for row in view.criteria
        )
        text += f" Latency criteria were stated for {view.stated}: {verdicts or 'none'}."
    return text
