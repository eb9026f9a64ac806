"""One operational-qualification check: what was expected, what was observed, pass or fail.

Every check of ``dxval self-validate`` becomes a :class:`CheckResult`, so the
tool-validation report lists each one the same way (FDA, "Computer Software
Assurance for Production and Quality System Software", 2022: record the
intended use, the test, expected and observed results and the conclusion).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check: its group, name, expected and observed values and verdict."""

    group: str
    name: str
    expected: str
    observed: str
    passed: bool
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "group": self.group,
            "name": self.name,
            "expected": self.expected,
            "observed": self.observed,
            "result": "pass" if self.passed else "fail",
            "source": self.source,
        }


def _show(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.10g}"


def close(
    expected: float, observed: float | None, *, relative: float, absolute: float = 0.0
) -> bool:
    """True when ``observed`` is finite and within the tolerance of ``expected``.

    An expected 0 or 1 (an interval's clipped bound) must be met exactly
    unless ``absolute`` allows otherwise.
    """
    if observed is None or not math.isfinite(observed):
        return False
    return math.isclose(observed, expected, rel_tol=relative, abs_tol=absolute)


def compare_values(
    group: str,
    name: str,
    expected: Sequence[float],
    observed: Sequence[float | None],
    *,
    relative: float,
    absolute: float = 0.0,
    source: str = "",
) -> CheckResult:
    """A check that every observed number matches its expected number within the tolerance."""
    passed = len(expected) == len(observed) and all(
        close(want, got, relative=relative, absolute=absolute)
        for want, got in zip(expected, observed, strict=False)
    )
    tolerance = f"rel {relative:g}" + (f", abs {absolute:g}" if absolute else "")
    return CheckResult(
        group,
        name,
        ", ".join(_show(value) for value in expected) + f" ({tolerance})",
        ", ".join(_show(value) for value in observed),
        passed,
        source,
    )


def compare_exact(
    group: str, name: str, expected: object, observed: object, *, source: str = ""
) -> CheckResult:
    """A check that ``observed`` equals ``expected`` exactly (counts, codes, verdicts)."""
    return CheckResult(group, name, str(expected), str(observed), expected == observed, source)
