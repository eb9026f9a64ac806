"""Text forms of the bundle's numbers: one place decides how every value is printed.

Nothing here computes a statistic. Values come from ``metrics.json`` and
``criteria.json``; a missing value prints as ``undefined`` (with its reason
where one is recorded), never as ``nan`` or an empty cell. Observed values of
criteria print with four decimals, as in the terminal summary, so a reader
can search the PDF for the number shown by ``validate``.
"""

from __future__ import annotations

from dxval.evidence.format import EstimateRecord

UNDEFINED = "undefined"
DASH = "–"  # en dash between interval bounds


def number(value: float | None, *, digits: int = 4) -> str:
    """``value`` with ``digits`` decimals, or ``undefined``."""
    return UNDEFINED if value is None else f"{value:.{digits}f}"


def level_text(confidence_level: float) -> str:
    """A confidence level as a percentage: 0.95 → ``95%``, 0.98333 → ``98.33%``."""
    return f"{confidence_level * 100:.4g}%"


def bounds(low: float | None, high: float | None, *, digits: int = 4) -> str:
    """``low–high``, or ``CI undefined`` when either bound is missing."""
    if low is None or high is None:
        return "CI undefined"
    return f"{low:.{digits}f}{DASH}{high:.{digits}f}"


def estimate_text(record: EstimateRecord | None, *, digits: int = 4) -> str:
    """``estimate (low–high)``; ``undefined`` when there is no point estimate."""
    if record is None or record.estimate is None:
        return UNDEFINED
    return f"{record.estimate:.{digits}f} ({bounds(record.low, record.high, digits=digits)})"


def percent(numerator: int, denominator: int, *, digits: int = 1) -> str:
    """``numerator/denominator`` as a percentage with ``digits`` decimals; ``–`` for 0/0."""
    if denominator == 0:
        return DASH
    return f"{100 * numerator / denominator:.{digits}f}%"


def percent_interval(record: EstimateRecord, *, digits: int = 1) -> str:
    """A proportion's point and interval in percent: ``63.4% (48.1–76.4%)``."""
    if record.estimate is None:
        return UNDEFINED
    if record.low is None or record.high is None:
        return f"{100 * record.estimate:.{digits}f}% (CI undefined)"
    return (
        f"{100 * record.estimate:.{digits}f}% "
        f"({100 * record.low:.{digits}f}{DASH}{100 * record.high:.{digits}f}%)"
    )


def fraction(record: EstimateRecord) -> str:
    """``numerator/denominator`` of a proportion, or ``–`` when the record has none."""
    if record.numerator is None or record.denominator is None:
        return DASH
    return f"{record.numerator}/{record.denominator}"


def p_value(value: float | None) -> str:
    """A p-value with three significant digits; ``< 0.0001`` below that."""
    if value is None:
        return UNDEFINED
    if value < 0.0001:
        return "< 0.0001"
    return f"{value:.3g}" if value < 0.001 else f"{value:.4f}"


def short_digest(sha256: str | None, *, digits: int = 12) -> str:
    """The first ``digits`` characters of a digest or key ID, with an ellipsis when cut."""
    if not sha256:
        return DASH
    return sha256 if len(sha256) <= digits else f"{sha256[:digits]}…"


def utc_text(timestamp: str) -> str:
    """``2026-11-26T18:31:13.105872Z`` → ``2026-11-26 18:31:13 UTC`` (seconds kept)."""
    date, _, time = timestamp.partition("T")
    return f"{date} {time[:8]} UTC" if time else timestamp
