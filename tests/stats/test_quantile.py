"""Nearest-rank quantiles and distribution-free order-statistic intervals (latency, issue 19).

References:

- R 4.2.2 (Debian r-base), ``quantile(x, p, type = 1)`` for the point
  estimates, and the interval ranks computed in R with ``pbinom``::

      ci <- function(x, p, level) {
        n <- length(x); a <- (1 - level) / 2; s <- sort(x)
        lo <- which(pbinom((1:n) - 1, n, p) <= a)
        up <- which(pbinom((1:n) - 1, n, p, lower.tail = FALSE) <= a)
        c(max(lo), min(up), s[max(lo)], s[min(up)],
          pbinom(min(up) - 1, n, p) - pbinom(max(lo) - 1, n, p))
      }
      y <- (((1:200) * 7919) %% 1009) / 100

  (values copied below with 17 digits).
- numpy ``quantile(method="inverted_cdf")`` (Hyndman & Fan type 1) and
  ``scipy.stats.quantile_test(...).confidence_interval()``, independent
  implementations of the same definitions.
- Wilks (1941), *Ann. Math. Statist.* 12:91-96: the maximum of n = 59
  observations is a one-sided 95% upper bound of the 95th percentile, and 58
  are not enough (0.95**59 = 0.0485 < 0.05 < 0.95**58 = 0.0510).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from dxval.stats.quantile import (
    nearest_rank,
    quantile_estimate,
    quantile_interval,
    sample_maximum,
)
from dxval.stats.results import Status

X30 = np.array(
    [0.412, 1.937, 0.055, 3.201, 0.777, 0.129, 2.464, 0.981, 0.302, 5.118,
     0.648, 1.215, 0.089, 0.553, 4.020, 0.236, 1.502, 0.871, 0.190, 2.903,
     0.365, 0.714, 1.088, 0.027, 6.650, 0.499, 1.733, 0.263, 0.935, 0.158]
)  # fmt: skip
Y200 = ((np.arange(1, 201) * 7919) % 1009) / 100

# (p, level, R quantile type 1, lower rank, upper rank, low, high, coverage)
R_Y200 = [
    (0.5, 0.95, 5.08999999999999986, 86, 115, 4.38999999999999968, 5.87999999999999989,
     0.95996280838660053),
    (0.5, 0.90, 5.08999999999999986, 88, 113, 4.46999999999999975, 5.75,
     0.92316236786873951),
    (0.95, 0.95, 9.59999999999999964, 184, 197, 9.31000000000000050, 9.92999999999999972,
     0.96715216385672564),
    (0.95, 0.90, 9.59999999999999964, 185, 196, 9.34999999999999964, 9.89000000000000057,
     0.92919757082381860),
]  # fmt: skip


@pytest.mark.req("DXV-LAT-008")
@pytest.mark.parametrize(("p", "expected"), [(0.5, 0.714), (0.95, 5.118), (0.9, 3.201)])
def test_nearest_rank_equals_r_type_1(p: float, expected: float) -> None:
    assert nearest_rank(X30, p) == expected


@pytest.mark.req("DXV-LAT-008")
@pytest.mark.parametrize("row", R_Y200)
def test_interval_equals_r(row: tuple[float, ...]) -> None:
    p, level, point, lower, upper, low, high, coverage = row
    ranks = quantile_interval(200, p, confidence_level=level)
    assert (ranks.lower_rank, ranks.upper_rank) == (lower, upper)
    assert ranks.coverage == pytest.approx(coverage, rel=1e-12)
    estimate = quantile_estimate(Y200, p, confidence_level=level)
    assert (estimate.estimate, estimate.low, estimate.high) == (point, low, high)
    assert estimate.status is Status.OK
    assert estimate.n == 200
    assert "type 1" in estimate.method
    assert "order-statistic" in estimate.method


@pytest.mark.req("DXV-LAT-008")
def test_point_and_interval_match_numpy_and_scipy_on_random_samples() -> None:
    rng = np.random.default_rng(20261206)
    for n in (1, 2, 7, 20, 59, 73, 150, 1000):
        sample = rng.lognormal(size=n)
        for p in (0.5, 0.9, 0.95):
            assert nearest_rank(sample, p) == np.quantile(sample, p, method="inverted_cdf")
            estimate = quantile_estimate(sample, p, confidence_level=0.95)
            reference = stats.quantile_test(sample, q=0.0, p=p).confidence_interval(0.95)
            low = np.nan if estimate.low is None else estimate.low
            high = np.nan if estimate.high is None else estimate.high
            np.testing.assert_array_equal([low, high], [reference.low, reference.high])


def test_rank_of_an_exact_product_is_not_pushed_up_by_rounding() -> None:
    values = np.arange(1.0, 21.0)  # 0.95 * 20 is 19 up to rounding: rank 19, as in R
    assert nearest_rank(values, 0.95) == 19.0
    assert nearest_rank(values, 0.0) == 1.0
    assert nearest_rank(values, 1.0) == 20.0


@pytest.mark.req("DXV-LAT-008")
def test_wilks_59_runs() -> None:
    """Two-sided 90% = one-sided 95% per tail: 59 runs bound p95 by their maximum, 58 do not."""
    assert quantile_interval(59, 0.95, confidence_level=0.90).upper_rank == 59
    assert quantile_interval(58, 0.95, confidence_level=0.90).upper_rank is None
    short = quantile_estimate(np.arange(58.0), 0.95, confidence_level=0.90)
    assert short.status is Status.UNDEFINED
    assert short.high is None
    assert short.estimate == 55.0
    assert short.reason == "an upper bound needs n >= 59 (n = 58)"


def test_empty_sample_is_undefined_not_nan() -> None:
    estimate = quantile_estimate(np.array([]), 0.95, confidence_level=0.95)
    assert estimate.status is Status.UNDEFINED
    assert estimate.estimate is None
    assert estimate.reason == "no timed cases"
    assert estimate.n == 0


def test_maximum_keeps_its_value_and_n() -> None:
    estimate = sample_maximum(X30, confidence_level=0.95)
    assert estimate.estimate == 6.650
    assert estimate.n == 30
    assert estimate.low is None


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match=r"p: got 1.5"):
        nearest_rank(X30, 1.5)
    with pytest.raises(ValueError, match="finite"):
        nearest_rank(np.array([1.0, np.nan]), 0.5)
    with pytest.raises(ValueError, match="0 < p < 1"):
        quantile_interval(10, 1.0, confidence_level=0.95)
