"""The bundle's cases as columns, for the report views that count or plot them (issue 18).

The views used to walk ``bundle.cases`` (one object per case) several times
per attribute; at a million cases each walk costs about a second. They now
read these columns, built in one pass and kept for the bundle last asked
about, and count with NumPy. Only the few non-scored cases are looked up as
objects again (the flow diagram and reason table list them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dxval.evidence.format import BundleData, CaseLine


@dataclass(frozen=True, slots=True, eq=False)
class CaseColumns:
    """Per-case columns of ``cases.csv``, shape (n_cases,) each."""

    sites: npt.NDArray[np.str_]
    truth: npt.NDArray[np.bool_]
    scores: npt.NDArray[np.float64]  # NaN where the case has no score
    scored: npt.NDArray[np.bool_]  # status == "scored"
    levels: dict[str, npt.NDArray[np.str_]]

    @property
    def size(self) -> int:
        """Number of cases."""
        return int(self.truth.shape[0])


def _build(cases: Sequence[CaseLine], attributes: Sequence[str]) -> CaseColumns:
    count = len(cases)
    scores = np.fromiter(
        (np.nan if case.score is None else case.score for case in cases), np.float64, count
    )
    return CaseColumns(
        sites=np.array([case.site for case in cases], dtype=np.str_),
        truth=np.fromiter((case.truth for case in cases), bool, count),
        scores=scores,
        scored=np.fromiter((case.status == "scored" for case in cases), bool, count),
        levels={
            name: np.array([case.levels[name] for case in cases], dtype=np.str_)
            for name in attributes
        },
    )


_LAST: list[tuple[BundleData, CaseColumns]] = []


def case_columns(bundle: BundleData) -> CaseColumns:
    """The columns of ``bundle.cases`` (built once per bundle; the last bundle is kept)."""
    if _LAST and _LAST[0][0] is bundle:
        return _LAST[0][1]
    columns = _build(bundle.cases, bundle.attributes)
    _LAST[:] = [(bundle, columns)]
    return columns


def pair_counts(
    first: npt.NDArray[np.str_], second: npt.NDArray[np.str_]
) -> dict[tuple[str, str], int]:
    """Cases per (first, second) value pair present, counted with one ``bincount``."""
    first_values, first_codes = np.unique(first, return_inverse=True)
    second_values, second_codes = np.unique(second, return_inverse=True)
    width = max(int(second_values.shape[0]), 1)
    counts = np.bincount(
        first_codes.reshape(-1) * width + second_codes.reshape(-1),
        minlength=int(first_values.shape[0]) * width,
    )
    return {
        (str(first_values[code // width]), str(second_values[code % width])): int(counts[code])
        for code in np.flatnonzero(counts).tolist()
    }


def not_scored(bundle: BundleData) -> list[CaseLine]:
    """The cases whose status is not ``scored``, in file order."""
    columns = case_columns(bundle)
    return [bundle.cases[index] for index in np.flatnonzero(~columns.scored).tolist()]
