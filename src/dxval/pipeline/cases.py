"""A protocol's case loader and its first cases: ``dxval dicom preprocess`` and ``dxval preview``.

The loader is built from the plan in one place (:func:`case_loader`), for
``validate`` (:mod:`dxval.pipeline.score`), ``concordance`` and the two
inspection commands alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dxval.data import read_manifest
from dxval.errors import UsageError
from dxval.pipeline.plan import RunPlan, plan_run

if TYPE_CHECKING:  # the DICOM stack (pydicom, decoders) is imported only when a case is read
    from dxval.dicom.loader import CaseLoader
    from dxval.dicom.preview import PreviewCase

__all__ = ["case_loader", "case_loader_for", "preview_cases"]


def case_loader(plan: RunPlan) -> CaseLoader:
    """The :class:`CaseLoader` of the plan's preprocessing and model input shape.

    Raises
    ------
    UsageError
        A predictions-only protocol (it has no model and no preprocessing).
    """
    from dxval.dicom.loader import CaseLoader

    if plan.model is None:
        raise UsageError(
            f"{plan.path}: got a predictions protocol, expected one with a model: section "
            "(its preprocessing makes the model input)"
        )
    return CaseLoader(plan.preprocessing, expected_shape=plan.model.config.input.case_shape)


def case_loader_for(protocol_path: Path) -> CaseLoader:
    """The :class:`CaseLoader` a model protocol's preprocessing and input shape define.

    Raises
    ------
    ProtocolError
        Invalid protocol.
    UsageError
        A predictions-only protocol (it has no model and no preprocessing).
    """
    return case_loader(plan_run(protocol_path))


def preview_cases(protocol_path: Path, per_test_set: int) -> list[PreviewCase]:
    """The first ``per_test_set`` cases of each test set of the protocol, with their files."""
    from dxval.dicom.preview import PreviewCase

    plan = plan_run(protocol_path)
    cases: list[PreviewCase] = []
    for test_set in plan.test_sets:
        manifest = read_manifest(
            test_set.manifest_path,
            label=f"test set {test_set.id}",
            data_root=test_set.data_root,
        )
        for row in manifest.rows[:per_test_set]:
            cases.append(PreviewCase(row.case_id, test_set.site, row.files))
    return cases
