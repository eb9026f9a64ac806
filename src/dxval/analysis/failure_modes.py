"""Failure-mode analysis: where the errors concentrate, which cases, what the scores look like.

For each site and each attribute level, the false-negative rate among its
positive cases and the false-positive rate among its negative cases are
compared with the overall rates: a confidence interval of the group's rate
(the protocol's proportion method) and Fisher's exact test of the group
against the rest (two-sided; p-values also adjusted across the groups of
each error type by the protocol's multiplicity method). A group whose table
against the rest has an empty row or column (no case in the group or in the
rest, no error or nothing but errors) has an undefined test: status
``undefined`` with the reason, no p-value, and it is left out of the family
the p-values are adjusted over, so the family size K is the number of
defined tests (recorded per error type). Non-evaluable cases
are left out here; they are counted in the metrics. The most confident
errors (false negatives with the lowest scores, false positives with the
highest) are listed by case ID, and the score distribution is summarised by
site and truth (quartiles by linear interpolation, R's type 7).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from dxval.analysis.metrics import StatisticsSettings
from dxval.analysis.populations import Population
from dxval.analysis.table import CaseTable
from dxval.stats import adjust_p_values, fisher_exact_test, proportion_ci

_ERROR_TYPES = (
    # name, the truth class it is a rate of, the decision that is an error
    ("false_negative", True, False),
    ("false_positive", False, True),
)


def _rate(errors: int, total: int, settings: StatisticsSettings) -> dict[str, Any]:
    return proportion_ci(
        errors,
        total,
        confidence_level=settings.confidence_level,
        method=settings.proportion_method,
    ).to_dict()


def _group_rows(
    table: CaseTable,
    groups: Sequence[Population],
    error_mask: npt.NDArray[np.bool_],
    class_mask: npt.NDArray[np.bool_],
    settings: StatisticsSettings,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Each group's rate and test against the rest, and the multiplicity family they form."""
    rows: list[dict[str, Any]] = []
    for group in groups:
        inside = group.mask & class_mask
        a = int((inside & error_mask).sum())
        b = int(inside.sum()) - a
        outside = ~group.mask & class_mask
        c = int((outside & error_mask).sum())
        d = int(outside.sum()) - c
        test = fisher_exact_test(a, b, c, d, confidence_level=settings.confidence_level)
        rows.append(
            {
                "population": group.key,
                "label": group.label,
                "errors": a,
                "cases": a + b,
                "rate": _rate(a, a + b, settings),
                "fisher_exact": test.to_dict(),
            }
        )
    # Only defined tests form the family: an undefined one tests nothing, and
    # counting it in K would make every other adjusted p-value more conservative.
    defined = [index for index, row in enumerate(rows) if row["fisher_exact"]["status"] == "ok"]
    adjusted = adjust_p_values(
        [rows[index]["fisher_exact"]["p_value"] for index in defined],
        method=settings.multiplicity,
    )
    for row in rows:
        row["p_value_adjusted"] = None
    for position, index in enumerate(defined):
        rows[index]["p_value_adjusted"] = float(adjusted[position])
    family = {
        "method": settings.multiplicity,
        "family_size": len(defined),
        "undefined_tests": len(rows) - len(defined),
    }
    return rows, family


def _most_confident(
    table: CaseTable, error_mask: npt.NDArray[np.bool_], *, lowest_first: bool, limit: int
) -> list[dict[str, Any]]:
    indices = np.flatnonzero(error_mask)
    keys = table.scores[indices] if lowest_first else -table.scores[indices]
    if 0 < limit < indices.shape[0]:  # only the cases tied with or beyond the limit-th key
        cutoff = np.partition(keys, limit - 1)[limit - 1]
        indices, keys = indices[keys <= cutoff], keys[keys <= cutoff]
    order = indices[np.lexsort((table.case_ids[indices], keys))][:limit]
    return [
        {
            "case_id": str(table.case_ids[i]),
            "site": str(table.sites[i]),
            "test_set": str(table.test_sets[i]),
            "score": float(table.scores[i]),
        }
        for i in order
    ]


def _summary(values: npt.NDArray[np.float64]) -> dict[str, Any]:
    if values.size == 0:
        return {
            "n": 0,
            "min": None,
            "q1": None,
            "median": None,
            "q3": None,
            "max": None,
            "mean": None,
        }
    q1, median, q3 = (float(q) for q in np.quantile(values, [0.25, 0.5, 0.75]))
    return {
        "n": int(values.size),
        "min": float(values.min()),
        "q1": q1,
        "median": median,
        "q3": q3,
        "max": float(values.max()),
        "mean": float(values.mean()),
    }


def score_distributions(table: CaseTable, sites: Sequence[Population]) -> list[dict[str, Any]]:
    """Score summaries of evaluable cases by site (and overall) and truth class."""
    rows = []
    for label, key, mask in [("All cases", "all", np.ones(table.size, dtype=bool))] + [
        (site.label, site.key, site.mask) for site in sites
    ]:
        for truth in (True, False):
            selected = mask & table.evaluable & (table.truth == truth)
            rows.append(
                {
                    "population": key,
                    "label": label,
                    "truth": "positive" if truth else "negative",
                    **_summary(table.scores[selected]),
                }
            )
    return rows


def failure_modes(
    table: CaseTable,
    groups: Sequence[Population],
    sites: Sequence[Population],
    settings: StatisticsSettings,
) -> dict[str, Any]:
    """The failure-mode section of ``metrics.json``.

    Parameters
    ----------
    table:
        All cases.
    groups:
        The populations compared with the rest (each site and attribute level).
    sites:
        The site populations, for score distributions.
    settings:
        Confidence level, proportion method, multiplicity method, list length.
    """
    called = table.called_positive()
    result: dict[str, Any] = {
        "method": "rate with the protocol's proportion CI; Fisher's exact test of the group "
        "against the rest (two-sided), p-values adjusted across the groups whose test is "
        "defined (a group whose table against the rest has an empty row or column has an "
        "undefined test and is left out of the family); evaluable cases only",
    }
    for name, truth_class, wrong_call in _ERROR_TYPES:
        class_mask = table.evaluable & (table.truth == truth_class)
        error_mask = class_mask & (called == wrong_call)
        rows, family = _group_rows(table, groups, error_mask, class_mask, settings)
        result[name] = {
            "overall": {
                "errors": int(error_mask.sum()),
                "cases": int(class_mask.sum()),
                "rate": _rate(int(error_mask.sum()), int(class_mask.sum()), settings),
            },
            "groups": rows,
            "multiplicity": family,
            "most_confident": _most_confident(
                table,
                error_mask,
                lowest_first=truth_class,
                limit=settings.most_confident_errors,
            ),
        }
    result["score_distributions"] = score_distributions(table, sites)
    return result
