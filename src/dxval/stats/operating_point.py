"""Choosing an operating point on a tuning set: Youden, target sensitivity, target specificity.

Thresholds follow pROC's midpoint convention: the chosen threshold lies half
way between the highest score called negative and the lowest score called
positive, so positive ⇔ score ≥ threshold reproduces the chosen decisions.
At the ends, "every case positive" is the lowest score and "no case
positive" is the next float above the highest score (pROC uses ±∞ there;
finite values keep the threshold usable in a protocol and in JSON).

References:
    Youden WJ (1950) Index for rating diagnostic tests. Cancer 3:32-35.
    Robin X et al. (2011) pROC: an open-source package for R and S+ to analyze
    and compare ROC curves. BMC Bioinformatics 12:77 (``coords``, ``best.method
    = "youden"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from dxval.stats._arrays import (
    FloatArray,
    IntArray,
    as_scores,
    as_truth,
    check_fraction,
    parse_choice,
)
from dxval.stats._resampling import bin_cases, observed_histograms

TOLERANCE = 1e-12  # a target rate met up to float rounding counts as met


class OperatingPointCriterion(str, Enum):
    """How the operating point is chosen."""

    YOUDEN = "youden"
    TARGET_SENSITIVITY = "target_sensitivity"
    TARGET_SPECIFICITY = "target_specificity"


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    """A chosen threshold and the sensitivity and specificity it gives on the tuning set."""

    criterion: OperatingPointCriterion
    target: float | None
    threshold: float
    sensitivity: float
    specificity: float
    n_positive: int
    n_negative: int
    convention: str = "midpoint between adjacent distinct scores (pROC)"

    @property
    def youden_j(self) -> float:
        """Sensitivity + specificity − 1 at this threshold."""
        return self.sensitivity + self.specificity - 1.0

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "criterion": self.criterion.value,
            "target": self.target,
            "threshold": self.threshold,
            "sensitivity": self.sensitivity,
            "specificity": self.specificity,
            "youden_j": self.youden_j,
            "n_positive": self.n_positive,
            "n_negative": self.n_negative,
            "convention": self.convention,
        }


def cumulative_below(histogram: IntArray) -> IntArray:
    """Cases strictly below each cut, shape (c, K + 1): column k counts bins < k."""
    zero = np.zeros((histogram.shape[0], 1), dtype=histogram.dtype)
    return np.hstack([zero, np.cumsum(histogram, axis=1)])


def rates_by_cut(positive: IntArray, negative: IntArray) -> tuple[FloatArray, FloatArray]:
    """Sensitivity and specificity, shape (c, K + 1), for the decision code ≥ k."""
    positives_below = cumulative_below(positive)
    negatives_below = cumulative_below(negative)
    sensitivity = 1.0 - positives_below / positives_below[:, -1:]
    specificity = negatives_below / negatives_below[:, -1:]
    return np.asarray(sensitivity, dtype=np.float64), np.asarray(specificity, dtype=np.float64)


def cut_for_target_specificity(specificity: FloatArray, target: float) -> IntArray:
    """Per row, the lowest cut whose specificity reaches ``target`` (most sensitive)."""
    return np.asarray(np.argmax(specificity >= target - TOLERANCE, axis=1), dtype=np.int64)


def cut_for_target_sensitivity(sensitivity: FloatArray, target: float) -> IntArray:
    """Per row, the highest cut whose sensitivity reaches ``target`` (most specific)."""
    return np.asarray(np.sum(sensitivity >= target - TOLERANCE, axis=1) - 1, dtype=np.int64)


def threshold_for_cut(values: FloatArray, cut: int) -> float:
    """The threshold (midpoint convention) that calls codes ≥ ``cut`` positive."""
    if cut <= 0:
        return float(values[0])
    if cut >= values.shape[0]:
        return float(np.nextafter(values[-1], np.inf))
    return float((values[cut - 1] + values[cut]) / 2.0)


def select_operating_point(
    truth: ArrayLike,
    scores: ArrayLike,
    *,
    criterion: OperatingPointCriterion | str = OperatingPointCriterion.YOUDEN,
    target: float | None = None,
) -> OperatingPoint:
    """Choose a threshold on a tuning set.

    - ``youden``: maximise sensitivity + specificity − 1 (Youden 1950); among
      ties the highest threshold (the most specific) is chosen.
    - ``target_sensitivity``: the highest threshold whose sensitivity ≥ target.
    - ``target_specificity``: the lowest threshold whose specificity ≥ target.

    Parameters
    ----------
    truth
        shape (N,), booleans with both classes present.
    scores
        shape (N,), finite floats.
    criterion
        an :class:`OperatingPointCriterion`.
    target
        the rate in [0, 1] for the target criteria; None for Youden.

    Raises
    ------
    ValueError
        malformed inputs, a single class, a missing or superfluous
        target.

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], dtype=bool)
    >>> scores = np.array([0.1, 0.3, 0.35, 0.4, 0.8, 0.45, 0.6, 0.7, 0.9, 0.95])
    >>> from dxval.stats import select_operating_point
    >>> point = select_operating_point(truth, scores, criterion='youden')
    >>> round(point.threshold, 3), point.sensitivity, point.specificity
    (0.425, 1.0, 0.8)
    """
    truth_array = as_truth(truth)
    score_array = as_scores(scores, length=truth_array.shape[0])
    chosen: OperatingPointCriterion = parse_choice(
        OperatingPointCriterion, criterion, name="criterion"
    )
    positives = int(np.count_nonzero(truth_array))
    if positives in (0, truth_array.shape[0]):
        raise ValueError("truth: choosing an operating point needs both classes")
    binned = bin_cases(truth_array, score_array, None)
    sensitivity, specificity = rates_by_cut(*observed_histograms(binned))
    if chosen is OperatingPointCriterion.YOUDEN:
        if target is not None:
            raise ValueError("target: not used with the youden criterion; leave it out")
        index = sensitivity[0] + specificity[0]
        cut = int(np.flatnonzero(index >= index.max() - TOLERANCE)[-1])
    else:
        if target is None:
            raise ValueError(f"target: the {chosen.value} criterion needs a target rate")
        rate = check_fraction(target, name="target")
        if chosen is OperatingPointCriterion.TARGET_SENSITIVITY:
            cut = int(cut_for_target_sensitivity(sensitivity, rate)[0])
        else:
            cut = int(cut_for_target_specificity(specificity, rate)[0])
    return OperatingPoint(
        criterion=chosen,
        target=None if target is None else float(target),
        threshold=threshold_for_cut(binned.values, cut),
        sensitivity=float(sensitivity[0, cut]),
        specificity=float(specificity[0, cut]),
        n_positive=positives,
        n_negative=truth_array.shape[0] - positives,
    )
