"""Read a production log (CSV) and group its usable rows into time windows.

Columns: ``timestamp`` (ISO 8601; a time without offset is taken as UTC),
``score``, ``model_sha256``, optional attribute columns named as in the
protocol (and ``site``), optional ``truth`` (the protocol's truth labels;
empty = not adjudicated). Every row is either used or excluded with one
reason code, checked in this order:

``model_sha256_mismatch``  the row names another model than the baseline's
``timestamp_unparsable``   empty or not ISO 8601
``score_missing``          empty score
``score_not_a_number``     not a decimal number
``score_out_of_range``     outside ``score_range`` of monitor.yaml (or infinite)

A used row with a truth value that is not one of the protocol's labels is
kept for drift and left out of the performance analysis (counted as
``truth_unrecognised``). Nothing is dropped without being counted; the
excluded rows are listed (line number and reason, never a value).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from dxval.analysis.monitoring import WindowData
from dxval.analysis.populations import MISSING_LEVEL, band_of
from dxval.data.hashing import sha256_bytes
from dxval.data.limits import read_input_bytes
from dxval.errors import DxvalError, InputError

REQUIRED_COLUMNS = ("timestamp", "score", "model_sha256")
REASONS = (
    "model_sha256_mismatch",
    "timestamp_unparsable",
    "score_missing",
    "score_not_a_number",
    "score_out_of_range",
)
REASON_TEXT = {
    "model_sha256_mismatch": "model_sha256 differs from the baseline model's SHA-256",
    "timestamp_unparsable": "timestamp empty or not ISO 8601",
    "score_missing": "score empty",
    "score_not_a_number": "score is not a decimal number",
    "score_out_of_range": "score outside score_range",
}
OUT_OF_BINS = "outside the validated bins"
NOT_A_NUMBER = "not a number"
_NANOSECONDS_PER_DAY = 86_400 * 10**9
#: Largest production log read, in bytes (documented input limit; about 7.5 million rows of
#: the demo's columns). The whole file is held in memory while it is parsed.
MAX_PRODUCTION_BYTES = 1024 * 1024 * 1024


class Window(str, Enum):
    """How production rows are grouped in time (UTC calendar day, ISO week, month, or all)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class AttributeRule:
    """How a production column becomes levels or values: categorical, binned or numeric."""

    name: str
    kind: str  # "categorical", "binned" or "numeric"
    bins: tuple[float, ...] | None = None


@dataclass(frozen=True, slots=True)
class TruthLabels:
    """The protocol's truth labels, matched exactly as text."""

    positive: frozenset[str]
    negative: frozenset[str]


@dataclass(frozen=True, slots=True)
class ProductionLog:
    """The parsed production log: row accounting and the usable rows' columns."""

    path: Path
    sha256: str
    rows: int
    excluded: Mapping[str, int]
    excluded_lines: tuple[tuple[int, str], ...]
    truth_unrecognised: int
    used: int
    timestamps: npt.NDArray[np.int64]  # ns since the epoch, UTC, usable rows
    scores: npt.NDArray[np.float64]
    truth: npt.NDArray[np.int8]
    columns: Mapping[str, npt.NDArray[np.object_]]  # attribute text, usable rows
    other_digests: Mapping[str, int]

    def exclusion_csv(self) -> bytes:
        """``line,reason_code,reason`` per excluded row (line 1 is the header)."""
        lines = ["line,reason_code,reason"]
        lines += [f"{line},{code},{REASON_TEXT[code]}" for line, code in self.excluded_lines]
        return ("\n".join(lines) + "\n").encode()


def _read_frame(path: Path, content: bytes) -> pd.DataFrame:
    try:
        frame = pd.read_csv(
            io.BytesIO(content),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding="utf-8",
        )
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, csv.Error) as error:
        raise InputError(f"{path}: not a readable UTF-8 CSV ({error})") from error
    except pd.errors.EmptyDataError as error:
        raise InputError(
            f"{path}: empty; expected a header row with {', '.join(REQUIRED_COLUMNS)}"
        ) from error
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise InputError(
            f"{path}: missing {'column' if len(missing) == 1 else 'columns'} "
            f"{', '.join(missing)}; expected "
            f"{', '.join(REQUIRED_COLUMNS)} and optional attribute columns and truth"
        )
    return frame


def read_production(
    path: str | Path,
    *,
    model_sha256: str,
    score_range: tuple[float, float],
    truth_labels: TruthLabels,
    attributes: Sequence[str],
) -> ProductionLog:
    """Read and reason-code every row of the production log at ``path``.

    Raises
    ------
    InputError
        The file is unreadable, lacks a required column, or no row names the
        baseline model (the log is for another model).
    """
    path = Path(path)
    content = read_input_bytes(path, what="production log (CSV)", limit=MAX_PRODUCTION_BYTES)
    frame = _read_frame(path, content)
    rows = len(frame)
    digests = frame["model_sha256"].to_numpy(dtype=object)
    reason = np.full(rows, -1, dtype=np.int8)
    mismatch = digests != model_sha256
    if mismatch.any():  # normalise case and spaces only where the plain text differs
        digests[mismatch] = [str(text).strip().lower() for text in digests[mismatch]]
        mismatch = digests != model_sha256
    if rows and mismatch.all():
        found = pd.Series(digests).value_counts().head(3)
        listed = ", ".join(
            f"{digest or '(empty)'} ({count} rows)" for digest, count in found.items()
        )
        raise InputError(
            f"{path}: model_sha256: no row names the baseline model {model_sha256}; found {listed}"
        )
    reason[mismatch] = 0
    stamps = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601", errors="coerce")
    reason[(reason < 0) & stamps.isna().to_numpy()] = 1
    text = frame["score"]
    scores = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    empty = (text.str.len() == 0).to_numpy()
    reason[(reason < 0) & empty] = 2
    reason[(reason < 0) & np.isnan(scores)] = 3
    low, high = score_range
    with np.errstate(invalid="ignore"):
        outside = ~((scores >= low) & (scores <= high))
    reason[(reason < 0) & outside] = 4
    usable = reason < 0
    excluded = {code: int((reason == index).sum()) for index, code in enumerate(REASONS)}
    lines = np.flatnonzero(~usable)
    excluded_lines = tuple((int(line) + 2, REASONS[reason[line]]) for line in lines)
    truth, unrecognised = _truth(frame, usable, truth_labels)
    other = pd.Series(digests[mismatch]).value_counts()
    return ProductionLog(
        path=path,
        sha256=sha256_bytes(content),
        rows=rows,
        excluded=excluded,
        excluded_lines=excluded_lines,
        truth_unrecognised=unrecognised,
        used=int(usable.sum()),
        timestamps=stamps[usable].to_numpy(dtype="datetime64[ns]").astype(np.int64),
        scores=scores[usable],
        truth=truth,
        columns={
            name: frame[name].to_numpy(dtype=object)[usable]
            for name in attributes
            if name in frame.columns
        },
        other_digests={str(k): int(v) for k, v in other.items()},
    )


def _truth(
    frame: pd.DataFrame, usable: npt.NDArray[np.bool_], labels: TruthLabels
) -> tuple[npt.NDArray[np.int8], int]:
    """1/0 per usable row where adjudicated, −1 otherwise; and the unrecognised count."""
    count = int(usable.sum())
    if "truth" not in frame.columns:
        return np.full(count, -1, dtype=np.int8), 0
    text = frame["truth"].to_numpy(dtype=object)[usable]
    truth = np.full(count, -1, dtype=np.int8)
    truth[pd.Series(text).isin(labels.positive).to_numpy()] = 1
    truth[pd.Series(text).isin(labels.negative).to_numpy()] = 0
    unrecognised = int(((truth < 0) & (text != "")).sum())
    return truth, unrecognised


def level_codes(
    values: npt.NDArray[np.object_], rule: AttributeRule
) -> tuple[npt.NDArray[np.intp], list[str]]:
    """Per-row level code and the level names, mapping each distinct value once.

    Categorical: the text (empty → ``missing``). Binned: the band label of
    the protocol's bins; a value outside them or not a number is its own
    level (never seen in validation, so it is flagged).
    """
    codes, uniques = pd.factorize(values, sort=False)
    names: list[str] = []
    for value in uniques:
        text = str(value).strip()
        if rule.kind == "binned" and rule.bins is not None:
            try:
                names.append(band_of(text, rule.bins, where=rule.name))
            except DxvalError:
                names.append(OUT_OF_BINS if _is_number(text) else NOT_A_NUMBER)
        else:
            names.append(text or MISSING_LEVEL)
    distinct = sorted(set(names))
    position = {name: index for index, name in enumerate(distinct)}
    mapping = np.array([position[name] for name in names], dtype=np.intp)
    return mapping[codes] if len(mapping) else np.zeros(0, dtype=np.intp), distinct


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class WindowBounds:
    """A window's label and its [start, end) bounds (ISO 8601 UTC text)."""

    label: str
    start: str
    end: str


def _iso(nanoseconds: int) -> str:
    return pd.Timestamp(nanoseconds, tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def window_starts(timestamps: npt.NDArray[np.int64], window: Window) -> npt.NDArray[np.int64]:
    """Each timestamp's window start (ns, UTC): the day, the ISO week's Monday, the month."""
    days = timestamps // _NANOSECONDS_PER_DAY
    if window is Window.DAY:
        return days * _NANOSECONDS_PER_DAY
    if window is Window.WEEK:
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        return (days - weekday) * _NANOSECONDS_PER_DAY
    if window is Window.MONTH:
        months = timestamps.astype("datetime64[ns]").astype("datetime64[M]")
        return months.astype("datetime64[ns]").astype(np.int64)
    return np.zeros_like(timestamps)


def _bounds(start: int, window: Window, timestamps: npt.NDArray[np.int64]) -> WindowBounds:
    moment = pd.Timestamp(start, tz="UTC")
    if window is Window.DAY:
        return WindowBounds(
            moment.strftime("%Y-%m-%d"), _iso(start), _iso(start + _NANOSECONDS_PER_DAY)
        )
    if window is Window.WEEK:
        year, week, _ = moment.isocalendar()
        end = start + 7 * _NANOSECONDS_PER_DAY
        return WindowBounds(f"{year}-W{week:02d}", _iso(start), _iso(end))
    if window is Window.MONTH:
        end = (moment + pd.offsets.MonthBegin(1)).value
        return WindowBounds(moment.strftime("%Y-%m"), _iso(start), _iso(int(end)))
    return WindowBounds("all", _iso(int(timestamps.min())), _iso(int(timestamps.max())))


@dataclass(frozen=True, slots=True)
class EncodedAttributes:
    """Each attribute of the usable rows as level codes (or numeric values), computed once."""

    codes: Mapping[str, npt.NDArray[np.intp]]
    names: Mapping[str, list[str]]
    numeric: Mapping[str, npt.NDArray[np.float64]]


def encode_attributes(log: ProductionLog, rules: Sequence[AttributeRule]) -> EncodedAttributes:
    """Level codes for categorical/binned attributes, floats (NaN if not a number) for numeric."""
    codes, names, numeric = {}, {}, {}
    for rule in rules:
        values = log.columns.get(rule.name)
        if values is None:
            continue
        if rule.kind == "numeric":
            numeric[rule.name] = pd.to_numeric(
                pd.Series(values).str.strip(), errors="coerce"
            ).to_numpy(dtype=np.float64)
        else:
            codes[rule.name], names[rule.name] = level_codes(values, rule)
    return EncodedAttributes(codes, names, numeric)


def split_windows(
    log: ProductionLog,
    encoded: EncodedAttributes,
    window: Window,
    *,
    criteria_attributes: Sequence[str],
) -> list[WindowData]:
    """The usable rows grouped into windows, in time order (windows without rows are absent)."""
    if log.used == 0:
        return []
    starts = window_starts(log.timestamps, window)
    unique, inverse = np.unique(starts, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    boundaries = np.concatenate([[0], np.cumsum(np.bincount(inverse, minlength=unique.size))])
    windows = []
    for index, start in enumerate(unique):
        rows = order[boundaries[index] : boundaries[index + 1]]
        windows.append(
            _window(
                log, encoded, rows, _bounds(int(start), window, log.timestamps), criteria_attributes
            )
        )
    return windows


def _levels_of(
    encoded: EncodedAttributes, name: str, rows: npt.NDArray[np.intp]
) -> npt.NDArray[np.str_]:
    if name not in encoded.codes:
        return np.full(rows.size, MISSING_LEVEL)
    names = np.array(encoded.names[name], dtype=np.str_)
    return names[encoded.codes[name][rows]]


def _window(
    log: ProductionLog,
    encoded: EncodedAttributes,
    rows: npt.NDArray[np.intp],
    bounds: WindowBounds,
    criteria_attributes: Sequence[str],
) -> WindowData:
    truth = log.truth[rows]
    adjudicated = rows[truth >= 0]
    categorical = {}
    for name, codes in encoded.codes.items():
        counts = np.bincount(codes[rows], minlength=len(encoded.names[name]))
        categorical[name] = {
            level: int(count)
            for level, count in zip(encoded.names[name], counts, strict=True)
            if count
        }
    numeric, non_numeric = {}, {}
    for name, values in encoded.numeric.items():
        window_values = values[rows]
        finite = np.isfinite(window_values)
        numeric[name] = window_values[finite]
        non_numeric[name] = int((~finite).sum())
    return WindowData(
        label=bounds.label,
        start=bounds.start,
        end=bounds.end,
        scores=log.scores[rows],
        truth=truth,
        sites=_levels_of(encoded, "site", adjudicated),
        levels={name: _levels_of(encoded, name, adjudicated) for name in criteria_attributes},
        categorical=categorical,
        numeric=numeric,
        non_numeric=non_numeric,
    )
