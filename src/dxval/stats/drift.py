"""Distribution drift between a reference sample and a current sample.

Post-market monitoring compares what a deployed model sees with what it was
validated on (FDA draft guidance "Artificial Intelligence-Enabled Device
Software Functions", 2025, section XI, performance monitoring). Four pure
statistics, each returning a frozen :class:`DriftResult` that states its
method and both sample sizes:

* :func:`population_stability_index` (PSI) over stated bins;
* :func:`ks_two_sample`: two-sample Kolmogorov–Smirnov statistic and p-value;
* :func:`wasserstein_distance`: first Wasserstein (earth mover's) distance;
* :func:`chi_square_homogeneity`: Pearson's χ² test that two samples of a
  categorical variable come from the same distribution.

An empty sample, or a categorical variable with a single level, gives
:attr:`Status.UNDEFINED` with a reason, never NaN.

References
----------
Yurdakul B (2018) Statistical properties of population stability index.
    PhD dissertation, Western Michigan University (PSI definition and bins).
Massey FJ (1951) The Kolmogorov-Smirnov test for goodness of fit. J Am Stat
    Assoc 46:68-78.
Vallender SS (1974) Calculation of the Wasserstein distance between
    probability distributions on the line. Theory Probab Appl 18:784-786.
Pearson K (1900) On the criterion that a given system of deviations...
    Phil Mag 50:157-175; Agresti A (2013) Categorical Data Analysis, 3rd ed,
    section 3.2 (test of homogeneity of multinomials).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import chdtrc

from dxval.stats._arrays import FloatArray
from dxval.stats.results import Status, finite_or_none

#: Fractions below this are raised to it before the PSI logarithm (an empty bin
#: would otherwise make PSI infinite); the convention of most PSI implementations.
PSI_FLOOR = 1e-4
#: Above this many values per sample scipy's ``ks_2samp(method="auto")`` uses the
#: asymptotic distribution instead of the exact one.
KS_EXACT_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class DriftResult:
    """One drift statistic: value, p-value where the method has one, and how it was made.

    ``bin_edges`` (PSI) are the interior edges; the first and last bins are
    open to −∞ and +∞. ``degrees_of_freedom`` is set for the χ² test and
    ``min_expected`` holds its smallest expected cell count (Cochran's rule
    asks for at least 5). With :attr:`Status.UNDEFINED`, ``reason`` says why
    and ``statistic`` and ``p_value`` are None.
    """

    method: str
    statistic: float | None
    p_value: float | None
    n_reference: int
    n_current: int
    status: Status
    reason: str | None = None
    degrees_of_freedom: int | None = None
    bin_edges: tuple[float, ...] | None = None
    min_expected: float | None = None

    @classmethod
    def undefined(
        cls, method: str, reason: str, *, n_reference: int, n_current: int
    ) -> DriftResult:
        """A result that does not exist for these samples, with the reason."""
        return cls(method, None, None, n_reference, n_current, Status.UNDEFINED, reason)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict (None for missing values, never NaN)."""
        return {
            "method": self.method,
            "statistic": finite_or_none(self.statistic),
            "p_value": finite_or_none(self.p_value),
            "n_reference": self.n_reference,
            "n_current": self.n_current,
            "status": self.status.value,
            "reason": self.reason,
            "degrees_of_freedom": self.degrees_of_freedom,
            "bin_edges": None if self.bin_edges is None else list(self.bin_edges),
            "min_expected": finite_or_none(self.min_expected),
        }


def _sample(values: ArrayLike, *, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name}: expected finite values, got NaN or infinity")
    return array


def _empty_reason(n_reference: int, n_current: int) -> str | None:
    if n_reference == 0:
        return "the reference sample is empty"
    if n_current == 0:
        return "the current sample is empty"
    return None


def psi_bin_edges(reference: ArrayLike, bins: int = 10) -> tuple[float, ...]:
    """Interior PSI bin edges at the reference's quantiles k/bins, k = 1 … bins − 1.

    Quantiles use numpy's default (linear interpolation, Hyndman & Fan type
    7); repeated edges (ties in the reference) are merged, so fewer than
    ``bins`` bins may result.

    Parameters
    ----------
    reference : array_like, shape (n,)
        The reference sample (finite values, n ≥ 1).
    bins : int
        Number of equal-frequency bins wanted, at least 2.

    Returns
    -------
    tuple of float
        Sorted, distinct interior edges.

    Raises
    ------
    ValueError
        ``bins`` below 2, an empty or non-finite reference.

    Examples
    --------
    >>> from dxval.stats import psi_bin_edges
    >>> psi_bin_edges([1.0, 2.0, 3.0, 4.0, 5.0], bins=2)
    (3.0,)
    """
    if bins < 2:
        raise ValueError(f"bins: expected at least 2, got {bins}")
    array = _sample(reference, name="reference")
    if array.size == 0:
        raise ValueError("reference: expected at least one value to place quantile bins")
    quantiles = np.quantile(array, np.arange(1, bins) / bins)
    return tuple(float(edge) for edge in np.unique(quantiles))


def population_stability_index(
    reference: ArrayLike,
    current: ArrayLike,
    *,
    bins: int | Sequence[float] = 10,
    floor: float = PSI_FLOOR,
) -> DriftResult:
    """Population stability index of ``current`` against ``reference``.

    PSI = Σ_i (c_i − r_i) · ln(c_i / r_i), where r_i and c_i are the
    fractions of the reference and current values in bin i, each raised to
    at least ``floor`` so that an empty bin contributes a finite amount.
    Bin i holds the values x with e_{i−1} ≤ x < e_i; the first bin is open
    below, the last open above. Common reading (Yurdakul 2018): below 0.1
    stable, 0.1–0.25 a moderate shift, above 0.25 a major shift.

    Parameters
    ----------
    reference, current : array_like, shape (n,) and (m,)
        Finite values.
    bins : int or sequence of float
        An int asks for that many equal-frequency bins of the reference
        (:func:`psi_bin_edges`); a sequence gives the interior edges.
    floor : float
        Smallest fraction used inside the logarithm (default 1e-4).

    Returns
    -------
    DriftResult
        ``statistic`` is the PSI (no p-value); ``bin_edges`` the interior
        edges used. Undefined when either sample is empty.

    Raises
    ------
    ValueError
        Non-finite values, unsorted edges or ``floor`` outside (0, 1).

    Examples
    --------
    >>> from dxval.stats import population_stability_index
    >>> result = population_stability_index([0, 0, 1, 1], [0, 1, 1, 1], bins=[0.5])
    >>> round(result.statistic, 6), result.bin_edges
    (0.274653, (0.5,))
    """
    if not 0.0 < floor < 1.0:
        raise ValueError(f"floor: expected a value in (0, 1), got {floor}")
    reference_array = _sample(reference, name="reference")
    current_array = _sample(current, name="current")
    n_reference, n_current = reference_array.size, current_array.size
    method = "population stability index, fractions floored at " + f"{floor:g}"
    reason = _empty_reason(n_reference, n_current)
    if reason is not None:
        return DriftResult.undefined(method, reason, n_reference=n_reference, n_current=n_current)
    if isinstance(bins, int):
        edges = psi_bin_edges(reference_array, bins)
        method += f", {bins} equal-frequency bins of the reference"
    else:
        edges = tuple(float(edge) for edge in bins)
        if any(b <= a for a, b in itertools.pairwise(edges)):
            raise ValueError(f"bins: expected strictly increasing edges, got {list(edges)}")
        method += f", {len(edges) + 1} stated bins"
    edge_array = np.asarray(edges, dtype=np.float64)
    slots = len(edges) + 1
    reference_fraction = np.bincount(
        np.searchsorted(edge_array, reference_array, side="right"), minlength=slots
    ) / float(n_reference)
    current_fraction = np.bincount(
        np.searchsorted(edge_array, current_array, side="right"), minlength=slots
    ) / float(n_current)
    r = np.maximum(reference_fraction, floor)
    c = np.maximum(current_fraction, floor)
    psi = float(np.sum((c - r) * np.log(c / r)))
    return DriftResult(method, psi, None, n_reference, n_current, Status.OK, bin_edges=edges)


def ks_two_sample(reference: ArrayLike, current: ArrayLike) -> DriftResult:
    """Two-sample Kolmogorov–Smirnov test, two-sided (Massey 1951).

    D = sup_x |F_ref(x) − F_cur(x)| over the empirical CDFs. The p-value is
    scipy's ``ks_2samp(method="auto")``: the exact null distribution when
    both samples have at most 10 000 values, otherwise the asymptotic
    Kolmogorov distribution; the method text says which.

    Parameters
    ----------
    reference, current : array_like, shape (n,) and (m,)
        Finite values.

    Returns
    -------
    DriftResult
        ``statistic`` D in [0, 1] and ``p_value``; undefined when a sample is empty.

    Raises
    ------
    ValueError
        Non-finite values.

    Examples
    --------
    >>> from dxval.stats import ks_two_sample
    >>> result = ks_two_sample([1.0, 2.0, 3.0, 4.0], [3.5, 4.5, 5.5, 6.5])
    >>> result.statistic, round(result.p_value, 6)
    (0.75, 0.228571)
    """
    reference_array = _sample(reference, name="reference")
    current_array = _sample(current, name="current")
    n_reference, n_current = reference_array.size, current_array.size
    exact = max(n_reference, n_current) <= KS_EXACT_LIMIT
    method = "two-sample Kolmogorov-Smirnov, two-sided, " + (
        "exact p-value" if exact else "asymptotic p-value"
    )
    reason = _empty_reason(n_reference, n_current)
    if reason is not None:
        return DriftResult.undefined(method, reason, n_reference=n_reference, n_current=n_current)
    from scipy.stats import ks_2samp  # scipy.stats takes ~0.5 s to import: only when used

    result = ks_2samp(reference_array, current_array, alternative="two-sided", method="auto")
    return DriftResult(
        method,
        float(result.statistic),
        float(result.pvalue),
        n_reference,
        n_current,
        Status.OK,
    )


def wasserstein_distance(reference: ArrayLike, current: ArrayLike) -> DriftResult:
    """First Wasserstein distance W₁ = ∫ |F_ref(x) − F_cur(x)| dx (Vallender 1974).

    Computed from the empirical CDFs on the merged, sorted values, in the
    units of the data (for model scores: score units).

    Parameters
    ----------
    reference, current : array_like, shape (n,) and (m,)
        Finite values.

    Returns
    -------
    DriftResult
        ``statistic`` W₁ ≥ 0, no p-value; undefined when a sample is empty.

    Raises
    ------
    ValueError
        Non-finite values.

    Examples
    --------
    >>> from dxval.stats import wasserstein_distance
    >>> wasserstein_distance([0.0, 1.0, 3.0], [5.0, 6.0, 8.0]).statistic
    5.0
    """
    reference_array = np.sort(_sample(reference, name="reference"))
    current_array = np.sort(_sample(current, name="current"))
    n_reference, n_current = reference_array.size, current_array.size
    method = "first Wasserstein distance between the empirical distributions"
    reason = _empty_reason(n_reference, n_current)
    if reason is not None:
        return DriftResult.undefined(method, reason, n_reference=n_reference, n_current=n_current)
    merged = np.sort(np.concatenate([reference_array, current_array]))
    widths = np.diff(merged)
    left = merged[:-1]
    reference_cdf = np.searchsorted(reference_array, left, side="right") / n_reference
    current_cdf = np.searchsorted(current_array, left, side="right") / n_current
    distance = float(np.sum(np.abs(reference_cdf - current_cdf) * widths))
    return DriftResult(method, distance, None, n_reference, n_current, Status.OK)


def chi_square_homogeneity(
    reference_counts: Mapping[str, int], current_counts: Mapping[str, int]
) -> DriftResult:
    """Pearson's χ² test of homogeneity of two categorical samples.

    The 2 × k table has the reference and current counts of each level seen
    in either sample (levels with zero count in both are left out). With
    expected counts E = row total × column total / n, χ² = Σ (O − E)² / E on
    k − 1 degrees of freedom; no continuity correction, so for k = 2 it equals
    ``scipy.stats.chi2_contingency(table, correction=False)``. A level only
    the current sample has is counted (its reference cell is 0). The
    smallest expected count is recorded: below 5 the χ² approximation is
    rough (Cochran 1954).

    Parameters
    ----------
    reference_counts, current_counts : mapping of str to int
        Level → count (non-negative).

    Returns
    -------
    DriftResult
        ``statistic`` χ², ``p_value``, ``degrees_of_freedom``; undefined when
        a sample is empty or fewer than two levels occur.

    Raises
    ------
    ValueError
        A negative count.

    Examples
    --------
    >>> from dxval.stats import chi_square_homogeneity
    >>> result = chi_square_homogeneity({"F": 30, "M": 20}, {"F": 20, "M": 30})
    >>> round(result.statistic, 6), round(result.p_value, 6), result.degrees_of_freedom
    (4.0, 0.0455, 1)
    """
    if any(count < 0 for count in (*reference_counts.values(), *current_counts.values())):
        raise ValueError("counts: expected non-negative counts")
    levels = sorted(
        level
        for level in set(reference_counts) | set(current_counts)
        if reference_counts.get(level, 0) + current_counts.get(level, 0) > 0
    )
    table = np.array(
        [
            [reference_counts.get(level, 0) for level in levels],
            [current_counts.get(level, 0) for level in levels],
        ],
        dtype=np.float64,
    ).reshape(2, len(levels))
    n_reference, n_current = int(table[0].sum()), int(table[1].sum())
    method = "Pearson chi-square test of homogeneity, no continuity correction"
    reason = _empty_reason(n_reference, n_current)
    if reason is None and len(levels) < 2:
        reason = "only one level occurs: there is no distribution to compare"
    if reason is not None:
        return DriftResult.undefined(method, reason, n_reference=n_reference, n_current=n_current)
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    freedom = len(levels) - 1
    return DriftResult(
        method,
        statistic,
        float(chdtrc(freedom, statistic)),  # scipy.stats.chi2.sf, without importing scipy.stats
        n_reference,
        n_current,
        Status.OK,
        degrees_of_freedom=freedom,
        min_expected=float(expected.min()),
    )
