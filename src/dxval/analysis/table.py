"""The case table: one row per case as numpy arrays, the input of every analysis.

A non-evaluable case (unreadable, failed QC, no score) stays in the table
with ``evaluable`` False; its score slot holds NaN internally and never
reaches a result (results use ``evaluable`` to select or to impute a
decision, see :mod:`dxval.analysis.metrics`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """One case as the analysis sees it: identity, truth, score (None if non-evaluable), levels."""

    case_id: str
    site: str
    test_set: str
    truth: bool
    score: float | None
    levels: Mapping[str, str]


@dataclass(frozen=True, slots=True, eq=False)
class CaseTable:
    """Column arrays of all cases, shape (n_cases,) each."""

    case_ids: npt.NDArray[np.str_]
    sites: npt.NDArray[np.str_]
    test_sets: npt.NDArray[np.str_]
    truth: npt.NDArray[np.bool_]
    scores: npt.NDArray[np.float64]
    evaluable: npt.NDArray[np.bool_]
    levels: Mapping[str, npt.NDArray[np.str_]]
    operating_point: float

    @classmethod
    def from_records(
        cls, records: Sequence[CaseRecord], *, operating_point: float, attributes: Sequence[str]
    ) -> CaseTable:
        """Build the table from records; ``attributes`` names the level columns kept."""
        scores = np.array(
            [np.nan if record.score is None else record.score for record in records],
            dtype=np.float64,
        )
        return cls(
            case_ids=np.array([record.case_id for record in records], dtype=np.str_),
            sites=np.array([record.site for record in records], dtype=np.str_),
            test_sets=np.array([record.test_set for record in records], dtype=np.str_),
            truth=np.array([record.truth for record in records], dtype=bool),
            scores=scores,
            evaluable=np.array([record.score is not None for record in records], dtype=bool),
            levels={
                name: np.array([record.levels[name] for record in records], dtype=np.str_)
                for name in attributes
            },
            operating_point=float(operating_point),
        )

    @property
    def size(self) -> int:
        """Number of cases."""
        return int(self.truth.shape[0])

    def called_positive(self) -> npt.NDArray[np.bool_]:
        """Decision per case: score ≥ operating point (False for non-evaluable cases)."""
        called = np.zeros(self.size, dtype=bool)
        called[self.evaluable] = self.scores[self.evaluable] >= self.operating_point
        return called
