"""The sample-size stage: required cases from the protocol, compared with the analysed ones.

The required numbers are checked against an independent implementation
written here from the papers with scipy only: the exact Clopper-Pearson
design of Flahault, Cadilhac & Thomas (2005) through beta quantiles, and the
Hanley & McNeil (1982) AUC variance.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from scipy.stats import beta, binom, norm

from dxval.pipeline.sample_size import SAMPLE_SIZE_SCHEMA, sample_size_document


def _independent_clopper_pearson_n(expected: float, goal: float, power: float, alpha: float) -> int:
    """Smallest n whose exact lower bound exceeds ``goal`` with probability >= ``power``."""
    for n in range(1, 5000):
        critical = next(
            (x for x in range(1, n + 1) if beta.ppf(alpha / 2, x, n - x + 1) > goal), None
        )
        if critical is not None and binom.sf(critical - 1, n, expected) >= power:
            return n
    raise AssertionError("no n found")


def _independent_auc_n(auc: float, half_width: float, kappa: float, alpha: float) -> int:
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    z = norm.ppf(1 - alpha / 2)
    for m in range(2, 100000):
        n = math.ceil(m * kappa - 1e-9)
        variance = (auc * (1 - auc) + (m - 1) * (q1 - auc**2) + (n - 1) * (q2 - auc**2)) / (m * n)
        if z * math.sqrt(variance) <= half_width:
            return m
    raise AssertionError("no m found")


def _metrics(positives: int, negatives: int) -> dict[str, Any]:
    return {"populations": [{"key": "all", "positives": positives, "negatives": negatives}]}


VALUES = {
    "sensitivity": {"assumed": 0.9, "lower_limit": 0.75},
    "specificity": {"assumed": 0.92, "lower_limit": 0.85},
    "auc": {"assumed": 0.92, "margin": 0.05, "negatives_per_positive": 2.5},
    "alpha": 0.05,
    "power": 0.8,
    "method": "clopper_pearson",
    "rationale": None,
}


@pytest.mark.req("DXV-RA-002")
def test_required_cases_match_an_independent_implementation() -> None:
    document = sample_size_document(VALUES, _metrics(173, 425))
    assert document is not None
    assert document["schema"] == SAMPLE_SIZE_SCHEMA
    designs = {design["quantity"]: design for design in document["designs"]}
    assert designs["sensitivity"]["required"] == {
        "positives": _independent_clopper_pearson_n(0.9, 0.75, 0.8, 0.05)
    }
    assert designs["specificity"]["required"] == {
        "negatives": _independent_clopper_pearson_n(0.92, 0.85, 0.8, 0.05)
    }
    m = _independent_auc_n(0.92, 0.05, 2.5, 0.05)
    assert designs["auc"]["required"] == {"positives": m, "negatives": math.ceil(m * 2.5)}
    assert document["met"] is True


@pytest.mark.req("DXV-RA-002")
def test_a_short_test_set_does_not_meet_the_design() -> None:
    required = _independent_clopper_pearson_n(0.9, 0.75, 0.8, 0.05)
    document = sample_size_document(VALUES, _metrics(required - 1, 425))
    assert document is not None
    designs = {design["quantity"]: design for design in document["designs"]}
    assert designs["sensitivity"]["met"] is False
    assert designs["sensitivity"]["observed"] == {"positives": required - 1}
    assert designs["specificity"]["met"] is True
    assert document["met"] is False


def test_no_plan_no_document() -> None:
    assert sample_size_document(None, _metrics(1, 1)) is None
