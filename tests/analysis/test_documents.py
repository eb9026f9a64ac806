"""The whole analysis: JSON-safe, deterministic metrics.json and criteria.json documents."""

from __future__ import annotations

import json

from dxval.analysis import (
    CaseTable,
    CriterionSpec,
    PopulationIndex,
    PopulationSpec,
    RequirementSpec,
    StatisticsSettings,
    analyse,
)

REQUIREMENTS = [
    RequirementSpec("PERF-001", "AUC", (CriterionSpec("auc", PopulationSpec("all"), ">=", 0.7),)),
    RequirementSpec(
        "PERF-002",
        "Sensitivity lower bound",
        (CriterionSpec("sensitivity", PopulationSpec("all"), ">=", 0.6, bound="lower"),),
    ),
]


def _run(
    table: CaseTable, populations: PopulationIndex, settings: StatisticsSettings
) -> tuple[bytes, bytes]:
    result = analyse(table, populations, REQUIREMENTS, settings=settings, header={"id": "X"})
    encode = lambda document: json.dumps(document, allow_nan=False, indent=2).encode()  # noqa: E731
    assert result.summary.total == 2
    assert (result.summary.passed, result.summary.failed) == (1, 1)
    assert not result.summary.all_met
    return encode(result.metrics_document), encode(result.criteria_document)


def test_documents_are_json_safe_and_deterministic(
    table: CaseTable, populations: PopulationIndex, settings: StatisticsSettings
) -> None:
    first = _run(table, populations, settings)
    second = _run(table, populations, settings)
    assert first == second
    metrics = json.loads(first[0])
    assert metrics["schema"] == "dxval-metrics/1"
    assert metrics["cases"] == {"total": 113, "evaluable": 113, "non_evaluable": 0}
    keys = [population["key"] for population in metrics["populations"]]
    assert keys[:3] == ["all", "site=Site F", "site=Site M"]
    overall = metrics["populations"][0]
    assert overall["non_evaluable_imputed"]["as_negative"]["sensitivity"]["numerator"] == 26
    assert set(metrics["failure_modes"]) >= {
        "false_negative",
        "false_positive",
        "score_distributions",
    }
    criteria = json.loads(first[1])
    assert criteria["summary"] == {
        "total": 2,
        "passed": 1,
        "failed": 1,
        "undefined": 0,
        "all_met": False,
    }
    assert [requirement["verdict"] for requirement in criteria["requirements"]] == ["pass", "fail"]
