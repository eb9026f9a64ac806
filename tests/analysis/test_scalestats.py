"""Analysis at scale (issue 18, scalestats): closed-form defaults, thinned curves, the band.

The Boyd, Eng & Page (2013) logit interval the protocol default now uses is
the one ``dxval metrics --ap-ci logit`` uses, checked against scikit-learn's
average precision and the paper's formula in tests/stats/test_precision_recall.py
and tests/stats/test_sorted_paths.py; here the protocol path is shown to
call exactly that function.
"""

from __future__ import annotations

import numpy as np
import pytest

from dxval.analysis import CaseTable, StatisticsSettings, build_populations
from dxval.analysis.curves import CURVE_GRID, MAX_CURVE_POINTS, roc_curves, thin_curve
from dxval.analysis.metrics import MetricEngine
from dxval.protocol.sections import Statistics
from dxval.stats import average_precision_logit, roc_curve


def _area(fpr: np.ndarray, tpr: np.ndarray) -> float:
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def _table(cases: int, *, seed: int = 4, decimals: int | None = 4) -> CaseTable:
    rng = np.random.default_rng(seed)
    truth = rng.random(cases) < 0.3
    scores = 1 / (1 + np.exp(-(rng.normal(size=cases) + 1.2 * truth - 0.8)))
    if decimals is not None:
        scores = np.round(scores, decimals)
    return CaseTable(
        case_ids=np.char.add("c", np.arange(cases).astype(str)),
        sites=np.full(cases, "A"),
        test_sets=np.full(cases, "a"),
        truth=truth,
        scores=scores,
        evaluable=np.ones(cases, dtype=bool),
        levels={"grade": rng.integers(1, 4, cases).astype(str)},
        operating_point=0.5,
    )


@pytest.mark.req("DXV-SCALESTATS-001")
def test_protocol_default_is_the_closed_form_logit_interval() -> None:
    assert Statistics().ap_ci == "logit"
    assert Statistics.model_validate({"ap_ci": "bootstrap"}).ap_ci == "bootstrap"
    assert StatisticsSettings(operating_point=0.5).ap_method == "logit"
    table = _table(3_000)
    index = build_populations(
        table.sites, table.test_sets, {}, site_order=["A"], test_set_order=["a"], attributes=[]
    )
    estimate = MetricEngine(table, StatisticsSettings(operating_point=0.5)).metrics(
        index.by_key["all"]
    )["average_precision"]
    assert estimate == average_precision_logit(table.truth, table.scores)
    assert "Boyd" in estimate.method or "logit" in estimate.method
    asked = StatisticsSettings(operating_point=0.5, ap_method="bootstrap", bootstrap_replicates=200)
    bootstrapped = MetricEngine(table, asked).metrics(index.by_key["all"])["average_precision"]
    assert "bootstrap" in bootstrapped.method
    # the same average precision (two summation orders: equal to 1e-12), another interval
    assert bootstrapped.estimate == pytest.approx(estimate.estimate, rel=1e-12)


@pytest.mark.req("DXV-SCALESTATS-001")
def test_only_a_bootstrapping_protocol_counts_resampled_draws() -> None:
    closed = StatisticsSettings(operating_point=0.5)
    assert closed.resampling_replicates == 0
    asked = StatisticsSettings(operating_point=0.5, ap_method="bootstrap")
    assert asked.resampling_replicates == 2000
    auc = StatisticsSettings(operating_point=0.5, auc_method="bootstrap", bootstrap_replicates=300)
    assert auc.resampling_replicates == 300


@pytest.mark.req("DXV-SCALESTATS-003")
def test_lossless_thinning_keeps_the_polyline_and_its_area() -> None:
    table = _table(20_000, decimals=2)  # ties: diagonal segments and straight runs
    curve = roc_curve(table.truth, table.scores)
    thinned = thin_curve(curve)
    assert thinned["thinning"]["method"].startswith("lossless")
    assert thinned["thinning"]["full_points"] == curve.thresholds.shape[0]
    fpr, tpr = np.array(thinned["false_positive_rate"]), np.array(thinned["true_positive_rate"])
    assert fpr.shape[0] < curve.false_positive_rate.shape[0]
    assert _area(fpr, tpr) == pytest.approx(
        _area(curve.false_positive_rate, curve.true_positive_rate), abs=1e-12
    )
    # every dropped point lies on the stored polyline (between its neighbours, collinear)
    for x, y in zip(curve.false_positive_rate, curve.true_positive_rate, strict=True):
        right = int(np.searchsorted(fpr, x, side="left"))
        if right < fpr.shape[0] and fpr[right] == x:
            assert tpr[np.searchsorted(fpr, x, side="left")] <= y + 1e-12
            assert y <= tpr[np.searchsorted(fpr, x, side="right") - 1] + 1e-12
        else:
            assert np.interp(x, fpr, tpr) == pytest.approx(y, abs=1e-12)
    assert thinned["thresholds"][0] is None
    kept = set(thinned["thresholds"][1:])
    assert kept <= set(curve.thresholds[1:].tolist())


@pytest.mark.req("DXV-SCALESTATS-003")
def test_a_long_curve_is_kept_on_the_grid_within_its_stated_bound() -> None:
    table = _table(200_000, decimals=None)  # 200,000 distinct scores
    curve = roc_curve(table.truth, table.scores)
    thinned = thin_curve(curve)
    fpr, tpr = np.array(thinned["false_positive_rate"]), np.array(thinned["true_positive_rate"])
    assert "grid" in thinned["thinning"]["method"]
    assert thinned["thinning"]["points"] == fpr.shape[0] <= 4 * CURVE_GRID + 2
    assert fpr.shape[0] > MAX_CURVE_POINTS // 4  # not thinned to nothing
    full = _area(curve.false_positive_rate, curve.true_positive_rate)
    assert abs(_area(fpr, tpr) - full) <= 1 / CURVE_GRID

    # every point of the full curve is within √2/CURVE_GRID of its stored segment
    full_x, full_y = curve.false_positive_rate, curve.true_positive_rate
    stored = np.array([np.inf, *thinned["thresholds"][1:]])
    position = np.searchsorted(-curve.thresholds, -stored)  # stored points' original places
    assert np.array_equal(curve.thresholds[position], stored)
    segment = np.clip(np.searchsorted(position, np.arange(full_x.shape[0]), "right") - 1, 0, None)
    segment = np.minimum(segment, position.shape[0] - 2)
    ax, ay = fpr[segment], tpr[segment]
    bx, by = fpr[segment + 1], tpr[segment + 1]
    length = np.maximum((bx - ax) ** 2 + (by - ay) ** 2, 1e-300)
    along = np.clip(((full_x - ax) * (bx - ax) + (full_y - ay) * (by - ay)) / length, 0.0, 1.0)
    distance = np.hypot(full_x - ax - along * (bx - ax), full_y - ay - along * (by - ay))
    assert float(distance.max()) <= np.sqrt(2) / CURVE_GRID
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)


@pytest.mark.req("DXV-SCALESTATS-002")
def test_roc_section_states_the_band_method_and_is_reproducible() -> None:
    table = _table(50_000, decimals=None)
    index = build_populations(
        table.sites, table.test_sets, {}, site_order=["A"], test_set_order=["a"], attributes=[]
    )
    settings = StatisticsSettings(operating_point=0.5, bootstrap_replicates=500)
    first = roc_curves(table, index.populations[:2], settings)
    assert first == roc_curves(table, index.populations[:2], settings)
    band = first[0]["band"]
    assert "ci.se" in band["method"]
    assert "binomial-splitting" in band["method"]
    assert all(v is None or 0.0 <= v <= 1.0 for v in band["low"] + band["high"])


def test_most_confident_errors_equal_a_full_sort_with_ties() -> None:
    from dxval.analysis.failure_modes import _most_confident

    rng = np.random.default_rng(9)
    table = _table(5_000, decimals=2)  # many ties: the case ID breaks them
    errors = rng.random(5_000) < 0.4
    for lowest_first in (True, False):
        for limit in (0, 1, 10, 4_000):
            got = _most_confident(table, errors, lowest_first=lowest_first, limit=limit)
            indices = np.flatnonzero(errors)
            keys = table.scores[indices] if lowest_first else -table.scores[indices]
            full = indices[np.lexsort((table.case_ids[indices], keys))][:limit]
            assert [row["case_id"] for row in got] == table.case_ids[full].tolist()


def test_case_pair_counts_equal_a_counter() -> None:
    from collections import Counter

    from dxval.evidence.format import Categorical
    from dxval.report.case_columns import pair_counts

    rng = np.random.default_rng(3)
    first = rng.choice(np.array(["Site A", "Site B", "C"]), 2_000)
    second = rng.choice(np.array(["x", "", "missing", "[0, 50)"]), 2_000)
    second[first == "C"] = "x"  # a pair absent from the data is absent from the counts

    def categorical(column: np.ndarray) -> Categorical:
        values, codes = np.unique(column, return_inverse=True)
        return Categorical(tuple(values.tolist()), codes.astype(np.int32))

    assert pair_counts(categorical(first), categorical(second)) == dict(
        Counter(zip(first.tolist(), second.tolist(), strict=True))
    )
