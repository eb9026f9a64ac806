"""The metric engine's shortcuts give the estimates of computing each population afresh (issue 18).

DXV-FASTVAL-002. The engine sorts all cases once and picks each
population's classes out of that order, reuses the estimates of a
population with exactly the same cases (the one site of a one-site
protocol), and computes only the requested metric for a criterion at its
own level. The reference below switches the three off: every population
computed on its own, with its own sorts, every metric at every level, which
is what the engine did before. Estimates, calibration records and the order
in which the calibration record is kept must be equal, not close.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dxval.analysis import CaseTable, MetricEngine, StatisticsSettings
from dxval.analysis.populations import AttributeSpec, Population, build_populations
from dxval.stats._resampling import sorted_classes
from dxval.stats.vocabulary import CALIBRATION_METRICS


class _Reference(MetricEngine):
    """The engine without its shortcuts: no shared sort, no same-case reuse, no single metric."""

    def _same_cases(self, population: Population) -> str | None:
        return None

    def _sorted_classes(
        self, selected: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:  # the two plain sorts of the subset
        return sorted_classes(self.table.truth[selected], self.table.scores[selected])

    def estimate(
        self,
        population: Population,
        metric: str,
        *,
        handling: str,
        confidence_level: float | None = None,
    ) -> object:
        return self.metrics(population, handling=handling, confidence_level=confidence_level)[
            metric
        ]


def _table(size: int, seed: int) -> CaseTable:
    generator = np.random.default_rng(seed)
    truth = generator.random(size) < 0.35
    scores = np.round(1 / (1 + np.exp(-(generator.normal(size=size) + 1.1 * truth))), 2)
    scores[generator.random(size) < 0.02] = -0.0  # signed zeros tie with zeros
    scores[generator.random(size) < 0.02] = 0.0
    evaluable = generator.random(size) > 0.05
    scores[~evaluable] = np.nan
    return CaseTable(
        case_ids=np.array([f"c{index}" for index in range(size)]),
        sites=np.full(size, "Site A"),
        test_sets=np.full(size, "ts"),
        truth=truth,
        scores=scores,
        evaluable=evaluable,
        levels={
            "grade": generator.choice(["1", "2", "3"], size),
            "sex": np.where(generator.random(size) < 0.5, "F", "M"),
        },
        operating_point=0.5,
    )


def _populations(table: CaseTable) -> list[Population]:
    index = build_populations(
        table.sites,
        table.test_sets,
        table.levels,
        site_order=["Site A"],
        test_set_order=["ts"],
        attributes=[AttributeSpec("grade", "Grade"), AttributeSpec("sex", "Sex")],
    )
    return list(index.by_key.values())


@pytest.mark.req("DXV-FASTVAL-002")
@pytest.mark.parametrize("calibration_bins", [None, 10])
def test_engine_estimates_equal_a_fresh_computation_per_population(
    calibration_bins: int | None,
) -> None:
    table = _table(3000, seed=5)
    populations = _populations(table)
    assert len({int(p.mask.sum()) for p in populations}) < len(populations)  # a same-case pair
    settings = StatisticsSettings(0.5, calibration_bins=calibration_bins)
    engine, reference = MetricEngine(table, settings), _Reference(table, settings)
    # A criterion's own level first (as evaluate_requirements does), then the documents.
    asked = [("auc", 0.9), ("sensitivity", 0.9833), ("average_precision", 0.9), ("ece", 0.8)]
    for population in populations:
        for metric, level in asked:
            for handling in ("exclude", "as_negative"):
                if handling != "exclude" and metric not in ("sensitivity",):
                    continue
                assert engine.estimate(
                    population, metric, handling=handling, confidence_level=level
                ) == reference.estimate(
                    population, metric, handling=handling, confidence_level=level
                )
    for population in populations:
        for handling in ("exclude", "as_negative", "as_positive"):
            mine = engine.metrics(population, handling=handling)
            theirs = reference.metrics(population, handling=handling)
            assert mine == theirs, (population.key, handling)
        assert engine.calibration_record(population) == reference.calibration_record(population)
        if calibration_bins is not None:  # the record is the first level's, as before
            record = engine.calibration_record(population)
            assert record is not None
            assert record == reference.calibration_record(population)
    assert set(CALIBRATION_METRICS) <= set(engine.metrics(populations[0]))


@pytest.mark.req("DXV-FASTVAL-002")
def test_sorted_once_equals_two_sorts_per_population() -> None:
    table = _table(2000, seed=11)
    engine = MetricEngine(table, StatisticsSettings(0.5))
    for population in _populations(table):
        selected = population.mask & table.evaluable
        positive, negative = engine._sorted_classes(selected)
        expected = sorted_classes(table.truth[selected], table.scores[selected])
        assert positive.tolist() == expected[0].tolist()
        assert negative.tolist() == expected[1].tolist()


@pytest.mark.req("DXV-FASTVAL-002")
def test_a_same_case_population_is_computed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    table = _table(500, seed=2)
    populations = {p.key: p for p in _populations(table)}
    settings = StatisticsSettings(0.5, calibration_bins=10)
    engine = MetricEngine(table, settings)
    computed = []
    original = MetricEngine._compute

    def counted(self: MetricEngine, population: Population, handling: str, level: float) -> object:
        computed.append(population.key)
        return original(self, population, handling, level)

    monkeypatch.setattr(MetricEngine, "_compute", counted)
    everyone = populations["all"]
    twin = dataclasses.replace(everyone, key="site:Site A", label="Site A")
    first = engine.metrics(everyone)
    assert engine.metrics(twin) == first
    assert computed == ["all"]
    record = _Reference(table, settings).calibration_record(twin)
    assert record is not None
    assert engine.calibration_record(twin) == record  # kept for the twin as computing would
