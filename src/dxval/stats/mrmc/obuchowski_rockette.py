"""Obuchowski–Rockette analysis with Hillis's denominator degrees of freedom.

Given the t × r matrix of reader × modality figures of merit θᵢⱼ and the
covariance matrix of their errors, this module computes the mean squares,
the OR variance components, the global test of equal modality means, the
interval and test of every modality difference, and the single-modality
intervals, for random readers and random cases (RRRC), fixed readers (FRRC)
and fixed cases (RRFC).

References: Obuchowski & Rockette (1995), Commun Stat Simul 24:285; Hillis
(2007), Stat Med 26:596 (ddf_H); Hillis, Berbaum & Metz (2008), Acad Radiol
15:647, tables 1–3 (the formulas used below, named as there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

from dxval.stats._arrays import FloatArray, check_confidence_level
from dxval.stats.mrmc.results import (
    Difference,
    Factors,
    GlobalTest,
    ReaderFigure,
    VarianceComponents,
)
from dxval.stats.results import Estimate, Status, interval_estimate


@dataclass(frozen=True, slots=True)
class _Covariances:
    """Averaged error variance and covariances of a t × r design."""

    error: float
    cov1: float
    cov2: float
    cov3: float


def _average_covariances(covariance: FloatArray, modalities: int, readers: int) -> _Covariances:
    """σ²_ε, Cov1, Cov2, Cov3: means of the matching entries of the (t·r)² covariance."""
    modality = np.repeat(np.arange(modalities), readers)
    reader = np.tile(np.arange(readers), modalities)
    same_modality = modality[:, None] == modality[None, :]
    same_reader = reader[:, None] == reader[None, :]

    def mean_of(mask: np.ndarray) -> float:
        return float(covariance[mask].mean()) if mask.any() else 0.0

    return _Covariances(
        error=mean_of(same_modality & same_reader),
        cov1=mean_of(~same_modality & same_reader),
        cov2=mean_of(same_modality & ~same_reader),
        cov3=mean_of(~same_modality & ~same_reader),
    )


def mean_squares(figures: FloatArray) -> dict[str, float]:
    """MS(T), MS(R) and MS(T:R) of the two-way layout of θᵢⱼ (no replication)."""
    modalities, readers = figures.shape
    grand = figures.mean()
    modality_means = figures.mean(axis=1)
    reader_means = figures.mean(axis=0)
    interaction = figures - modality_means[:, None] - reader_means[None, :] + grand
    ms_t = readers * float(((modality_means - grand) ** 2).sum()) / max(modalities - 1, 1)
    ms_r = modalities * float(((reader_means - grand) ** 2).sum()) / max(readers - 1, 1)
    denominator = (modalities - 1) * (readers - 1)
    ms_tr = float((interaction**2).sum()) / denominator if denominator else 0.0
    return {"ms_t": ms_t, "ms_r": ms_r, "ms_tr": ms_tr}


def variance_components(
    figures: FloatArray, covariance: FloatArray
) -> tuple[VarianceComponents, dict[str, float]]:
    """OR variance components from the method-of-moments equations (Hillis 2005, eq. 6).

    σ²_TR = MS(T:R) − σ²_ε + Cov1 + Cov2 − Cov3 and
    σ²_R = [MS(R) − σ²_TR − σ²_ε − (t−1)Cov1 + Cov2 + (t−1)Cov3] / t.
    """
    modalities, readers = figures.shape
    squares = mean_squares(figures)
    averaged = _average_covariances(covariance, modalities, readers)
    modality_reader = (
        squares["ms_tr"] - averaged.error + averaged.cov1 + averaged.cov2 - averaged.cov3
    )
    reader = (
        squares["ms_r"]
        - modality_reader
        - averaged.error
        - (modalities - 1) * averaged.cov1
        + averaged.cov2
        + (modalities - 1) * averaged.cov3
    ) / modalities
    components = VarianceComponents(
        reader=reader,
        modality_reader=modality_reader,
        error=averaged.error,
        cov1=averaged.cov1,
        cov2=averaged.cov2,
        cov3=averaged.cov3,
    )
    return components, squares


#: A variance term this small relative to the other terms is rounding noise, i.e. zero
#: (identical reader figures leave residues of ~1e-17, which must not become F = 1e30).
NEGLIGIBLE = 1e-12


def _negligible(value: float, *scales: float) -> bool:
    """Whether ``value`` is zero up to rounding, relative to the largest of ``scales``."""
    return value <= NEGLIGIBLE * max((abs(scale) for scale in scales), default=0.0)


def _two_sided_p(statistic: float, df: float | None) -> float:
    if df is None:
        return float(2.0 * scipy_stats.norm.sf(abs(statistic)))
    return float(2.0 * scipy_stats.t.sf(abs(statistic), df))


def _quantile(confidence_level: float, df: float | None) -> float:
    upper = 0.5 + confidence_level / 2.0
    if df is None:
        return float(scipy_stats.norm.ppf(upper))
    return float(scipy_stats.t.ppf(upper, df))


def _difference(
    first: str,
    second: str,
    value: float,
    variance: float,
    df: float | None,
    *,
    confidence_level: float,
    method: str,
    n: int,
) -> Difference:
    """A difference with a Wald/t interval, or undefined when its variance is not positive."""
    if not (variance > 0.0 and math.isfinite(variance)) or (df is not None and not df > 0.0):
        estimate = Estimate.undefined(
            "the variance of the difference is zero or negative: no interval or test",
            confidence_level=confidence_level,
            method=method,
            n=n,
            estimate=value,
            variance=variance,
        )
        return Difference(first, second, estimate, None, df, None)
    standard_error = math.sqrt(variance)
    half_width = _quantile(confidence_level, df) * standard_error
    estimate = interval_estimate(
        value,
        value - half_width,
        value + half_width,
        confidence_level=confidence_level,
        method=method,
        n=n,
        bounds=(-math.inf, math.inf),
        variance=variance,
    )
    statistic = value / standard_error
    return Difference(first, second, estimate, statistic, df, _two_sided_p(statistic, df))


def _single_modality(
    value: float,
    variance: float,
    df: float | None,
    *,
    confidence_level: float,
    method: str,
    n: int,
) -> Estimate:
    if not (variance > 0.0 and math.isfinite(variance)) or (df is not None and not df > 0.0):
        return Estimate.undefined(
            "the variance of the reader-averaged figure is zero: no interval",
            confidence_level=confidence_level,
            method=method,
            n=n,
            estimate=value,
            variance=variance,
        )
    half_width = _quantile(confidence_level, df) * math.sqrt(variance)
    return interval_estimate(
        value,
        value - half_width,
        value + half_width,
        confidence_level=confidence_level,
        method=method,
        n=n,
        variance=variance,
    )


@dataclass(frozen=True, slots=True)
class ORResult:
    """What :func:`obuchowski_rockette` returns (the caller adds labels and metadata)."""

    test: GlobalTest
    differences: tuple[Difference, ...]
    modality_estimates: tuple[Estimate, ...]
    reader_figures: tuple[ReaderFigure, ...]
    reader_differences: tuple[Difference, ...]
    components: VarianceComponents
    mean_squares: dict[str, float]


def _global_test(
    factors: Factors,
    squares: dict[str, float],
    averaged: VarianceComponents,
    shape: tuple[int, int],
) -> tuple[GlobalTest, float, float | None]:
    """The global test, the variance of a difference × r/2 (its 'error term'), and its df."""
    modalities, readers = shape
    df1 = modalities - 1
    covariance_term = max(averaged.cov2 - averaged.cov3, 0.0)
    scale = (*squares.values(), averaged.error, averaged.cov1, averaged.cov2, averaged.cov3)
    if factors is Factors.RRRC:
        term = squares["ms_tr"] + readers * covariance_term
        df2: float | None = (
            None
            if _negligible(squares["ms_tr"], *scale)
            else term**2 / (squares["ms_tr"] ** 2 / ((modalities - 1) * (readers - 1)))
        )
        distribution = "F"
    elif factors is Factors.FRRC:
        term = averaged.error - averaged.cov1 + (readers - 1) * covariance_term
        df2 = None
        distribution = "chi2"
    else:
        term = squares["ms_tr"]
        df2 = float((modalities - 1) * (readers - 1))
        distribution = "F"
    if _negligible(term, *scale) or (distribution == "F" and df2 is None):
        reason = "the denominator of the test is zero: the reader × modality figures do not vary"
        if not _negligible(term, *scale):
            reason = "MS(T:R) is zero: Hillis's denominator degrees of freedom are unbounded"
        test = GlobalTest(distribution, None, df1, df2, None, Status.UNDEFINED, reason)
        return test, 0.0, df2  # no test, no interval of a difference
    if factors is Factors.FRRC:
        statistic = df1 * squares["ms_t"] / term
        p_value = float(scipy_stats.chi2.sf(statistic, df1))
    else:
        statistic = squares["ms_t"] / term
        p_value = float(scipy_stats.f.sf(statistic, df1, df2))
    return GlobalTest(distribution, statistic, df1, df2, p_value, Status.OK), term, df2


def obuchowski_rockette(
    figures: FloatArray,
    covariance: FloatArray,
    *,
    factors: Factors = Factors.RRRC,
    confidence_level: float = 0.95,
    modalities: tuple[str, ...],
    readers: tuple[str, ...],
    method: str,
    n_cases: int,
) -> ORResult:
    """Obuchowski–Rockette analysis of reader × modality figures of merit.

    Args:
        figures: (t, r) figures of merit θᵢⱼ, t ≥ 2 modalities.
        covariance: (t·r, t·r) covariance of their errors, modality-major.
        factors: RRRC (Hillis ddf), FRRC (χ² / normal) or RRFC (t with (t−1)(r−1) df).
        confidence_level: two-sided level of every interval.
        modalities, readers: labels, in the order of the rows / columns of ``figures``.
        method: the name recorded on every estimate.
        n_cases: number of cases (the ``n`` of each estimate).

    Returns:
        An :class:`ORResult`; a zero denominator makes the test and intervals
        undefined (with a reason), never NaN.

    Raises:
        ValueError: fewer than 2 modalities, fewer than 2 readers with random
            readers, or shapes that do not match.
    """
    level = check_confidence_level(confidence_level)
    t, r = figures.shape
    if t < 2:
        raise ValueError(f"modalities: expected at least 2 to compare, got {t}")
    if factors is not Factors.FRRC and r < 2:
        raise ValueError(
            f"readers: a random-reader analysis ({factors.value}) needs at least 2 readers, "
            f"got {r}; use fixed readers for a single-reader study"
        )
    if covariance.shape != (t * r, t * r) or len(modalities) != t or len(readers) != r:
        raise ValueError("covariance, modalities and readers must match the shape of figures")
    if factors is Factors.RRFC:
        covariance = np.zeros_like(covariance)  # fixed cases: no case-sampling covariance
    components, squares = variance_components(figures, covariance)
    test, term, df2 = _global_test(factors, squares, components, (t, r))
    means = figures.mean(axis=1)
    differences = tuple(
        _difference(
            modalities[a],
            modalities[b],
            float(means[a] - means[b]),
            2.0 / r * term,
            df2,
            confidence_level=level,
            method=method,
            n=n_cases,
        )
        for a in range(t)
        for b in range(a + 1, t)
    )
    modality_estimates = tuple(
        _modality_estimate(
            figures, covariance, index, factors=factors, level=level, method=method, n=n_cases
        )
        for index in range(t)
    )
    variances = np.diag(covariance).reshape(t, r)
    reader_figures = tuple(
        _reader_figure(
            readers[j],
            modalities[i],
            float(figures[i, j]),
            float(variances[i, j]),
            level=level,
            method=method,
            n=n_cases,
        )
        for i in range(t)
        for j in range(r)
    )
    reader_differences = (
        tuple(
            _difference(
                modalities[0],
                modalities[1],
                float(figures[0, j] - figures[1, j]),
                float(variances[0, j] + variances[1, j] - 2.0 * covariance[j, r + j]),
                None,
                confidence_level=level,
                method=f"{method}; reader {readers[j]} alone",
                n=n_cases,
            )
            for j in range(r)
        )
        if factors is not Factors.RRFC
        else ()
    )
    return ORResult(
        test=test,
        differences=differences,
        modality_estimates=modality_estimates,
        reader_figures=reader_figures,
        reader_differences=reader_differences,
        components=components,
        mean_squares=squares,
    )


def _reader_figure(
    reader: str, modality: str, value: float, variance: float, *, level: float, method: str, n: int
) -> ReaderFigure:
    estimate = _single_modality(value, variance, None, confidence_level=level, method=method, n=n)
    return ReaderFigure(reader=reader, modality=modality, estimate=estimate)


def _modality_estimate(
    figures: FloatArray,
    covariance: FloatArray,
    index: int,
    *,
    factors: Factors,
    level: float,
    method: str,
    n: int,
) -> Estimate:
    """Reader-averaged figure of one modality from that modality's data alone (Hillis 2007)."""
    r = figures.shape[1]
    row = figures[index]
    block = covariance[index * r : (index + 1) * r, index * r : (index + 1) * r]
    ms_r = float(row.var(ddof=1)) if r > 1 else 0.0
    off_diagonal = ~np.eye(r, dtype=bool)
    cov2 = float(block[off_diagonal].mean()) if r > 1 else 0.0
    error = float(np.diag(block).mean())
    if factors is Factors.RRRC:
        term = ms_r + r * max(cov2, 0.0)
        df: float | None = None if _negligible(ms_r, term, error) else term**2 / (ms_r**2 / (r - 1))
        if df is None:
            return Estimate.undefined(
                "the readers' figures do not vary: no Hillis degrees of freedom",
                confidence_level=level,
                method=method,
                n=n,
                estimate=float(row.mean()),
            )
    elif factors is Factors.FRRC:
        term = error + (r - 1) * max(cov2, 0.0)
        df = None
    else:
        term = ms_r
        df = float(r - 1)
    return _single_modality(
        float(row.mean()), term / r, df, confidence_level=level, method=method, n=n
    )
