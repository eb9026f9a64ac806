"""How the report prints numbers: four decimals, intervals, undefined values, p-values."""

from __future__ import annotations

from dxval.evidence.format import EstimateRecord
from dxval.report import formatting as fmt


def _estimate(estimate: float | None, low: float | None, high: float | None) -> EstimateRecord:
    return EstimateRecord(
        estimate=estimate,
        low=low,
        high=high,
        confidence_level=0.95,
        method="Wilson score",
        n=41,
        status="ok" if estimate is not None else "undefined",
        numerator=26,
        denominator=41,
    )


def test_numbers_and_intervals() -> None:
    assert fmt.number(0.09999999999999998) == "0.1000"
    assert fmt.number(None) == "undefined"
    record = _estimate(0.6341463414634146, 0.4812070108791201, 0.7641016898031056)
    assert fmt.estimate_text(record) == "0.6341 (0.4812\u202f–\u20090.7641)"
    assert fmt.percent_interval(record) == "63.4% (48.1\u202f–\u200976.4%)"
    assert fmt.fraction(record) == "26/41"
    assert fmt.estimate_text(_estimate(0.5, None, None)) == "0.5000 (CI undefined)"
    assert fmt.estimate_text(_estimate(None, None, None)) == "undefined"
    assert fmt.level_text(0.9833333333333333) == "98.33%"
    assert fmt.percent(0, 0) == "–"


def test_p_values_digests_and_times() -> None:
    assert fmt.p_value(0.00004) == "< 0.0001"
    assert fmt.p_value(0.000648) == "0.0006"
    assert fmt.p_value(0.6052544) == "0.6053"
    assert fmt.short_digest("ab" * 32) == "abababababab…"
    assert fmt.utc_text("2026-11-26T18:31:13.105872Z") == "2026-11-26 18:31:13 UTC"
