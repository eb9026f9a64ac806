"""Failure-mode analysis: error rates by group with Fisher's exact test, confident errors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from dxval.analysis import CaseTable, PopulationIndex, StatisticsSettings, failure_modes


@pytest.mark.req("DXV-ANAL-006")
def test_error_rates_by_site_with_fisher_exact(
    table: CaseTable, populations: PopulationIndex, settings: StatisticsSettings
) -> None:
    sites = populations.family("site")
    result = failure_modes(table, sites, sites, settings)
    negatives = result["false_negative"]
    assert negatives["overall"]["errors"] == 15
    assert negatives["overall"]["cases"] == 41
    site_f = negatives["groups"][0]
    assert (site_f["errors"], site_f["cases"]) == (7, 21)
    site_m_errors = 15 - 7
    expected = scipy_stats.fisher_exact([[7, 14], [site_m_errors, 20 - site_m_errors]]).pvalue
    assert site_f["fisher_exact"]["p_value"] == pytest.approx(expected, rel=1e-9)
    assert site_f["rate"]["estimate"] == pytest.approx(7 / 21)
    assert site_f["p_value_adjusted"] == pytest.approx(min(1.0, 2 * expected))
    positives = result["false_positive"]
    assert positives["overall"]["errors"] == 14
    assert positives["overall"]["cases"] == 72


@pytest.mark.req("DXV-ANAL-006")
def test_most_confident_errors_by_case_id(
    table: CaseTable, populations: PopulationIndex, settings: StatisticsSettings
) -> None:
    result = failure_modes(table, [], populations.family("site"), settings)
    false_negatives = result["false_negative"]["most_confident"]
    scores = [row["score"] for row in false_negatives]
    assert scores == sorted(scores)
    assert len(false_negatives) == 10
    assert false_negatives[0]["score"] == pytest.approx(
        float(table.scores[table.truth & (table.scores < 0.205)].min())
    )
    false_positives = result["false_positive"]["most_confident"]
    assert false_positives[0]["score"] == pytest.approx(0.5)  # the largest negative score
    assert [row["score"] for row in false_positives] == sorted(
        (row["score"] for row in false_positives), reverse=True
    )
    assert false_positives[0]["case_id"].startswith("asah-")


def test_score_distribution_by_site_and_truth(
    table: CaseTable, populations: PopulationIndex, settings: StatisticsSettings
) -> None:
    rows = failure_modes(table, [], populations.family("site"), settings)["score_distributions"]
    assert [(row["population"], row["truth"]) for row in rows] == [
        ("all", "positive"),
        ("all", "negative"),
        ("site=Site F", "positive"),
        ("site=Site F", "negative"),
        ("site=Site M", "positive"),
        ("site=Site M", "negative"),
    ]
    positives = table.scores[table.truth]
    assert rows[0]["n"] == 41
    assert rows[0]["median"] == pytest.approx(float(np.median(positives)))
    assert rows[0]["q1"] == pytest.approx(float(np.quantile(positives, 0.25)))
    assert rows[0]["max"] == pytest.approx(2.07)
