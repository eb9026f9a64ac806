"""Every applicable metric of :mod:`dxval.stats` for a population, with the protocol's methods.

Decision metrics (sensitivity … NPV at prevalence) come from
:func:`dxval.stats.binary_metrics` at the frozen operating point; the ROC AUC
from DeLong (Sun & Xu 2014) or a bootstrap stratified by truth and site;
average precision (step-wise) with a stratified bootstrap or the closed-form
logit interval (Boyd, Eng & Page 2013), as the protocol's ``ap_ci`` says; calibration
(Brier, log loss, ECE, slope, calibration-in-the-large) when the protocol
asks and the scores are probabilities; and the non-evaluable fraction.

Non-evaluable cases (FDA, *Statistical Guidance on Reporting Results from
Studies Evaluating Diagnostic Tests*, 2007, section on equivocal results):
``exclude`` uses the evaluable cases only; ``as_negative`` / ``as_positive``
keep every case and count each non-evaluable one as a negative / positive
call, giving the decision metrics under both imputations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dxval.analysis.populations import Population
from dxval.analysis.table import CaseTable
from dxval.stats import (
    Estimate,
    auc_delong,
    average_precision,
    average_precision_logit,
    binary_metrics,
    bootstrap_auc,
    calibration,
    proportion_ci,
)
from dxval.stats.vocabulary import CALIBRATION_METRICS
from dxval.stats.wording import plural

HANDLINGS = ("exclude", "as_negative", "as_positive")


@dataclass(frozen=True, slots=True)
class StatisticsSettings:
    """The protocol's pre-specified statistical methods, as plain values."""

    operating_point: float
    confidence_level: float = 0.95
    proportion_method: str = "wilson"
    auc_method: str = "delong"
    ap_method: str = "logit"
    bootstrap_replicates: int = 2000
    bootstrap_seed: int = 20261126
    bootstrap_interval: str = "percentile"
    multiplicity: str = "holm"
    prevalence: float | None = None
    calibration_bins: int | None = None
    minimum_positives: int = 10
    minimum_negatives: int = 10
    most_confident_errors: int = 10

    @property
    def resampling_replicates(self) -> int:
        """Replicates that resample every case (0 when every interval is closed-form).

        The protocol's draw limit (data/limits.py ``MAX_BOOTSTRAP_DRAWS``) applies
        to these only: the ROC band's replicates are drawn by binomial splitting
        (:mod:`dxval.stats.band`), whose cost does not grow with the cases.
        """
        bootstraps = "bootstrap" in (self.auc_method, self.ap_method)
        return self.bootstrap_replicates if bootstraps else 0


@dataclass(frozen=True, slots=True)
class PopulationCounts:
    """Case counts of one population (positives/negatives among evaluable cases)."""

    cases: int
    evaluable: int
    non_evaluable: int
    positives: int
    negatives: int

    def insufficient(
        self, settings: StatisticsSettings, *, metric: str | None = None
    ) -> tuple[str, ...]:
        """Why the cell is below the protocol's minimum (empty when it is not).

        With ``metric``, only the classes that metric is computed from count:
        sensitivity only on positives, specificity only on negatives (so a
        stratum of positives only, such as a lesion-size band, is not flagged
        for sensitivity); every other metric needs both.
        """
        needs_positives = metric != "specificity"
        needs_negatives = metric != "sensitivity"
        flags = []
        if needs_positives and self.positives < settings.minimum_positives:
            flags.append(
                f"{plural(self.positives, 'positive case')} < minimum {settings.minimum_positives}"
            )
        if needs_negatives and self.negatives < settings.minimum_negatives:
            flags.append(
                f"{plural(self.negatives, 'negative case')} < minimum {settings.minimum_negatives}"
            )
        return tuple(flags)


def population_counts(table: CaseTable, population: Population) -> PopulationCounts:
    """Counts of ``population`` in ``table``."""
    evaluable = population.mask & table.evaluable
    return PopulationCounts(
        cases=int(population.mask.sum()),
        evaluable=int(evaluable.sum()),
        non_evaluable=int((population.mask & ~table.evaluable).sum()),
        positives=int((evaluable & table.truth).sum()),
        negatives=int((evaluable & ~table.truth).sum()),
    )


def _point_only(value: float | None, reason: str, *, level: float, method: str, n: int) -> Estimate:
    """A statistic reported without an interval: undefined interval, point kept."""
    return Estimate.undefined(reason, confidence_level=level, method=method, n=n, estimate=value)


class MetricEngine:
    """Computes and caches metrics per (population, non-evaluable handling, confidence level)."""

    def __init__(
        self, table: CaseTable, settings: StatisticsSettings, *, average_precision: bool = True
    ) -> None:
        self.table = table
        self.settings = settings
        # False skips the average-precision bootstrap (reported undefined, "not computed"):
        # for callers that never show it, such as a monitoring window's criteria
        self.average_precision = average_precision
        self._cache: dict[tuple[str, str, float], dict[str, Estimate]] = {}
        self._calibration: dict[str, dict[str, object] | None] = {}
        # Issue 18: a population with the same cases as one already computed (the one site
        # of a one-site protocol is "all") reuses its estimates, and a criterion asking for
        # one metric at its own level computes that metric only. Same values either way.
        self._computed_cases: list[tuple[int, npt.NDArray[np.bool_], str]] = []
        self._calibrated: dict[tuple[str, str, float], dict[str, object]] = {}
        self._single: dict[tuple[str, str, float, str], Estimate] = {}
        self._record: dict[str, object] | None = None  # the last calibration computed
        self._by_score: (
            tuple[npt.NDArray[np.integer], npt.NDArray[np.float64], npt.NDArray[np.bool_]] | None
        ) = None

    def metrics(
        self,
        population: Population,
        *,
        handling: str = "exclude",
        confidence_level: float | None = None,
    ) -> dict[str, Estimate]:
        """Metric name → :class:`Estimate` for ``population``.

        ``handling`` is ``exclude`` (evaluable cases; every metric) or
        ``as_negative``/``as_positive`` (every case; decision metrics and
        ``failed_fraction`` only).
        """
        level = self.settings.confidence_level if confidence_level is None else confidence_level
        key = (population.key, handling, level)
        if key not in self._cache:
            twin = self._same_cases(population)
            if twin is not None and (twin, handling, level) in self._cache:
                self._cache[key] = dict(self._cache[(twin, handling, level)])
                record = self._calibrated.get((twin, handling, level))
                if record is not None:  # as computing it again would record it
                    self._calibrated[key] = record
                    self._calibration.setdefault(population.key, record)
            else:
                self._cache[key] = self._compute(population, handling, level)
                if twin is None:
                    count = int(population.mask.sum())
                    self._computed_cases.append((count, population.mask, population.key))
        return self._cache[key]

    def _same_cases(self, population: Population) -> str | None:
        """The key of a computed population with exactly ``population``'s cases, if any."""
        mask = population.mask
        count = int(mask.sum())
        for other_count, other_mask, other_key in self._computed_cases:
            if other_count == count and np.array_equal(other_mask, mask):
                return other_key
        return None

    def estimate(
        self,
        population: Population,
        metric: str,
        *,
        handling: str,
        confidence_level: float | None = None,
    ) -> Estimate:
        """One metric of ``population`` (see :meth:`metrics`).

        When the population's metrics at this level are not computed yet (a
        criterion's own level), only ``metric`` is computed: the same call
        with the same cases, so the same estimate.
        """
        level = self.settings.confidence_level if confidence_level is None else confidence_level
        key = (population.key, handling, level)
        if key in self._cache or handling != "exclude":
            return self.metrics(population, handling=handling, confidence_level=level)[metric]
        single = (*key, metric)
        if single not in self._single:
            self._single[single] = self._compute_one(population, metric, level)
        return self._single[single]

    def _compute_one(self, population: Population, metric: str, level: float) -> Estimate:
        """:meth:`_compute`'s ``metric`` for evaluable cases, without the other metrics."""
        table = self.table
        selected = population.mask & table.evaluable
        truth, scores = table.truth[selected], table.scores[selected]
        # the calibration record is kept at the first level computed: keep that order
        calibration = None
        if population.key not in self._calibration or metric in CALIBRATION_METRICS:
            calibration = self._calibration_metrics(population.key, truth, scores, level)
        if metric in CALIBRATION_METRICS and calibration is not None:
            return calibration[metric]
        if metric == "auc":
            return self._auc(truth, scores, selected, level)
        if metric == "average_precision" and self.average_precision:
            return self._average_precision(truth, scores, selected, level)
        decisions = self._decision(truth, scores, self.settings.operating_point, level)
        if metric in decisions:
            return decisions[metric]
        return self.metrics(population, handling="exclude", confidence_level=level)[metric]

    def calibration_record(self, population: Population) -> dict[str, object] | None:
        """The full calibration result (reliability bins included) when it was computed."""
        self.metrics(population)
        return self._calibration.get(population.key)

    def _compute(self, population: Population, handling: str, level: float) -> dict[str, Estimate]:
        table, settings = self.table, self.settings
        mask = population.mask
        failed = int((mask & ~table.evaluable).sum())
        results: dict[str, Estimate] = {}
        if handling == "exclude":
            selected = mask & table.evaluable
            truth, scores = table.truth[selected], table.scores[selected]
            results.update(self._decision(truth, scores, settings.operating_point, level))
            results["auc"] = self._auc(truth, scores, selected, level)
            results["average_precision"] = (
                self._average_precision(truth, scores, selected, level)
                if self.average_precision
                else Estimate.undefined(
                    "not computed: not needed by this analysis",
                    confidence_level=level,
                    method="average precision (step-wise)",
                    n=int(truth.shape[0]),
                )
            )
            self._record = None
            results.update(self._calibration_metrics(population.key, truth, scores, level))
            if self._record is not None:  # for a population with the same cases (metrics())
                self._calibrated[(population.key, handling, level)] = self._record
        else:
            called = table.called_positive() | (~table.evaluable & (handling == "as_positive"))
            decisions = called[mask].astype(np.float64)
            results.update(self._decision(table.truth[mask], decisions, 0.5, level))
        results["failed_fraction"] = proportion_ci(
            failed, int(mask.sum()), confidence_level=level, method=settings.proportion_method
        )
        return results

    def _average_precision(
        self,
        truth: npt.NDArray[np.bool_],
        scores: npt.NDArray[np.float64],
        selected: npt.NDArray[np.bool_],  # the sites are gathered only to bootstrap
        level: float,
    ) -> Estimate:
        settings = self.settings
        if settings.ap_method == "logit":
            return average_precision_logit(
                truth, scores, confidence_level=level, sorted_scores=self._sorted_classes(selected)
            )
        return average_precision(
            truth,
            scores,
            seed=settings.bootstrap_seed,
            replicates=settings.bootstrap_replicates,
            strata=self.table.sites[selected],
            confidence_level=level,
            interval=settings.bootstrap_interval,
        )

    def _sorted_classes(
        self, selected: npt.NDArray[np.bool_]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """The selected cases' positive and negative scores, each ascending.

        All cases are sorted once; each population's classes are then picked
        out in that order (the same values as sorting the population: ties
        are equal values), instead of two sorts per population and metric.
        """
        if self._by_score is None:
            table = self.table
            index = np.int32 if table.size < 2**31 else np.int64  # 4 bytes a case, not 8
            order = np.argsort(table.scores, kind="stable").astype(index)
            self._by_score = (order, table.scores[order], table.truth[order])
        ranks, ranked, truth = self._by_score
        chosen = selected[ranks]
        return ranked[chosen & truth], ranked[chosen & ~truth]

    def _decision(
        self,
        truth: npt.NDArray[np.bool_],
        scores: npt.NDArray[np.float64],
        threshold: float,
        level: float,
    ) -> dict[str, Estimate]:
        computed = binary_metrics(
            truth,
            scores,
            threshold=threshold,
            confidence_level=level,
            proportion_method=self.settings.proportion_method,
            prevalence=self.settings.prevalence,
        )
        return dict(computed.as_dict())

    def _auc(
        self,
        truth: npt.NDArray[np.bool_],
        scores: npt.NDArray[np.float64],
        selected: npt.NDArray[np.bool_],  # the sites are gathered only to bootstrap
        level: float,
    ) -> Estimate:
        if self.settings.auc_method == "delong":
            return auc_delong(
                truth, scores, confidence_level=level, sorted_scores=self._sorted_classes(selected)
            )
        return bootstrap_auc(
            truth,
            scores,
            seed=self.settings.bootstrap_seed,
            replicates=self.settings.bootstrap_replicates,
            strata=self.table.sites[selected],
            confidence_level=level,
            interval=self.settings.bootstrap_interval,
        )

    def _calibration_metrics(
        self,
        key: str,
        truth: npt.NDArray[np.bool_],
        scores: npt.NDArray[np.float64],
        level: float,
    ) -> dict[str, Estimate]:
        bins = self.settings.calibration_bins
        n = int(truth.shape[0])
        method = "calibration"
        if bins is None:
            reason = "calibration not requested by the protocol"
        elif n == 0:
            reason = "no evaluable cases"
        elif scores.min() < 0.0 or scores.max() > 1.0:
            reason = "scores are not probabilities in [0, 1]"
        else:
            result = calibration(truth, scores, bins=bins, confidence_level=level)
            self._record = result.to_dict()
            self._calibration.setdefault(key, self._record)
            no_interval = "reported without a confidence interval"
            return {
                "brier": _point_only(
                    result.brier, no_interval, level=level, method="Brier score", n=n
                ),
                "log_loss": _point_only(
                    result.log_loss,
                    result.log_loss_reason or no_interval,
                    level=level,
                    method="log loss",
                    n=n,
                ),
                "ece": _point_only(
                    result.ece,
                    no_interval,
                    level=level,
                    method=f"ECE, {bins} equal-width bins, {result.bin_convention.value}",
                    n=n,
                ),
                "calibration_slope": result.slope,
                "calibration_intercept": result.intercept,
            }
        return {
            name: Estimate.undefined(reason, confidence_level=level, method=method, n=n)
            for name in CALIBRATION_METRICS
        }
