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

from dxval.evidence.format import BundleData, CaseColumnsFile, CaseLine, Categorical


@dataclass(frozen=True, slots=True, eq=False)
class CaseColumns:
    """Per-case columns of ``cases.csv``, shape (n_cases,) each."""

    sites: Categorical  # distinct values and one code per case (no text array per case)
    truth: npt.NDArray[np.bool_]
    scores: npt.NDArray[np.float64]  # NaN where the case has no score
    scored: npt.NDArray[np.bool_]  # status == "scored"
    levels: dict[str, Categorical]

    def at_site(self, site: str) -> npt.NDArray[np.bool_]:
        """Whether each case is from ``site``."""
        if site not in self.sites.values:
            return np.zeros(self.size, bool)
        return self.sites.codes == self.sites.values.index(site)

    @property
    def size(self) -> int:
        """Number of cases."""
        return int(self.truth.shape[0])


def _build(cases: CaseColumnsFile) -> CaseColumns:
    scored = np.ones(len(cases), bool)
    scored[cases.where_status_is_not("scored")] = False
    return CaseColumns(
        sites=cases.text["site"],
        truth=cases.truth,
        scores=np.where(cases.has_score, cases.scores, np.nan),
        scored=scored,
        levels={name: cases.levels[name] for name in cases.attributes},
    )


_LAST: list[tuple[BundleData, CaseColumns]] = []


def case_columns(bundle: BundleData) -> CaseColumns:
    """The columns of ``bundle.cases`` (built once per bundle; the last bundle is kept)."""
    if _LAST and _LAST[0][0] is bundle:
        return _LAST[0][1]
    columns = _build(bundle.cases)
    _LAST[:] = [(bundle, columns)]
    return columns


def forget_case_columns() -> None:
    """Drop the kept bundle and its columns (the report is past its views; issue 18)."""
    _LAST.clear()


def pair_counts(first: Categorical, second: Categorical) -> dict[tuple[str, str], int]:
    """Cases per (first, second) value pair present, counted with one ``bincount``.

    Keys in sorted order of the pairs (as NumPy's sorted ``unique`` gave them).
    """
    width = max(len(second.values), 1)
    counts = np.bincount(
        first.codes.astype(np.int64) * width + second.codes, minlength=len(first.values) * width
    )
    found = {
        (first.values[code // width], second.values[code % width]): int(counts[code])
        for code in np.flatnonzero(counts).tolist()
    }
    return dict(sorted(found.items()))


def present(column: Categorical) -> set[str]:
    """The values at least one case has."""
    return set(column.counts())


def not_scored(bundle: BundleData) -> list[CaseLine]:
    """The cases whose status is not ``scored``, in file order."""
    return [bundle.cases[index] for index in bundle.cases.where_status_is_not("scored").tolist()]
