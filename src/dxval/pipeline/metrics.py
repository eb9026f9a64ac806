"""The library behind ``dxval metrics``: read a scored-cases CSV, compute every metric.

Reading and checking the file lives here (the statistics never read files);
the numbers come from :mod:`dxval.stats`. User mistakes in the file raise
:class:`~dxval.errors.InputError` with one line naming the column, the line
and what was expected.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dxval.data.limits import MAX_CASES, MAX_CSV_BYTES, read_input_bytes
from dxval.errors import InputError
from dxval.stats import (
    AucComparison,
    BinaryMetrics,
    BootstrapInterval,
    Estimate,
    ProportionMethod,
    auc_delong,
    average_precision,
    binary_metrics,
    bootstrap_auc,
    delong_paired_test,
)
from dxval.stats.proportion import METHOD_LABELS
from dxval.stats.vocabulary import DECISION_METRICS

DEFAULT_SEED = 20261126
HEADER_LINES = 1  # data row i (0-based) is on line i + 2 of the file


@dataclass(frozen=True, slots=True, eq=False)
class ScoredCases:
    """Truth and scores read from a CSV file, checked."""

    path: Path
    truth_column: str
    positive: str
    negative: str
    truth: np.ndarray
    scores: dict[str, np.ndarray]


@dataclass(frozen=True, slots=True)
class MetricsOptions:
    """How ``dxval metrics`` computes its numbers."""

    threshold: float | None = None
    confidence_level: float = 0.95
    proportion_method: ProportionMethod = ProportionMethod.WILSON
    auc_ci: str = "delong"
    replicates: int = 2000
    seed: int = DEFAULT_SEED
    bootstrap_interval: BootstrapInterval = BootstrapInterval.PERCENTILE


@dataclass(frozen=True, slots=True)
class MetricsReport:
    """Every number ``dxval metrics`` reports for one score (and a comparison)."""

    cases: ScoredCases
    score: str
    options: MetricsOptions
    auc: Estimate
    average_precision: Estimate
    binary: BinaryMetrics | None
    undefined_binary: dict[str, Estimate] = field(default_factory=dict)
    score2: str | None = None
    comparison: AucComparison | None = None

    def metrics(self) -> dict[str, Estimate]:
        """Decision metrics by name (undefined with a reason when no threshold was given)."""
        if self.binary is None:
            return dict(self.undefined_binary)
        return {name: self.binary.as_dict()[name] for name in REPORTED_BINARY}

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``dxval metrics --json`` (no NaN: null plus a status)."""
        truth = self.cases.truth
        result: dict[str, Any] = {
            "file": str(self.cases.path),
            "truth": self.cases.truth_column,
            "positive": self.cases.positive,
            "negative": self.cases.negative,
            "score": self.score,
            "score2": self.score2,
            "n": int(truth.shape[0]),
            "n_positive": int(np.count_nonzero(truth)),
            "n_negative": int(np.count_nonzero(~truth)),
            "threshold": self.options.threshold,
            "confidence_level": self.options.confidence_level,
            "seed": self.options.seed,
            "bootstrap_replicates": self.options.replicates,
        }
        if self.binary is not None:
            result["counts"] = self.binary.counts.to_dict()
        result["auc"] = self.auc.to_dict()
        result.update({name: value.to_dict() for name, value in self.metrics().items()})
        result["average_precision"] = self.average_precision.to_dict()
        if self.comparison is not None:
            result["comparison"] = self.comparison.to_dict()
        return result


REPORTED_BINARY = tuple(name for name in DECISION_METRICS if not name.endswith("_at_prevalence"))


def _line(row: int) -> int:
    return row + HEADER_LINES + 1


def _read_table(path: Path, columns: list[str]) -> pd.DataFrame:
    if not path.exists() and not path.is_symlink():
        raise InputError(f"{path}: no such file")
    raw = read_input_bytes(path, what="a CSV file", limit=MAX_CSV_BYTES)  # regular, bounded
    try:
        table = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InputError(f"{path}: not a readable CSV file ({first_line})") from None
    for column in columns:
        if column not in table.columns:
            found = ", ".join(repr(name) for name in table.columns)
            raise InputError(f"{path}: no column {column!r} (columns: {found})")
    if table.empty:
        raise InputError(f"{path}: no data rows")
    if len(table) > MAX_CASES:
        raise InputError(
            f"{path}: got {len(table)} rows expected at most {MAX_CASES} (documented input limit)"
        )
    return table


def _truth(path: Path, values: pd.Series, column: str, positive: str) -> tuple[np.ndarray, str]:
    if not (values == positive).any():
        found = ", ".join(repr(value) for value in sorted(set(values.tolist()))[:5])
        raise InputError(
            f"{path} column {column!r}: no case has the positive value {positive!r} "
            f"(values found: {found}); need both classes"
        )
    negative: str | None = None
    for row, value in enumerate(values.tolist()):
        if value == positive:
            continue
        if value == "":
            raise InputError(
                f"{path} line {_line(row)} column {column!r}: empty truth value, "
                f"expected {positive!r} or one other value"
            )
        if negative is None:
            negative = value
        elif value != negative:
            raise InputError(
                f"{path} line {_line(row)} column {column!r}: got a third truth value "
                f"{value!r}, expected {positive!r} or {negative!r}"
            )
    truth = (values == positive).to_numpy(dtype=bool)
    if negative is None:
        raise InputError(f"{path} column {column!r}: every case is {positive!r}; need both classes")
    return truth, negative


def _scores(path: Path, values: pd.Series, column: str) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(numbers))
    if bad.size:
        row = int(bad[0])
        raise InputError(
            f"{path} line {_line(row)} column {column!r}: got {values.iloc[row]!r}, "
            "expected a finite number"
        )
    return numbers


def read_scored_cases(
    path: Path, *, truth_column: str, positive: str, score_columns: list[str]
) -> ScoredCases:
    """Read truth and score columns from a CSV file and check them.

    Every truth value must be ``positive`` or the one other value present;
    every score must be a finite number.

    Raises
    ------
    InputError
        missing file or column, empty truth, a third truth value,
        a single class, a non-numeric / NaN / infinite score; the message
        names the column and the line.
    """
    table = _read_table(path, [truth_column, *score_columns])
    truth, negative = _truth(path, table[truth_column], truth_column, positive)
    scores = {column: _scores(path, table[column], column) for column in score_columns}
    return ScoredCases(path, truth_column, positive, negative, truth, scores)


def _undefined_binary(options: MetricsOptions, size: int) -> dict[str, Estimate]:
    reason = "no threshold given (--threshold): decision metrics need an operating point"
    label = METHOD_LABELS[options.proportion_method]
    return {
        name: Estimate.undefined(
            reason, confidence_level=options.confidence_level, method=label, n=size
        )
        for name in REPORTED_BINARY
    }


def metrics_report(
    path: Path,
    *,
    truth_column: str,
    positive: str,
    score: str,
    score2: str | None = None,
    options: MetricsOptions,
) -> MetricsReport:
    """Read ``path`` and compute AUC, average precision, decision metrics and a comparison.

    Raises
    ------
    InputError
        the file's contents cannot be used (see :func:`read_scored_cases`).
    """
    columns = [score] if score2 is None else [score, score2]
    cases = read_scored_cases(
        path, truth_column=truth_column, positive=positive, score_columns=columns
    )
    truth, scores = cases.truth, cases.scores[score]
    level = options.confidence_level
    if options.auc_ci == "bootstrap":
        auc = bootstrap_auc(
            truth,
            scores,
            replicates=options.replicates,
            seed=options.seed,
            confidence_level=level,
            interval=options.bootstrap_interval,
        )
    else:
        auc = auc_delong(truth, scores, confidence_level=level)
    binary = None
    if options.threshold is not None:
        binary = binary_metrics(
            truth,
            scores,
            threshold=options.threshold,
            confidence_level=level,
            proportion_method=options.proportion_method,
        )
    precision = average_precision(
        truth,
        scores,
        replicates=options.replicates,
        seed=options.seed,
        confidence_level=level,
        interval=options.bootstrap_interval,
    )
    comparison = None
    if score2 is not None:
        comparison = delong_paired_test(truth, scores, cases.scores[score2], confidence_level=level)
    return MetricsReport(
        cases=cases,
        score=score,
        options=options,
        auc=auc,
        average_precision=precision,
        binary=binary,
        undefined_binary={} if binary is not None else _undefined_binary(options, truth.shape[0]),
        score2=score2,
        comparison=comparison,
    )


def _number(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.4f}"


def _row(name: str, estimate: Estimate) -> list[str]:
    if estimate.low is not None and estimate.high is not None:
        interval = f"[{_number(estimate.low)}, {_number(estimate.high)}]"
    else:
        interval = f"undefined: {estimate.reason}"
    fraction = (
        f"{estimate.numerator}/{estimate.denominator}" if estimate.denominator is not None else ""
    )
    return [name, _number(estimate.estimate), fraction, interval, estimate.method]


def format_table(report: MetricsReport) -> str:
    """A readable, aligned table of the report (what ``dxval metrics`` prints without --json)."""
    data = report.to_dict()
    lines = [
        f"{data['file']}: truth {data['truth']!r} (positive {data['positive']!r}, "
        f"negative {data['negative']!r}), score {data['score']!r}",
        f"n = {data['n']} ({data['n_positive']} positive, {data['n_negative']} negative)"
        + (
            f", threshold {report.options.threshold:g}"
            if report.options.threshold is not None
            else ""
        ),
    ]
    if "counts" in data:
        counts = data["counts"]
        lines.append(f"TP {counts['tp']}  FP {counts['fp']}  TN {counts['tn']}  FN {counts['fn']}")
    interval_header = f"{report.options.confidence_level * 100:g}% CI"
    rows = [["metric", "estimate", "x/n", interval_header, "method"]]
    rows.append(_row("auc", report.auc))
    rows.extend(_row(name, value) for name, value in report.metrics().items())
    rows.append(_row("average_precision", report.average_precision))
    if report.comparison is not None:
        comparison = report.comparison
        rows.append(_row(f"auc {report.score2}", comparison.auc2))
        rows.append(_row("auc difference", comparison.difference))
    widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]))]
    lines.append("")
    lines.extend(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
    if report.comparison is not None:
        comparison = report.comparison
        lines.append("")
        lines.append(
            f"{comparison.method}: {report.score} vs {report.score2}, "
            f"z = {_number(comparison.z)}, p = "
            + ("-" if comparison.p_value is None else f"{comparison.p_value:.4g}")
        )
    return "\n".join(lines)
