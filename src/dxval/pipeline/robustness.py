"""The robustness and precision stages of ``validate`` (issue 19).

:func:`score_levels` scores every perturbation level; :func:`repeat_groups`
reads the repeat groups of the precision study from the manifests.

For each level of the protocol's ``robustness:`` section the cases are
scored again by the same locked harness, model and device as the
unperturbed run, with a :class:`~dxval.dicom.perturbed_loader.PerturbedCaseLoader`
that perturbs the decoded pixels before the model's preprocessing. The
loader's digest (preprocessing + perturbation) keys the prediction cache, so
a perturbed result is never cached as the original. A case that cannot be
perturbed or scored at a level is kept as non-evaluable at that level with
its reason, never dropped. The analysis of the levels against the
unperturbed run is :mod:`dxval.analysis.robustness`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dxval.data import Case, TestSetSource
from dxval.errors import InputError
from dxval.inference.options import InferenceOptions
from dxval.pipeline.plan import RunPlan
from dxval.pipeline.score import ModelScores, score_with_model
from dxval.protocol.studies import PerturbationLevel

__all__ = [
    "ROBUSTNESS_CASE_COLUMNS",
    "LevelRun",
    "check_window_levels",
    "render_level_cases",
    "repeat_groups",
    "score_levels",
]


@dataclass(frozen=True, slots=True)
class LevelRun:
    """One level's identity and the harness outcome of every case at that level."""

    level: PerturbationLevel
    run: ModelScores
    loader_digest: str
    window: tuple[float, float] | None = None  # (centre, width) HU applied at a ct_window level

    def record(self) -> dict[str, Any]:
        """The level's identity for the evidence: ID, perturbation, label, cache digest."""
        perturbation = self.level.perturbation
        return {
            "id": self.level.id,
            **perturbation.cache_component(),
            "label": perturbation.label,
            "identity": perturbation.is_identity,
            "lateral_flip_reason": perturbation.lateral_flip_reason,
            "loader_digest": self.loader_digest,
            **(
                {}
                if self.window is None
                else {"window": {"center": self.window[0], "width": self.window[1]}}
            ),
        }

    def audit(self) -> dict[str, Any]:
        """What the audit log records of the level's run: counts and cache use."""
        failed = sum(1 for score in self.run.scores.values() if score is None)
        return {
            **self.record(),
            "scored": len(self.run.scores) - failed,
            "failed": failed,
            "cache": self.run.cache,
        }


def check_window_levels(plan: RunPlan, cases: Sequence[Case]) -> None:
    """Refuse a ``ct_window`` level when a test set is not CT (before anything is scored).

    Reads the header of every case's first file (only when the protocol has a
    window level); a file whose header cannot be read is left to the harness,
    which records it as a failed case.

    Raises
    ------
    InputError
        A case whose Modality (0008,0060) is not CT: exit 2, naming the level,
        the model, the test set and the case.
    """
    from dxval.dicom import CaseFailure
    from dxval.dicom.notes import captured
    from dxval.dicom.perturbations import CT_MODALITY
    from dxval.dicom.reader import read_header

    window = [level for level in plan.robustness if level.perturbation.acts_on_window]
    if not window or plan.model is None:
        return
    level = window[0]
    for case in cases:
        if not case.files:
            continue
        try:
            with captured():  # pydicom's warnings quote raw values: never shown
                modality = str(read_header(case.files[0]).get("Modality") or "").strip()
        except CaseFailure:
            continue
        if modality != CT_MODALITY:
            raise InputError(
                f"robustness level {level.id!r} ({level.perturbation.name.value}) of model "
                f"{plan.model.path}: test set {case.test_set} case {case.case_id} has Modality "
                f"{modality!r}, expected {CT_MODALITY!r} (the level moves the CT window of the "
                "model's preprocessing)"
            )


def score_levels(
    plan: RunPlan,
    cases: Sequence[Case],
    *,
    options: InferenceOptions,
    default_cache_dir: Path,
) -> tuple[LevelRun, ...]:
    """Score every case at every robustness level of ``plan`` (empty without a study).

    Raises
    ------
    UsageError, IntegrityError
        As :func:`dxval.pipeline.score.score_with_model` (exit 2 / 3).
    """
    from dxval.dicom.perturbed_loader import PerturbedCaseLoader
    from dxval.dicom.steps import WindowOp

    if not plan.robustness or plan.model is None:
        return ()
    runs = []
    for level in plan.robustness:
        loader = PerturbedCaseLoader(
            plan.preprocessing,
            perturbation=level.perturbation,
            expected_shape=plan.model.config.input.case_shape,
        )
        run = score_with_model(
            plan, cases, options=options, default_cache_dir=default_cache_dir, loader=loader
        )
        windows = [(s.center, s.width) for s in loader.steps if isinstance(s, WindowOp)]
        moved = windows[0] if level.perturbation.acts_on_window and windows else None
        runs.append(LevelRun(level, run, loader.digest, moved))
    return tuple(runs)


ROBUSTNESS_CASE_COLUMNS = ("level", "case_id", "score", "decision", "status", "reason_code")


def render_level_cases(
    runs: Sequence[LevelRun], cases: Sequence[Case], *, operating_point: float
) -> bytes:
    """``robustness.csv``: one row per (level, case), the score and decision at that level.

    Positive decision ⇔ score ≥ operating point; a case without a score at a
    level is ``failed`` with its reason code (the case is kept, never dropped).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ROBUSTNESS_CASE_COLUMNS)
    for level_run in runs:
        for case in cases:
            score = level_run.run.scores.get(case.case_id)
            failure = level_run.run.failures.get(case.case_id, ("failed", ""))
            code = "" if score is not None else failure[0]
            writer.writerow(
                (
                    level_run.level.id,
                    case.case_id,
                    "" if score is None else repr(score),
                    "" if score is None else int(score >= operating_point),
                    "scored" if score is not None else "failed",
                    code,
                )
            )
    return buffer.getvalue().encode()


def repeat_groups(plan: RunPlan, sources: Sequence[TestSetSource]) -> dict[str, str]:
    """Case ID → repeat-group label from the manifests' ``precision.repeat_group`` column.

    Raises
    ------
    InputError
        A manifest lacks the column (exit 2; the manifest and column are named).
    """
    column = plan.precision_column
    if column is None:
        return {}
    groups: dict[str, str] = {}
    for source in sources:
        for row in source.manifest.rows:
            if column not in row.values:
                raise InputError(
                    f"{source.manifest.location(row)}: no column {column!r}, expected the "
                    "precision.repeat_group column in every test set's manifest"
                )
            groups[row.case_id] = row.values[column].strip()
    return groups
