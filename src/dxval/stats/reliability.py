"""Calibration of predicted probabilities: Brier, log loss, logistic recalibration, ECE/MCE.

Calibration slope and calibration-in-the-large come from logistic
recalibration on L = logit(p): the slope is β₁ of logit P(y) = β₀ + β₁L, and
calibration-in-the-large is α of logit P(y) = α + offset(L), both by maximum
likelihood (Newton-Raphson), with Wald intervals from the observed
information (R's ``confint.default``).

References:
    Brier GW (1950) Verification of forecasts expressed in terms of
    probability. Mon Weather Rev 78:1-3.
    Cox DR (1958) Two further applications of a model for binary regression.
    Biometrika 45:562-565 (logistic recalibration, calibration slope).
    Van Calster B et al. (2019) Calibration: the Achilles heel of predictive
    analytics. BMC Med 17:230 (calibration-in-the-large as the offset model).
    Naeini MP, Cooper GF, Hauskrecht M (2015) Obtaining well calibrated
    probabilities using Bayesian binning. AAAI (ECE and MCE over equal-width bins).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from dxval.stats._arrays import (
    BoolArray,
    FloatArray,
    as_scores,
    as_truth,
    check_confidence_level,
    parse_choice,
    two_sided_z,
)
from dxval.stats.results import Estimate, finite_or_none, interval_estimate

NEWTON_TOLERANCE = 1e-13
NEWTON_ITERATIONS = 100
NO_ESTIMATE = (
    "no finite maximum-likelihood estimate: the outcomes are separated by the log-odds "
    "(or the information matrix is singular)"
)


class BinConvention(str, Enum):
    """Which end of each equal-width probability bin is closed."""

    LEFT_CLOSED = "left_closed"  # [a, b); the last bin [0.9, 1] includes 1 (numpy, scikit-learn)
    RIGHT_CLOSED = "right_closed"  # (a, b]; the first bin [0, 0.1] includes 0


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    """One bin of the reliability curve; means are None for an empty bin."""

    lower: float
    upper: float
    count: int
    mean_predicted: float | None
    observed_fraction: float | None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "lower": self.lower,
            "upper": self.upper,
            "count": self.count,
            "mean_predicted": self.mean_predicted,
            "observed_fraction": self.observed_fraction,
        }


@dataclass(frozen=True, slots=True)
class CalibrationResult:
    """Calibration summary of probabilities against outcomes.

    ``log_loss`` is None (with ``log_loss_reason``) when a probability of
    exactly 0 or 1 meets the opposite outcome; ``ece`` and ``mce`` use
    ``bins`` equal-width bins under ``bin_convention``.
    """

    n: int
    brier: float
    log_loss: float | None
    log_loss_reason: str | None
    slope: Estimate
    intercept: Estimate
    ece: float
    mce: float
    bins: int
    bin_convention: BinConvention
    reliability: tuple[ReliabilityBin, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict, stating the bin convention."""
        return {
            "n": self.n,
            "brier": self.brier,
            "log_loss": finite_or_none(self.log_loss),
            "log_loss_reason": self.log_loss_reason,
            "calibration_slope": self.slope.to_dict(),
            "calibration_in_the_large": self.intercept.to_dict(),
            "ece": self.ece,
            "mce": self.mce,
            "bins": self.bins,
            "bin_convention": self.bin_convention.value,
            "reliability": [point.to_dict() for point in self.reliability],
        }


def _logistic_fit(
    design: FloatArray, outcome: FloatArray, offset: FloatArray
) -> tuple[FloatArray, FloatArray] | str:
    """Maximum-likelihood logistic regression by Newton-Raphson.

    Returns (coefficients, covariance) or, when no finite maximum exists
    (separation) or the information is singular, the reason as a string.
    """
    from scipy.special import expit  # scipy.special only when calibration is computed

    coefficients = np.zeros(design.shape[1])
    for _ in range(NEWTON_ITERATIONS):
        fitted = expit(design @ coefficients + offset)
        information = design.T @ (design * (fitted * (1.0 - fitted))[:, np.newaxis])
        try:
            step = np.linalg.solve(information, design.T @ (outcome - fitted))
        except np.linalg.LinAlgError:
            return NO_ESTIMATE
        coefficients = coefficients + step
        if not np.all(np.isfinite(coefficients)) or np.max(np.abs(coefficients)) > 1e6:
            return NO_ESTIMATE
        if np.max(np.abs(step)) < NEWTON_TOLERANCE * (1.0 + np.max(np.abs(coefficients))):
            fitted = expit(design @ coefficients + offset)
            information = design.T @ (design * (fitted * (1.0 - fitted))[:, np.newaxis])
            return coefficients, np.linalg.inv(information)
    return NO_ESTIMATE


def _recalibration(
    outcome: FloatArray, log_odds: FloatArray | str, *, confidence_level: float
) -> tuple[Estimate, Estimate]:
    """Calibration slope (β₁ of y ~ L) and calibration-in-the-large (α of y ~ offset(L))."""
    slope_method = "logistic recalibration slope, Wald (Cox 1958)"
    intercept_method = "calibration-in-the-large, logit offset model, Wald"
    n = outcome.shape[0]
    results: list[Estimate] = []
    for method, with_slope in ((slope_method, True), (intercept_method, False)):
        if isinstance(log_odds, str):
            fit: tuple[FloatArray, FloatArray] | str = log_odds
        else:
            design = np.column_stack([np.ones(n), log_odds]) if with_slope else np.ones((n, 1))
            fit = _logistic_fit(design, outcome, np.zeros(n) if with_slope else log_odds)
        if isinstance(fit, str):
            results.append(
                Estimate.undefined(fit, confidence_level=confidence_level, method=method, n=n)
            )
            continue
        index = 1 if with_slope else 0
        estimate, variance = float(fit[0][index]), float(fit[1][index, index])
        half_width = two_sided_z(confidence_level) * math.sqrt(variance)
        results.append(
            interval_estimate(
                estimate,
                estimate - half_width,
                estimate + half_width,
                confidence_level=confidence_level,
                method=method,
                n=n,
                bounds=(-math.inf, math.inf),
                variance=variance,
            )
        )
    return results[0], results[1]


def _bin_indices(probabilities: FloatArray, bins: int, convention: BinConvention) -> Any:
    edges = np.linspace(0.0, 1.0, bins + 1)
    if convention is BinConvention.LEFT_CLOSED:
        return np.clip(np.searchsorted(edges, probabilities, side="right") - 1, 0, bins - 1)
    return np.clip(np.searchsorted(edges, probabilities, side="left") - 1, 0, bins - 1)


def _reliability(
    truth: BoolArray, probabilities: FloatArray, bins: int, convention: BinConvention
) -> tuple[tuple[ReliabilityBin, ...], float, float]:
    """Reliability bins, ECE = Σ (n_b/N)|ȳ_b − p̄_b| and MCE = max_b |ȳ_b − p̄_b|."""
    indices = _bin_indices(probabilities, bins, convention)
    counts = np.bincount(indices, minlength=bins)
    predicted = np.bincount(indices, weights=probabilities, minlength=bins)
    observed = np.bincount(indices, weights=truth.astype(np.float64), minlength=bins)
    points = []
    ece, mce = 0.0, 0.0
    for index in range(bins):
        count = int(counts[index])
        mean_predicted = predicted[index] / count if count else None
        fraction = observed[index] / count if count else None
        if mean_predicted is not None and fraction is not None:
            gap = abs(fraction - mean_predicted)
            ece += count / probabilities.shape[0] * gap
            mce = max(mce, gap)
        points.append(
            ReliabilityBin(index / bins, (index + 1) / bins, count, mean_predicted, fraction)
        )
    return tuple(points), float(ece), float(mce)


def calibration(
    truth: ArrayLike,
    probabilities: ArrayLike,
    *,
    bins: int = 10,
    bin_convention: BinConvention | str = BinConvention.LEFT_CLOSED,
    confidence_level: float = 0.95,
) -> CalibrationResult:
    """Calibration of predicted probabilities against binary outcomes.

    Parameters
    ----------
    truth
        shape (N,), booleans (the outcome).
    probabilities
        shape (N,), predicted P(positive) in [0, 1].
    bins
        number of equal-width bins for ECE, MCE and the reliability curve.
    bin_convention
        ``"left_closed"`` ([a, b), last bin closed) or
        ``"right_closed"`` ((a, b], first bin closed).
    confidence_level
        level of the Wald intervals of slope and intercept.

    Returns
    -------
    CalibrationResult
        :class:`CalibrationResult`; slope and intercept are undefined (with
        reason) if a probability is exactly 0 or 1, or the logistic fit has no
        finite maximum.

    Raises
    ------
    ValueError
        malformed inputs, probabilities outside [0, 1], bins < 1.

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], dtype=bool)
    >>> scores = np.array([0.1, 0.3, 0.35, 0.4, 0.8, 0.45, 0.6, 0.7, 0.9, 0.95])
    >>> from dxval.stats import calibration
    >>> result = calibration(truth, scores, bins=2)
    >>> round(result.brier, 4), len(result.reliability)
    (0.1588, 2)
    """
    truth_array = as_truth(truth)
    values = as_scores(probabilities, length=truth_array.shape[0], name="probabilities")
    level = check_confidence_level(confidence_level)
    convention: BinConvention = parse_choice(BinConvention, bin_convention, name="bin_convention")
    if values.size and (values.min() < 0.0 or values.max() > 1.0):
        raise ValueError("probabilities: expected values in [0, 1]")
    if int(bins) < 1 or truth_array.size == 0:
        raise ValueError(f"expected bins >= 1 and at least one case, got bins={bins}")
    from scipy.special import logit, xlogy  # scipy.special only when calibration is computed

    outcome = truth_array.astype(np.float64)
    terms = xlogy(outcome, values) + xlogy(1.0 - outcome, 1.0 - values)
    log_loss = float(-np.mean(terms))
    reason = None if math.isfinite(log_loss) else "a probability of 0 or 1 met the opposite outcome"
    at_boundary = bool(np.any((values == 0.0) | (values == 1.0)))
    log_odds: FloatArray | str = (
        "a probability of exactly 0 or 1 has infinite log-odds" if at_boundary else logit(values)
    )
    slope, intercept = _recalibration(outcome, log_odds, confidence_level=level)
    points, ece, mce = _reliability(truth_array, values, int(bins), convention)
    return CalibrationResult(
        n=int(truth_array.shape[0]),
        brier=float(np.mean((values - outcome) ** 2)),
        log_loss=None if reason else log_loss,
        log_loss_reason=reason,
        slope=slope,
        intercept=intercept,
        ece=ece,
        mce=mce,
        bins=int(bins),
        bin_convention=convention,
        reliability=points,
    )
