"""Tango's paired score interval and decision flips (src/dxval/stats/paired_score.py).

Reference values: R 4.2.2 running PropCIs 0.3-0 ``scoreci.mp(b, c, n,
conf.level)`` (Tango 1998; the interval of (c − b)/n). PropCIs finds each
limit by bisection to |Δstep| < 1e-7, so its limits agree with the exact
roots to about 1e-7: compared here to 1e-6 absolute.

The first row is PropCIs' own documented example.
| call | lower | upper |
|---|---|---|
| scoreci.mp(b = 40, c = 20, n = 160, 0.95) | −0.21806423366 | −0.03086458892 |
| scoreci.mp(b = 1, c = 7, n = 21, 0.95) | 0.02600288391 | 0.51723226479 |
| scoreci.mp(b = 0, c = 5, n = 30, 0.90) | 0.07015494506 | 0.30492053429 |
| scoreci.mp(b = 0, c = 3, n = 10, 0.95) | −0.06079266071 | 0.60322180986 |
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dxval.stats import Status, decision_flips, tango_difference
from dxval.stats.paired import PairedTable
from dxval.stats.paired_score import tango_interval, tango_statistic

# (b, c, n, level, lower, upper) of PropCIs::scoreci.mp: interval of (c - b)/n
PROPCIS = [
    (40, 20, 160, 0.95, -0.21806423366, -0.03086458892),
    (1, 7, 21, 0.95, 0.02600288391, 0.51723226479),
    (0, 5, 30, 0.90, 0.07015494506, 0.30492053429),
    (0, 3, 10, 0.95, -0.06079266071, 0.60322180986),
]


def _flags(both: int, first_only: int, second_only: int, neither: int) -> tuple[object, object]:
    first = [True] * both + [True] * first_only + [False] * second_only + [False] * neither
    second = [True] * both + [False] * first_only + [True] * second_only + [False] * neither
    return np.array(first), np.array(second)


@pytest.mark.req("DXV-PCCP-002")
@pytest.mark.parametrize(("b", "c", "n", "level", "lower", "upper"), PROPCIS)
def test_tango_interval_matches_propcis(  # noqa: PLR0917 (pytest passes parameters by name)
    b: int, c: int, n: int, level: float, lower: float, upper: float
) -> None:
    # PropCIs' difference is (c - b)/n: c is our first_only (first model correct only)
    first, second = _flags(n - b - c, c, b, 0)
    estimate = tango_difference(first, second, confidence_level=level)
    assert estimate.estimate == pytest.approx((c - b) / n, abs=1e-15)
    assert estimate.low == pytest.approx(lower, abs=1e-6)
    assert estimate.high == pytest.approx(upper, abs=1e-6)
    assert estimate.method.startswith("Tango")
    assert (estimate.confidence_level, estimate.n) == (level, n)


@pytest.mark.parametrize(("b", "c", "n", "level", "lower", "upper"), PROPCIS)
def test_tango_limits_are_roots_of_the_score_statistic(  # noqa: PLR0917 (pytest passes parameters by name)
    b: int, c: int, n: int, level: float, lower: float, upper: float
) -> None:
    from scipy.stats import norm

    table = PairedTable(n - b - c, c, b, 0)
    estimate = tango_interval(table, confidence_level=level)
    z = norm.ppf(0.5 + level / 2)
    assert estimate.low is not None
    assert estimate.high is not None
    assert tango_statistic(table, estimate.low) == pytest.approx(z, abs=1e-9)
    assert tango_statistic(table, estimate.high) == pytest.approx(-z, abs=1e-9)


def test_tango_interval_reaches_the_boundary_when_every_pair_is_discordant_one_way() -> None:
    estimate = tango_interval(PairedTable(0, 10, 0, 0))
    assert estimate.estimate == 1.0
    assert estimate.high == 1.0
    assert estimate.low is not None
    assert 0.0 < estimate.low < 1.0


def test_tango_interval_without_discordant_pairs_is_undefined_not_nan() -> None:
    estimate = tango_interval(PairedTable(5, 0, 0, 5))
    assert estimate.status is Status.UNDEFINED
    assert estimate.estimate == 0.0
    assert estimate.low is None
    assert estimate.high is None
    assert "discordant" in (estimate.reason or "")
    empty = tango_interval(PairedTable(0, 0, 0, 0))
    assert empty.status is Status.UNDEFINED
    assert empty.n == 0


def test_tango_interval_contains_the_estimate_and_is_antisymmetric() -> None:
    forward = tango_interval(PairedTable(30, 9, 4, 7), confidence_level=0.9)
    backward = tango_interval(PairedTable(30, 4, 9, 7), confidence_level=0.9)
    assert forward.low is not None
    assert forward.high is not None
    assert forward.low < (forward.estimate or math.nan) < forward.high
    assert backward.low == pytest.approx(-forward.high, abs=1e-12)
    assert backward.high == pytest.approx(-forward.low, abs=1e-12)


@pytest.mark.req("DXV-PCCP-002")
def test_decision_flips_count_each_direction_with_a_wilson_interval() -> None:
    # statsmodels 0.14.6: proportion_confint(2, 8, method="wilson")
    # = (0.071479212752109, 0.5907245696898311) (Wilson 1927)
    flips = decision_flips(
        [0.9, 0.2, 0.6, 0.1, 0.7, 0.3, 0.5, 0.4],
        [0.9, 0.6, 0.2, 0.1, 0.7, 0.3, 0.5, 0.4],
        threshold1=0.5,
        threshold2=0.5,
    )
    assert (flips.to_positive, flips.to_negative, flips.total, flips.n) == (1, 1, 2, 8)
    assert (flips.both_positive, flips.both_negative) == (3, 3)
    assert flips.fraction.estimate == 0.25
    assert flips.fraction.low == pytest.approx(0.071479212752109, rel=1e-9)
    assert flips.fraction.high == pytest.approx(0.5907245696898311, rel=1e-9)
    assert flips.fraction.method.startswith("decision flips")


def test_decision_flips_use_each_model_threshold_inclusively() -> None:
    flips = decision_flips([0.5, 0.4], [0.5, 0.4], threshold1=0.5, threshold2=0.4)
    # case 2: 0.4 < 0.5 negative for the first, 0.4 >= 0.4 positive for the second
    assert (flips.to_positive, flips.to_negative) == (0, 1)
    empty = decision_flips([], [], threshold1=0.5, threshold2=0.5)
    assert empty.fraction.status is Status.UNDEFINED
