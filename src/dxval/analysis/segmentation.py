"""Segmentation evidence of a manifest of truth/prediction mask pairs, one case at a time.

The manifest is a CSV with columns ``case_id``, ``truth`` and ``prediction``
(paths relative to the manifest). Cases are read and scored one at a time:
only the per-case numbers are kept, so memory does not grow with the number
of cases. A case whose masks cannot be read or are not on the same grid is
listed with status ``error`` and a reason code, never dropped.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dxval.data.limits import MAX_TABLE_BYTES as MAX_CSV_BYTES
from dxval.data.limits import MAX_TABLE_ROWS as MAX_CASES
from dxval.data.limits import read_input_bytes
from dxval.data.masks import grid_problem, read_label_map, structure_mask
from dxval.errors import InputError
from dxval.stats.segmentation import (
    MetricSummary,
    SegmentationResult,
    segmentation_metrics,
    summarise_segmentation,
)

MANIFEST_COLUMNS = ("case_id", "truth", "prediction")
#: Per-case keys of the JSON output, in order.
CASE_KEYS = (
    "case_id", "dice", "iou", "hd", "hd95", "assd", "nsd",
    "volume_truth_ml", "volume_prediction_ml", "status", "reason",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ManifestRow:
    """One case of a segmentation manifest: its ID and resolved mask paths."""

    line: int
    case_id: str
    truth: Path
    prediction: Path


@dataclass(frozen=True, slots=True)
class CaseOutcome:
    """One case: its metrics, or the reason code why there are none."""

    case_id: str
    result: SegmentationResult | None
    error: str | None = None

    @property
    def reason(self) -> str | None:
        """The reason code: why the case could not be scored, or why a metric is undefined."""
        return self.error if self.result is None else self.result.reason

    @property
    def status(self) -> str:
        """``ok``/``undefined`` from the metrics, ``error`` when the case could not be scored."""
        return "error" if self.result is None else self.result.status.value

    def to_dict(self) -> dict[str, Any]:
        """The JSON row: :data:`CASE_KEYS`, None where a value does not exist."""
        row: dict[str, Any] = dict.fromkeys(CASE_KEYS)
        if self.result is not None:
            values = self.result.to_dict()
            row.update((key, values[key]) for key in CASE_KEYS[1:])
        else:
            row.update(status="error", reason=self.error)
        row["case_id"] = self.case_id
        return row


@dataclass(frozen=True, slots=True)
class SegmentationReport:
    """Per-case rows and the summary of every metric."""

    cases: list[CaseOutcome]
    summary: dict[str, MetricSummary]
    label: int
    tolerance_mm: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: ``cases``, ``summary``, counts and settings."""
        counts = dict.fromkeys(("ok", "undefined", "error"), 0)
        for case in self.cases:
            counts[case.status] += 1
        return {
            "label": self.label,
            "nsd_tolerance_mm": self.tolerance_mm,
            "counts": {"cases": len(self.cases), **counts},
            "cases": [case.to_dict() for case in self.cases],
            "summary": {name: item.to_dict() for name, item in self.summary.items()},
        }


def read_segmentation_manifest(path: Path) -> list[ManifestRow]:
    """Read and check the manifest (columns, unique non-empty case IDs, non-empty paths)."""
    content = read_input_bytes(path, what="segmentation manifest (CSV)", limit=MAX_CSV_BYTES)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; expected a CSV manifest") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [column for column in MANIFEST_COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise InputError(
            f"{path}: missing {'column' if len(missing) == 1 else 'columns'} {', '.join(missing)}; "
            f"expected {', '.join(MANIFEST_COLUMNS)}"
        )
    rows: list[ManifestRow] = []
    seen: dict[str, int] = {}
    for number, record in enumerate(reader, start=2):
        values = {column: (record.get(column) or "").strip() for column in MANIFEST_COLUMNS}
        empty = [column for column, value in values.items() if not value]
        if empty:
            raise InputError(f"{path}:{number}: empty {', '.join(empty)}")
        case_id = values["case_id"]
        if case_id in seen:
            raise InputError(
                f"{path}:{number}: case_id repeated (first on line {seen[case_id]}); "
                "expected one row per case"
            )
        seen[case_id] = number
        if len(rows) >= MAX_CASES:
            raise InputError(f"{path}: more than {MAX_CASES} cases (documented input limit)")
        rows.append(
            ManifestRow(
                number, case_id, path.parent / values["truth"], path.parent / values["prediction"]
            )
        )
    if not rows:
        raise InputError(f"{path}: no cases; expected at least one row")
    return rows


def _score_case(row: ManifestRow, *, label: int, tolerance: float) -> CaseOutcome:
    try:
        truth = read_label_map(row.truth)
        prediction = read_label_map(row.prediction)
    except InputError as error:
        return CaseOutcome(row.case_id, None, f"unreadable: {error}")
    problem = grid_problem(truth, prediction)
    if problem is not None:
        return CaseOutcome(row.case_id, None, problem)
    for labels, role in ((truth, "truth"), (prediction, "prediction")):
        if labels.names and label not in labels.names:
            known = ", ".join(f"{n} {name!r}" for n, name in sorted(labels.names.items()))
            return CaseOutcome(
                row.case_id, None, f"unknown_structure: label {label} not in the {role} ({known})"
            )
    return CaseOutcome(
        row.case_id,
        segmentation_metrics(
            structure_mask(truth, label),
            structure_mask(prediction, label),
            truth.spacing,
            tolerance=tolerance,
        ),
    )


def iter_case_results(
    rows: list[ManifestRow], *, label: int, tolerance: float
) -> Iterator[CaseOutcome]:
    """Score the cases one at a time (masks of one case in memory at once)."""
    interactive = sys.stderr.isatty()
    for index, row in enumerate(rows, start=1):
        yield _score_case(row, label=label, tolerance=tolerance)
        if index % 10 == 0 or index == len(rows):
            end = "\r" if interactive and index < len(rows) else "\n"
            print(f"segmentation: {index}/{len(rows)} cases", end=end, file=sys.stderr)


def segmentation_report(
    manifest: Path,
    *,
    label: int = 1,
    tolerance: float = 1.0,
    confidence_level: float = 0.95,
    replicates: int = 2000,
    seed: int = 20261126,
) -> SegmentationReport:
    """Per-case metrics and their mean/median summaries for one manifest."""
    rows = read_segmentation_manifest(manifest)
    cases = list(iter_case_results(rows, label=label, tolerance=tolerance))
    summary = summarise_segmentation(
        [case.result for case in cases if case.result is not None],
        confidence_level=confidence_level,
        replicates=replicates,
        seed=seed,
    )
    return SegmentationReport(cases, summary, label, tolerance)
