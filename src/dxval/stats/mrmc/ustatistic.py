"""Gallas's U-statistic analysis of reader-averaged AUC (the method of FDA's iMRMC).

For a fully crossed study the reader-averaged empirical AUC of a modality is
Ā = (1/r) Σⱼ Aⱼ, and its variance over the populations of readers and cases
is estimated without bias from second-order U-statistic moments (Gallas
2006, Acad Radiol 13:353; Gallas, Bandos, Samuelson & Wagner 2009, Commun
Stat Theory Methods 38:2586):

    Var(Ā) = (1/r²) Σⱼ Σⱼ' [Ĉ(j, j') + M̂4(j, j')] − mean over j ≠ j' of M̂4(j, j')

where Ĉ(j, j') is the unbiased case-sampling covariance of readers j and j'
and M̂4(j, j') the unbiased estimate of E[Aⱼ]E[Aⱼ'] (cases all different).
For j ≠ j' the last term estimates E[AⱼAⱼ'] over readers, so the reader
variability enters through it. The covariance of two modalities' Ā uses the
same formula with j from one modality and j' from the other, and
Var(Ā₁ − Ā₂) = Var(Ā₁) + Var(Ā₂) − 2 Cov(Ā₁, Ā₂), as iMRMC reports it
(``varAUCAminusAUCB``). The test and interval use the normal approximation
(iMRMC's ``pValueNormal``, ``botCInormal``/``topCInormal``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as scipy_stats

from dxval.stats._arrays import BoolArray, FloatArray, check_confidence_level, two_sided_z
from dxval.stats.mrmc.figures import check_reads, empirical_auc, unbiased_moments
from dxval.stats.results import Estimate, Status, finite_or_none, interval_estimate

METHOD = "U-statistic (Gallas 2006, iMRMC), unbiased variance, normal approximation"


@dataclass(frozen=True, slots=True)
class UStatisticAnalysis:
    """Reader-averaged AUC per modality, their difference, its variance and p-value."""

    method: str
    confidence_level: float
    modalities: tuple[str, ...]
    readers: tuple[str, ...]
    n_cases: int
    n_positive: int
    reader_aucs: FloatArray  # (t, r)
    modality_estimates: tuple[Estimate, ...]
    difference: Estimate
    statistic: float | None
    p_value: float | None
    covariance: FloatArray  # (t, t) covariance of the reader-averaged AUCs

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "method": self.method,
            "confidence_level": self.confidence_level,
            "modalities": list(self.modalities),
            "readers": list(self.readers),
            "n_cases": self.n_cases,
            "n_positive": self.n_positive,
            "estimates": {
                modality: estimate.to_dict()
                for modality, estimate in zip(self.modalities, self.modality_estimates, strict=True)
            },
            "difference": self.difference.to_dict(),
            "statistic": finite_or_none(self.statistic),
            "p_value": finite_or_none(self.p_value),
        }


def reader_averaged_covariance(
    covariance: FloatArray, moment4: FloatArray, modalities: int, readers: int
) -> FloatArray:
    """(t, t) covariance of the reader-averaged AUCs from per-row covariances and M4."""
    result = np.empty((modalities, modalities))
    off_diagonal = ~np.eye(readers, dtype=bool)
    for first in range(modalities):
        rows = slice(first * readers, (first + 1) * readers)
        for second in range(modalities):
            columns = slice(second * readers, (second + 1) * readers)
            block = covariance[rows, columns] + moment4[rows, columns]
            reader_term = float(moment4[rows, columns][off_diagonal].mean()) if readers > 1 else 0.0
            result[first, second] = float(block.mean()) - reader_term
    return result


def _wald(
    value: float, variance: float, *, level: float, n: int, bounds: tuple[float, float]
) -> Estimate:
    if not (variance > 0.0 and math.isfinite(variance)):
        return Estimate.undefined(
            "the U-statistic variance estimate is zero or negative",
            confidence_level=level,
            method=METHOD,
            n=n,
            estimate=value,
            variance=variance,
        )
    half_width = two_sided_z(level) * math.sqrt(variance)
    return interval_estimate(
        value,
        value - half_width,
        value + half_width,
        confidence_level=level,
        method=METHOD,
        n=n,
        bounds=bounds,
        variance=variance,
    )


def u_statistic_analysis(
    scores: FloatArray,
    truth: BoolArray,
    *,
    modalities: tuple[str, ...],
    readers: tuple[str, ...],
    confidence_level: float = 0.95,
) -> UStatisticAnalysis:
    """Gallas U-statistic MRMC analysis of two modalities (first − second).

    Args:
        scores: (2, r, n) reader scores, r ≥ 2 readers, higher = more likely positive.
        truth: (n,) booleans with at least 2 positive and 2 negative cases.
        modalities, readers: labels of the first two axes of ``scores``.
        confidence_level: two-sided level of the normal-approximation intervals.

    Returns:
        :class:`UStatisticAnalysis`; a non-positive variance estimate (possible
        with an unbiased estimator on small studies) gives undefined intervals.

    Raises:
        ValueError: not exactly 2 modalities, fewer than 2 readers, or bad reads.

    Examples:
        >>> import numpy as np
        >>> truth = np.array([False, False, False, True, True, True])
        >>> scores = np.array([[[1, 2, 3, 2, 4, 5], [1, 3, 2, 3, 5, 4]],
        ...                    [[1, 1, 2, 3, 4, 5], [2, 1, 1, 4, 3, 5]]], dtype=float)
        >>> result = u_statistic_analysis(
        ...     scores, truth, modalities=("A", "B"), readers=("r1", "r2"))
        >>> round(result.difference.estimate, 4)
        -0.1111
    """
    level = check_confidence_level(confidence_level)
    array, labels = check_reads(scores, truth)
    t, r, n = array.shape
    if t != 2:
        raise ValueError(f"modalities: the U-statistic analysis compares exactly 2, got {t}")
    if r < 2:
        raise ValueError(f"readers: the U-statistic analysis needs at least 2 readers, got {r}")
    covariance, moment4 = unbiased_moments(array.reshape(-1, n), labels)
    averaged = reader_averaged_covariance(covariance, moment4, t, r)
    aucs = empirical_auc(array, labels)
    means = aucs.mean(axis=1)
    estimates = tuple(
        _wald(float(means[i]), float(averaged[i, i]), level=level, n=n, bounds=(0.0, 1.0))
        for i in range(t)
    )
    value = float(means[0] - means[1])
    variance = float(averaged[0, 0] + averaged[1, 1] - 2.0 * averaged[0, 1])
    difference = _wald(value, variance, level=level, n=n, bounds=(-1.0, 1.0))
    statistic = p_value = None
    if difference.status is Status.OK:
        statistic = value / math.sqrt(variance)
        p_value = float(2.0 * scipy_stats.norm.sf(abs(statistic)))
    return UStatisticAnalysis(
        method=METHOD,
        confidence_level=level,
        modalities=modalities,
        readers=readers,
        n_cases=n,
        n_positive=int(labels.sum()),
        reader_aucs=aucs,
        modality_estimates=estimates,
        difference=difference,
        statistic=statistic,
        p_value=p_value,
        covariance=averaged,
    )
