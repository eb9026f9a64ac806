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
from typing import TYPE_CHECKING

from dxval.data.limits import MAX_CASES, MAX_CSV_BYTES, MAX_FIELD_CHARS, read_input_bytes
from dxval.data.manifest import check_case_id, csv_records
from dxval.errors import InputError
from dxval.stats.wording import plural

if TYPE_CHECKING:  # numpy is imported when predictions are read, not by `dxval --help`
    import numpy as np
    import numpy.typing as npt

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


@dataclass(frozen=True, slots=True)
class PredictionColumns:
    """The predictions CSV as columns, in file order: case IDs, scores (NaN: none), reasons."""

    case_ids: npt.NDArray[np.str_]
    scores: npt.NDArray[np.float64]
    reasons: npt.NDArray[np.str_]


def read_prediction_columns(
    path: Path,
    *,
    case_id_column: str,
    score_column: str,
    failure_reason_column: str | None = None,
    case_ids: npt.NDArray[np.str_] | None = None,
) -> PredictionColumns:
    """:func:`read_predictions` as columns, read a column at a time when the file allows.

    ``case_ids``: the (unique) manifest cases, when known; rows listing exactly
    these IDs in this order are unique without sorting them again.

    A file the column reader (:mod:`dxval.data.columnar`) declines, or one
    with any problem, is read by :func:`read_predictions`, which raises the
    same one-line error as ever (or returns the same values more slowly).
    A non-evaluable row (empty score) has score NaN and its reason; a scored
    row's reason is empty.

    Raises
    ------
    InputError
        As :func:`read_predictions`.
    """
    import numpy as np

    from dxval.data.columnar import Refused

    raw_bytes = read_input_bytes(path, what="predictions file", limit=MAX_CSV_BYTES)
    try:
        return _fast_columns(
            raw_bytes, case_id_column, score_column, failure_reason_column, case_ids
        )
    except Refused:
        pass
    del raw_bytes
    predictions = read_predictions(
        path,
        case_id_column=case_id_column,
        score_column=score_column,
        failure_reason_column=failure_reason_column,
    )
    rows = predictions.values()
    return PredictionColumns(
        case_ids=np.array([p.case_id for p in rows], dtype=np.str_),
        scores=np.array([math.nan if p.score is None else p.score for p in rows], dtype=float),
        reasons=np.array(["" if p.score is not None else p.reason or "" for p in rows], dtype=str),
    )


def _fast_columns(
    raw_bytes: bytes,
    case_id_column: str,
    score_column: str,
    failure_reason_column: str | None,
    known: npt.NDArray[np.str_] | None,
) -> PredictionColumns:
    import numpy as np

    from dxval.data.columnar import Refused, has_duplicates, read_columns

    table = read_columns(
        raw_bytes, max_rows=MAX_CASES, max_chars=MAX_FIELD_CHARS, case_id_column=case_id_column
    )
    wanted = {case_id_column, score_column, failure_reason_column} - {None}
    if table.size == 0 or not wanted <= set(table.header):
        raise Refused
    case_ids = table.cells[case_id_column]
    same = known is not None and known.shape == case_ids.shape and np.array_equal(known, case_ids)
    if not same and has_duplicates(case_ids):
        raise Refused
    texts = table.cells[score_column]
    empty = texts == ""
    reasons = (
        table.cells[failure_reason_column]
        if failure_reason_column is not None
        else np.full(table.size, "", dtype=np.str_)
    )
    if (empty & (reasons == "")).any():
        raise Refused
    try:  # Python's float() rules, per cell
        if empty.any():
            scores = np.full(table.size, math.nan)
            scores[~empty] = texts[~empty].astype(np.float64)
        else:
            scores = texts.astype(np.float64)
    except ValueError:
        raise Refused from None
    if not np.isfinite(scores[~empty]).all():
        raise Refused
    return PredictionColumns(case_ids, scores, np.where(empty, reasons, ""))


def align_predictions(
    path: Path, predictions: PredictionColumns, case_ids: npt.NDArray[np.str_]
) -> npt.NDArray[np.intp]:
    """Row of ``predictions`` of each case of ``case_ids`` (unique), checked as check_coverage.

    Raises
    ------
    InputError
        Cases without a row, or rows for cases no manifest lists (the message
        of :func:`check_coverage`).
    """
    import numpy as np

    predicted = predictions.case_ids
    if predicted.shape == case_ids.shape and np.array_equal(predicted, case_ids):
        return np.arange(case_ids.shape[0])
    order = np.argsort(predicted, kind="stable")
    ordered = predicted[order]
    where = np.minimum(np.searchsorted(ordered, case_ids), max(ordered.shape[0] - 1, 0))
    if (
        predicted.shape != case_ids.shape
        or ordered.shape[0] == 0
        or not (ordered[where] == case_ids).all()
    ):
        # Sorted set differences (both columns are unique): no Python set of every case ID,
        # which at 10,000,000 cases would not fit in the memory bound (issue 18).
        missing = np.setdiff1d(case_ids, predicted, assume_unique=True).tolist()
        extra = [] if missing else np.setdiff1d(predicted, case_ids, assume_unique=True).tolist()
        _check_differences(path, missing, extra)
        raise AssertionError("check_coverage accepted predictions that do not match the cases")
    return np.asarray(order[where], dtype=np.intp)


def _listed(case_ids: Iterable[str]) -> str:
    ordered = sorted(case_ids)
    shown = ", ".join(repr(case_id) for case_id in ordered[:_SHOWN_IDS])
    more = f" and {len(ordered) - _SHOWN_IDS} more" if len(ordered) > _SHOWN_IDS else ""
    return f"{plural(len(ordered), 'case')} ({shown}{more})"


def check_coverage(path: Path, predictions: Iterable[str], case_ids: Iterable[str]) -> None:
    """Require exactly one prediction row per manifest case.

    ``predictions``: the case IDs that have a row (a mapping such as
    :func:`read_predictions` returns gives its keys).

    Raises
    ------
    InputError
        Cases of the manifests without a row, or rows for cases no manifest lists.
    """
    expected = set(case_ids)
    predicted = set(predictions)
    _check_differences(path, expected - predicted, predicted - expected)


def _check_differences(path: Path, missing: Iterable[str], extra: Iterable[str]) -> None:
    """:func:`check_coverage`'s messages: manifest cases without a row, then unlisted rows."""
    missing, extra = list(missing), list(extra)  # sets or lists of case IDs
    if missing:
        raise InputError(
            f"{path}: got no row for {_listed(missing)} expected one row per manifest case"
        )
    if extra:
        raise InputError(
            f"{path}: got rows for {_listed(extra)} that no manifest lists "
            "expected only manifest cases"
        )
