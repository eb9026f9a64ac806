"""Segmentation overlap and boundary-distance metrics of one binary structure.

Definitions follow Metrics Reloaded (Maier-Hein L, Reinke A, et al.
"Metrics reloaded: recommendations for image analysis validation", Nature
Methods 21:195–212, 2024) and agree, on the same voxels and spacing, with
MONAI 1.6 (``compute_hausdorff_distance(..., percentile=95)``,
``compute_average_surface_distance(symmetric=True)``,
``compute_surface_dice(..., use_subvoxels=False)``):

- the *surface* of a mask is its voxels with a 6-connected (3-D) or
  4-connected (2-D) neighbour outside the mask, the image border counting
  as outside (binary erosion with border value 0, XOR the mask);
- distances are exact Euclidean distances in millimetres between surface
  voxel centres, with the voxel ``spacing`` per array axis (anisotropic);
- HD is the larger of the two directed maximum distances, HD95 the larger
  of the two directed 95th percentiles (linear interpolation, numpy's
  default), ASSD the mean of both directed distance sets pooled, and NSD
  (normalised surface Dice, Nikolov et al. 2021) the fraction of both
  surfaces' voxels lying within ``tolerance`` mm of the other surface.

An empty truth with an empty prediction is defined: Dice, IoU and NSD 1,
distances 0. When exactly one is empty, Dice, IoU and NSD are 0 and the
distances do not exist: the result has status ``undefined`` and a reason,
never NaN. Only numpy and scipy are used.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from dxval.stats.results import Estimate, Status, finite_or_none, interval_estimate

BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]

#: Metrics of one case, in the order the command prints them.
SEGMENTATION_METRICS = ("dice", "iou", "hd", "hd95", "assd", "nsd", "volume_difference_ml")
#: Millilitres per cubic millimetre.
_ML_PER_MM3 = 1e-3


class SegmentationReason(str, Enum):
    """Reason codes of a case whose boundary distances do not exist."""

    EMPTY_TRUTH = "empty_truth"
    EMPTY_PREDICTION = "empty_prediction"


@dataclass(frozen=True, slots=True)
class SegmentationResult:
    """Overlap, distances (mm) and volumes (ml) of one structure in one case.

    Distances are None, with ``status`` undefined and ``reason`` set, when
    exactly one of truth and prediction is empty.
    """

    dice: float
    iou: float
    hd: float | None
    hd95: float | None
    assd: float | None
    nsd: float
    nsd_tolerance_mm: float
    volume_truth_ml: float
    volume_prediction_ml: float
    status: Status
    reason: str | None = None

    @property
    def volume_difference_ml(self) -> float:
        """Prediction volume minus truth volume, millilitres."""
        return self.volume_prediction_ml - self.volume_truth_ml

    def value(self, metric: str) -> float | None:
        """The value of one of :data:`SEGMENTATION_METRICS`."""
        if metric not in SEGMENTATION_METRICS:
            raise ValueError(f"metric: got {metric!r}, expected one of {SEGMENTATION_METRICS}")
        return finite_or_none(getattr(self, metric))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict (None where a value does not exist)."""
        return {
            "dice": self.dice,
            "iou": self.iou,
            "hd": finite_or_none(self.hd),
            "hd95": finite_or_none(self.hd95),
            "assd": finite_or_none(self.assd),
            "nsd": self.nsd,
            "nsd_tolerance_mm": self.nsd_tolerance_mm,
            "volume_truth_ml": self.volume_truth_ml,
            "volume_prediction_ml": self.volume_prediction_ml,
            "volume_difference_ml": self.volume_difference_ml,
            "status": self.status.value,
            "reason": self.reason,
        }


def _check_inputs(
    truth: BoolArray, prediction: BoolArray, spacing: Sequence[float], tolerance: float
) -> tuple[float, ...]:
    if truth.shape != prediction.shape:
        raise ValueError(f"mask shapes differ: truth {truth.shape}, prediction {prediction.shape}")
    if truth.ndim not in (2, 3):
        raise ValueError(f"masks must be 2-D or 3-D, got {truth.ndim}-D")
    steps = tuple(float(step) for step in spacing)
    if len(steps) != truth.ndim or not all(math.isfinite(s) and s > 0 for s in steps):
        raise ValueError(
            f"spacing: expected {truth.ndim} positive finite numbers (mm), got {tuple(spacing)}"
        )
    if not (math.isfinite(tolerance) and tolerance >= 0):
        raise ValueError(f"tolerance: expected a finite number >= 0 mm, got {tolerance}")
    return steps


def _union_box(truth: BoolArray, prediction: BoolArray) -> tuple[slice, ...]:
    """Bounding box of the union, found axis by axis without a full-size temporary."""
    box = []
    for axis in range(truth.ndim):
        others = tuple(index for index in range(truth.ndim) if index != axis)
        occupied = np.flatnonzero(truth.any(axis=others) | prediction.any(axis=others))
        box.append(slice(int(occupied[0]), int(occupied[-1]) + 1))
    return tuple(box)


def surface(mask: BoolArray) -> BoolArray:
    """Surface voxels of a binary mask: the mask minus its erosion (border counts as outside).

    The structuring element is the cross (face connectivity), scipy's
    default, as in MONAI's ``get_mask_edges`` without subvoxels.

    Examples
    --------
    >>> import numpy as np
    >>> square = np.zeros((5, 5), dtype=bool)
    >>> square[1:4, 1:4] = True
    >>> int(surface(square).sum())  # the 3x3 square keeps only its centre after erosion
    8
    """
    return mask & ~ndimage.binary_erosion(mask, border_value=0)


def directed_distances(
    source: BoolArray, target: BoolArray, spacing: Sequence[float]
) -> FloatArray:
    """Distance (mm) from each ``source`` voxel to the nearest ``target`` voxel.

    Exact Euclidean distance transform (:func:`scipy.ndimage.distance_transform_edt`)
    with anisotropic ``sampling``; ``target`` must not be empty.
    """
    field = ndimage.distance_transform_edt(~target, sampling=tuple(spacing))
    return np.asarray(field, dtype=np.float64)[source]


def segmentation_metrics(
    truth: BoolArray,
    prediction: BoolArray,
    spacing: Sequence[float],
    *,
    tolerance: float = 1.0,
) -> SegmentationResult:
    """Dice, IoU, HD, HD95, ASSD, NSD and volumes of one binary structure.

    Parameters
    ----------
    truth, prediction : ndarray of bool, same shape, 2-D or 3-D
        The reference and predicted masks on the same voxel grid.
    spacing : sequence of float
        Voxel size in mm along each array axis (anisotropic allowed).
    tolerance : float, keyword-only
        NSD tolerance τ in mm (a surface voxel within τ of the other surface counts).

    Returns
    -------
    SegmentationResult
        Distances in mm, volumes in ml; undefined distances (status, reason)
        when exactly one mask is empty.

    Raises
    ------
    ValueError
        Shapes differ, dimension not 2 or 3, spacing or tolerance invalid.

    Notes
    -----
    Dice = 2|T∩P| / (|T|+|P|), IoU = |T∩P| / |T∪P| (Metrics Reloaded DSC and
    IoU); the surface distances are computed on the union's bounding box
    padded by one empty voxel, which leaves every surface and distance
    unchanged (the image border already counts as outside).

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.zeros((8, 8, 4), dtype=bool); truth[2:6, 2:6, 1:3] = True
    >>> prediction = np.zeros_like(truth); prediction[3:7, 2:6, 1:3] = True
    >>> result = segmentation_metrics(truth, prediction, (0.7, 0.7, 2.5), tolerance=1.0)
    >>> round(result.dice, 4), result.hd
    (0.75, 0.7)
    >>> segmentation_metrics(truth, np.zeros_like(truth), (1, 1, 1)).reason
    'empty_prediction'
    """
    truth = np.asarray(truth, dtype=bool)
    prediction = np.asarray(prediction, dtype=bool)
    steps = _check_inputs(truth, prediction, spacing, tolerance)
    voxel_ml = math.prod(steps) * _ML_PER_MM3
    truth_count = int(np.count_nonzero(truth))
    prediction_count = int(np.count_nonzero(prediction))

    def result(
        overlap: tuple[float, float],
        distances: tuple[float, float, float] | None,
        nsd: float,
        reason: SegmentationReason | None = None,
    ) -> SegmentationResult:
        hd, hd95, assd = (None, None, None) if distances is None else distances
        return SegmentationResult(
            dice=overlap[0],
            iou=overlap[1],
            hd=hd,
            hd95=hd95,
            assd=assd,
            nsd=nsd,
            nsd_tolerance_mm=float(tolerance),
            volume_truth_ml=truth_count * voxel_ml,
            volume_prediction_ml=prediction_count * voxel_ml,
            status=Status.OK if reason is None else Status.UNDEFINED,
            reason=None if reason is None else reason.value,
        )

    if truth_count == 0 and prediction_count == 0:
        return result((1.0, 1.0), (0.0, 0.0, 0.0), 1.0)
    if truth_count == 0:
        return result((0.0, 0.0), None, 0.0, SegmentationReason.EMPTY_TRUTH)
    if prediction_count == 0:
        return result((0.0, 0.0), None, 0.0, SegmentationReason.EMPTY_PREDICTION)
    box = _union_box(truth, prediction)
    truth_box = np.pad(truth[box], 1)
    prediction_box = np.pad(prediction[box], 1)
    intersection = int(np.count_nonzero(truth_box & prediction_box))
    dice = 2.0 * intersection / (truth_count + prediction_count)
    iou = intersection / (truth_count + prediction_count - intersection)
    truth_surface = surface(truth_box)
    prediction_surface = surface(prediction_box)
    del truth_box, prediction_box
    to_truth = directed_distances(prediction_surface, truth_surface, steps)
    to_prediction = directed_distances(truth_surface, prediction_surface, steps)
    pooled = np.concatenate([to_truth, to_prediction])
    hd95 = max(float(np.percentile(to_truth, 95)), float(np.percentile(to_prediction, 95)))
    return result(
        (dice, iou),
        (float(pooled.max()), hd95, float(pooled.mean())),
        float(np.count_nonzero(pooled <= tolerance)) / pooled.size,
    )


@dataclass(frozen=True, slots=True)
class MetricSummary:
    """Mean and median of one metric over cases, each with a bootstrap interval.

    ``undefined`` counts the cases where the metric did not exist (one mask
    empty); they are listed, not silently dropped, and ``n`` of each
    estimate counts the cases used.
    """

    metric: str
    mean: Estimate
    median: Estimate
    undefined: int

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "mean": self.mean.to_dict(),
            "median": self.median.to_dict(),
            "cases_undefined": self.undefined,
        }


def _bounds(metric: str) -> tuple[float, float]:
    if metric in ("dice", "iou", "nsd"):
        return (0.0, 1.0)
    if metric == "volume_difference_ml":
        return (-math.inf, math.inf)
    return (0.0, math.inf)


def bootstrap_location(
    values: FloatArray,
    *,
    statistic: str,
    confidence_level: float = 0.95,
    replicates: int = 2000,
    seed: int = 20261126,
    bounds: tuple[float, float] = (-math.inf, math.inf),
) -> Estimate:
    """Mean or median of per-case values with a percentile bootstrap interval over cases.

    Cases are resampled with replacement (``replicates`` times, generator
    ``numpy.random.default_rng(seed)``); the interval is the R type-7
    quantiles of the replicate statistics.

    Examples
    --------
    >>> import numpy as np
    >>> result = bootstrap_location(np.array([0.8, 0.9, 0.85, 0.95]), statistic="mean")
    >>> round(result.estimate, 3), result.n, result.low <= result.estimate <= result.high
    (0.875, 4, True)
    """
    functions: dict[str, Callable[..., Any]] = {"mean": np.mean, "median": np.median}
    if statistic not in functions:
        raise ValueError(f"statistic: got {statistic!r}, expected 'mean' or 'median'")
    if int(replicates) < 2:
        raise ValueError(f"replicates: expected at least 2, got {replicates}")
    method = f"bootstrap percentile over cases, {replicates} replicates, seed {seed}"
    values = np.asarray(values, dtype=np.float64)
    count = int(values.size)
    if count == 0:
        return Estimate.undefined(
            "no case has a value", confidence_level=confidence_level, method=method, n=0
        )
    function = functions[statistic]
    estimate = float(function(values))
    if count == 1 or float(np.ptp(values)) == 0.0:
        return Estimate.undefined(
            "every case has the same value: no interval",
            confidence_level=confidence_level,
            method=method,
            n=count,
            estimate=estimate,
        )
    rng = np.random.default_rng(seed)
    replicate_values = np.empty(replicates, dtype=np.float64)
    chunk = max(1, 2_000_000 // count)
    for start in range(0, replicates, chunk):
        stop = min(replicates, start + chunk)
        indices = rng.integers(0, count, size=(stop - start, count))
        replicate_values[start:stop] = function(values[indices], axis=1)
    alpha = 1.0 - confidence_level
    low, high = np.quantile(replicate_values, [alpha / 2.0, 1.0 - alpha / 2.0])
    return interval_estimate(
        estimate,
        float(low),
        float(high),
        confidence_level=confidence_level,
        method=method,
        n=count,
        bounds=bounds,
    )


def summarise_segmentation(
    results: Sequence[SegmentationResult],
    *,
    confidence_level: float = 0.95,
    replicates: int = 2000,
    seed: int = 20261126,
) -> dict[str, MetricSummary]:
    """Mean and median of every metric over ``results`` with bootstrap CIs over cases.

    Cases where a metric does not exist are counted in ``undefined``.
    """
    summaries = {}
    for metric in SEGMENTATION_METRICS:
        present = [result.value(metric) for result in results]
        values = np.array([value for value in present if value is not None], dtype=np.float64)
        mean, median = (
            bootstrap_location(
                values,
                statistic=statistic,
                confidence_level=confidence_level,
                replicates=replicates,
                seed=seed,
                bounds=_bounds(metric),
            )
            for statistic in ("mean", "median")
        )
        summaries[metric] = MetricSummary(
            metric=metric,
            mean=mean,
            median=median,
            undefined=len(present) - int(values.size),
        )
    return summaries
