"""Agreement of repeated scores read from a long-format CSV (``dxval agreement``).

One row per (subject, rater) with a score: the subject is a patient, lesion or
repeat group; the rater a reader, device, site or acquisition. The rows must
form a complete, balanced design: every subject scored exactly once by every
rater. Messages name a subject by the line where it first appears, never by
its value (a subject column may hold patient identifiers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dxval.data.limits import MAX_TABLE_BYTES as MAX_CSV_BYTES
from dxval.data.limits import read_input_bytes
from dxval.data.manifest import csv_records
from dxval.errors import InputError
from dxval.stats.agreement import (
    BlandAltman,
    IccResults,
    all_agree_fraction,
    bland_altman,
    fleiss_kappa,
    icc,
    within_subject_sd,
)
from dxval.stats.results import Estimate
from dxval.stats.wording import plural

__all__ = ["AgreementReport", "Ratings", "agreement_report", "format_agreement", "read_ratings"]


@dataclass(frozen=True, slots=True)
class Ratings:
    """A complete (n_subjects, n_raters) score matrix and the rater labels of its columns."""

    path: Path
    scores: npt.NDArray[np.float64]
    raters: tuple[str, ...]

    @property
    def n_subjects(self) -> int:
        """Number of subjects (rows)."""
        return int(self.scores.shape[0])


def _score(path: Path, line: int, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InputError(f"{path}:{line} column {column!r}: got {text!r}, expected a finite number")
    return value


def _collect(
    path: Path, raw: bytes, subject: str, rater: str, score: str
) -> tuple[dict[str, int], dict[tuple[str, str], tuple[int, float]], list[str]]:
    first_line: dict[str, int] = {}
    cells: dict[tuple[str, str], tuple[int, float]] = {}
    raters: list[str] = []
    for line, header, row in csv_records(path, raw):
        for column, option in ((subject, "--subject"), (rater, "--rater"), (score, "--score")):
            if column not in header:
                found = ", ".join(repr(name) for name in header)
                raise InputError(f"{path}: {option}: no column {column!r} (columns: {found})")
        subject_id, rater_id = row[subject], row[rater]
        for column, value in ((subject, subject_id), (rater, rater_id)):
            if value == "":
                raise InputError(f"{path}:{line} column {column!r}: empty, expected a label")
        first_line.setdefault(subject_id, line)
        if rater_id not in raters:
            raters.append(rater_id)
        key = (subject_id, rater_id)
        if key in cells:
            raise InputError(
                f"{path}:{line}: the subject first seen on line {first_line[subject_id]} "
                f"(column {subject!r}) already has a score from rater {rater_id!r} "
                f"(column {rater!r}) on line {cells[key][0]}; expected one score per subject "
                "and rater"
            )
        cells[key] = (line, _score(path, line, score, row[score]))
    return first_line, cells, raters


def read_ratings(path: Path, *, subject: str, rater: str, score: str) -> Ratings:
    """Read a long-format CSV into a complete subjects × raters matrix.

    Raises
    ------
    InputError
        Unreadable file, a missing column, an empty label, a non-finite score,
        a duplicate or missing (subject, rater) cell, fewer than 2 subjects or
        raters. The message names the columns, the rater and the line of the
        subject.
    """
    if not path.exists() and not path.is_symlink():
        raise InputError(f"{path}: no such file")
    raw = read_input_bytes(path, what="a CSV file", limit=MAX_CSV_BYTES)
    first_line, cells, raters = _collect(path, raw, subject, rater, score)
    if len(first_line) < 2 or len(raters) < 2:
        raise InputError(
            f"{path}: got {plural(len(first_line), 'subject')} (column {subject!r}) and "
            f"{plural(len(raters), 'rater')} (column {rater!r}), expected at least 2 of each"
        )
    subjects = sorted(first_line, key=first_line.__getitem__)
    matrix = np.empty((len(subjects), len(raters)))
    for row_index, subject_id in enumerate(subjects):
        for column_index, rater_id in enumerate(raters):
            cell = cells.get((subject_id, rater_id))
            if cell is None:
                raise InputError(
                    f"{path}: the subject first seen on line {first_line[subject_id]} "
                    f"(column {subject!r}) has no score from rater {rater_id!r} (column "
                    f"{rater!r}); expected every subject scored once by every rater"
                )
            matrix[row_index, column_index] = cell[1]
    return Ratings(path, matrix, tuple(raters))


@dataclass(frozen=True, slots=True)
class AgreementReport:
    """ICCs, within-subject SD, Bland–Altman (two raters) and decision agreement (threshold)."""

    ratings: Ratings
    iccs: IccResults
    within_sd: Estimate
    bland_altman: BlandAltman | None
    threshold: float | None
    kappa: Estimate | None
    all_agree: Estimate | None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON object printed by ``dxval agreement --json``."""
        data: dict[str, Any] = {
            **self.iccs.to_dict(),
            "n_subjects": self.ratings.n_subjects,
            "n_raters": len(self.ratings.raters),
            "raters": list(self.ratings.raters),
            "within_subject_sd": self.within_sd.to_dict(),
        }
        if self.bland_altman is not None:
            data["bland_altman"] = {
                "difference": f"{self.ratings.raters[1]} - {self.ratings.raters[0]}",
                **self.bland_altman.to_dict(),
            }
        if self.kappa is not None and self.all_agree is not None:
            data["decision_agreement"] = {
                "threshold": self.threshold,
                "rule": "positive when score >= threshold",
                "fleiss_kappa": self.kappa.to_dict(),
                "all_agree_fraction": self.all_agree.to_dict(),
            }
        return data


def agreement_report(
    ratings: Ratings, *, confidence_level: float = 0.95, threshold: float | None = None
) -> AgreementReport:
    """Compute every agreement statistic of ``ratings`` (decision agreement needs ``threshold``)."""
    decisions = None if threshold is None else ratings.scores >= threshold
    return AgreementReport(
        ratings=ratings,
        iccs=icc(ratings.scores, confidence_level=confidence_level),
        within_sd=within_subject_sd(ratings.scores, confidence_level=confidence_level),
        bland_altman=(
            bland_altman(ratings.scores, confidence_level=confidence_level)
            if len(ratings.raters) == 2
            else None
        ),
        threshold=threshold,
        kappa=(
            None
            if decisions is None
            else fleiss_kappa(decisions, confidence_level=confidence_level)
        ),
        all_agree=(
            None
            if decisions is None
            else all_agree_fraction(decisions, confidence_level=confidence_level)
        ),
    )


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _row(name: str, estimate: Estimate) -> list[str]:
    if estimate.low is not None and estimate.high is not None:
        interval = f"[{_number(estimate.low)}, {_number(estimate.high)}]"
    else:
        interval = f"undefined: {estimate.reason}"
    return [name, _number(estimate.estimate), interval, estimate.method]


def format_agreement(report: AgreementReport) -> str:
    """A readable, aligned table of the report (``dxval agreement`` without --json)."""
    ratings = report.ratings
    level = report.iccs.icc1_1.confidence_level
    lines = [
        f"{ratings.path}: {ratings.n_subjects} subjects x {len(ratings.raters)} raters "
        f"({', '.join(ratings.raters)})",
        "",
    ]
    rows = [["statistic", "estimate", f"{level * 100:g}% CI", "method"]]
    rows.append(_row("icc1_1", report.iccs.icc1_1))
    rows.append(_row("icc2_1", report.iccs.icc2_1))
    rows.append(_row("icc3_1", report.iccs.icc3_1))
    rows.append(_row("within_subject_sd", report.within_sd))
    if report.bland_altman is not None:
        rows.append(_row("bland_altman_mean_difference", report.bland_altman.mean_difference))
        rows.append(_row("bland_altman_lower_limit", report.bland_altman.lower_limit))
        rows.append(_row("bland_altman_upper_limit", report.bland_altman.upper_limit))
    if report.kappa is not None and report.all_agree is not None:
        rows.append(_row("fleiss_kappa", report.kappa))
        rows.append(_row("all_agree_fraction", report.all_agree))
    widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]))]
    lines.extend(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
    if report.bland_altman is not None:
        lines.append(f"Bland-Altman differences: {ratings.raters[1]} - {ratings.raters[0]}")
    if report.threshold is not None:
        lines.append(f"decisions: positive when score >= {report.threshold:g}")
    return "\n".join(lines)
