"""Bring-your-own predictions: a CSV of scores produced outside dxval.

One row per case: the case ID column, the score column (a finite number,
larger = more likely positive) and, when the protocol names one, a failure
reason column. A row with an empty score and a reason is a non-evaluable
case (recorded, never dropped); anything else that is not a finite number is
an error. The rows must name exactly the cases of the protocol's manifests.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from dxval.data.limits import MAX_CSV_BYTES, read_input_bytes
from dxval.data.manifest import check_case_id, csv_records
from dxval.errors import InputError
from dxval.stats.wording import plural

#: How many case IDs an error message lists before summarising.
_SHOWN_IDS = 5


@dataclass(frozen=True, slots=True)
class Prediction:
    """One case's externally produced score, or the reason it has none."""

    case_id: str
    score: float | None
    reason: str | None
    line: int


def _parse_score(path: Path, line: int, column: str, text: str) -> float:
    where = f"{path}:{line} {column}"
    try:
        value = float(text)
    except ValueError as error:
        raise InputError(f"{where}: got {text!r} expected a finite number") from error
    if not math.isfinite(value):
        raise InputError(f"{where}: got {text!r} expected a finite number")
    return value


def _require_columns(path: Path, header: list[str], wanted: Mapping[str, str | None]) -> None:
    for field, column in wanted.items():
        if column is not None and column not in header:
            raise InputError(
                f"{path}: got no {column!r} column among {plural(len(header), 'header field')} "
                f"expected a {column!r} column (predictions.{field})"
            )


def read_predictions(
    path: Path,
    *,
    case_id_column: str,
    score_column: str,
    failure_reason_column: str | None = None,
) -> dict[str, Prediction]:
    """Read the predictions CSV into case ID → :class:`Prediction`.

    Raises
    ------
    InputError
        Missing file or column, a duplicate case ID, a score that is not a
        finite number (NaN, inf, text), or an empty score without a reason.
    """
    raw_bytes = read_input_bytes(path, what="predictions file", limit=MAX_CSV_BYTES)
    predictions: dict[str, Prediction] = {}
    wanted = {
        "case_id": case_id_column,
        "score": score_column,
        "failure_reason": failure_reason_column,
    }
    for line, header, values in csv_records(path, raw_bytes):
        _require_columns(path, header, wanted)
        case_id = values[case_id_column]
        check_case_id(path, line, case_id_column, case_id)
        if case_id in predictions:
            raise InputError(
                f"{path}:{line} {case_id_column}: got duplicate {case_id!r} "
                f"(first on line {predictions[case_id].line}) expected one row per case"
            )
        text = values[score_column]
        reason = values.get(failure_reason_column or "", "") or None
        if not text and reason is None:
            hint = f" or a reason in {failure_reason_column!r}" if failure_reason_column else ""
            raise InputError(
                f"{path}:{line} {score_column}: got an empty value expected a finite number{hint}"
            )
        score = _parse_score(path, line, score_column, text) if text else None
        predictions[case_id] = Prediction(case_id=case_id, score=score, reason=reason, line=line)
    return predictions


def _listed(case_ids: Iterable[str]) -> str:
    ordered = sorted(case_ids)
    shown = ", ".join(repr(case_id) for case_id in ordered[:_SHOWN_IDS])
    more = f" and {len(ordered) - _SHOWN_IDS} more" if len(ordered) > _SHOWN_IDS else ""
    return f"{plural(len(ordered), 'case')} ({shown}{more})"


def check_coverage(
    path: Path, predictions: Mapping[str, Prediction], case_ids: Iterable[str]
) -> None:
    """Require exactly one prediction row per manifest case.

    Raises
    ------
    InputError
        Cases of the manifests without a row, or rows for cases no manifest lists.
    """
    expected = set(case_ids)
    missing = expected - predictions.keys()
    if missing:
        raise InputError(
            f"{path}: got no row for {_listed(missing)} expected one row per manifest case"
        )
    extra = predictions.keys() - expected
    if extra:
        raise InputError(
            f"{path}: got rows for {_listed(extra)} that no manifest lists "
            "expected only manifest cases"
        )
