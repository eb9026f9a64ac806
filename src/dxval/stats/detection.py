"""Lesion-level detection statistics: mark-to-lesion matching, FROC, AFROC/wAFROC, case level.

Terms follow Chakraborty's free-response paradigm (Chakraborty DP,
*Observer Performance Methods for Diagnostic Imaging*, CRC Press 2017;
RJafroc): a mark that localises a lesion is a lesion localisation (LL), any
other mark a non-lesion localisation (NL, a false positive).

Matching (stated, fixed): within each case and image plane (``z``), marks
are taken in decreasing score (ties: input order); each mark is matched to
the not-yet-matched lesion it localises best (highest IoU, else smallest
centre distance, else first lesion); a mark that localises no free lesion is
an NL, so a second mark on a lesion is a false positive. Processing marks
by score means the matching of the marks at or above any threshold is the
same as matching those marks alone, so one matching serves the whole curve.

FROC: at threshold t, lesion localisation fraction LLF(t) = lesions whose
matched mark scores ≥ t / all lesions, and non-lesion localisations per
image NLF(t) = NL marks scoring ≥ t / all images. The sensitivity at FP
rate f is the largest LLF over thresholds with NLF ≤ f (the step FROC);
the summary area is the mean of those sensitivities at 1/8, 1/4, 1/2, 1,
2, 4 and 8 FPs per image (the CPM of the ANODE09/LUNA16 challenges, with
the step curve instead of interpolation).

AFROC FOM (RJafroc ``FOM = "AFROC"``): the probability that a lesion's LL
rating exceeds the highest NL rating of a normal case (ties count ½; an
unmarked lesion or normal case has rating −∞). wAFROC (``"wAFROC"``) weights
each abnormal case's lesions to sum to 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum

import numpy as np
from numpy.typing import NDArray

from dxval.stats.results import Estimate, interval_estimate

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: FP-per-image rates whose mean sensitivity is the FROC summary (CPM).
FROC_RATES = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


class Criterion(str, Enum):
    """Localisation criteria (declared before the data are seen)."""

    IOU = "iou"
    DISTANCE = "distance"
    INSIDE = "inside"


@dataclass(frozen=True, slots=True)
class Region:
    """A lesion or mark on one image plane: a box (x0, y0, x1, y1) or a point (x, y), pixels."""

    x0: float
    y0: float
    x1: float
    y1: float
    is_box: bool
    z: float | None = None

    @classmethod
    def point(cls, x: float, y: float, z: float | None = None) -> Region:
        """A point mark or lesion centre."""
        return cls(x, y, x, y, is_box=False, z=z)

    @classmethod
    def box(cls, x0: float, y0: float, x1: float, y1: float, z: float | None = None) -> Region:
        """An axis-aligned box; raises ValueError unless x0 < x1 and y0 < y1."""
        if not (x0 < x1 and y0 < y1):
            raise ValueError(f"box ({x0}, {y0}, {x1}, {y1}): expected x0 < x1 and y0 < y1")
        return cls(x0, y0, x1, y1, is_box=True, z=z)

    @property
    def centre(self) -> tuple[float, float]:
        """Centre (x, y) in pixels."""
        return ((self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0)


def box_iou(first: Region, second: Region) -> float:
    """Intersection over union of two boxes (0 when either is a point)."""
    if not (first.is_box and second.is_box):
        return 0.0
    width = min(first.x1, second.x1) - max(first.x0, second.x0)
    height = min(first.y1, second.y1) - max(first.y0, second.y0)
    if width <= 0 or height <= 0:
        return 0.0
    overlap = width * height
    area = (first.x1 - first.x0) * (first.y1 - first.y0)
    area += (second.x1 - second.x0) * (second.y1 - second.y0)
    return overlap / (area - overlap)


def centre_distance(first: Region, second: Region, spacing: tuple[float, float]) -> float:
    """Distance between centres in mm, ``spacing`` = (mm per pixel along x, along y)."""
    (ax, ay), (bx, by) = first.centre, second.centre
    return math.hypot((ax - bx) * spacing[0], (ay - by) * spacing[1])


@dataclass(frozen=True, slots=True)
class Localisation:
    """A localisation criterion with its threshold (IoU ≥ t, distance ≤ d mm, or inside)."""

    criterion: Criterion
    threshold: float = 0.0

    def closeness(
        self, mark: Region, lesion: Region, spacing: tuple[float, float] | None
    ) -> float | None:
        """How well ``mark`` localises ``lesion`` (larger is better), None when it does not."""
        if mark.z != lesion.z:
            return None
        if self.criterion is Criterion.IOU:
            overlap = box_iou(mark, lesion)
            return overlap if overlap >= self.threshold and overlap > 0 else None
        if self.criterion is Criterion.DISTANCE:
            if spacing is None:
                raise ValueError("the distance criterion needs the pixel spacing (mm)")
            distance = centre_distance(mark, lesion, spacing)
            return -distance if distance <= self.threshold else None
        x, y = mark.centre
        inside = lesion.x0 <= x <= lesion.x1 and lesion.y0 <= y <= lesion.y1
        return -centre_distance(mark, lesion, (1.0, 1.0)) if inside else None


@dataclass(frozen=True, slots=True)
class CaseMatch:
    """The outcome of one case: a rating per lesion (−∞ if missed) and the NL ratings."""

    lesion_ratings: FloatArray
    lesion_weights: FloatArray
    false_positive_ratings: FloatArray

    @property
    def abnormal(self) -> bool:
        """Whether the case has at least one lesion."""
        return self.lesion_ratings.size > 0

    @property
    def case_score(self) -> float:
        """Highest mark score of the case (−∞ without marks)."""
        ratings = np.concatenate([self.lesion_ratings, self.false_positive_ratings])
        return float(ratings.max()) if ratings.size else -math.inf


def match_case(
    lesions: Sequence[Region],
    marks: Sequence[Region],
    scores: Sequence[float],
    localisation: Localisation,
    *,
    spacing: tuple[float, float] | None = None,
    weights: Sequence[float] | None = None,
) -> CaseMatch:
    """Match one case's marks to its lesions, greedily by decreasing score.

    Examples
    --------
    >>> lesion = Region.box(10, 10, 20, 20)
    >>> marks = [Region.box(11, 11, 21, 21), Region.box(12, 10, 20, 20), Region.box(50, 50, 60, 60)]
    >>> match = match_case([lesion], marks, [0.6, 0.9, 0.3], Localisation(Criterion.IOU, 0.5))
    >>> match.lesion_ratings.tolist(), sorted(match.false_positive_ratings.tolist())
    ([0.9], [0.3, 0.6])
    """
    order = sorted(range(len(marks)), key=lambda index: (-scores[index], index))
    ratings = np.full(len(lesions), -math.inf)
    free = [True] * len(lesions)
    false_positives = []
    for index in order:
        best, best_closeness = None, -math.inf
        for number, lesion in enumerate(lesions):
            closeness = localisation.closeness(marks[index], lesion, spacing)
            if free[number] and closeness is not None and closeness > best_closeness:
                best, best_closeness = number, closeness
        if best is None:
            false_positives.append(float(scores[index]))
        else:
            free[best] = False
            ratings[best] = float(scores[index])
    lesion_weights = (
        np.full(len(lesions), 1.0 / len(lesions)) if weights is None and lesions
        else np.asarray(weights if weights is not None else [], dtype=np.float64)
    )  # fmt: skip
    return CaseMatch(ratings, lesion_weights, np.asarray(false_positives, dtype=np.float64))


@dataclass(frozen=True, slots=True)
class FrocData:
    """Every case's matching flattened into arrays (the input of every statistic)."""

    lesion_case: IntArray
    lesion_rating: FloatArray
    lesion_weight: FloatArray
    fp_case: IntArray
    fp_rating: FloatArray
    abnormal: NDArray[np.bool_]
    case_score: FloatArray

    @classmethod
    def from_cases(cls, cases: Sequence[CaseMatch]) -> FrocData:
        """Flatten per-case matches."""
        counts = [case.lesion_ratings.size for case in cases]
        fp_counts = [case.false_positive_ratings.size for case in cases]
        empty = np.empty(0)
        return cls(
            lesion_case=np.repeat(np.arange(len(cases)), counts),
            lesion_rating=np.concatenate([c.lesion_ratings for c in cases] or [empty]),
            lesion_weight=np.concatenate([c.lesion_weights for c in cases] or [empty]),
            fp_case=np.repeat(np.arange(len(cases)), fp_counts),
            fp_rating=np.concatenate([c.false_positive_ratings for c in cases] or [empty]),
            abnormal=np.array([case.abnormal for case in cases], dtype=bool),
            case_score=np.array([case.case_score for case in cases], dtype=np.float64),
        )


def froc_curve(
    data: FrocData, case_weights: FloatArray | None = None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """FROC points (thresholds, NLF, LLF) from the strictest threshold down, with (0, 0) first.

    ``case_weights`` (multiplicity of each case, for the bootstrap) default to 1.
    """
    weights = np.ones(data.abnormal.size) if case_weights is None else case_weights
    lesion_w = weights[data.lesion_case]
    fp_w = weights[data.fp_case]
    ratings = np.concatenate([data.lesion_rating, data.fp_rating])
    is_lesion = np.concatenate([np.ones(lesion_w.size, bool), np.zeros(fp_w.size, bool)])
    mark_w = np.concatenate([lesion_w, fp_w])
    keep = np.isfinite(ratings)
    ratings, is_lesion, mark_w = ratings[keep], is_lesion[keep], mark_w[keep]
    order = np.argsort(-ratings, kind="stable")
    ratings, is_lesion, mark_w = ratings[order], is_lesion[order], mark_w[order]
    last = np.r_[np.flatnonzero(np.diff(ratings) != 0), ratings.size - 1] if ratings.size else []
    ll = np.cumsum(np.where(is_lesion, mark_w, 0.0))[last]
    nl = np.cumsum(np.where(is_lesion, 0.0, mark_w))[last]
    total_lesions, images = float(np.sum(lesion_w)), float(np.sum(weights))
    thresholds = np.r_[math.inf, ratings[last]]
    llf = np.r_[0.0, ll] / total_lesions if total_lesions else np.full(thresholds.size, math.nan)
    return thresholds, np.r_[0.0, nl] / images, llf


def sensitivity_at_rates(
    nlf: FloatArray, llf: FloatArray, rates: Sequence[float] = FROC_RATES
) -> FloatArray:
    """Largest LLF whose NLF ≤ each rate (step FROC); the curve's last LLF beyond its end."""
    return np.array([float(np.max(llf[nlf <= rate])) for rate in rates])


def figure_of_merit(
    data: FrocData, case_weights: FloatArray | None = None, *, weighted: bool = False
) -> float:
    """AFROC (``weighted=False``) or wAFROC figure of merit; NaN without normals or lesions.

    Examples
    --------
    >>> cases = [
    ...     CaseMatch(np.array([]), np.array([]), np.array([0.4])),  # normal, one FP at 0.4
    ...     CaseMatch(np.array([]), np.array([]), np.array([])),  # normal, no mark
    ...     CaseMatch(np.array([0.7, -np.inf]), np.array([0.5, 0.5]), np.array([])),
    ... ]
    >>> figure_of_merit(FrocData.from_cases(cases))  # (1 + 1 + 0 + 0.5) / 4
    0.625
    """
    weights = np.ones(data.abnormal.size) if case_weights is None else case_weights
    normal = ~data.abnormal
    highest = np.full(data.abnormal.size, -math.inf)
    np.maximum.at(highest, data.fp_case, data.fp_rating)
    normal_rating, normal_w = highest[normal], weights[normal]
    order = np.argsort(normal_rating)
    normal_rating, cumulative = normal_rating[order], np.r_[0.0, np.cumsum(normal_w[order])]
    below = cumulative[np.searchsorted(normal_rating, data.lesion_rating, side="left")]
    not_above = cumulative[np.searchsorted(normal_rating, data.lesion_rating, side="right")]
    psi = (below + not_above) / 2.0  # weighted count of normals with x < y, ties ½
    lesion_w = weights[data.lesion_case] * (data.lesion_weight if weighted else 1.0)
    denominator = cumulative[-1] * (
        float(np.sum(weights[data.abnormal])) if weighted else float(np.sum(lesion_w))
    )
    return float(np.sum(lesion_w * psi) / denominator) if denominator > 0 else math.nan


def percentile_interval(
    replicates: FloatArray,
    estimate: float,
    *,
    confidence_level: float,
    method: str,
    n: int,
    bounds: tuple[float, float] = (0.0, 1.0),
) -> Estimate:
    """Percentile interval (R type 7) from replicates, undefined when any replicate is NaN."""
    if not math.isfinite(estimate):
        return Estimate.undefined(
            "the statistic does not exist for these cases",
            confidence_level=confidence_level, method=method, n=n,
        )  # fmt: skip
    missing = int(np.count_nonzero(~np.isfinite(replicates)))
    if missing or np.ptp(replicates) == 0.0:
        reason = (
            f"the statistic is undefined in {missing} of {replicates.size} bootstrap replicates"
            if missing
            else "every bootstrap replicate has the same value: no interval"
        )
        return Estimate.undefined(
            reason, confidence_level=confidence_level, method=method, n=n, estimate=estimate
        )
    alpha = 1.0 - confidence_level
    low, high = np.quantile(replicates, [alpha / 2.0, 1.0 - alpha / 2.0])
    return interval_estimate(
        estimate, float(low), float(high), confidence_level=confidence_level,
        method=method, n=n, bounds=bounds,
    )  # fmt: skip


def stratified_case_weights(
    abnormal: NDArray[np.bool_], replicates: int, rng: np.random.Generator
) -> FloatArray:
    """Bootstrap multiplicities (R, cases), resampling abnormal and normal cases separately."""
    weights = np.zeros((replicates, abnormal.size))
    for stratum in (np.flatnonzero(abnormal), np.flatnonzero(~abnormal)):
        if stratum.size:
            draws = rng.integers(0, stratum.size, size=(replicates, stratum.size))
            for row in range(replicates):
                weights[row, stratum] = np.bincount(draws[row], minlength=stratum.size)
    return weights


#: Statistics of :func:`detection_statistics`, with their natural bounds.
DETECTION_STATISTICS: dict[str, tuple[float, float]] = {
    "lesion_sensitivity": (0.0, 1.0),
    "fp_per_image": (0.0, math.inf),
    "fp_per_normal_image": (0.0, math.inf),
    "froc_cpm": (0.0, 1.0),
    "afroc_fom": (0.0, 1.0),
    "wafroc_fom": (0.0, 1.0),
    "case_sensitivity": (0.0, 1.0),
    "case_specificity": (0.0, 1.0),
}


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.nan


def _statistics(data: FrocData, threshold: float, weights: FloatArray) -> dict[str, float]:
    """Every detection statistic for cases weighted by ``weights``."""
    lesion_w = weights[data.lesion_case]
    fp_w = weights[data.fp_case]
    fp_called = data.fp_rating >= threshold
    normal_w = np.where(data.abnormal, 0.0, weights)
    abnormal_w = np.where(data.abnormal, weights, 0.0)
    called = data.case_score >= threshold
    _, nlf, llf = froc_curve(data, weights)
    return {
        "lesion_sensitivity": _ratio(
            float(np.sum(lesion_w[data.lesion_rating >= threshold])), float(np.sum(lesion_w))
        ),
        "fp_per_image": _ratio(float(np.sum(fp_w[fp_called])), float(np.sum(weights))),
        "fp_per_normal_image": _ratio(
            float(np.sum(normal_w[data.fp_case][fp_called])), float(np.sum(normal_w))
        ),
        "froc_cpm": float(np.mean(sensitivity_at_rates(nlf, llf))),
        "afroc_fom": figure_of_merit(data, weights),
        "wafroc_fom": figure_of_merit(data, weights, weighted=True),
        "case_sensitivity": _ratio(float(np.sum(abnormal_w[called])), float(np.sum(abnormal_w))),
        "case_specificity": _ratio(float(np.sum(normal_w[~called])), float(np.sum(normal_w))),
    }


def detection_statistics(
    data: FrocData,
    *,
    threshold: float = -math.inf,
    confidence_level: float = 0.95,
    replicates: int = 2000,
    seed: int = 20261126,
) -> dict[str, Estimate]:
    """Lesion- and case-level detection statistics with bootstrap intervals.

    Marks scoring ≥ ``threshold`` are the device's output at its operating
    point (default: every mark). Intervals: percentile bootstrap over cases,
    stratified by truth (abnormal/normal cases resampled separately),
    ``replicates`` draws from ``numpy.random.default_rng(seed)``. ``n`` is the
    number of cases; lesion sensitivity also carries its lesion counts.
    """
    if int(replicates) < 2:
        raise ValueError(f"replicates: expected at least 2, got {replicates}")
    observed = _statistics(data, threshold, np.ones(data.abnormal.size))
    rng = np.random.default_rng(seed)
    weights = stratified_case_weights(data.abnormal, replicates, rng)
    draws = {name: np.empty(replicates) for name in DETECTION_STATISTICS}
    for row in range(replicates):
        for name, value in _statistics(data, threshold, weights[row]).items():
            draws[name][row] = value
    method = (
        f"bootstrap percentile over cases stratified by truth, {replicates} replicates, seed {seed}"
    )
    results = {}
    for name, bounds in DETECTION_STATISTICS.items():
        results[name] = percentile_interval(
            draws[name], observed[name], confidence_level=confidence_level,
            method=method, n=int(data.abnormal.size), bounds=bounds,
        )  # fmt: skip
    hits = int(np.count_nonzero(data.lesion_rating >= threshold))
    results["lesion_sensitivity"] = replace(
        results["lesion_sensitivity"], numerator=hits, denominator=int(data.lesion_rating.size)
    )
    return results


def froc_band(
    data: FrocData,
    rates: Sequence[float],
    *,
    confidence_level: float = 0.95,
    replicates: int = 2000,
    seed: int = 20261126,
) -> tuple[FloatArray, FloatArray]:
    """Pointwise percentile bootstrap band of the FROC sensitivity at each FP rate of ``rates``.

    Cases are resampled as in :func:`detection_statistics` (stratified by
    truth, same generator and seed); at each rate the band is the R type-7
    quantiles of the replicates' step-FROC sensitivity
    (:func:`sensitivity_at_rates`). Pointwise, not simultaneous: each rate's
    interval covers that rate's sensitivity. A replicate without lesions
    gives NaN and makes the band NaN at every rate (no band is drawn).

    Examples
    --------
    >>> cases = [
    ...     CaseMatch(np.array([0.9]), np.array([1.0]), np.array([0.2])),
    ...     CaseMatch(np.array([-np.inf]), np.array([1.0]), np.array([])),
    ...     CaseMatch(np.array([]), np.array([]), np.array([0.6])),
    ... ]
    >>> low, high = froc_band(FrocData.from_cases(cases), [0.5, 1.0], replicates=200, seed=1)
    >>> bool(np.all(low <= high))
    True
    """
    weights = stratified_case_weights(data.abnormal, replicates, np.random.default_rng(seed))
    values = np.empty((replicates, len(rates)))
    for row in range(replicates):
        _, nlf, llf = froc_curve(data, weights[row])
        values[row] = sensitivity_at_rates(nlf, llf, rates)
    if not np.all(np.isfinite(values)):
        nan = np.full(len(rates), math.nan)
        return nan, nan.copy()
    alpha = 1.0 - confidence_level
    low, high = np.quantile(values, [alpha / 2.0, 1.0 - alpha / 2.0], axis=0)
    return low, high
