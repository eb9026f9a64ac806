"""ROC curves for the report: the empirical curve of each population and a confidence band.

The curve is :func:`dxval.stats.roc_curve` on the evaluable cases (positive
call ⇔ score ≥ threshold). The band, computed for the first population
given (all cases), is the pointwise interval of the sensitivity at fixed
specificities 0, 0.1, …, 1 from a bootstrap stratified by truth and site, the
threshold re-chosen in every replicate (Robin et al. 2011, pROC ``ci.se``;
Fawcett 2006, section 7 "vertical averaging"). Its replicates are drawn by
binomial splitting (:mod:`dxval.stats.band`: the same bootstrap distribution,
O(log distinct scores) per replicate instead of O(cases), issue 18), so the
band costs well under a second at 10,000,000 cases. Everything is seeded by
the protocol, so the section is a deterministic part of ``metrics.json``.

The stored curve is thinned (:func:`thin_curve`, issue 18: a million
distinct scores would otherwise store a million points per curve). First
without loss: a point inside a straight run of the curve is dropped (the
polyline, its trapezoidal area and every vertex with its threshold are
those of the full curve). A curve still longer than ``MAX_CURVE_POINTS`` is
then kept on a 1/``CURVE_GRID`` grid: of the points falling in one cell of
the grid of (FPR, TPR) squares of side 1/``CURVE_GRID``, the first and the
last are kept, so every segment between two kept points is either an
original segment or lies inside one cell: every point of the full curve
lies in a cell the stored curve has a point in (so within √2/``CURVE_GRID``
of it) and the stored area is within 1/``CURVE_GRID`` of the full area
(the AUC reported with its interval is always computed from every case, not
from the stored curve). The record
says which thinning was applied and how many points the full curve had.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from dxval.analysis.metrics import StatisticsSettings
from dxval.analysis.populations import Population
from dxval.analysis.table import CaseTable
from dxval.stats import RocCurve, roc_curve
from dxval.stats.band import BAND_METHOD, sensitivity_band_by_splitting
from dxval.stats.wording import plural

BAND_SPECIFICITIES = tuple(round(0.1 * step, 1) for step in range(11))
#: Longest stored curve kept point for point (after dropping collinear points).
MAX_CURVE_POINTS = 4001
#: Cells per unit of the grid a longer curve is kept on (deviation ≤ 1/CURVE_GRID).
CURVE_GRID = 1000


def _turning_points(fp: npt.NDArray[np.int64], tp: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Keep the ends and every point where the curve changes direction (exact, in counts)."""
    keep = np.ones(fp.shape[0], dtype=bool)
    if fp.shape[0] > 2:
        d_fp, d_tp = np.diff(fp), np.diff(tp)
        keep[1:-1] = d_fp[:-1] * d_tp[1:] != d_tp[:-1] * d_fp[1:]
    return keep


def _grid_points(
    fpr: npt.NDArray[np.float64], tpr: npt.NDArray[np.float64]
) -> npt.NDArray[np.bool_]:
    """Keep the first and the last point of each grid cell the curve passes through."""
    cell = np.floor(fpr * CURVE_GRID) * (CURVE_GRID + 1) + np.floor(tpr * CURVE_GRID)
    change = np.diff(cell) != 0
    keep = np.ones(fpr.shape[0], dtype=bool)
    keep[1:-1] = change[:-1] | change[1:]  # last of its cell, or first of the next
    return keep


def thin_curve(curve: RocCurve) -> dict[str, Any]:
    """The curve's JSON record, thinned as the module docstring says, with a ``thinning`` note."""
    fp = np.rint(curve.false_positive_rate * curve.n_negative).astype(np.int64)
    tp = np.rint(curve.true_positive_rate * curve.n_positive).astype(np.int64)
    keep = _turning_points(fp, tp)
    how = "lossless: points inside straight runs dropped"
    if int(keep.sum()) > MAX_CURVE_POINTS:
        kept = np.flatnonzero(keep)
        on_grid = _grid_points(curve.false_positive_rate[kept], curve.true_positive_rate[kept])
        keep = np.zeros_like(keep)
        keep[kept[on_grid]] = True
        how = (
            f"first and last point of each 1/{CURVE_GRID} (FPR, TPR) grid cell, after dropping "
            f"points inside straight runs: the area within {1 / CURVE_GRID:g} of the full curve's"
        )
    index = np.flatnonzero(keep)
    thresholds: list[float | None] = curve.thresholds[index].tolist()
    thresholds[0] = None  # +inf: no case called positive (always kept)
    return {
        "thresholds": thresholds,
        "false_positive_rate": curve.false_positive_rate[index].tolist(),
        "true_positive_rate": curve.true_positive_rate[index].tolist(),
        "n_positive": curve.n_positive,
        "n_negative": curve.n_negative,
        "thinning": {"method": how, "points": int(index.shape[0]), "full_points": int(fp.shape[0])},
    }


def _band(table: CaseTable, population: Population, settings: StatisticsSettings) -> dict[str, Any]:
    """Pointwise bootstrap interval of the sensitivity at each of ``BAND_SPECIFICITIES``."""
    selected = population.mask & table.evaluable
    truth, scores = table.truth[selected], table.scores[selected]
    same_site = table.sites == table.sites[int(np.argmax(selected))]
    one_site = bool(np.all(same_site[selected]))  # no string gather or sort for one site
    estimates = sensitivity_band_by_splitting(  # one bootstrap for all points (issue 18)
        truth,
        scores,
        BAND_SPECIFICITIES,
        seed=settings.bootstrap_seed,
        replicates=settings.bootstrap_replicates,
        strata=None if one_site else table.sites[selected],  # one stratum: the same draws
        confidence_level=settings.confidence_level,
    )
    return {
        "method": "pointwise sensitivity at fixed specificity (pROC ci.se), stratified bootstrap "
        f"percentile, {settings.bootstrap_replicates} replicates, seed {settings.bootstrap_seed}; "
        f"{BAND_METHOD}",
        "confidence_level": settings.confidence_level,
        "specificity": list(BAND_SPECIFICITIES),
        "sensitivity": [estimate.estimate for estimate in estimates],
        "low": [estimate.low for estimate in estimates],
        "high": [estimate.high for estimate in estimates],
    }


def roc_curves(
    table: CaseTable, populations: Sequence[Population], settings: StatisticsSettings
) -> list[dict[str, Any]]:
    """The ``roc_curves`` section of ``metrics.json``: one record per population.

    Parameters
    ----------
    table:
        All cases; only evaluable ones enter a curve.
    populations:
        Populations to draw, the first one (all cases) with a confidence band.
    settings:
        Confidence level and the bootstrap's replicates and seed.

    A population without both classes among its evaluable cases gets
    ``status: undefined`` with the reason and no curve.
    """
    records = []
    drawn: list[tuple[npt.NDArray[np.bool_], dict[str, Any]]] = []  # same cases, same curve
    for position, population in enumerate(populations):
        selected = population.mask & table.evaluable
        positives = int(table.truth[selected].sum())
        negatives = int(selected.sum()) - positives
        record: dict[str, Any] = {"population": population.key, "label": population.label}
        if positives == 0 or negatives == 0:
            evaluable = plural(positives + negatives, "evaluable case")
            reason = f"{evaluable}: {positives} positive, {negatives} negative"
            records.append({**record, "status": "undefined", "reason": reason})
            continue
        same = next((curve for mask, curve in drawn if np.array_equal(mask, selected)), None)
        if same is None:  # e.g. the one site of a one-site protocol is all cases again
            curve = roc_curve(table.truth[selected], np.asarray(table.scores[selected]))
            same = thin_curve(curve)
            drawn.append((selected, same))
        band = _band(table, population, settings) if position == 0 else None
        records.append(
            {**record, "status": "ok", "reason": None, "curve": dict(same), "band": band}
        )
    return records
