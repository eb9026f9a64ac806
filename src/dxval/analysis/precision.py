"""Precision (repeatability / reproducibility) of the scores over repeated acquisitions (issue 19).

The manifest's ``repeat_group`` column (protocol ``precision:``) marks cases
that are repeated acquisitions of the same patient or lesion. Groups are read
in manifest order: the j-th scored case of a group is its j-th repeat. The
ratings matrix holds the groups with exactly k scored repeats, k the most
common group size (ties: the larger k, more repeats per group); groups of
other sizes are counted as excluded, never silently dropped. On that matrix:

* within-group SD of the scores, sqrt(WMS) with a chi-square interval (Bland &
  Altman 1996), :func:`dxval.stats.agreement.within_subject_sd`;
* ICC(1,1), ICC(2,1) and ICC(3,1) with their F intervals (Shrout & Fleiss
  1979; equal to R ``psych::ICC``), :func:`dxval.stats.agreement.icc`;
* Bland–Altman mean difference and limits of agreement when k = 2 (second −
  first acquisition);
* decision agreement at the operating point (positive ⇔ score ≥ threshold):
  the fraction of groups whose decisions all agree (protocol proportion
  interval) and Fleiss' kappa (subject-bootstrap interval, seeded).

When the groups span several sites, the same numbers show reproducibility
across sites rather than repeatability within one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from dxval.analysis.metrics import StatisticsSettings
from dxval.analysis.table import CaseTable
from dxval.stats import Estimate, ProportionMethod
from dxval.stats.agreement import (
    all_agree_fraction,
    bland_altman,
    fleiss_kappa,
    icc,
    within_subject_sd,
)
from dxval.stats.wording import plural

__all__ = ["PrecisionResult", "analyse_precision"]


@dataclass(frozen=True, slots=True)
class PrecisionResult:
    """The precision estimates by metric name and the ``metrics.json`` record."""

    estimates: Mapping[str, Estimate]
    document: dict[str, Any]


def _groups(table: CaseTable, groups: Mapping[str, str]) -> dict[str, list[int]]:
    """Group label → row indices of its scored cases, in table (manifest) order."""
    members: dict[str, list[int]] = {}
    for index, case_id in enumerate(table.case_ids.tolist()):
        label = groups.get(case_id, "")
        if label and table.evaluable[index]:
            members.setdefault(label, []).append(index)
    return members


def _repeats(members: Mapping[str, list[int]]) -> int | None:
    sizes = Counter(len(rows) for rows in members.values() if len(rows) >= 2)
    if not sizes:
        return None
    return max(sizes, key=lambda size: (sizes[size], size))


def _safe(
    compute: Callable[[], Estimate], name: str, *, level: float, n: int, method: str
) -> Estimate:
    try:
        return compute()
    except ValueError as error:
        return Estimate.undefined(f"{name}: {error}", confidence_level=level, method=method, n=n)


def analyse_precision(
    table: CaseTable,
    groups: Mapping[str, str],
    settings: StatisticsSettings,
    *,
    column: str,
) -> PrecisionResult:
    """Every precision statistic of the repeat groups (see the module docstring).

    Parameters
    ----------
    table:
        All cases (scores, evaluable flags, case IDs in manifest order).
    groups:
        Case ID → repeat-group label; an empty label means "not repeated".
    settings:
        Confidence level, proportion interval, operating point, bootstrap seed.
    column:
        The manifest column the groups came from (recorded).
    """
    level = settings.confidence_level
    members = _groups(table, groups)
    repeats = _repeats(members)
    complete = [rows for rows in members.values() if repeats and len(rows) == repeats]
    n = len(complete)
    matrix: npt.NDArray[np.float64] = (
        table.scores[np.array(complete, dtype=np.intp)] if complete else np.zeros((0, 2))
    )
    decisions = matrix >= settings.operating_point
    undefined_reason = f"{plural(n, 'complete repeat group')}, expected at least 2"

    def guarded(name: str, method: str, compute: Callable[[], Estimate]) -> Estimate:
        if n < 2:
            return Estimate.undefined(undefined_reason, confidence_level=level, method=method, n=n)
        return _safe(compute, name, level=level, n=n, method=method)

    iccs, icc_reason = None, undefined_reason
    if n >= 2:
        try:
            iccs = icc(matrix, confidence_level=level)
        except ValueError as error:
            icc_reason = f"ICC: {error}"

    def icc_estimate(key: str) -> Estimate:
        if iccs is None:
            return Estimate.undefined(
                icc_reason, confidence_level=level, method="ICC (Shrout & Fleiss 1979)", n=n
            )
        estimate: Estimate = getattr(iccs, key)
        return estimate

    estimates = {
        "within_group_sd": guarded(
            "within_group_sd",
            "within-subject SD sqrt(WMS), chi-square interval",
            lambda: within_subject_sd(matrix, confidence_level=level),
        ),
        **{key: icc_estimate(key) for key in ("icc1_1", "icc2_1", "icc3_1")},
        "all_agree_fraction": guarded(
            "all_agree_fraction",
            "fraction of groups whose decisions all agree",
            lambda: all_agree_fraction(
                decisions,
                confidence_level=level,
                method=ProportionMethod(settings.proportion_method),
            ),
        ),
        "fleiss_kappa": guarded(
            "fleiss_kappa",
            "Fleiss' kappa, subject bootstrap",
            lambda: fleiss_kappa(
                decisions,
                confidence_level=level,
                replicates=settings.bootstrap_replicates,
                seed=settings.bootstrap_seed,
            ),
        ),
    }
    bland = None
    if repeats == 2 and n >= 2:
        try:
            bland = bland_altman(matrix, confidence_level=level).to_dict()
        except ValueError as error:
            bland = {"status": "undefined", "reason": str(error)}
    document = {
        "repeat_group": column,
        "groups": len(members),
        "repeats": repeats,
        "complete_groups": n,
        "excluded_groups": sum(1 for rows in members.values() if len(rows) != repeats),
        "cases_in_groups": sum(len(rows) for rows in members.values()),
        "sites": sorted({str(table.sites[row]) for rows in complete for row in rows}),
        "confidence_level": level,
        "operating_point": settings.operating_point,
        "estimates": {name: value.to_dict() for name, value in estimates.items()},
        "bland_altman": bland,
    }
    return PrecisionResult(estimates, document)
