"""From a locked protocol to what the harness needs: model, loader, digest, cases, truth.

Used by ``dxval concordance``. Like ``validate``, it refuses a protocol whose
pins (model, golden-check input, test sets with every file they name) are
unset (exit 2) or differ from the files (exit 3) before any case is scored.
It reads the protocol through :func:`~dxval.pipeline.plan.plan_run` and
checks the same pins as ``validate`` (:mod:`dxval.pipeline.lock`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dxval.data import build_cases, check_pins
from dxval.dicom.loader import CaseLoader
from dxval.errors import UsageError
from dxval.inference import CaseInput, ModelConfig
from dxval.pipeline.cases import case_loader
from dxval.pipeline.lock import protocol_pins, read_sources
from dxval.pipeline.plan import plan_run

__all__ = ["InferencePlan", "plan_inference"]


@dataclass(frozen=True, slots=True)
class InferencePlan:
    """Everything needed to score a protocol's cases with its model."""

    protocol_id: str
    protocol_path: Path
    model: ModelConfig
    loader: CaseLoader
    preprocessing_digest: str
    cases: tuple[CaseInput, ...]
    truth: Mapping[str, bool]


def plan_inference(protocol_path: str | Path) -> InferencePlan:
    """Load and lock-check a model protocol; build its loader and cases.

    Parameters
    ----------
    protocol_path:
        The protocol YAML file.

    Raises
    ------
    ProtocolError
        Invalid protocol (exit 2).
    UsageError
        The protocol has no ``model:`` section (exit 2).
    InputError
        A pin is unset, a manifest or file is unreadable, a truth label is unknown (exit 2).
    IntegrityError
        A pinned digest differs (exit 3).
    """
    plan = plan_run(protocol_path)
    if plan.model is None:
        raise UsageError(
            f"{plan.path}: model: section missing; concordance runs a model artifact, "
            "this protocol brings its own predictions"
        )
    model = plan.model.config
    sources = read_sources(plan)
    check_pins(item.pin for item in protocol_pins(plan, sources))
    cases = build_cases(sources, plan.truth)
    loader = case_loader(plan)
    return InferencePlan(
        protocol_id=plan.protocol_id,
        protocol_path=plan.path,
        model=model,
        loader=loader,
        preprocessing_digest=loader.digest,
        cases=tuple(
            CaseInput(case.case_id, case.files, (case.input_sha256,) if case.input_sha256 else ())
            for case in cases
        ),
        truth={case.case_id: case.truth for case in cases},
    )
