"""The bundle's cases as columns, for the report views that count or plot them (issue 18).

``bundle.cases`` is read from ``cases.csv`` as columns
(:class:`dxval.evidence.format.CaseColumnsFile`, no per-case object); these
are the views' NumPy arrays built from it once per bundle (the last bundle
asked about is kept). Only the few non-scored cases are looked up as
:class:`~dxval.evidence.format.CaseLine` rows (the flow diagram and reason
table list them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dxval.evidence.format import BundleData, CaseColumnsFile, CaseLine


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


def _build(cases: CaseColumnsFile) -> CaseColumns:
    scored = np.ones(len(cases), bool)
    scored[cases.where_status_is_not("scored")] = False
    return CaseColumns(
        sites=cases.text["site"].text(),
        truth=cases.truth,
        scores=np.where(cases.has_score, cases.scores, np.nan),
        scored=scored,
        levels={name: cases.levels[name].text() for name in cases.attributes},
    )


_LAST: list[tuple[BundleData, CaseColumns]] = []


def case_columns(bundle: BundleData) -> CaseColumns:
    """The columns of ``bundle.cases`` (built once per bundle; the last bundle is kept)."""
    if _LAST and _LAST[0][0] is bundle:
        return _LAST[0][1]
    columns = _build(bundle.cases)
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
    return [bundle.cases[index] for index in bundle.cases.where_status_is_not("scored").tolist()]
