"""Detection evidence from a truth CSV of lesions and a CSV of model marks.

Truth CSV: one row per lesion, columns ``case_id``, ``lesion_id`` and either
a box ``x0,y0,x1,y1`` or a point ``x,y`` (pixels), optional ``z`` (frame or
slice index), ``spacing_x``/``spacing_y`` (mm per pixel, needed by the
distance criterion), ``width``/``height`` (image size in pixels: marks
outside are refused) and ``weight`` (wAFROC lesion weight, default equal
within a case). A normal case is a row with the case ID and an empty
``lesion_id``. Marks CSV: ``case_id``, ``mark_id``, box or point, optional
``z``, and ``score``. A case in the truth without marks is scored as missed
(never dropped); a mark for a case not in the truth is refused.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dxval.data.limits import MAX_TABLE_BYTES as MAX_CSV_BYTES
from dxval.data.limits import MAX_TABLE_ROWS as MAX_CASES
from dxval.data.limits import read_input_bytes
from dxval.errors import InputError
from dxval.stats.detection import (
    FROC_RATES,
    CaseMatch,
    FrocData,
    Localisation,
    Region,
    detection_statistics,
    froc_curve,
    match_case,
    sensitivity_at_rates,
)
from dxval.stats.results import Estimate, finite_or_none

BOX = ("x0", "y0", "x1", "y1")
POINT = ("x", "y")


@dataclass
class TruthCase:
    """The lesions of one case and its image facts."""

    lesions: list[Region] = field(default_factory=list)
    weights: list[float | None] = field(default_factory=list)
    spacing: tuple[float, float] | None = None
    size: tuple[float, float] | None = None


def _rows(path: Path, what: str, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    content = read_input_bytes(path, what=what, limit=MAX_CSV_BYTES)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; expected {what}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = reader.fieldnames or []
    missing = [column for column in required if column not in columns]
    if missing:
        noun = "column" if len(missing) == 1 else "columns"
        raise InputError(f"{path}: missing {noun} {', '.join(missing)} in {what}")
    if not set(BOX) <= set(columns) and not set(POINT) <= set(columns):
        raise InputError(f"{path}: expected box columns x0,y0,x1,y1 or point columns x,y")
    rows = [
        (number, {key: (value or "").strip() for key, value in record.items() if key})
        for number, record in enumerate(reader, start=2)
    ]
    if len(rows) > 10 * MAX_CASES:
        raise InputError(f"{path}: more than {10 * MAX_CASES} rows (documented input limit)")
    return rows


def _number(where: str, row: dict[str, str], column: str) -> float | None:
    text = row.get(column, "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InputError(f"{where}: {column} {text!r} is not a finite number")
    return value


def _region(where: str, row: dict[str, str]) -> Region:
    box = [_number(where, row, column) for column in BOX]
    point = [_number(where, row, column) for column in POINT]
    z = _number(where, row, "z")
    if all(value is not None for value in box) and not any(v is not None for v in point):
        try:
            x0, y0, x1, y1 = (float(value or 0.0) for value in box)
            return Region.box(x0, y0, x1, y1, z=z)
        except ValueError as error:
            raise InputError(f"{where}: {error}") from None
    if all(value is not None for value in point) and not any(v is not None for v in box):
        return Region.point(float(point[0] or 0.0), float(point[1] or 0.0), z=z)
    raise InputError(f"{where}: expected either a box x0,y0,x1,y1 or a point x,y")


def _pair(where: str, row: dict[str, str], columns: tuple[str, str]) -> tuple[float, float] | None:
    values = [_number(where, row, column) for column in columns]
    if all(value is None for value in values):
        return None
    if any(value is None or value <= 0 for value in values):
        raise InputError(f"{where}: {'/'.join(columns)}: expected two positive numbers")
    return (float(values[0] or 0.0), float(values[1] or 0.0))


def read_truth(path: Path) -> dict[str, TruthCase]:
    """Read the lesions per case (normal cases have none), in file order."""
    cases: dict[str, TruthCase] = {}
    seen: set[tuple[str, str]] = set()
    for number, row in _rows(path, "truth CSV", ("case_id", "lesion_id")):
        where = f"{path}:{number}"
        case_id = row["case_id"]
        if not case_id:
            raise InputError(f"{where}: empty case_id")
        case = cases.setdefault(case_id, TruthCase())
        for attribute, columns in (
            ("spacing", ("spacing_x", "spacing_y")),
            ("size", ("width", "height")),
        ):
            value = _pair(where, row, columns)
            if value is not None:
                if getattr(case, attribute) not in (None, value):
                    raise InputError(f"{where}: {'/'.join(columns)} differs from an earlier row")
                setattr(case, attribute, value)
        lesion_id = row["lesion_id"]
        if not lesion_id:
            continue
        if (case_id, lesion_id) in seen:
            raise InputError(f"{where}: lesion {lesion_id!r} repeated in case {case_id!r}")
        seen.add((case_id, lesion_id))
        case.lesions.append(_region(where, row))
        case.weights.append(_number(where, row, "weight"))
    if not cases:
        raise InputError(f"{path}: no cases; expected at least one row")
    return cases


def _check_inside(where: str, region: Region, size: tuple[float, float] | None) -> None:
    if size is None:
        return
    width, height = size
    if min(region.x0, region.y0) < 0 or region.x1 > width or region.y1 > height:
        raise InputError(
            f"{where}: mark outside the image ({region.x0:g}, {region.y0:g}, {region.x1:g}, "
            f"{region.y1:g}); expected within 0..{width:g} x 0..{height:g} pixels"
        )


def read_marks(
    path: Path, truth: dict[str, TruthCase]
) -> dict[str, tuple[list[Region], list[float]]]:
    """Read the marks per case; a case not in the truth or a mark outside its image is an error."""
    marks: dict[str, tuple[list[Region], list[float]]] = defaultdict(lambda: ([], []))
    for number, row in _rows(path, "marks CSV", ("case_id", "score")):
        where = f"{path}:{number}"
        case_id = row["case_id"]
        if case_id not in truth:
            raise InputError(f"{where}: case {case_id!r} is not in the truth file")
        region = _region(where, row)
        _check_inside(where, region, truth[case_id].size)
        score = _number(where, row, "score")
        if score is None:
            raise InputError(f"{where}: empty score")
        marks[case_id][0].append(region)
        marks[case_id][1].append(score)
    return dict(marks)


def _weights(where: str, case: TruthCase) -> list[float] | None:
    if all(weight is None for weight in case.weights):
        return None
    if any(weight is None or weight <= 0 for weight in case.weights):
        raise InputError(f"{where}: weight must be given, positive, for every lesion of a case")
    total = sum(weight or 0.0 for weight in case.weights)
    return [(weight or 0.0) / total for weight in case.weights]


@dataclass(frozen=True, slots=True)
class DetectionReport:
    """Per-case outcomes, the FROC curve and the statistics."""

    case_ids: list[str]
    matches: list[CaseMatch]
    localisation: Localisation
    threshold: float
    statistics: dict[str, Estimate]
    curve: dict[str, list[float]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        cases = [
            {
                "case_id": case_id,
                "lesions": int(match.lesion_ratings.size),
                "lesions_found": int(sum(r >= self.threshold for r in match.lesion_ratings)),
                "false_positives": int(
                    sum(r >= self.threshold for r in match.false_positive_ratings)
                ),
                "case_score": match.case_score if math.isfinite(match.case_score) else None,
            }
            for case_id, match in zip(self.case_ids, self.matches, strict=True)
        ]
        return {
            "localisation": {
                "criterion": self.localisation.criterion.value,
                "threshold": self.localisation.threshold,
                "matching": "greedy by decreasing score; one mark matches at most one lesion",
            },
            "operating_point": None if math.isinf(self.threshold) else self.threshold,
            "counts": {
                "cases": len(cases),
                "abnormal_cases": sum(1 for m in self.matches if m.abnormal),
                "normal_cases": sum(1 for m in self.matches if not m.abnormal),
                "lesions": sum(case["lesions"] for case in cases),
            },
            "statistics": {name: value.to_dict() for name, value in self.statistics.items()},
            "froc": self.curve,
            "cases": cases,
        }


def detection_report(
    truth_path: Path,
    marks_path: Path,
    *,
    localisation: Localisation,
    threshold: float = -math.inf,
    confidence_level: float = 0.95,
    replicates: int = 2000,
    seed: int = 20261126,
) -> DetectionReport:
    """Match marks to lesions case by case and compute the detection statistics."""
    truth = read_truth(truth_path)
    marks = read_marks(marks_path, truth)
    matches = []
    for case_id, case in truth.items():
        regions, scores = marks.get(case_id, ([], []))
        where = f"{truth_path}: case {case_id!r}"
        try:
            matches.append(
                match_case(
                    case.lesions, regions, scores, localisation,
                    spacing=case.spacing, weights=_weights(where, case),
                )
            )  # fmt: skip
        except ValueError as error:
            raise InputError(f"{where}: {error}") from None
    data = FrocData.from_cases(matches)
    statistics = detection_statistics(
        data, threshold=threshold, confidence_level=confidence_level,
        replicates=replicates, seed=seed,
    )  # fmt: skip
    thresholds, nlf, llf = froc_curve(data)
    curve = {
        "thresholds": [None if math.isinf(t) else float(t) for t in thresholds],
        "fp_per_image": nlf.tolist(),
        "sensitivity": [finite_or_none(value) for value in llf],
        "rates": list(FROC_RATES),
        "sensitivity_at_rates": [finite_or_none(value) for value in sensitivity_at_rates(nlf, llf)],
    }
    return DetectionReport(list(truth), matches, localisation, threshold, statistics, curve)
