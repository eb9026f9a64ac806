"""Sample sizes: exact binomial search for sensitivity, AUC precision and AUC vs chance."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

from dxval.stats import (
    auc_sample_size_for_width,
    auc_sample_size_vs_chance,
    proportion_ci,
    sensitivity_sample_size,
)
from dxval.stats.sample_size import hanley_mcneil_variance, obuchowski_variance


def power_at(n: int, expected: float, goal: float, method: str) -> float:
    critical = next(
        (x for x in range(n + 1) if (proportion_ci(x, n, method=method).low or 0) > goal), None
    )
    return 0.0 if critical is None else float(binom.sf(critical - 1, n, expected))


@pytest.mark.parametrize("method", ["clopper_pearson", "wilson"])
def test_sensitivity_sample_size_is_the_smallest_n_with_enough_power(method: str) -> None:
    result = sensitivity_sample_size(0.9, 0.8, power=0.8, method=method)
    assert result.achieved >= 0.8
    assert power_at(result.n_positive, 0.9, 0.8, method) == pytest.approx(result.achieved)
    assert all(power_at(n, 0.9, 0.8, method) < 0.8 for n in range(1, result.n_positive))
    critical = result.critical_count or 0
    assert (proportion_ci(critical, result.n_positive, method=method).low or 0) > 0.8
    assert (proportion_ci(critical - 1, result.n_positive, method=method).low or 1) <= 0.8


def test_sensitivity_sample_size_rejects_impossible_designs() -> None:
    with pytest.raises(ValueError, match="must exceed the goal"):
        sensitivity_sample_size(0.8, 0.85)
    with pytest.raises(ValueError, match="no sample size up to 50"):
        sensitivity_sample_size(0.9, 0.85, max_positives=50)


def test_auc_width_design_is_minimal() -> None:
    result = auc_sample_size_for_width(0.8, 0.05, negatives_per_positive=2.0)
    assert result.n_negative == 2 * result.n_positive
    z = 1.959963984540054
    m = result.n_positive
    assert z * hanley_mcneil_variance(0.8, m, 2 * m) ** 0.5 <= 0.05
    assert z * hanley_mcneil_variance(0.8, m - 1, 2 * (m - 1)) ** 0.5 > 0.05


def test_hanley_mcneil_variance_is_exact_for_exponential_scores() -> None:
    # Hanley & McNeil's Q1, Q2 are exact when both classes have exponential scores.
    rng = np.random.default_rng(20261126)
    auc, m, n, simulations = 0.85, 30, 40, 4000
    positives = rng.exponential(1.0 / (1.0 / auc - 1.0), size=(simulations, m))  # rate (1-A)/A
    negatives = rng.exponential(1.0, size=(simulations, n))
    wins = (positives[:, :, None] > negatives[:, None, :]).mean(axis=(1, 2))
    assert wins.mean() == pytest.approx(auc, abs=0.005)
    assert wins.var(ddof=1) == pytest.approx(hanley_mcneil_variance(auc, m, n), rel=0.08)


@pytest.mark.parametrize("method", ["obuchowski", "hanley_mcneil"])
def test_auc_vs_chance_design_is_minimal(method: str) -> None:
    result = auc_sample_size_vs_chance(0.75, power=0.9, method=method)
    assert result.achieved >= 0.9
    smaller = auc_sample_size_vs_chance(0.75, power=result.achieved + 1e-9, method=method)
    assert smaller.n_positive >= result.n_positive
    assert auc_sample_size_vs_chance(0.85, power=0.9, method=method).n_positive < result.n_positive


def test_obuchowski_variance_function_at_chance() -> None:
    # V(0.5) = 0.0099 · (8 + 8/κ) per positive case (a = 0)
    assert obuchowski_variance(0.5, 1, 1.0) == pytest.approx(0.0099 * 16)


def test_bad_auc_designs() -> None:
    with pytest.raises(ValueError, match=r"expected a value above 0\.5"):
        auc_sample_size_vs_chance(0.4)
    with pytest.raises(ValueError, match="method: got 'pass'"):
        auc_sample_size_vs_chance(0.8, method="pass")
    with pytest.raises(ValueError, match="negatives_per_positive"):
        auc_sample_size_for_width(0.8, 0.05, negatives_per_positive=0)
