"""QC tolerance: does the fraction of failed cases exceed what the protocol allows?

The protocol's ``qc.max_failed_fraction`` bounds the cases that may fail
(unreadable, preprocessing error, NaN/inf output). Above it, the run is
incomplete: the pipeline still writes the evidence, marks it incomplete and
exits with code 4 (:meth:`QcOutcome.raise_if_exceeded`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dxval.errors import IncompleteRunError

__all__ = ["QcOutcome", "check_qc"]


@dataclass(frozen=True, slots=True)
class QcOutcome:
    """Result of the QC tolerance check.

    ``failed_fraction`` is ``None`` when no case ran (undefined, with ``reason``);
    such a run is incomplete.
    """

    total: int
    failed: int
    failed_fraction: float | None
    max_failed_fraction: float
    exceeded: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for ``run.json``."""
        return {
            "total": self.total,
            "failed": self.failed,
            "failed_fraction": self.failed_fraction,
            "max_failed_fraction": self.max_failed_fraction,
            "exceeded": self.exceeded,
            "reason": self.reason,
        }

    def raise_if_exceeded(self) -> None:
        """Raise :class:`~dxval.errors.IncompleteRunError` (exit 4) when exceeded."""
        if self.exceeded:
            raise IncompleteRunError(self.reason)


def check_qc(failed: int, total: int, *, max_failed_fraction: float) -> QcOutcome:
    """Compare the failed fraction with the protocol's tolerance.

    Parameters
    ----------
    failed:
        Cases that could not be scored.
    total:
        All cases that entered the harness (scored + failed).
    max_failed_fraction:
        ``qc.max_failed_fraction`` from the protocol, in [0, 1]; a run passes when
        ``failed / total <= max_failed_fraction``.

    Raises
    ------
    ValueError
        Counts negative or inconsistent, or the tolerance outside [0, 1].
    """
    if not 0.0 <= max_failed_fraction <= 1.0:
        raise ValueError(f"max_failed_fraction: got {max_failed_fraction}, expected [0, 1]")
    if failed < 0 or total < 0 or failed > total:
        raise ValueError(f"counts: got failed={failed}, total={total}")
    if total == 0:
        return QcOutcome(
            total=0,
            failed=0,
            failed_fraction=None,
            max_failed_fraction=max_failed_fraction,
            exceeded=True,
            reason="QC: no case was run; the failed fraction is undefined and the run incomplete",
        )
    fraction = failed / total
    exceeded = fraction > max_failed_fraction
    verdict = "exceeds" if exceeded else "is within"
    return QcOutcome(
        total=total,
        failed=failed,
        failed_fraction=fraction,
        max_failed_fraction=max_failed_fraction,
        exceeded=exceeded,
        reason=(
            f"QC: {failed} of {total} cases failed ({fraction:.2%}), which {verdict} "
            f"qc.max_failed_fraction {max_failed_fraction:g}"
        ),
    )
