"""Binary decision metrics at an operating point (positive call ⇔ score ≥ threshold).

Counts → rates → derived measures, each a small function of the confusion
counts. Proportions use :func:`~dxval.stats.proportion.proportion_ci`; the
others use the interval each cited paper defines.

References:
    Youden WJ (1950) Index for rating diagnostic tests. Cancer 3:32-35
    (variance of J, used for J and balanced accuracy = (J + 1) / 2).
    Simel DL, Samsa GP, Matchar DB (1991) Likelihood ratios with confidence:
    sample size estimation for diagnostic test studies. J Clin Epidemiol
    44:763-770 (log method for LR+ and LR−).
    Mercaldo ND, Lau KF, Zhou XH (2007) Confidence intervals for predictive
    values with an emphasis to case-control studies. Stat Med 26:2170-2183
    (logit interval for PPV and NPV at a stated prevalence).
    Takahashi K, Yamamoto K, Kuchiba A, Koyama T (2022) Confidence interval
    for micro-averaged F1 and macro-averaged F1 scores. Appl Intell
    52:4961-4972 (delta method under the multinomial model, used for F1 and
    Matthews' correlation coefficient).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from dxval.stats._arrays import as_scores, as_truth, check_confidence_level, two_sided_z
from dxval.stats.proportion import ProportionMethod, proportion_ci
from dxval.stats.results import Estimate, interval_estimate
from dxval.stats.vocabulary import DECISION_METRICS

#: The metrics of :class:`BinaryMetrics`, in order (the vocabulary's decision metrics).
METRIC_NAMES = DECISION_METRICS


@dataclass(frozen=True, slots=True)
class ConfusionCounts:
    """The 2×2 table of decisions against truth."""

    tp: int
    fp: int
    tn: int
    fn: int

    @property
    def n(self) -> int:
        """All cases."""
        return self.tp + self.fp + self.tn + self.fn

    @property
    def n_positive(self) -> int:
        """Truly positive cases (TP + FN)."""
        return self.tp + self.fn

    @property
    def n_negative(self) -> int:
        """Truly negative cases (TN + FP)."""
        return self.tn + self.fp

    def to_dict(self) -> dict[str, int]:
        """Return ``{"tp", "fp", "tn", "fn"}``."""
        return {"tp": self.tp, "fp": self.fp, "tn": self.tn, "fn": self.fn}


def confusion_counts(truth: ArrayLike, scores: ArrayLike, threshold: float) -> ConfusionCounts:
    """Count TP, FP, TN, FN with a positive call ⇔ score ≥ ``threshold``.

    Parameters
    ----------
    truth
        shape (n,), booleans (True = positive).
    scores
        shape (n,), finite floats.
    threshold
        the operating point.

    Raises
    ------
    ValueError
        malformed inputs (see :func:`dxval.stats._arrays.as_truth`).

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], dtype=bool)
    >>> scores = np.array([0.1, 0.3, 0.35, 0.4, 0.8, 0.45, 0.6, 0.7, 0.9, 0.95])
    >>> from dxval.stats import confusion_counts
    >>> confusion_counts(truth, scores, 0.5)
    ConfusionCounts(tp=4, fp=1, tn=4, fn=1)
    """
    truth_array = as_truth(truth)
    called = as_scores(scores, length=truth_array.shape[0]) >= float(threshold)
    tp = int(np.count_nonzero(called & truth_array))
    fp = int(np.count_nonzero(called & ~truth_array))
    fn = int(np.count_nonzero(truth_array)) - tp
    tn = int(truth_array.shape[0]) - tp - fp - fn
    return ConfusionCounts(tp=tp, fp=fp, tn=tn, fn=fn)


@dataclass(frozen=True, slots=True)
class BinaryMetrics:
    """Every decision metric at one operating point, each with its interval."""

    threshold: float
    counts: ConfusionCounts
    sensitivity: Estimate
    specificity: Estimate
    ppv: Estimate
    npv: Estimate
    accuracy: Estimate
    balanced_accuracy: Estimate
    f1: Estimate
    mcc: Estimate
    youden_j: Estimate
    lr_positive: Estimate
    lr_negative: Estimate
    ppv_at_prevalence: Estimate
    npv_at_prevalence: Estimate
    prevalence: float | None = None

    def as_dict(self) -> dict[str, Estimate]:
        """Return the metrics by name, in a fixed order."""
        return {name: getattr(self, name) for name in METRIC_NAMES}

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict: threshold, prevalence, counts and each metric."""
        result: dict[str, Any] = {
            "threshold": self.threshold,
            "prevalence": self.prevalence,
            "counts": self.counts.to_dict(),
        }
        result.update({name: value.to_dict() for name, value in self.as_dict().items()})
        return result


METRIC_NAMES = (
    "sensitivity",
    "specificity",
    "ppv",
    "npv",
    "accuracy",
    "balanced_accuracy",
    "f1",
    "mcc",
    "youden_j",
    "lr_positive",
    "lr_negative",
    "ppv_at_prevalence",
    "npv_at_prevalence",
)


def _wald(
    estimate: float,
    variance: float,
    *,
    confidence_level: float,
    method: str,
    n: int,
    bounds: tuple[float, float],
) -> Estimate:
    """Wald interval; a zero variance makes the interval undefined, not zero-width."""
    if not variance > 0.0:
        return Estimate.undefined(
            "zero variance: the Wald interval would have zero width",
            confidence_level=confidence_level,
            method=method,
            n=n,
            estimate=estimate,
            variance=variance,
        )
    half_width = two_sided_z(confidence_level) * math.sqrt(variance)
    return interval_estimate(
        estimate,
        estimate - half_width,
        estimate + half_width,
        confidence_level=confidence_level,
        method=method,
        n=n,
        bounds=bounds,
        variance=variance,
    )


def youden_index(counts: ConfusionCounts, *, confidence_level: float = 0.95) -> Estimate:
    """Youden's J = sensitivity + specificity − 1 with Youden's (1950) Wald interval.

    Var(J) = Se(1 − Se)/n₊ + Sp(1 − Sp)/n₋; interval clipped to [−1, 1].

    Examples
    --------
    >>> from dxval.stats import ConfusionCounts, youden_index
    >>> round(youden_index(ConfusionCounts(tp=40, fp=10, tn=90, fn=10)).estimate, 4)
    0.7
    """
    method = "Wald (Youden 1950)"
    if counts.n_positive == 0 or counts.n_negative == 0:
        return Estimate.undefined(
            "needs both positive and negative cases",
            confidence_level=confidence_level,
            method=method,
            n=counts.n,
        )
    sensitivity = counts.tp / counts.n_positive
    specificity = counts.tn / counts.n_negative
    variance = (
        sensitivity * (1.0 - sensitivity) / counts.n_positive
        + specificity * (1.0 - specificity) / counts.n_negative
    )
    return _wald(
        sensitivity + specificity - 1.0,
        variance,
        confidence_level=confidence_level,
        method=method,
        n=counts.n,
        bounds=(-1.0, 1.0),
    )


def balanced_accuracy(counts: ConfusionCounts, *, confidence_level: float = 0.95) -> Estimate:
    """Balanced accuracy (Se + Sp)/2 = (J + 1)/2 with the interval of Youden's J mapped.

    Examples
    --------
    >>> from dxval.stats import ConfusionCounts, balanced_accuracy
    >>> round(balanced_accuracy(ConfusionCounts(tp=40, fp=10, tn=90, fn=10)).estimate, 4)
    0.85
    """
    index = youden_index(counts, confidence_level=confidence_level)
    method = "Wald (Youden 1950), (J + 1) / 2"
    if index.estimate is None or index.low is None or index.high is None:
        return Estimate.undefined(
            index.reason or "undefined",
            confidence_level=confidence_level,
            method=method,
            n=counts.n,
            estimate=None if index.estimate is None else (index.estimate + 1.0) / 2.0,
        )
    return interval_estimate(
        (index.estimate + 1.0) / 2.0,
        (index.low + 1.0) / 2.0,
        (index.high + 1.0) / 2.0,
        confidence_level=confidence_level,
        method=method,
        n=counts.n,
        variance=None if index.variance is None else index.variance / 4.0,
    )


def f1_score(counts: ConfusionCounts, *, confidence_level: float = 0.95) -> Estimate:
    """F1 = 2TP/(2TP + FP + FN) with a delta-method Wald interval (Takahashi et al. 2022).

    F1 is scale-free in the cell proportions p, so under the multinomial model
    Var = Σ gᵢ² pᵢ / n with g the gradient of F1 with respect to p.

    Examples
    --------
    >>> from dxval.stats import ConfusionCounts, f1_score
    >>> round(f1_score(ConfusionCounts(tp=40, fp=10, tn=90, fn=10)).estimate, 4)
    0.8
    """
    method = "Wald, delta method (Takahashi et al. 2022)"
    denominator = 2 * counts.tp + counts.fp + counts.fn
    if denominator == 0:
        return Estimate.undefined(
            "zero denominator: no true positives, false positives or false negatives",
            confidence_level=confidence_level,
            method=method,
            n=counts.n,
        )
    n = counts.n
    p_tp, p_errors = counts.tp / n, (counts.fp + counts.fn) / n
    scale = (2.0 * p_tp + p_errors) ** 4
    variance = 4.0 * p_tp * p_errors * (p_tp + p_errors) / (scale * n)
    return _wald(
        2 * counts.tp / denominator,
        variance,
        confidence_level=confidence_level,
        method=method,
        n=n,
        bounds=(0.0, 1.0),
    )


def matthews_correlation(counts: ConfusionCounts, *, confidence_level: float = 0.95) -> Estimate:
    """Matthews' correlation coefficient with a delta-method Wald interval.

    MCC = (TP·TN − FP·FN)/√((TP+FP)(TP+FN)(TN+FP)(TN+FN)); the variance is
    Σ gᵢ² pᵢ / n under the multinomial model (MCC is scale-free in the cell
    proportions, as in Takahashi et al. 2022 for F1). Interval clipped to [−1, 1].

    Examples
    --------
    >>> from dxval.stats import ConfusionCounts, matthews_correlation
    >>> round(matthews_correlation(ConfusionCounts(tp=40, fp=10, tn=90, fn=10)).estimate, 4)
    0.7
    """
    method = "Wald, delta method (multinomial)"
    n = counts.n
    a, b, c, d = (value / n if n else 0.0 for value in (counts.tp, counts.fp, counts.fn, counts.tn))
    margins = (a + b, c + d, a + c, b + d)  # called +, called −, truly +, truly −
    if n == 0 or min(margins) == 0.0:
        return Estimate.undefined(
            "a margin of the 2×2 table is zero (one class, or one decision for every case)",
            confidence_level=confidence_level,
            method=method,
            n=n,
        )
    root = math.sqrt(margins[0] * margins[1] * margins[2] * margins[3])
    mcc = (a * d - b * c) / root
    half = mcc / 2.0
    gradient = (
        d / root - half * (1.0 / margins[0] + 1.0 / margins[2]),
        -c / root - half * (1.0 / margins[0] + 1.0 / margins[3]),
        -b / root - half * (1.0 / margins[1] + 1.0 / margins[2]),
        a / root - half * (1.0 / margins[1] + 1.0 / margins[3]),
    )
    variance = sum(g * g * p for g, p in zip(gradient, (a, b, c, d), strict=True)) / n
    return _wald(
        mcc, variance, confidence_level=confidence_level, method=method, n=n, bounds=(-1.0, 1.0)
    )


def _log_ratio(
    numerator_rate: tuple[int, int],
    denominator_rate: tuple[int, int],
    *,
    confidence_level: float,
    n: int,
    name: str,
) -> Estimate:
    """Ratio of two independent proportions (x₁/n₁)/(x₂/n₂) with the log-method interval.

    Var(log ratio) = 1/x₁ − 1/n₁ + 1/x₂ − 1/n₂ (Simel, Samsa & Matchar 1991).
    """
    method = "log method (Simel et al. 1991)"
    (x1, n1), (x2, n2) = numerator_rate, denominator_rate
    if n1 == 0 or n2 == 0:
        reason = "needs both positive and negative cases"
        return Estimate.undefined(reason, confidence_level=confidence_level, method=method, n=n)
    if x1 == 0 and x2 == 0:
        reason = f"{name} is 0/0: both of its proportions are 0"
        return Estimate.undefined(reason, confidence_level=confidence_level, method=method, n=n)
    if x2 == 0:
        reason = f"{name} is infinite: its denominator proportion is 0"
        return Estimate.undefined(reason, confidence_level=confidence_level, method=method, n=n)
    estimate = (x1 / n1) / (x2 / n2)
    if x1 == 0:
        reason = f"{name} is 0: the log-method interval does not exist"
        return Estimate.undefined(
            reason, confidence_level=confidence_level, method=method, n=n, estimate=estimate
        )
    variance = 1.0 / x1 - 1.0 / n1 + 1.0 / x2 - 1.0 / n2
    if not variance > 0.0:
        return Estimate.undefined(
            "zero variance of the log ratio",
            confidence_level=confidence_level,
            method=method,
            n=n,
            estimate=estimate,
        )
    half_width = two_sided_z(confidence_level) * math.sqrt(variance)
    log_estimate = math.log(estimate)
    return interval_estimate(
        estimate,
        math.exp(log_estimate - half_width),
        math.exp(log_estimate + half_width),
        confidence_level=confidence_level,
        method=method,
        n=n,
        bounds=(0.0, math.inf),
        variance=variance,
    )


def likelihood_ratios(
    counts: ConfusionCounts, *, confidence_level: float = 0.95
) -> tuple[Estimate, Estimate]:
    """LR+ = Se/(1 − Sp) and LR− = (1 − Se)/Sp with log-method intervals (Simel et al. 1991).

    Examples
    --------
    >>> from dxval.stats import ConfusionCounts, likelihood_ratios
    >>> counts = ConfusionCounts(tp=40, fp=10, tn=90, fn=10)
    >>> positive, negative = likelihood_ratios(counts)
    >>> round(positive.estimate, 4), round(negative.estimate, 4)
    (8.0, 0.2222)
    """
    positive = _log_ratio(
        (counts.tp, counts.n_positive),
        (counts.fp, counts.n_negative),
        confidence_level=confidence_level,
        n=counts.n,
        name="LR+",
    )
    negative = _log_ratio(
        (counts.fn, counts.n_positive),
        (counts.tn, counts.n_negative),
        confidence_level=confidence_level,
        n=counts.n,
        name="LR−",
    )
    return positive, negative


def predictive_values_at_prevalence(
    counts: ConfusionCounts, prevalence: float | None, *, confidence_level: float = 0.95
) -> tuple[Estimate, Estimate]:
    """PPV and NPV at a stated prevalence π by Bayes' theorem, with logit intervals.

    logit PPV = log(Se·π / ((1 − Sp)(1 − π))), Var = (1 − Se)/(Se·n₊) + Sp/((1 − Sp)·n₋);
    logit NPV = log(Sp(1 − π) / ((1 − Se)π)), Var = Se/((1 − Se)n₊) + (1 − Sp)/(Sp·n₋)
    (Mercaldo, Lau & Zhou 2007). Undefined without a prevalence, and where Se
    or Sp is 0 or 1 (the logit is infinite).

    Examples
    --------
    >>> from dxval.stats import ConfusionCounts, predictive_values_at_prevalence
    >>> counts = ConfusionCounts(tp=40, fp=10, tn=90, fn=10)
    >>> ppv, npv = predictive_values_at_prevalence(counts, 0.1)
    >>> round(ppv.estimate, 4), round(npv.estimate, 4)
    (0.4706, 0.9759)
    """
    method = "logit (Mercaldo et al. 2007)"
    n = counts.n

    def undefined(reason: str, estimate: float | None = None) -> Estimate:
        return Estimate.undefined(
            reason, confidence_level=confidence_level, method=method, n=n, estimate=estimate
        )

    if prevalence is None:
        reason = "no prevalence stated"
        return undefined(reason), undefined(reason)
    if not 0.0 < prevalence < 1.0:
        raise ValueError(f"prevalence: expected a number in (0, 1), got {prevalence}")
    if counts.n_positive == 0 or counts.n_negative == 0:
        reason = "needs both positive and negative cases"
        return undefined(reason), undefined(reason)
    sensitivity = counts.tp / counts.n_positive
    specificity = counts.tn / counts.n_negative
    ppv = (
        sensitivity
        * prevalence
        / (sensitivity * prevalence + (1.0 - specificity) * (1.0 - prevalence))
    )
    npv = (
        specificity
        * (1.0 - prevalence)
        / (specificity * (1.0 - prevalence) + (1.0 - sensitivity) * prevalence)
    )
    if sensitivity in (0.0, 1.0) or specificity in (0.0, 1.0):
        reason = "sensitivity or specificity is 0 or 1: the logit interval does not exist"
        return undefined(reason, ppv), undefined(reason, npv)
    z = two_sided_z(confidence_level)
    results = []
    for estimate, variance in (
        (
            ppv,
            (1.0 - sensitivity) / (sensitivity * counts.n_positive)
            + specificity / ((1.0 - specificity) * counts.n_negative),
        ),
        (
            npv,
            sensitivity / ((1.0 - sensitivity) * counts.n_positive)
            + (1.0 - specificity) / (specificity * counts.n_negative),
        ),
    ):
        logit = math.log(estimate / (1.0 - estimate))
        half_width = z * math.sqrt(variance)
        results.append(
            interval_estimate(
                estimate,
                1.0 / (1.0 + math.exp(-(logit - half_width))),
                1.0 / (1.0 + math.exp(-(logit + half_width))),
                confidence_level=confidence_level,
                method=method,
                n=n,
                variance=variance,
            )
        )
    return results[0], results[1]


def binary_metrics(
    truth: ArrayLike,
    scores: ArrayLike,
    *,
    threshold: float,
    confidence_level: float = 0.95,
    proportion_method: ProportionMethod | str = ProportionMethod.WILSON,
    prevalence: float | None = None,
) -> BinaryMetrics:
    """Compute every decision metric at ``threshold`` (positive call ⇔ score ≥ threshold).

    Parameters
    ----------
    truth
        shape (n,), booleans (True = positive).
    scores
        shape (n,), finite floats.
    threshold
        the frozen operating point.
    confidence_level
        two-sided level in (0, 1).
    proportion_method
        CI method for sensitivity, specificity, PPV, NPV
        and accuracy (:class:`~dxval.stats.proportion.ProportionMethod`).
    prevalence
        the stated prevalence for PPV/NPV by Bayes' theorem; None
        leaves those two undefined with a reason.

    Raises
    ------
    ValueError
        malformed inputs, an unknown method, a level or a
        prevalence out of range.

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], dtype=bool)
    >>> scores = np.array([0.1, 0.3, 0.35, 0.4, 0.8, 0.45, 0.6, 0.7, 0.9, 0.95])
    >>> from dxval.stats import binary_metrics
    >>> m = binary_metrics(truth, scores, threshold=0.5)
    >>> m.counts
    ConfusionCounts(tp=4, fp=1, tn=4, fn=1)
    >>> round(m.sensitivity.estimate, 2), round(m.specificity.estimate, 2)
    (0.8, 0.8)
    """
    level = check_confidence_level(confidence_level)
    counts = confusion_counts(truth, scores, threshold)

    def proportion(count: int, nobs: int) -> Estimate:
        return proportion_ci(count, nobs, confidence_level=level, method=proportion_method)

    lr_positive, lr_negative = likelihood_ratios(counts, confidence_level=level)
    ppv_at_prevalence, npv_at_prevalence = predictive_values_at_prevalence(
        counts, prevalence, confidence_level=level
    )
    return BinaryMetrics(
        threshold=float(threshold),
        counts=counts,
        sensitivity=proportion(counts.tp, counts.n_positive),
        specificity=proportion(counts.tn, counts.n_negative),
        ppv=proportion(counts.tp, counts.tp + counts.fp),
        npv=proportion(counts.tn, counts.tn + counts.fn),
        accuracy=proportion(counts.tp + counts.tn, counts.n),
        balanced_accuracy=balanced_accuracy(counts, confidence_level=level),
        f1=f1_score(counts, confidence_level=level),
        mcc=matthews_correlation(counts, confidence_level=level),
        youden_j=youden_index(counts, confidence_level=level),
        lr_positive=lr_positive,
        lr_negative=lr_negative,
        ppv_at_prevalence=ppv_at_prevalence,
        npv_at_prevalence=npv_at_prevalence,
        prevalence=prevalence,
    )
