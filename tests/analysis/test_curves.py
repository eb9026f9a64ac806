"""ROC curves for the report: the empirical curve per population and the band of all cases."""

from __future__ import annotations

import numpy as np

from dxval.analysis import CaseRecord, CaseTable, StatisticsSettings, build_populations
from dxval.analysis.curves import BAND_SPECIFICITIES, roc_curves


def _table() -> CaseTable:
    generator = np.random.default_rng(3)
    records = []
    for index in range(80):
        truth = index % 2 == 0
        site = "A" if index < 60 else "B"
        score = float(generator.normal(1.0 if truth else 0.0, 1.0))
        records.append(CaseRecord(f"c{index}", site, site, truth, score, {}))
    # site C holds positives only: no curve there
    records += [CaseRecord(f"p{index}", "C", "C", True, 2.0, {}) for index in range(3)]
    return CaseTable.from_records(records, operating_point=0.5, attributes=[])


def test_curves_per_population_with_a_band_for_the_first() -> None:
    table = _table()
    index = build_populations(
        table.sites,
        table.test_sets,
        {},
        site_order=["A", "B", "C"],
        test_set_order=["A", "B", "C"],
        attributes=[],
    )
    settings = StatisticsSettings(operating_point=0.5, bootstrap_replicates=200, bootstrap_seed=5)
    records = roc_curves(table, index.populations[:4], settings)
    assert [r["population"] for r in records] == ["all", "site=A", "site=B", "site=C"]
    overall = records[0]
    curve = overall["curve"]
    assert curve["thresholds"][0] is None
    assert curve["false_positive_rate"][0] == 0.0
    assert curve["true_positive_rate"][-1] == 1.0
    assert (curve["n_positive"], curve["n_negative"]) == (43, 40)
    band = overall["band"]
    assert band["specificity"] == list(BAND_SPECIFICITIES)
    assert "ci.se" in band["method"]
    for low, estimate, high in zip(band["low"], band["sensitivity"], band["high"], strict=True):
        if low is not None and high is not None:
            assert low <= estimate <= high
    assert records[1]["band"] is None
    assert records[3] == {
        "population": "site=C",
        "label": "C",
        "status": "undefined",
        "reason": "3 evaluable cases: 3 positive, 0 negative",
    }
    assert roc_curves(table, index.populations[:2], settings) == records[:2]
