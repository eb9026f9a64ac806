"""Cases in, per-case results out, and the JSON Lines file results stream to.

Every case that enters the harness leaves it as exactly one
:class:`CaseResult`, scored or failed with a reason code: counts reconcile
(cases in = scored + failed). Results are appended to a JSON Lines file as
they are produced, so memory does not grow with the number of cases.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from dxval.inference.timing import CaseTiming

__all__ = [
    "CaseInput",
    "CaseResult",
    "CaseStatus",
    "HarnessReason",
    "ResultWriter",
    "read_results",
]


@dataclass(frozen=True, slots=True)
class CaseInput:
    """One case to score.

    Attributes
    ----------
    case_id:
        Pseudonymous identifier from the manifest.
    paths:
        The case's input files (one DICOM file, or a series' files).
    sha256s:
        Digests identifying the case's content: the SHA-256 of each file in the order
        of ``paths``, or one digest over all of them (``Case.input_sha256`` of
        :mod:`dxval.data`). The prediction cache is keyed by them; empty: the harness
        computes the SHA-256 of each file.
    """

    case_id: str
    paths: tuple[Path, ...]
    sha256s: tuple[str, ...] = ()


class CaseStatus(str, Enum):
    """Outcome of one case."""

    SCORED = "scored"
    FAILED = "failed"


class HarnessReason(str, Enum):
    """Reason codes the harness itself assigns (the loader brings its own, e.g. ``not_dicom``)."""

    LOADER_ERROR = "loader_error"
    """The loader raised an exception that carries no ``reason_code`` (a bug or an odd file)."""
    INPUT_SHAPE_MISMATCH = "input_shape_mismatch"
    """The loader's tensor does not have the declared case shape."""
    INFERENCE_ERROR = "inference_error"
    """The runtime raised on this case's input."""
    NON_FINITE_OUTPUT = "non_finite_output"
    """The model returned NaN or ±inf."""
    WORKER_CRASHED = "worker_crashed"
    """The worker process died while loading this case (e.g. a decoder crash)."""
    INVALID_MASK_VALUES = "invalid_mask_values"
    """A ``kind: mask, encoding: labels`` output holds values that are not labels."""


@dataclass(frozen=True, slots=True)
class CaseResult:
    """The outcome of one case.

    Attributes
    ----------
    case_id:
        As in :class:`CaseInput`.
    score:
        Positive-class score after the declared activation (float64); ``None`` when failed.
    status:
        Scored or failed.
    reason_code, reason:
        Why the case failed (closed code, human message); ``None`` when scored.
    cache_hit:
        True when the score came from the prediction cache (no decode, no inference).
    decoder:
        Which pixel decoder the loader used, when it says.
    outputs:
        The raw model output row the score came from; ``None`` when failed or for a
        mask output.
    mask_sha256:
        A ``kind: mask`` output: the SHA-256 naming the case's label map in the run's
        :class:`~dxval.inference.outputs.MaskStore` (``score`` is then ``None``).
    timing:
        Wall time of each stage in this run (:mod:`dxval.inference.timing`);
        ``None`` for a cache hit (not timed). Not part of equality: two runs
        that give the same results never take the same time.
    """

    case_id: str
    score: float | None
    status: CaseStatus
    reason_code: str | None = None
    reason: str | None = None
    cache_hit: bool = False
    decoder: str | None = None
    outputs: tuple[float, ...] | None = None
    mask_sha256: str | None = None
    timing: CaseTiming | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (one line of the results file)."""
        return {
            "case_id": self.case_id,
            "score": self.score,
            "status": self.status.value,
            "reason_code": self.reason_code,
            "reason": self.reason,
            "cache_hit": self.cache_hit,
            "decoder": self.decoder,
            "outputs": None if self.outputs is None else list(self.outputs),
            "mask_sha256": self.mask_sha256,
            "timing": None if self.timing is None else self.timing.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CaseResult:
        """Inverse of :meth:`to_dict`."""
        outputs = data.get("outputs")
        timing = data.get("timing")
        return cls(
            case_id=str(data["case_id"]),
            score=None if data["score"] is None else float(data["score"]),
            status=CaseStatus(data["status"]),
            reason_code=data.get("reason_code"),
            reason=data.get("reason"),
            cache_hit=bool(data.get("cache_hit", False)),
            decoder=data.get("decoder"),
            outputs=None if outputs is None else tuple(float(value) for value in outputs),
            mask_sha256=data.get("mask_sha256"),
            timing=None if timing is None else CaseTiming.from_dict(timing),
        )


class ResultWriter:
    """Append :class:`CaseResult` lines to a JSON Lines file (truncated on open)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def __enter__(self) -> ResultWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("w", encoding="utf-8")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def write(self, result: CaseResult) -> None:
        """Append one result (JSON, ``allow_nan=False``: a NaN never reaches the file)."""
        if self._handle is None:
            raise RuntimeError("ResultWriter used outside its with-block")
        self._handle.write(json.dumps(result.to_dict(), allow_nan=False) + "\n")

    def flush(self) -> None:
        """Push written lines to the operating system (after each batch)."""
        if self._handle is not None:
            self._handle.flush()


def read_results(path: Path) -> Iterator[CaseResult]:
    """Stream the results back from a JSON Lines file written by :class:`ResultWriter`."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield CaseResult.from_dict(json.loads(line))
