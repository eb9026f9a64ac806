"""Result records: JSON safety, clipping, undefined results."""

from __future__ import annotations

import json
import math

import pytest

from dxval.stats import Estimate, Status, TestResult
from dxval.stats.results import finite_or_none, interval_estimate


def test_interval_is_clipped_to_bounds() -> None:
    result = interval_estimate(0.98, 0.95, 1.02, confidence_level=0.95, method="m", n=10)
    assert result.high == 1.0
    assert result.status is Status.OK
    wide = interval_estimate(0.5, -2.0, 3.0, confidence_level=0.9, method="m", n=3, bounds=(-1, 1))
    assert (wide.low, wide.high) == (-1.0, 1.0)


def test_non_finite_interval_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="non-finite interval"):
        interval_estimate(0.5, math.nan, 0.6, confidence_level=0.95, method="m", n=1)


def test_to_dict_is_json_safe_and_complete() -> None:
    undefined = Estimate.undefined(
        "why", confidence_level=0.95, method="m", n=0, estimate=math.inf, variance=math.nan
    )
    data = undefined.to_dict()
    assert data["estimate"] is None
    assert data["variance"] is None
    assert data["status"] == "undefined"
    assert data["reason"] == "why"
    json.dumps(data, allow_nan=False)
    assert set(data) == {
        "estimate",
        "low",
        "high",
        "confidence_level",
        "method",
        "n",
        "status",
        "reason",
        "numerator",
        "denominator",
        "variance",
    }


def test_test_result_to_dict_and_pytest_does_not_collect_it() -> None:
    result = TestResult("m", 1.5, math.nan, 4, Status.OK)
    assert result.to_dict()["p_value"] is None
    assert TestResult.__test__ is False
    assert result.odds_ratio is None


def test_finite_or_none() -> None:
    assert finite_or_none(None) is None
    assert finite_or_none(-math.inf) is None
    assert finite_or_none(2) == 2.0
