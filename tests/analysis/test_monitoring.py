"""Per-window monitoring analysis on hand-made baselines and windows."""

from __future__ import annotations

import numpy as np
import pytest

from dxval.analysis import CriterionSpec, PopulationSpec, RequirementSpec, StatisticsSettings
from dxval.analysis.monitoring import (
    AlertThresholds,
    AttributeBaseline,
    WindowData,
    analyse_window,
    make_baseline,
)
from dxval.analysis.populations import AttributeSpec
from dxval.stats import Status, proportion_ci

RNG = np.random.default_rng(7)
BASELINE_SCORES = RNG.beta(2.0, 5.0, 600)
SETTINGS = StatisticsSettings(operating_point=0.4, bootstrap_replicates=200)
REQUIREMENTS = (
    RequirementSpec(
        "PERF-001",
        "Sensitivity at least 0.5",
        (CriterionSpec("sensitivity", PopulationSpec("all"), ">=", 0.5),),
    ),
)


def _baseline(validated_sensitivity: float = 0.8) -> object:
    return make_baseline(
        BASELINE_SCORES,
        validated={
            "sensitivity": proportion_ci(int(validated_sensitivity * 200), 200),
        },
        attributes={
            "manufacturer": AttributeBaseline("manufacturer", "categorical", {"A": 300, "B": 300}),
            "kvp": AttributeBaseline("kvp", "numeric", values=RNG.normal(120, 5, 600)),
        },
        settings=SETTINGS,
        requirements=REQUIREMENTS,
        attribute_specs=(AttributeSpec("manufacturer", "Manufacturer"),),
        psi_bins=10,
    )


def _window(
    scores: np.ndarray,
    *,
    manufacturers: dict[str, int],
    kvp: np.ndarray,
    truth: np.ndarray | None = None,
) -> WindowData:
    truth = np.full(scores.size, -1, dtype=np.int8) if truth is None else truth
    adjudicated = int((truth >= 0).sum())
    return WindowData(
        label="2027-W01",
        start="2027-01-04T00:00:00Z",
        end="2027-01-11T00:00:00Z",
        scores=scores,
        truth=truth,
        sites=np.full(adjudicated, "Site A"),
        levels={"manufacturer": np.full(adjudicated, "A")},
        categorical={"manufacturer": manufacturers},
        numeric={"kvp": kvp},
    )


@pytest.mark.req("DXV-MON-004")
def test_stable_window_raises_nothing_and_reports_every_statistic() -> None:
    scores = np.random.default_rng(1).beta(2.0, 5.0, 400)
    window = _window(
        scores, manufacturers={"A": 200, "B": 200}, kvp=np.random.default_rng(2).normal(120, 5, 400)
    )
    result = analyse_window(window, _baseline(), AlertThresholds())
    assert result.alerts == ()
    assert result.n == 400
    assert result.psi.status is Status.OK
    assert result.psi.bin_edges is not None
    assert len(result.psi.bin_edges) == 9
    assert result.ks.p_value is not None
    assert result.positive_rate.method == "Wilson score"
    assert result.positive_rate.n == 400
    assert result.attributes["manufacturer"].new_levels == ()
    assert result.attributes["kvp"].kind == "numeric"
    assert result.performance == {}
    assert result.score_drift["ks"] == {
        "statistic": result.ks.statistic,
        "p_value": result.ks.p_value,
    }


@pytest.mark.req("DXV-MON-004")
def test_new_level_is_named_and_shift_raises_score_and_input_drift() -> None:
    scores = np.random.default_rng(3).beta(5.0, 2.0, 400)  # shifted upwards
    window = _window(
        scores,
        manufacturers={"A": 150, "B": 150, "Zenith ZX-9": 100},
        kvp=np.random.default_rng(4).normal(135, 5, 400),
    )
    result = analyse_window(window, _baseline(), AlertThresholds())
    assert result.attributes["manufacturer"].new_levels == ("Zenith ZX-9",)
    kinds = {(alert.kind, alert.subject) for alert in result.alerts}
    assert ("new_level", "manufacturer") in kinds
    assert ("score_drift", "psi") in kinds
    assert ("score_drift", "score") in kinds
    assert ("positive_rate", "positive_rate") in kinds
    assert ("input_drift", "kvp") in kinds
    message = next(a.message for a in result.alerts if a.kind == "new_level")
    assert "'Zenith ZX-9'" in message
    assert "never seen in validation" in message


@pytest.mark.req("DXV-MON-005")
def test_small_window_applies_only_the_new_level_rule() -> None:
    scores = np.random.default_rng(5).beta(5.0, 2.0, 40)
    window = _window(
        scores, manufacturers={"A": 30, "C": 10}, kvp=np.random.default_rng(6).normal(150, 5, 40)
    )
    result = analyse_window(window, _baseline(), AlertThresholds(min_window_n=100))
    assert not result.drift_rules_applied
    assert [alert.kind for alert in result.alerts] == ["new_level"]
    switched_off = AlertThresholds(min_window_n=100, new_levels=False)
    assert analyse_window(window, _baseline(), switched_off).alerts == ()


@pytest.mark.req("DXV-MON-004")
def test_performance_against_validated_interval_and_criteria_on_the_window() -> None:
    rng = np.random.default_rng(8)
    truth = np.full(400, -1, dtype=np.int8)
    truth[:200] = (np.arange(200) % 2).astype(np.int8)  # 100 positives, 100 negatives
    scores = np.random.default_rng(1).beta(2.0, 5.0, 400)
    # positives mostly called negative: sensitivity far below the validated 0.8
    scores[:200] = np.where(truth[:200] == 1, rng.uniform(0.0, 0.45, 200), rng.uniform(0, 0.3, 200))
    window = _window(
        scores, manufacturers={"A": 200, "B": 200}, kvp=rng.normal(120, 5, 400), truth=truth
    )
    result = analyse_window(window, _baseline(), AlertThresholds(criteria=True))
    sensitivity = result.performance["sensitivity"]
    assert sensitivity.n == 100
    assert sensitivity.high is not None
    assert sensitivity.high < 0.8
    assert (result.adjudicated, result.positives, result.negatives) == (200, 100, 100)
    kinds = {(alert.kind, alert.subject) for alert in result.alerts}
    assert ("performance", "sensitivity") in kinds
    assert result.requirements[0].verdict.value == "fail"
    assert ("criterion", "PERF-001") in kinds
    # too few positives: the performance rule is not applied
    few = truth.copy()
    few[few == 1] = -1
    few[0] = 1
    window = _window(scores, manufacturers={"A": 200, "B": 200}, kvp=rng.normal(120, 5, 400),
                     truth=few)  # fmt: skip
    quiet = analyse_window(window, _baseline(), AlertThresholds())
    assert not [a for a in quiet.alerts if a.kind == "performance" and a.subject == "sensitivity"]
