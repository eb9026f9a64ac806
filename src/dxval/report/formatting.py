"""Text forms of the bundle's numbers: one place decides how every value is printed.

Nothing here computes a statistic. Values come from ``metrics.json`` and
``criteria.json``; a missing value prints as ``undefined`` (with its reason
where one is recorded), never as ``nan`` or an empty cell. One number format
throughout: estimates, bounds and p-values with four decimals (as in the
terminal summary, so a reader can search the PDF for the number shown by
``validate``), negative numbers with the minus sign U+2212, interval ends
joined by a thin-spaced en dash, or by "to" when an end is negative (so a
minus is never read as a dash); counts of things agree in number ("1 case",
"3 sites"), never "case(s)".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dxval.stats import wording

if TYPE_CHECKING:
    from dxval.evidence.format import EstimateRecord

UNDEFINED = "undefined"
DASH = "–"  # en dash: an empty cell, and between interval ends (thin-spaced)
MINUS = "\u2212"
THIN = "\u2009"
# narrow no-break space before the dash (a line never starts with it), thin space after
RANGE = f"\u202f{DASH}{THIN}"


def signed(text: str) -> str:
    """``text`` (a formatted number) with a leading hyphen-minus turned into U+2212."""
    return MINUS + text[1:] if text.startswith("-") else text


def number(value: float | None, *, digits: int = 4) -> str:
    """``value`` with ``digits`` decimals (minus sign U+2212), or ``undefined``.

    A value that rounds to zero prints without a sign (``0.0000``, never ``−0.0000``).
    """
    if value is None:
        return UNDEFINED
    text = f"{value:.{digits}f}"
    if text.startswith("-") and float(text) == 0.0:
        text = text[1:]
    return signed(text)


def span(low: str, high: str, *, negative: bool) -> str:
    """Join interval ends: ``low – high`` (thin spaces); ``low to high`` when one is negative."""
    return f"{low} to {high}" if negative else f"{low}{RANGE}{high}"


# Defined in stats so that the analysis's reasons in metrics.json agree in number the
# same way (analysis cannot import report); ``fmt.plural`` stays the report's name for it.
plural = wording.plural


def level_text(confidence_level: float) -> str:
    """A confidence level as a percentage: 0.95 → ``95%``, 0.98333 → ``98.33%``."""
    return f"{confidence_level * 100:.4g}%"


def bounds(low: float | None, high: float | None, *, digits: int = 4) -> str:
    """``low – high`` (``low to high`` when one is negative), or ``CI undefined``."""
    if low is None or high is None:
        return "CI undefined"
    first, second = number(low, digits=digits), number(high, digits=digits)
    return span(first, second, negative=MINUS in first + second)


def estimate_text(record: EstimateRecord | None, *, digits: int = 4) -> str:
    """``estimate (low – high)``; ``undefined`` when there is no point estimate."""
    if record is None or record.estimate is None:
        return UNDEFINED
    interval = bounds(record.low, record.high, digits=digits)
    return f"{number(record.estimate, digits=digits)} ({interval})"


def percent(numerator: int, denominator: int, *, digits: int = 1) -> str:
    """``numerator/denominator`` as a percentage with ``digits`` decimals; ``–`` for 0/0."""
    if denominator == 0:
        return DASH
    return f"{100 * numerator / denominator:.{digits}f}%"


def percent_interval(record: EstimateRecord, *, digits: int = 1) -> str:
    """A proportion's point and interval in percent: ``63.4% (48.1 – 76.4%)``."""
    if record.estimate is None:
        return UNDEFINED
    if record.low is None or record.high is None:
        return f"{100 * record.estimate:.{digits}f}% (CI undefined)"
    return (
        f"{100 * record.estimate:.{digits}f}% "
        f"({100 * record.low:.{digits}f}{RANGE}{100 * record.high:.{digits}f}%)"
    )


def fraction(record: EstimateRecord) -> str:
    """``numerator/denominator`` of a proportion, or ``–`` when the record has none."""
    if record.numerator is None or record.denominator is None:
        return DASH
    return f"{record.numerator}/{record.denominator}"


def p_value(value: float | None) -> str:
    """A p-value with four decimals; ``< 0.0001`` below that."""
    if value is None:
        return UNDEFINED
    if value < 0.0001:
        return "< 0.0001"
    return f"{value:.4f}"


def short_digest(sha256: str | None, *, digits: int = 12) -> str:
    """The first ``digits`` characters of a digest or key ID, with an ellipsis when cut."""
    if not sha256:
        return DASH
    return sha256 if len(sha256) <= digits else f"{sha256[:digits]}…"


def utc_text(timestamp: str) -> str:
    """``2026-11-26T18:31:13.105872Z`` → ``2026-11-26 18:31:13 UTC`` (seconds kept)."""
    date, _, time = timestamp.partition("T")
    return f"{date} {time[:8]} UTC" if time else timestamp


_MULTIPLICITY_NAMES = {"holm": "Holm", "bonferroni": "Bonferroni", "none": "no adjustment"}


def multiplicity_name(method: str) -> str:
    """A multiplicity setting as a name: ``holm`` → ``Holm``, ``bonferroni`` → ``Bonferroni``."""
    return _MULTIPLICITY_NAMES.get(method, method)


def interval_adjustment(method: str) -> str:
    """What the multiplicity setting does to the intervals of criteria over K populations.

    Bonferroni and Holm both widen the intervals to the Bonferroni level
    1 − (1 − CL)/K: Holm's step-down procedure adjusts p-values and has no
    simultaneous-interval form (``dxval.analysis.criteria``; README, statistics).
    """
    if method == "none":
        return "intervals at the nominal level (no multiplicity adjustment)"
    if method == "holm":
        return (
            "intervals at the Bonferroni level 1 − (1 − CL)/K (the protocol's Holm setting "
            "has no interval form; Holm adjusts the failure-mode p-values)"
        )
    return f"intervals at the {multiplicity_name(method)} level 1 − (1 − CL)/K"
