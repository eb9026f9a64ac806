"""Power and sample size of a planned reader study from pilot OR variance components.

Hillis, Obuchowski & Berbaum (2011), "Power estimation for multireader ROC
methods: an updated and unified approach", Acad Radiol 18:129, eq. 10 (RRRC)
and table 2 (FRRC, RRFC). The pilot's error variance and covariances were
estimated with c_pilot cases; for a study with c cases they scale by
c_pilot / c. σ²_TR is floored at 0 and Cov2 − Cov3 at 0, as in that paper.

For two modalities and a true difference d of reader-averaged figures:

    D = σ²_TR + (c_pilot/c)(σ²_ε − Cov1 + (r − 1)·max(Cov2 − Cov3, 0))
    λ = r·d² / (2D)
    ddf = D² / {[σ²_TR + (c_pilot/c)(σ²_ε − Cov1 − max(Cov2 − Cov3, 0))]² / (r − 1)}

and power = P(F(1, ddf; λ) > F₁₋α(1, ddf)).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scipy import stats as scipy_stats

from dxval.stats._arrays import check_fraction
from dxval.stats.mrmc.results import Factors, VarianceComponents
from dxval.stats.results import finite_or_none

METHOD = "Hillis-Obuchowski-Berbaum (2011) power from pilot OR variance components"


@dataclass(frozen=True, slots=True)
class ReaderStudyPower:
    """The power of a planned study of ``n_readers`` readers and ``n_cases`` cases."""

    method: str
    factors: Factors
    effect: float
    alpha: float
    n_readers: int
    n_cases: int
    power: float
    noncentrality: float
    df2: float | None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "method": self.method,
            "factors": self.factors.value,
            "effect": self.effect,
            "alpha": self.alpha,
            "n_readers": self.n_readers,
            "n_cases": self.n_cases,
            "power": finite_or_none(self.power),
            "noncentrality": finite_or_none(self.noncentrality),
            "df2": finite_or_none(self.df2),
        }


def reader_study_power(
    components: VarianceComponents,
    *,
    pilot_cases: int,
    effect: float,
    n_readers: int,
    n_cases: int,
    alpha: float = 0.05,
    factors: Factors = Factors.RRRC,
) -> ReaderStudyPower:
    """Power of a two-modality study to detect ``effect`` at two-sided level ``alpha``.

    Args:
        components: OR variance components of a pilot study (e.g. from
            :func:`~dxval.stats.mrmc.reader_study_auc`).
        pilot_cases: number of cases of the pilot (scales the error terms).
        effect: the true difference of reader-averaged figures to detect (≠ 0).
        n_readers, n_cases: the planned study (readers ≥ 2 unless FRRC).
        alpha: two-sided significance level.
        factors: RRRC (default), FRRC or RRFC.

    Raises:
        ValueError: non-positive sizes, zero effect, alpha outside (0, 1), or
            components that leave no variance.

    Examples:
        >>> from dxval.stats.mrmc import VarianceComponents
        >>> pilot = VarianceComponents(reader=0.0015, modality_reader=0.0002, error=0.0008,
        ...                            cov1=0.00035, cov2=0.00034, cov3=0.00024)
        >>> result = reader_study_power(pilot, pilot_cases=114, effect=0.05, n_readers=10,
        ...                             n_cases=200)
        >>> 0.0 < result.power < 1.0
        True
    """
    level = check_fraction(alpha, name="alpha", closed=False)
    if pilot_cases < 2 or n_cases < 2:
        raise ValueError(f"cases: expected at least 2, got pilot {pilot_cases}, planned {n_cases}")
    minimum_readers = 1 if factors is Factors.FRRC else 2
    if n_readers < minimum_readers:
        raise ValueError(f"n_readers: expected at least {minimum_readers}, got {n_readers}")
    if effect == 0.0:
        raise ValueError("effect: expected a non-zero difference to detect")
    scale = pilot_cases / n_cases
    modality_reader = max(components.modality_reader, 0.0)
    covariance_term = max(components.cov2 - components.cov3, 0.0)
    case_term = scale * (components.error - components.cov1)
    df2: float | None
    if factors is Factors.RRRC:
        denominator = modality_reader + case_term + scale * (n_readers - 1) * covariance_term
        interaction = modality_reader + case_term - scale * covariance_term
        df2 = denominator**2 / (interaction**2 / (n_readers - 1)) if interaction != 0.0 else None
    elif factors is Factors.FRRC:
        denominator = case_term + scale * (n_readers - 1) * covariance_term
        df2 = None
    else:
        denominator = modality_reader + case_term - scale * covariance_term
        df2 = float(n_readers - 1)
    if not denominator > 0.0:
        raise ValueError("components: the variance of the planned difference is not positive")
    noncentrality = n_readers * effect**2 / (2.0 * denominator)
    if df2 is None:
        critical = float(scipy_stats.chi2.ppf(1.0 - level, 1))
        power = float(scipy_stats.ncx2.sf(critical, 1, noncentrality))
    else:
        critical = float(scipy_stats.f.ppf(1.0 - level, 1, df2))
        power = float(scipy_stats.ncf.sf(critical, 1, df2, noncentrality))
    return ReaderStudyPower(
        method=METHOD,
        factors=factors,
        effect=effect,
        alpha=level,
        n_readers=n_readers,
        n_cases=n_cases,
        power=power,
        noncentrality=noncentrality,
        df2=df2,
    )


def cases_for_power(
    components: VarianceComponents,
    *,
    pilot_cases: int,
    effect: float,
    n_readers: int,
    target_power: float = 0.8,
    alpha: float = 0.05,
    factors: Factors = Factors.RRRC,
    max_cases: int = 100_000,
) -> ReaderStudyPower | None:
    """The smallest number of cases giving at least ``target_power`` with ``n_readers`` readers.

    Returns None when even ``max_cases`` cases do not reach the target (with
    random readers, power is bounded by the reader variability).

    Examples:
        >>> from dxval.stats.mrmc import VarianceComponents
        >>> pilot = VarianceComponents(reader=0.0015, modality_reader=0.0002, error=0.0008,
        ...                            cov1=0.00035, cov2=0.00034, cov3=0.00024)
        >>> plan = cases_for_power(pilot, pilot_cases=114, effect=0.05, n_readers=10)
        >>> plan is not None and plan.power >= 0.8
        True
    """
    check_fraction(target_power, name="target_power", closed=False)

    def power_at(cases: int) -> ReaderStudyPower:
        return reader_study_power(
            components,
            pilot_cases=pilot_cases,
            effect=effect,
            n_readers=n_readers,
            n_cases=cases,
            alpha=alpha,
            factors=factors,
        )

    if power_at(max_cases).power < target_power:
        return None
    low, high = 2, max_cases  # power increases with cases: bisect on the smallest
    while low < high:
        middle = (low + high) // 2
        if power_at(middle).power >= target_power:
            high = middle
        else:
            low = middle + 1
    return power_at(low)
