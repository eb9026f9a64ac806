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
(``varAUCAminusAUCB``).

Tests and intervals, as iMRMC reports them (R package 2.1.2, ``doIMRMC``):

- ``bdg`` (default): Student's t with the BDG degrees of freedom (Gallas,
  Bandos, Samuelson & Wagner 2009), a Satterthwaite approximation over the
  three main effects of the Barrett–Clarkson–Kupinski decomposition, negative
  cases, positive cases and readers:
  df = V² / Σₖ σ̂ₖ² / dfₖ³ with df_N = n₀ − 1, df_D = n₁ − 1, df_R = r − 1,
  where σ̂ₖ is the biased (MLE) variance, over the cases of that class (over
  the readers), of the reader-averaged success of a case (of a reader's
  AUC), of the difference of the two modalities for the difference;
  df is floored at min(dfₖ) (Gaylor 1969). The t quantile and p use ⌊df⌋,
  and when df > 50 the normal distribution is used instead, as iMRMC does
  (``dfBDG``, ``pValueBDG``, ``botCIBDG``/``topCIBDG``).
- ``normal``: the normal approximation (``pValueNormal``,
  ``botCInormal``/``topCInormal``).

The AUC of a single modality is tested against 0.5 by iMRMC; dxval reports
its interval only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
from scipy import stats as scipy_stats

from dxval.stats._arrays import BoolArray, FloatArray, check_confidence_level, two_sided_z
from dxval.stats.mrmc.figures import check_reads, placements, unbiased_moments
from dxval.stats.results import Estimate, Status, finite_or_none, interval_estimate

METHOD = "U-statistic (Gallas 2006, iMRMC), unbiased variance"
#: Above these BDG degrees of freedom iMRMC uses the normal distribution instead of t.
NORMAL_ABOVE_DF = 50.0


class UStatisticTest(str, Enum):
    """The reference distribution of the U-statistic test and intervals (as iMRMC's)."""

    BDG = "bdg"  # t with the BDG (Satterthwaite) degrees of freedom: pValueBDG
    NORMAL = "normal"  # the normal approximation: pValueNormal


#: How the analysis names each test (the end of its method string).
TEST_NAMES = {
    UStatisticTest.BDG: "t-test with BDG degrees of freedom (Gallas et al. 2009)",
    UStatisticTest.NORMAL: "normal approximation",
}


@dataclass(frozen=True, slots=True)
class Inference:
    """How one estimate was tested: the distribution and its degrees of freedom."""

    distribution: str  # "t" or "normal"
    df: float | None  # the BDG degrees of freedom (iMRMC's dfBDG); None: variance not positive

    @property
    def df_used(self) -> int | None:
        """The integer degrees of freedom of the t distribution (⌊df⌋), None for normal."""
        if self.distribution != "t" or self.df is None:
            return None
        return math.floor(self.df)

    def quantile(self, confidence_level: float) -> float:
        """The two-sided critical value at ``confidence_level``."""
        if self.distribution == "t":
            return float(scipy_stats.t.ppf(0.5 + confidence_level / 2.0, self.df_used))
        return two_sided_z(confidence_level)

    def p_value(self, statistic: float) -> float:
        """The two-sided p-value of ``statistic``."""
        if self.distribution == "t":
            return float(2.0 * scipy_stats.t.sf(abs(statistic), self.df_used))
        return float(2.0 * scipy_stats.norm.sf(abs(statistic)))

    def describe(self) -> str:
        """The method-string tail: the distribution and its degrees of freedom."""
        if self.distribution == "t":
            return f"t with BDG df {self.df:.4f} (used {self.df_used}; Gallas et al. 2009)"
        if self.df is not None and self.df > NORMAL_ABOVE_DF:
            return f"normal approximation (BDG df {self.df:.4f} > {NORMAL_ABOVE_DF:g}, as iMRMC)"
        return "normal approximation"


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
    test: UStatisticTest = UStatisticTest.BDG
    modality_inference: tuple[Inference, ...] = ()
    inference: Inference = Inference("normal", None)  # of the difference

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
            "test": self.test.value,
            "test_distribution": self.inference.distribution,
            "df": finite_or_none(self.inference.df),
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


def bdg_degrees_of_freedom(
    variance: float, aucs: FloatArray, positive: FloatArray, negative: FloatArray
) -> float | None:
    """iMRMC's BDG degrees of freedom of a reader-averaged AUC (or of a difference).

    Args:
        variance: the unbiased U-statistic variance of the estimate.
        aucs: (r,) the readers' AUCs (for a difference: first minus second modality).
        positive: (r, n₁) placement values V10 of the positive cases (likewise).
        negative: (r, n₀) placement values V01 of the negative cases (likewise).

    Returns:
        V² / Σₖ σ̂ₖ²/dfₖ³ floored at min(dfₖ) (infinite when no population
        spreads), or None when ``variance`` is not positive (iMRMC: NA).
    """
    if not (variance > 0.0 and math.isfinite(variance)):
        return None
    readers, positives = positive.shape
    negatives = negative.shape[1]
    # biased (MLE) variance over each population of its reader-averaged contribution
    spread_negative = float(negative.mean(axis=0).var())
    spread_positive = float(positive.mean(axis=0).var())
    spread_readers = float(aucs.var())
    df_negative, df_positive, df_readers = negatives - 1, positives - 1, readers - 1
    denominator = (
        spread_negative**2 / df_negative**3
        + spread_positive**2 / df_positive**3
        + spread_readers**2 / df_readers**3
    )
    if denominator <= 0.0:  # no spread in any population: the limit, as iMRMC (V²/0)
        return math.inf
    return max(variance**2 / denominator, float(min(df_negative, df_positive, df_readers)))


def _inference(test: UStatisticTest, df: float | None) -> Inference:
    if test is UStatisticTest.BDG and df is not None and df <= NORMAL_ABOVE_DF:
        return Inference("t", df)
    return Inference("normal", df)


def _wald(
    value: float,
    variance: float,
    inference: Inference,
    *,
    level: float,
    n: int,
    bounds: tuple[float, float],
) -> Estimate:
    method = f"{METHOD}, {inference.describe()}"
    if not (variance > 0.0 and math.isfinite(variance)):
        return Estimate.undefined(
            "the U-statistic variance estimate is zero or negative",
            confidence_level=level,
            method=method,
            n=n,
            estimate=value,
            variance=variance,
        )
    half_width = inference.quantile(level) * math.sqrt(variance)
    return interval_estimate(
        value,
        value - half_width,
        value + half_width,
        confidence_level=level,
        method=method,
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
    test: UStatisticTest = UStatisticTest.BDG,
) -> UStatisticAnalysis:
    """Gallas U-statistic MRMC analysis of two modalities (first − second).

    Args:
        scores: (2, r, n) reader scores, r ≥ 2 readers, higher = more likely positive.
        truth: (n,) booleans with at least 2 positive and 2 negative cases.
        modalities, readers: labels of the first two axes of ``scores``.
        confidence_level: two-sided level of the intervals.
        test: t with iMRMC's BDG degrees of freedom (default) or the normal
            approximation; the p-value of the difference and all intervals follow it.

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
    flat_aucs, flat_positive, flat_negative = placements(array.reshape(-1, n), labels)
    aucs = flat_aucs.reshape(t, r)
    positive = flat_positive.reshape(t, r, -1)
    negative = flat_negative.reshape(t, r, -1)
    means = aucs.mean(axis=1)
    modality_inference = tuple(
        _inference(
            test,
            bdg_degrees_of_freedom(float(averaged[i, i]), aucs[i], positive[i], negative[i]),
        )
        for i in range(t)
    )
    estimates = tuple(
        _wald(
            float(means[i]),
            float(averaged[i, i]),
            modality_inference[i],
            level=level,
            n=n,
            bounds=(0.0, 1.0),
        )
        for i in range(t)
    )
    value = float(means[0] - means[1])
    variance = float(averaged[0, 0] + averaged[1, 1] - 2.0 * averaged[0, 1])
    inference = _inference(
        test,
        bdg_degrees_of_freedom(
            variance, aucs[0] - aucs[1], positive[0] - positive[1], negative[0] - negative[1]
        ),
    )
    difference = _wald(value, variance, inference, level=level, n=n, bounds=(-1.0, 1.0))
    statistic = p_value = None
    if difference.status is Status.OK:
        statistic = value / math.sqrt(variance)
        p_value = inference.p_value(statistic)
    return UStatisticAnalysis(
        method=f"{METHOD}, {TEST_NAMES[test]}",
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
        test=test,
        modality_inference=modality_inference,
        inference=inference,
    )
