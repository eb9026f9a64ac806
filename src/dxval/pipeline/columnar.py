"""Cases, scores and ``cases.csv`` of a large predictions protocol as columns (issue 18).

``validate`` on a predictions protocol of a million cases must not build a
million Python objects per stage. When the protocol allows it (scores from a
predictions file, manifests naming no files, attributes from manifest
columns, no comparators and no precision study: :func:`columnar_run`), the
cases go from the manifests to the analysis's :class:`CaseTable` and to
``cases.csv`` as NumPy columns. Every rule of the row-by-row path is checked
on whole columns; when a column shows a problem, the row-by-row code runs and
raises its one-line error, so messages, and the bundle's bytes, are the same
either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

import numpy as np
import numpy.typing as npt

from dxval.analysis import CaseTable, band_of
from dxval.analysis.populations import MISSING_LEVEL
from dxval.data import (
    CaseColumns,
    Manifest,
    TestSetSource,
    align_predictions,
    build_case_columns,
    build_cases,
    read_prediction_columns,
)
from dxval.errors import InputError
from dxval.evidence.records import CaseColumnRows
from dxval.pipeline.plan import RunPlan

__all__ = ["case_columns", "columnar_run", "row_by_row_reason", "scored_columns"]

#: Reason code of a predictions row with an empty score (as the row-by-row path writes).
_NO_PREDICTION = "no_prediction"


def columnar_run(plan: RunPlan, sources: Sequence[TestSetSource]) -> bool:
    """Whether this run's cases can stay columns from the manifests to ``cases.csv``."""
    return row_by_row_reason(plan, sources) is None


def row_by_row_reason(plan: RunPlan, sources: Sequence[TestSetSource | Manifest]) -> str | None:
    """Why this run builds one object per case (for the row-by-row case limit), or None.

    ``sources``: the test sets (or their manifests) read so far.
    """
    manifests = [item if isinstance(item, Manifest) else item.manifest for item in sources]
    reasons = (
        (plan.model is not None, "a model"),
        (plan.predictions is None, "no predictions file"),
        (plan.task is not None, "a task protocol"),
        (bool(plan.comparators), "comparators"),
        (bool(plan.robustness), "robustness levels"),
        (plan.precision_column is not None, "a precision study"),
        (bool(plan.attribute_sources.dicom), "DICOM attributes"),
        (any(manifest.has_paths for manifest in manifests), "a manifest naming files"),
    )
    return next((reason for applies, reason in reasons if applies), None)


def case_columns(plan: RunPlan, sources: Sequence[TestSetSource]) -> CaseColumns:
    """The test sets' cases as columns (errors as :func:`dxval.data.build_cases`)."""
    return build_case_columns(sources, plan.truth, attributes=plan.attribute_sources)


def scored_columns(
    plan: RunPlan, sources: Sequence[TestSetSource], cases: CaseColumns
) -> tuple[CaseTable, CaseColumnRows]:
    """Read the predictions file onto ``cases``: the analysis table and ``cases.csv``'s columns.

    Raises
    ------
    InputError
        The predictions file's errors (as ``read_predictions`` and
        ``check_coverage``), then an attribute value outside its bins (as the
        row-by-row levels, naming manifest line and attribute).
    """
    section = plan.predictions
    assert section is not None  # columnar_run requires a predictions protocol
    predictions = read_prediction_columns(
        section.resolved,
        case_id_column=section.case_id,
        score_column=section.score,
        failure_reason_column=section.failure_reason,
        case_ids=cases.case_ids,
    )
    rows = align_predictions(section.resolved, predictions, cases.case_ids)
    scores = predictions.scores[rows]
    evaluable = ~np.isnan(scores)
    reasons = predictions.reasons[rows]
    del predictions, rows
    levels = _levels(plan, sources, cases)
    table = CaseTable(
        case_ids=cases.case_ids,
        sites=cases.sites,
        test_sets=cases.test_sets,
        truth=cases.truth,
        scores=scores,
        evaluable=evaluable,
        levels=levels,
        operating_point=float(plan.operating_point),
    )
    lines = CaseColumnRows(
        case_ids=cases.case_ids,
        test_sets=cases.test_sets,
        sites=cases.sites,
        truth_labels=cases.truth_labels,
        truth=cases.truth,
        scores=scores,
        reason_code=_NO_PREDICTION,
        reasons=reasons,
        levels=levels,
        operating_point=plan.operating_point,
    )
    return table, lines


def _levels(
    plan: RunPlan, sources: Sequence[TestSetSource], cases: CaseColumns
) -> dict[str, npt.NDArray[np.str_]]:
    """Each attribute's level per case: band labels for binned attributes, text otherwise."""
    levels = {}
    for attribute in plan.attributes:
        values = cases.attributes[attribute.name]
        if attribute.bins is None:  # the text itself (shared with the manifest when none is empty)
            empty = values == ""
            levels[attribute.name] = (
                np.where(empty, MISSING_LEVEL, values) if empty.any() else values
            )
            continue
        distinct, inverse = np.unique(values, return_inverse=True)
        bins = list(attribute.bins)
        try:
            labels = [band_of(text, bins, where="") for text in distinct.tolist()]
        except InputError:
            _row_by_row_levels(plan, sources)
        levels[attribute.name] = np.array(labels, dtype=np.str_)[inverse.reshape(-1)]
    return levels


def _row_by_row_levels(plan: RunPlan, sources: Sequence[TestSetSource]) -> NoReturn:
    """Band every case's attributes in case order, for the exact first error message."""
    cases = build_cases(sources, plan.truth, attributes=plan.attribute_sources)
    for case in cases:
        for attribute in plan.attributes:
            if attribute.bins is not None:
                value = case.attributes.get(attribute.name, "")
                band_of(value, list(attribute.bins), where=f"{case.source} {attribute.name}")
    raise AssertionError("every attribute value is within its bins row by row")
