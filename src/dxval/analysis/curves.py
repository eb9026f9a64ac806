"""ROC curves for the report: the empirical curve of each population and a confidence band.

The curve is :func:`dxval.stats.roc_curve` on the evaluable cases (positive
call ⇔ score ≥ threshold). The band, computed for the first population
given (all cases), is the pointwise interval of the sensitivity at fixed
specificities 0, 0.1, …, 1 from a bootstrap stratified by truth and site, the
threshold re-chosen in every replicate (Robin et al. 2011, pROC ``ci.se``;
Fawcett 2006, section 7 "vertical averaging"). Everything is seeded by the
protocol, so the section is a deterministic part of ``metrics.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from dxval.analysis.metrics import StatisticsSettings
from dxval.analysis.populations import Population
from dxval.analysis.table import CaseTable
from dxval.stats import roc_curve, sensitivity_band
from dxval.stats.wording import plural

BAND_SPECIFICITIES = tuple(round(0.1 * step, 1) for step in range(11))


def _band(table: CaseTable, population: Population, settings: StatisticsSettings) -> dict[str, Any]:
    """Pointwise bootstrap interval of the sensitivity at each of ``BAND_SPECIFICITIES``."""
    selected = population.mask & table.evaluable
    truth, scores, sites = table.truth[selected], table.scores[selected], table.sites[selected]
    estimates = sensitivity_band(  # one bootstrap for all points (issue 18)
        truth,
        scores,
        BAND_SPECIFICITIES,
        seed=settings.bootstrap_seed,
        replicates=settings.bootstrap_replicates,
        strata=sites,
        confidence_level=settings.confidence_level,
    )
    return {
        "method": "pointwise sensitivity at fixed specificity (pROC ci.se), stratified bootstrap "
        f"percentile, {settings.bootstrap_replicates} replicates, seed {settings.bootstrap_seed}",
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
        curve = roc_curve(table.truth[selected], np.asarray(table.scores[selected]))
        band = _band(table, population, settings) if position == 0 else None
        records.append(
            {**record, "status": "ok", "reason": None, "curve": curve.to_dict(), "band": band}
        )
    return records
