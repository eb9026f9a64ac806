"""Paired analysis of a candidate against a reference on the same cases.

One implementation serves every "candidate − reference" question dxval
asks: a new model version against the released one (protocol
``comparators:``, issue 13), a model on perturbed inputs against the same
model on the originals (``against: unperturbed``, issue 19) and two runtimes
of one model (``dxval concordance``). :func:`compare_paired` computes every
paired statistic on plain arrays; :class:`PairedScores` holds the two score
columns aligned with a :class:`~dxval.analysis.table.CaseTable` and answers
difference criteria per population.

Criteria reach a reference through :class:`PairedReference`: anything with a
``difference(population, metric, confidence_level=...)`` method. The
criteria evaluator takes a mapping ``{reference id: PairedReference}``
(:func:`dxval.analysis.criteria.evaluate_requirements`), so a second kind of
reference plugs in by adding an entry, without touching the evaluator.

Every difference is candidate − reference. A case counts only when both
members of the pair were scored (a paired statistic needs both).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from dxval.analysis.populations import Population
from dxval.analysis.table import CaseTable
from dxval.stats import AucComparison, Estimate, TestResult, delong_paired_test, mcnemar_test
from dxval.stats.paired import paired_difference
from dxval.stats.paired_score import DecisionFlips, decision_flips, tango_difference
from dxval.stats.vocabulary import DIFFERENCE_METRICS

__all__ = [
    "PairedComparison",
    "PairedReference",
    "PairedScores",
    "ProportionDifference",
    "compare_paired",
]


class PairedReference(Protocol):
    """A reference that difference criteria (``against: <id>``) compare the candidate with."""

    def difference(
        self, population: Population, metric: str, *, confidence_level: float
    ) -> Estimate:
        """Candidate − reference of ``metric`` (one of DIFFERENCE_METRICS) on ``population``."""
        ...


@dataclass(frozen=True, slots=True)
class ProportionDifference:
    """A paired difference of proportions with both score intervals and McNemar's tests."""

    candidate: float | None
    reference: float | None
    newcombe: Estimate
    tango: Estimate
    mcnemar_exact: TestResult
    mcnemar_asymptotic: TestResult

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "candidate": self.candidate,
            "reference": self.reference,
            "newcombe": self.newcombe.to_dict(),
            "tango": self.tango.to_dict(),
            "mcnemar_exact": self.mcnemar_exact.to_dict(),
            "mcnemar_asymptotic": self.mcnemar_asymptotic.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class PairedComparison:
    """Every paired statistic of candidate − reference on one set of cases."""

    n: int
    positives: int
    negatives: int
    confidence_level: float
    auc: AucComparison
    sensitivity: ProportionDifference
    specificity: ProportionDifference
    flips: DecisionFlips

    def estimate(self, metric: str) -> Estimate:
        """The difference a criterion on ``metric`` compares (Newcombe for proportions)."""
        estimates = {
            "auc_difference": self.auc.difference,
            "sensitivity_difference": self.sensitivity.newcombe,
            "specificity_difference": self.specificity.newcombe,
            "flip_fraction": self.flips.fraction,
        }
        return estimates[metric]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "n": self.n,
            "positives": self.positives,
            "negatives": self.negatives,
            "confidence_level": self.confidence_level,
            "auc": self.auc.to_dict(),
            "sensitivity": self.sensitivity.to_dict(),
            "specificity": self.specificity.to_dict(),
            "flips": self.flips.to_dict(),
        }


def _proportion(
    candidate_correct: npt.NDArray[np.bool_],
    reference_correct: npt.NDArray[np.bool_],
    confidence_level: float,
) -> ProportionDifference:
    size = candidate_correct.shape[0]
    return ProportionDifference(
        candidate=float(candidate_correct.mean()) if size else None,
        reference=float(reference_correct.mean()) if size else None,
        newcombe=paired_difference(
            candidate_correct, reference_correct, confidence_level=confidence_level
        ),
        tango=tango_difference(
            candidate_correct, reference_correct, confidence_level=confidence_level
        ),
        mcnemar_exact=mcnemar_test(
            candidate_correct, reference_correct, method="exact", confidence_level=confidence_level
        ),
        mcnemar_asymptotic=mcnemar_test(
            candidate_correct,
            reference_correct,
            method="asymptotic",
            confidence_level=confidence_level,
        ),
    )


def compare_paired(
    truth: npt.ArrayLike,
    candidate: npt.ArrayLike,
    reference: npt.ArrayLike,
    *,
    candidate_threshold: float,
    reference_threshold: float,
    confidence_level: float,
) -> PairedComparison:
    """All paired statistics of candidate − reference on the same cases.

    ΔAUC by DeLong's paired test (pROC ``roc.test(paired = TRUE)``), the
    sensitivity and specificity differences with Newcombe's (method 10) and
    Tango's score intervals and McNemar's exact and asymptotic tests, and the
    decision flips at each model's own threshold (positive ⇔ score ≥ threshold).

    Parameters
    ----------
    truth
        shape (n,) booleans.
    candidate, reference
        shape (n,) finite scores of the same cases.
    candidate_threshold, reference_threshold
        each model's frozen operating point.
    confidence_level
        two-sided level of every interval.

    Raises
    ------
    ValueError
        malformed inputs.
    """
    truth_array = np.asarray(truth, dtype=bool)
    first = np.asarray(candidate, dtype=np.float64)
    second = np.asarray(reference, dtype=np.float64)
    first_correct = (first >= candidate_threshold) == truth_array
    second_correct = (second >= reference_threshold) == truth_array
    return PairedComparison(
        n=int(truth_array.shape[0]),
        positives=int(truth_array.sum()),
        negatives=int((~truth_array).sum()),
        confidence_level=confidence_level,
        auc=delong_paired_test(truth_array, first, second, confidence_level=confidence_level),
        sensitivity=_proportion(
            first_correct[truth_array], second_correct[truth_array], confidence_level
        ),
        specificity=_proportion(
            first_correct[~truth_array], second_correct[~truth_array], confidence_level
        ),
        flips=decision_flips(
            first,
            second,
            threshold1=candidate_threshold,
            threshold2=reference_threshold,
            confidence_level=confidence_level,
        ),
    )


@dataclass(frozen=True, slots=True)
class PairedScores:
    """Candidate and reference scores aligned with a case table (NaN = not scored).

    ``truth``, ``candidate`` and ``reference`` have shape (n_cases,) in the
    order of the :class:`CaseTable` whose populations are passed in, so a
    population's ``mask`` selects the same cases in all three.
    """

    label: str
    truth: npt.NDArray[np.bool_]
    candidate: npt.NDArray[np.float64]
    reference: npt.NDArray[np.float64]
    candidate_threshold: float
    reference_threshold: float

    @classmethod
    def from_table(
        cls,
        table: CaseTable,
        reference: npt.ArrayLike,
        *,
        reference_threshold: float,
        label: str,
    ) -> PairedScores:
        """The candidate's scores from ``table`` against ``reference`` (table order)."""
        scores = np.asarray(reference, dtype=np.float64)
        if scores.shape != table.scores.shape:
            raise ValueError(
                f"{label}: expected {table.size} reference scores, got {scores.shape[0]}"
            )
        return cls(
            label,
            table.truth,
            table.scores,
            scores,
            table.operating_point,
            float(reference_threshold),
        )

    def paired_mask(self, population: Population) -> npt.NDArray[np.bool_]:
        """Cases of ``population`` scored by both candidate and reference."""
        both = np.isfinite(self.candidate) & np.isfinite(self.reference)
        return np.asarray(population.mask & both, dtype=bool)

    def compare(self, population: Population, *, confidence_level: float) -> PairedComparison:
        """Every paired statistic on the cases of ``population`` scored by both."""
        mask = self.paired_mask(population)
        return compare_paired(
            self.truth[mask],
            self.candidate[mask],
            self.reference[mask],
            candidate_threshold=self.candidate_threshold,
            reference_threshold=self.reference_threshold,
            confidence_level=confidence_level,
        )

    def difference(
        self, population: Population, metric: str, *, confidence_level: float
    ) -> Estimate:
        """Candidate − reference of ``metric`` on ``population`` (see :class:`PairedReference`).

        Raises
        ------
        ValueError
            ``metric`` is not one of DIFFERENCE_METRICS.
        """
        if metric not in DIFFERENCE_METRICS:
            raise ValueError(f"metric: got {metric!r}, expected one of {DIFFERENCE_METRICS}")
        return self.compare(population, confidence_level=confidence_level).estimate(metric)
