"""Frozen result records of a reader-study analysis.

Each record says how it was made (method, factors, covariance estimator,
confidence level, numbers of readers and cases). A quantity that does not
exist for the data (a zero or negative denominator) carries
:attr:`~dxval.stats.results.Status.UNDEFINED` and a reason, never NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from dxval.stats.results import Estimate, Status, finite_or_none


class Factors(str, Enum):
    """Which of readers and cases are random (the population inference applies to)."""

    RRRC = "random_readers_random_cases"
    FRRC = "fixed_readers_random_cases"
    RRFC = "random_readers_fixed_cases"


@dataclass(frozen=True, slots=True)
class VarianceComponents:
    """Obuchowski–Rockette variance components and error covariances (Hillis 2005).

    ``reader`` = σ²_R, ``modality_reader`` = σ²_TR, ``error`` = σ²_ε (mean error
    variance of a reader × modality figure), ``cov1`` same reader different
    modality, ``cov2`` same modality different reader, ``cov3`` both different.
    These are ANOVA estimates: σ²_R and σ²_TR can be negative.
    """

    reader: float
    modality_reader: float
    error: float
    cov1: float
    cov2: float
    cov3: float

    def correlations(self) -> dict[str, float | None]:
        """r1, r2, r3 = Cov_k / σ²_ε (None when σ²_ε is 0)."""
        if self.error <= 0.0:
            return {"r1": None, "r2": None, "r3": None}
        return {
            "r1": self.cov1 / self.error,
            "r2": self.cov2 / self.error,
            "r3": self.cov3 / self.error,
        }

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "reader": finite_or_none(self.reader),
            "modality_reader": finite_or_none(self.modality_reader),
            "error": finite_or_none(self.error),
            "cov1": finite_or_none(self.cov1),
            "cov2": finite_or_none(self.cov2),
            "cov3": finite_or_none(self.cov3),
            "correlations": self.correlations(),
        }


@dataclass(frozen=True, slots=True)
class GlobalTest:
    """The test of equal modality figures of merit: F (random readers) or χ² (fixed)."""

    __test__ = False  # not a pytest class

    distribution: str  # "F" or "chi2"
    statistic: float | None
    df1: int
    df2: float | None  # None for χ²
    p_value: float | None
    status: Status
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "distribution": self.distribution,
            "statistic": finite_or_none(self.statistic),
            "df1": self.df1,
            "df2": finite_or_none(self.df2),
            "p_value": finite_or_none(self.p_value),
            "status": self.status.value,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Difference:
    """One modality minus another, reader-averaged, with its interval and test.

    ``estimate.variance`` is the squared standard error; ``df`` is None where
    the reference distribution is normal.
    """

    first: str
    second: str
    estimate: Estimate
    statistic: float | None
    df: float | None
    p_value: float | None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "first": self.first,
            "second": self.second,
            **self.estimate.to_dict(),
            "statistic": finite_or_none(self.statistic),
            "df": finite_or_none(self.df),
            "p_value": finite_or_none(self.p_value),
        }


@dataclass(frozen=True, slots=True)
class ReaderFigure:
    """One reader's figure of merit in one modality, with a Wald interval from its variance."""

    reader: str
    modality: str
    estimate: Estimate

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {"reader": self.reader, "modality": self.modality, **self.estimate.to_dict()}


@dataclass(frozen=True, slots=True)
class ReaderStudyAnalysis:
    """An Obuchowski–Rockette analysis of a fully crossed reader study.

    ``modality_estimates`` are reader-averaged with their single-modality
    intervals; ``differences`` holds every pair (first − second) in the order
    of ``modalities``; ``reader_differences`` the per-reader differences of
    the first pair (for a forest plot), empty unless there are two modalities.
    """

    method: str
    figure_of_merit: str
    factors: Factors
    covariance: str
    confidence_level: float
    modalities: tuple[str, ...]
    readers: tuple[str, ...]
    n_cases: int
    n_positive: int
    reader_figures: tuple[ReaderFigure, ...]
    modality_estimates: tuple[Estimate, ...]
    test: GlobalTest
    differences: tuple[Difference, ...]
    reader_differences: tuple[Difference, ...]
    components: VarianceComponents
    mean_squares: dict[str, float]

    @property
    def n_readers(self) -> int:
        """Number of readers."""
        return len(self.readers)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict (the keys of ``dxval mrmc --json``)."""
        first = self.differences[0] if self.differences else None
        return {
            "method": self.method,
            "figure_of_merit": self.figure_of_merit,
            "factors": self.factors.value,
            "covariance": self.covariance,
            "confidence_level": self.confidence_level,
            "n_readers": self.n_readers,
            "n_cases": self.n_cases,
            "n_positive": self.n_positive,
            "modalities": list(self.modalities),
            "estimates": {
                modality: estimate.to_dict()
                for modality, estimate in zip(self.modalities, self.modality_estimates, strict=True)
            },
            "readers": [figure.to_dict() for figure in self.reader_figures],
            "f": self.test.statistic,
            "df1": self.test.df1,
            "df2": self.test.df2,
            "p_value": self.test.p_value,
            "test": self.test.to_dict(),
            "difference": None if first is None else first.to_dict(),
            "differences": [difference.to_dict() for difference in self.differences],
            "reader_differences": [d.to_dict() for d in self.reader_differences],
            "variance_components": self.components.to_dict(),
            "mean_squares": {
                key: finite_or_none(value) for key, value in self.mean_squares.items()
            },
        }
