"""Drift statistics against independent implementations and a hand-worked PSI.

References beside each test: scipy 1.17 ``scipy.stats.ks_2samp``,
``scipy.stats.chi2_contingency`` and ``scipy.stats.wasserstein_distance``
(independent code paths for the χ² statistic and W₁, which dxval computes
itself; the KS statistic is also checked against a brute-force ECDF).
"""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from dxval.stats import Status, drift
from dxval.stats.drift import (
    chi_square_homogeneity,
    ks_two_sample,
    population_stability_index,
    psi_bin_edges,
    wasserstein_distance,
)


def _samples(seed: int, n: int, m: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 1.0, n), rng.normal(shift, 1.2, m)


@pytest.mark.req("DXV-MON-001")
def test_psi_hand_worked_example() -> None:
    # Reference: 10 values, current: 8 values, interior edges 2.5 and 5.5 (3 bins).
    # Bin counts: reference 1,2 | 3,4,5 | 6,7,8,9,10 -> 2, 3, 5 of 10 -> 0.2, 0.3, 0.5
    #             current   1,2,2 | 3,3,4,5 | 6    -> 3, 4, 1 of 8  -> 0.375, 0.5, 0.125
    # PSI = (0.375-0.2) ln(0.375/0.2) + (0.5-0.3) ln(0.5/0.3) + (0.125-0.5) ln(0.125/0.5)
    #     = 0.175 * 0.6286087 + 0.2 * 0.5108256 + (-0.375) * (-1.3862944)
    #     = 0.1100065 + 0.1021651 + 0.5198604 = 0.7320320
    reference = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    current = [1, 2, 2, 3, 3, 4, 5, 6]
    result = population_stability_index(reference, current, bins=[2.5, 5.5])
    expected = (
        0.175 * math.log(0.375 / 0.2) + 0.2 * math.log(0.5 / 0.3) + 0.375 * math.log(0.5 / 0.125)
    )
    assert result.statistic == pytest.approx(expected, rel=1e-12)
    assert result.statistic == pytest.approx(0.7320320, abs=1e-7)
    assert result.bin_edges == (2.5, 5.5)
    assert (result.n_reference, result.n_current, result.status) == (10, 8, Status.OK)
    assert "3 stated bins" in result.method


@pytest.mark.req("DXV-MON-001")
def test_psi_empty_bin_is_floored_not_infinite() -> None:
    # Current has nothing above 5.5: that bin's fraction is floored at 1e-4.
    result = population_stability_index([1, 2, 6, 7], [1, 2, 2, 1], bins=[5.5])
    expected = (1.0 - 0.5) * math.log(1.0 / 0.5) + (1e-4 - 0.5) * math.log(1e-4 / 0.5)
    assert result.statistic == pytest.approx(expected, rel=1e-12)


@pytest.mark.req("DXV-MON-001")
def test_psi_quantile_bins_and_identity() -> None:
    reference, _ = _samples(1, 1000, 10, 0.0)
    edges = psi_bin_edges(reference, 10)
    assert len(edges) == 9
    assert np.allclose(edges, np.quantile(reference, np.arange(1, 10) / 10))
    same = population_stability_index(reference, reference, bins=10)
    assert same.statistic == 0.0
    assert "10 equal-frequency bins" in same.method


@pytest.mark.parametrize(("n", "m", "shift"), [(40, 30, 0.3), (598, 350, 0.0), (600, 20000, 0.1)])
@pytest.mark.req("DXV-MON-001")
def test_ks_matches_scipy_ks_2samp(n: int, m: int, shift: float) -> None:
    reference, current = _samples(n + m, n, m, shift)
    result = ks_two_sample(reference, current)
    expected = scipy_stats.ks_2samp(reference, current)  # scipy 1.17, method="auto"
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    # ECDF supremum over every observed value, independent of scipy
    grid = np.concatenate([reference, current])
    ecdf_reference = np.searchsorted(np.sort(reference), grid, side="right") / n
    ecdf_current = np.searchsorted(np.sort(current), grid, side="right") / m
    assert result.statistic == pytest.approx(np.abs(ecdf_reference - ecdf_current).max(), rel=1e-12)
    assert ("exact" in result.method) == (max(n, m) <= 10_000)


@pytest.mark.parametrize("seed", [3, 4])
@pytest.mark.req("DXV-MON-001")
def test_wasserstein_matches_scipy(seed: int) -> None:
    reference, current = _samples(seed, 500, 137, 0.4)
    result = wasserstein_distance(reference, current)
    expected = scipy_stats.wasserstein_distance(reference, current)
    assert result.statistic == pytest.approx(expected, rel=1e-10)
    assert result.p_value is None


@pytest.mark.parametrize(
    ("reference", "current"),
    [
        ({"F": 321, "M": 277}, {"F": 150, "M": 200}),
        ({"A": 198, "B": 200, "C": 200}, {"A": 10, "B": 100, "C": 100, "Z": 140}),
        ({"x": 5, "y": 0, "z": 7}, {"x": 2, "y": 3, "z": 1}),
    ],
)
@pytest.mark.req("DXV-MON-001")
def test_chi_square_matches_chi2_contingency(
    reference: dict[str, int], current: dict[str, int]
) -> None:
    result = chi_square_homogeneity(reference, current)
    levels = sorted(set(reference) | set(current))
    table = np.array([[reference.get(k, 0) for k in levels], [current.get(k, 0) for k in levels]])
    expected = scipy_stats.chi2_contingency(table, correction=False)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert result.degrees_of_freedom == expected.dof
    assert result.min_expected == pytest.approx(expected.expected_freq.min(), rel=1e-12)


@pytest.mark.req("DXV-MON-001")
def test_undefined_is_a_status_never_nan() -> None:
    for result in (
        population_stability_index([], [1.0]),
        ks_two_sample([1.0], []),
        wasserstein_distance([], []),
        chi_square_homogeneity({"F": 0}, {"F": 3}),
        chi_square_homogeneity({"F": 3}, {"F": 4}),
        chi_square_homogeneity({}, {"F": 4, "M": 1}),
    ):
        assert result.status is Status.UNDEFINED
        assert result.statistic is None
        assert result.p_value is None
        assert result.reason
        assert result.to_dict()["statistic"] is None


def test_bad_input_raises() -> None:
    with pytest.raises(ValueError, match="finite"):
        ks_two_sample([1.0, math.nan], [1.0])
    with pytest.raises(ValueError, match="strictly increasing"):
        population_stability_index([1.0], [1.0], bins=[2.0, 1.0])
    with pytest.raises(ValueError, match="at least 2"):
        psi_bin_edges([1.0], 1)
    with pytest.raises(ValueError, match="non-negative"):
        chi_square_homogeneity({"a": -1, "b": 2}, {"a": 1, "b": 1})


def test_docstring_examples_run() -> None:
    failures, attempted = doctest.testmod(drift, raise_on_error=False)
    assert attempted >= 5
    assert failures == 0
