"""Orchestration: the only package that knows the protocol and the stages together.

Every command calls one function here: :func:`plan_run` (protocol file →
:class:`RunPlan` of plain values), :func:`run_validation` (``validate``),
:func:`lock_protocol` (``dxval lock``),
:func:`~dxval.pipeline.concordance_plan.plan_inference` with
:func:`~dxval.pipeline.concordance.run_concordance` (``dxval concordance``)
and :func:`~dxval.pipeline.metrics.metrics_report` (``dxval metrics``).

Modules: :mod:`~dxval.pipeline.plan`, :mod:`~dxval.pipeline.validate`,
:mod:`~dxval.pipeline.lock`, :mod:`~dxval.pipeline.score` (the model run with
its PHI and decoder checks), :mod:`~dxval.pipeline.concordance`,
:mod:`~dxval.pipeline.concordance_plan`, :mod:`~dxval.pipeline.metrics`.
The stage packages (data, dicom, inference, analysis, stats, evidence,
report) take the plain values of the plan, never the pydantic protocol.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dxval.inference.options import InferenceOptions
    from dxval.pipeline.lock import LockResult, lock_protocol
    from dxval.pipeline.plan import RunPlan, plan_run
    from dxval.pipeline.score import ModelScores
    from dxval.pipeline.validate import CaseOutcome, RunResult, run_validation

#: Where each name of the package lives. Imported on first use (PEP 562), so that
#: ``dxval metrics``, which needs only :mod:`~dxval.pipeline.metrics`, does not
#: import the validation pipeline (report, plots, pydantic protocol) with it.
_HOMES = {
    "CaseOutcome": "dxval.pipeline.validate",
    "InferenceOptions": "dxval.inference.options",
    "LockResult": "dxval.pipeline.lock",
    "ModelScores": "dxval.pipeline.score",
    "RunPlan": "dxval.pipeline.plan",
    "RunResult": "dxval.pipeline.validate",
    "lock_protocol": "dxval.pipeline.lock",
    "plan_run": "dxval.pipeline.plan",
    "run_validation": "dxval.pipeline.validate",
}

__all__ = [
    "CaseOutcome",
    "InferenceOptions",
    "LockResult",
    "ModelScores",
    "RunPlan",
    "RunResult",
    "lock_protocol",
    "plan_run",
    "run_validation",
]


def __getattr__(name: str) -> Any:
    """Import a package-level name from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
