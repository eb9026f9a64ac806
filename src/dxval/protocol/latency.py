"""The ``latency:`` section: the hardware and the stage latency criteria are about (issue 19).

A latency is a property of the device *on given hardware*: the same model
scores a case in 40 ms on one GPU and in 4 s on a laptop CPU. So the
protocol states, once, the platform its latency criteria hold for, and
every ``latency_p50`` / ``latency_p95`` / ``latency_max`` criterion is read
against it:

.. code-block:: yaml

    latency:
      hardware: {device: cuda, gpu: "NVIDIA H100 80GB HBM3"}   # or {device: cpu, cpu_model: ...}
      stage: end_to_end          # end_to_end | inference | load | decode | preprocess
      minimum_timed: 20          # fewer timed cases: the criteria are undefined

A section rather than a field on each criterion: the hardware is a property
of the study (one stated platform, shown once in the report and the 510(k)
summary), a criterion stays the same small record for every metric, and no
accuracy criterion can carry a meaningless ``hardware:``. A run whose
recorded hardware (:mod:`dxval.inference.hardware`) differs is never judged:
its latency criteria are undefined with the reason.

``cpu_model`` may be left out (any CPU: for a generous bound that any
machine meets); a ``cuda`` platform must name its GPU. ``count`` (CPU cores
or GPUs) is compared only when stated.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from dxval.protocol.sections import Section
from dxval.stats.vocabulary import LATENCY_METRICS

if TYPE_CHECKING:
    from dxval.protocol.schema import Protocol

__all__ = ["LATENCY_STAGES", "Latency", "LatencyHardware", "latency_issues"]

#: Stages a latency criterion may be about (see :mod:`dxval.inference.timing`).
LATENCY_STAGES = ("end_to_end", "inference", "load", "decode", "preprocess")

IssueTuple = tuple[tuple[str | int, ...], str, str]


class LatencyHardware(Section):
    """The platform the latency criteria hold for."""

    device: Literal["cpu", "cuda"] = Field(description="Where the model runs.")
    gpu: str | None = Field(
        default=None,
        min_length=1,
        description="GPU name as the driver reports it (e.g. 'NVIDIA H100 80GB HBM3'); "
        "required for cuda. Compared ignoring case and repeated spaces.",
    )
    cpu_model: str | None = Field(
        default=None,
        min_length=1,
        description="CPU model name as /proc/cpuinfo reports it; omitted: any CPU.",
    )
    count: int | None = Field(
        default=None, ge=1, description="CPU cores or GPUs; compared only when stated."
    )


class Latency(Section):
    """The latency study: the stated hardware and the stage the criteria compare."""

    hardware: LatencyHardware = Field(description="The platform the latency criteria hold for.")
    stage: Literal["end_to_end", "inference", "load", "decode", "preprocess"] = Field(
        default="end_to_end",
        description="Which per-case time the criteria compare: end_to_end (start of decode to "
        "end of the case's batch), inference (its batch's model call), load (decode + "
        "preprocess), decode or preprocess.",
    )
    minimum_timed: int = Field(
        default=20,
        ge=1,
        description="Fewest cases timed in this run (cache hits are not timed) for the latency "
        "criteria to be evaluated; fewer: undefined.",
    )


def _hardware_issues(section: Latency) -> Iterator[IssueTuple]:
    hardware = section.hardware
    where = ("latency", "hardware")
    if hardware.device == "cuda" and hardware.gpu is None:
        yield (*where, "gpu"), "no gpu", "the GPU's name for device cuda"
    if hardware.device == "cuda" and hardware.cpu_model is not None:
        yield (*where, "cpu_model"), repr(hardware.cpu_model), "no cpu_model for device cuda"
    if hardware.device == "cpu" and hardware.gpu is not None:
        yield (*where, "gpu"), repr(hardware.gpu), "no gpu for device cpu"


def latency_issues(protocol: Protocol) -> Iterator[IssueTuple]:
    """(location, got, expected) of the latency section and of every latency criterion."""
    if protocol.latency is not None:
        if protocol.model is None:
            yield (
                ("latency",),
                "a latency section in a protocol without a model",
                "a model section (latency is timed only when dxval runs the model)",
            )
        yield from _hardware_issues(protocol.latency)
    for requirement_index, requirement in enumerate(protocol.requirements):
        for criterion_index, criterion in enumerate(requirement.criteria):
            if criterion.metric not in LATENCY_METRICS:
                continue
            location = ("requirements", requirement_index, "criteria", criterion_index)
            if protocol.model is None:
                yield (
                    (*location, "metric"),
                    repr(criterion.metric),
                    "a model section: a predictions protocol has no timings "
                    "(latency is timed only when dxval runs the model)",
                )
            elif protocol.latency is None:
                yield (
                    (*location, "metric"),
                    repr(criterion.metric),
                    "a latency section stating the hardware "
                    "(latency: {hardware: {device: cpu|cuda, ...}}) for this metric",
                )
            if criterion.population != "all":
                yield (*location, "population"), repr(criterion.population), "'all'"
            if criterion.spread is not None:
                yield (*location, "spread"), repr(criterion.spread), "no spread"
            if criterion.against is not None:
                yield (*location, "against"), repr(criterion.against), "no against"
