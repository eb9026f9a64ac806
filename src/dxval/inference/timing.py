"""Per-case wall time of the harness stages: decode, preprocess, inference, end to end.

What is timed, and how (issue 19, latency):

- **Clock.** :func:`time.perf_counter_ns`, a monotonic clock (on Linux
  ``clock_gettime(CLOCK_MONOTONIC)``, which is system-wide, so a timestamp
  taken in a decode worker process and one taken in the parent process on the
  same machine can be subtracted).
- **decode** and **preprocess**: the wall time of reading and decoding the
  case's files, and of applying the preprocessing steps, each measured around
  the call in the process that ran it (a worker process, or a Ray task). A
  loader that does not say which part was which (any callable other than
  :class:`dxval.dicom.loader.CaseLoader`) gives only their sum, **load**.
- **inference**: inference is batched, so a case's inference time is the wall
  time of the model call for the batch it was in (stacking and padding,
  the runtime call, reading the outputs back, the activation; and the per-case
  retries when the runtime rejected the batch). Every case of a batch gets the
  same value: its result is not available before its batch finishes.
- **end to end**: from the start of the case's decode to the end of its
  batch, so it includes the time the case waited in the read-ahead queue and
  for its batch to fill. Timed by the local executors only; the Ray executor
  decodes in cluster tasks and scores in actors, possibly on other machines,
  whose clocks cannot be subtracted, so there it is "not timed (ray executor)".

Cases served from the prediction cache were neither decoded nor scored in
this run: they carry no timing and are counted "not timed (cache hit)",
never given a zero. A failed case records the stage it reached (``decode``,
``preprocess``, ``load``, ``input_check``, ``inference``, ``output_check``)
and the times of the stages it completed.

Timings are not deterministic: they travel beside the results (never in the
files compared byte for byte across runs) and reach the bundle only as
``latency.csv`` and ``latency.json``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "STAGES",
    "CaseTiming",
    "LoadTiming",
    "batch_timing",
    "clock_ns",
    "failure_timing",
]

#: The timed stages, in pipeline order (``load`` = decode + preprocess).
STAGES = ("decode", "preprocess", "load", "inference", "end_to_end")

#: The clock every timestamp and duration is read from (nanoseconds, monotonic).
clock_ns = time.perf_counter_ns


@dataclass(frozen=True, slots=True)
class LoadTiming:
    """How long one case took to load, measured where it was loaded.

    Attributes
    ----------
    started_ns:
        :data:`clock_ns` when the loader was called (the start of decode).
    load_ns:
        Wall time of the whole loader call (decode + preprocess).
    decode_ns, preprocess_ns:
        The two parts, when the loader reports them (``None`` otherwise).
    stage:
        Where a failed load stopped (``decode``, ``preprocess`` or ``load``
        when the loader does not say); ``None`` when it succeeded.
    """

    started_ns: int
    load_ns: int
    decode_ns: int | None = None
    preprocess_ns: int | None = None
    stage: str | None = None


@dataclass(frozen=True, slots=True)
class CaseTiming:
    """The wall times of one case in this run, in nanoseconds (``None``: not reached or not timed).

    ``stage_reached`` is ``done`` for a scored case, else the stage where it
    failed. ``batch_cases`` is the number of real cases in its batch.
    ``end_to_end_note`` says why ``end_to_end_ns`` is missing for a scored case.
    """

    stage_reached: str
    decode_ns: int | None = None
    preprocess_ns: int | None = None
    load_ns: int | None = None
    inference_ns: int | None = None
    end_to_end_ns: int | None = None
    batch_cases: int | None = None
    end_to_end_note: str | None = None

    def seconds(self, stage: str) -> float | None:
        """The time of ``stage`` (one of :data:`STAGES`) in seconds, or ``None``."""
        value = getattr(self, f"{stage}_ns")
        return None if value is None else value / 1e9

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (a line of the harness's results file)."""
        return {
            "stage_reached": self.stage_reached,
            "decode_ns": self.decode_ns,
            "preprocess_ns": self.preprocess_ns,
            "load_ns": self.load_ns,
            "inference_ns": self.inference_ns,
            "end_to_end_ns": self.end_to_end_ns,
            "batch_cases": self.batch_cases,
            "end_to_end_note": self.end_to_end_note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CaseTiming:
        """Inverse of :meth:`to_dict`."""
        return cls(**{key: data.get(key) for key in cls.__slots__})  # type: ignore[arg-type]


def failure_timing(load: LoadTiming | None, stage: str) -> CaseTiming:
    """The timing of a case that failed at ``stage`` (its load's stage when it failed loading)."""
    if load is None:
        return CaseTiming(stage_reached=stage)
    return CaseTiming(
        stage_reached=load.stage or stage,
        decode_ns=load.decode_ns,
        preprocess_ns=load.preprocess_ns,
        load_ns=None if load.stage is not None else load.load_ns,
    )


def batch_timing(
    load: LoadTiming | None,
    *,
    started_ns: int,
    ended_ns: int,
    batch_cases: int,
    stage_reached: str,
    end_to_end_note: str | None,
) -> CaseTiming:
    """The timing of a case whose batch ran from ``started_ns`` to ``ended_ns``.

    ``end_to_end_note`` not ``None``: the load and the batch ran where their
    clocks cannot be subtracted, so end to end is not timed and the note says why.
    """
    end_to_end = None
    if load is not None and end_to_end_note is None:
        end_to_end = ended_ns - load.started_ns
    return CaseTiming(
        stage_reached=stage_reached,
        decode_ns=None if load is None else load.decode_ns,
        preprocess_ns=None if load is None else load.preprocess_ns,
        load_ns=None if load is None else load.load_ns,
        inference_ns=ended_ns - started_ns,
        end_to_end_ns=end_to_end,
        batch_cases=batch_cases,
        end_to_end_note=end_to_end_note,
    )
