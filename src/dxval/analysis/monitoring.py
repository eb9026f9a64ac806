"""Post-market monitoring of one time window against the validation baseline (plain values).

For each window of production rows (:func:`analyse_window`):

* score drift against the baseline's evaluable scores: PSI over the
  baseline's equal-frequency bins, two-sample KS, Wasserstein distance;
* the positive rate at the frozen operating point (positive ⇔ score ≥
  threshold) with the protocol's proportion interval, against the
  baseline's;
* input drift per attribute: categorical (and binned) attributes by the χ²
  test of homogeneity with every level never seen in validation named,
  numeric attributes by KS;
* performance on the window's adjudicated rows: sensitivity, specificity
  and AUC with the protocol's interval methods, against the validated
  figures, and the protocol's acceptance criteria evaluated on the window;
* alerts from :class:`AlertThresholds`.

Nothing here reads files: the orchestration (:mod:`dxval.monitor`) passes
arrays and plain values in and writes the records out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from dxval.analysis.criteria import RequirementResult, RequirementSpec, evaluate_requirements
from dxval.analysis.metrics import MetricEngine, StatisticsSettings
from dxval.analysis.populations import AttributeSpec, build_populations
from dxval.analysis.table import CaseTable
from dxval.stats import Estimate, proportion_ci
from dxval.stats.drift import (
    DriftResult,
    chi_square_homogeneity,
    ks_two_sample,
    population_stability_index,
    psi_bin_edges,
    wasserstein_distance,
)

PERFORMANCE_METRICS = ("sensitivity", "specificity", "auc")


@dataclass(frozen=True, slots=True)
class AlertThresholds:
    """When a window raises an alert (``monitor.yaml`` as plain values; None switches a rule off).

    Score drift: PSI above ``psi_max``, or KS p below ``ks_alpha`` with D at
    least ``ks_min_statistic``, or W₁ above ``wasserstein_max``. Positive
    rate: the absolute difference from the baseline above
    ``positive_rate_max_difference`` with the two intervals disjoint.
    Attributes: any new level (``new_levels``); χ² p below ``chi2_alpha``
    with Cramér's V at least ``cramers_v_min``; numeric KS as for scores.
    Performance: a metric's window interval entirely below the validated
    interval (both need the protocol's minimum positives/negatives);
    ``criteria`` also alerts on a protocol criterion failing on the window.
    Drift rules are not applied to windows with fewer than ``min_window_n``
    rows (new levels always are).
    """

    min_window_n: int = 100
    psi_bins: int = 10
    psi_max: float | None = 0.25
    ks_alpha: float | None = 0.001
    ks_min_statistic: float = 0.1
    wasserstein_max: float | None = None
    positive_rate_max_difference: float | None = 0.10
    new_levels: bool = True
    chi2_alpha: float | None = 0.001
    cramers_v_min: float = 0.1
    attribute_ks_alpha: float | None = 0.001
    attribute_ks_min_statistic: float = 0.1
    performance: bool = True
    criteria: bool = False
    max_excluded_fraction: float | None = 0.01


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert: what kind, about what, in which window, the value and the threshold."""

    kind: str
    subject: str
    message: str
    window: str | None = None
    value: float | None = None
    threshold: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return {
            "window": self.window,
            "kind": self.kind,
            "subject": self.subject,
            "message": self.message,
            "value": self.value,
            "threshold": self.threshold,
        }


@dataclass(frozen=True, slots=True)
class AttributeBaseline:
    """An attribute as validated: categorical level counts, or numeric values for KS."""

    name: str
    kind: str  # "categorical" or "numeric"
    level_counts: Mapping[str, int] = field(default_factory=dict)
    values: npt.NDArray[np.float64] | None = None


@dataclass(frozen=True, slots=True)
class Baseline:
    """What the validation bundle says, as plain values.

    ``scores`` are the evaluable baseline scores (shape (n,)); ``validated``
    maps sensitivity, specificity and AUC of all cases to their estimates.
    ``requirements``, ``settings`` and ``attribute_specs`` let the protocol's
    acceptance criteria be evaluated on a window exactly as ``validate`` did.
    """

    scores: npt.NDArray[np.float64]
    operating_point: float
    validated: Mapping[str, Estimate]
    attributes: Mapping[str, AttributeBaseline]
    settings: StatisticsSettings
    requirements: Sequence[RequirementSpec]
    attribute_specs: Sequence[AttributeSpec]
    psi_edges: tuple[float, ...]

    @property
    def positive_rate(self) -> Estimate:
        """Fraction of baseline scores at or above the operating point, with its interval."""
        return proportion_ci(
            int((self.scores >= self.operating_point).sum()),
            int(self.scores.size),
            confidence_level=self.settings.confidence_level,
            method=self.settings.proportion_method,
        )


def make_baseline(
    scores: npt.NDArray[np.float64],
    *,
    validated: Mapping[str, Estimate],
    attributes: Mapping[str, AttributeBaseline],
    settings: StatisticsSettings,
    requirements: Sequence[RequirementSpec],
    attribute_specs: Sequence[AttributeSpec],
    psi_bins: int,
) -> Baseline:
    """A :class:`Baseline` with the PSI bin edges fixed once from the baseline scores."""
    return Baseline(
        scores=scores,
        operating_point=settings.operating_point,
        validated=validated,
        attributes=attributes,
        settings=settings,
        requirements=requirements,
        attribute_specs=attribute_specs,
        psi_edges=psi_bin_edges(scores, psi_bins),
    )


@dataclass(frozen=True, slots=True)
class WindowData:
    """The usable production rows of one window.

    ``categorical`` maps an attribute to level → count; ``numeric`` to the
    window's numeric values. ``truth`` is 1/0 for adjudicated rows and −1
    otherwise; ``levels`` are the per-row levels of the protocol's
    attributes (for the criteria), ``sites`` the per-row site.
    """

    label: str
    start: str
    end: str
    scores: npt.NDArray[np.float64]
    truth: npt.NDArray[np.int8]
    sites: npt.NDArray[np.str_]
    levels: Mapping[str, npt.NDArray[np.str_]]
    categorical: Mapping[str, Mapping[str, int]]
    numeric: Mapping[str, npt.NDArray[np.float64]]
    non_numeric: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AttributeDrift:
    """Input drift of one attribute in one window."""

    name: str
    kind: str
    test: DriftResult
    counts: Mapping[str, int]
    new_levels: tuple[str, ...]
    cramers_v: float | None
    non_numeric: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return {
            "kind": self.kind,
            "test": self.test.to_dict(),
            "counts": dict(self.counts),
            "new_levels": list(self.new_levels),
            "cramers_v": self.cramers_v,
            "non_numeric": self.non_numeric,
        }


@dataclass(frozen=True, slots=True)
class WindowResult:
    """Everything computed for one window, with its alerts."""

    label: str
    start: str
    end: str
    n: int
    psi: DriftResult
    ks: DriftResult
    wasserstein: DriftResult
    positive_rate: Estimate
    attributes: Mapping[str, AttributeDrift]
    adjudicated: int
    positives: int
    negatives: int
    performance: Mapping[str, Estimate]
    requirements: tuple[RequirementResult, ...]
    alerts: tuple[Alert, ...]
    drift_rules_applied: bool

    @property
    def score_drift(self) -> dict[str, Any]:
        """``{"psi", "ks": {"statistic", "p_value"}, "wasserstein"}`` plus each result in full."""
        return {
            "psi": self.psi.statistic,
            "ks": {"statistic": self.ks.statistic, "p_value": self.ks.p_value},
            "wasserstein": self.wasserstein.statistic,
            "psi_bins": None if self.psi.bin_edges is None else list(self.psi.bin_edges),
            "details": {
                "psi": self.psi.to_dict(),
                "ks": self.ks.to_dict(),
                "wasserstein": self.wasserstein.to_dict(),
            },
        }


def _ks_alert(
    result: DriftResult,
    alpha: float | None,
    minimum: float,
    *,
    subject: str,
    kind: str,
    window: str,
) -> list[Alert]:
    if alpha is None or result.p_value is None or result.statistic is None:
        return []
    if result.p_value < alpha and result.statistic >= minimum:
        return [
            Alert(
                kind,
                subject,
                f"{subject}: Kolmogorov-Smirnov D {result.statistic:.3f} >= {minimum:g} "
                f"with p {result.p_value:.2g} < {alpha:g}",
                window,
                result.statistic,
                minimum,
            )
        ]
    return []


def _score_alerts(
    psi: DriftResult,
    ks: DriftResult,
    wasserstein: DriftResult,
    thresholds: AlertThresholds,
    window: str,
) -> list[Alert]:
    alerts = []
    psi_max = thresholds.psi_max
    if psi_max is not None and psi.statistic is not None and psi.statistic > psi_max:
        message = f"score PSI {psi.statistic:.3f} > {psi_max:g}"
        alerts.append(Alert("score_drift", "psi", message, window, psi.statistic, psi_max))
    alerts += _ks_alert(
        ks,
        thresholds.ks_alpha,
        thresholds.ks_min_statistic,
        subject="score",
        kind="score_drift",
        window=window,
    )
    limit = thresholds.wasserstein_max
    if limit is not None and wasserstein.statistic is not None and wasserstein.statistic > limit:
        alerts.append(
            Alert(
                "score_drift",
                "wasserstein",
                f"score Wasserstein distance {wasserstein.statistic:.4f} > {limit:g}",
                window,
                wasserstein.statistic,
                limit,
            )
        )
    return alerts


def _disjoint(first: Estimate, second: Estimate) -> bool:
    """True when both intervals exist and do not overlap."""
    if first.low is None or first.high is None or second.low is None or second.high is None:
        return False
    return first.high < second.low or second.high < first.low


def _positive_rate_alerts(
    window_rate: Estimate, baseline_rate: Estimate, thresholds: AlertThresholds, window: str
) -> list[Alert]:
    limit = thresholds.positive_rate_max_difference
    if limit is None or window_rate.estimate is None or baseline_rate.estimate is None:
        return []
    difference = window_rate.estimate - baseline_rate.estimate
    if abs(difference) > limit and _disjoint(window_rate, baseline_rate):
        return [
            Alert(
                "positive_rate",
                "positive_rate",
                f"positive rate {window_rate.estimate:.3f} vs baseline "
                f"{baseline_rate.estimate:.3f} (difference {difference:+.3f} beyond ±{limit:g}, "
                "intervals disjoint)",
                window,
                difference,
                limit,
            )
        ]
    return []


def _categorical_drift(
    name: str, baseline: AttributeBaseline, counts: Mapping[str, int]
) -> AttributeDrift:
    test = chi_square_homogeneity(baseline.level_counts, counts)
    new = tuple(
        sorted(
            level
            for level, count in counts.items()
            if count > 0 and level not in baseline.level_counts
        )
    )
    cramers_v = None
    if test.statistic is not None:
        total = test.n_reference + test.n_current
        cramers_v = float(np.sqrt(test.statistic / total))  # 2 × k table: min(r, c) − 1 = 1
    return AttributeDrift(name, "categorical", test, dict(counts), new, cramers_v)


def _attribute_alerts(
    drift: AttributeDrift, thresholds: AlertThresholds, *, window: str, applied: bool
) -> list[Alert]:
    alerts = []
    if thresholds.new_levels:
        alerts += [
            Alert(
                "new_level",
                drift.name,
                f"{drift.name}: level '{level}' ({drift.counts[level]} rows) never seen in "
                "validation: outside the validated population (labeling limitation)",
                window,
                float(drift.counts[level]),
                None,
            )
            for level in drift.new_levels
        ]
    if not applied:
        return alerts
    test = drift.test
    if drift.kind == "numeric":
        return alerts + _ks_alert(
            test,
            thresholds.attribute_ks_alpha,
            thresholds.attribute_ks_min_statistic,
            subject=drift.name,
            kind="input_drift",
            window=window,
        )
    alpha = thresholds.chi2_alpha
    p_value, cramers_v = test.p_value, drift.cramers_v
    if alpha is None or p_value is None or cramers_v is None:
        return alerts
    if p_value < alpha and cramers_v >= thresholds.cramers_v_min:
        alerts.append(
            Alert(
                "input_drift",
                drift.name,
                f"{drift.name}: chi-square p {p_value:.2g} < {alpha:g} with "
                f"Cramér's V {cramers_v:.3f} >= {thresholds.cramers_v_min:g}",
                window,
                cramers_v,
                thresholds.cramers_v_min,
            )
        )
    return alerts


def _window_table(window: WindowData, baseline: Baseline) -> CaseTable:
    adjudicated = window.truth >= 0
    names = [spec.name for spec in baseline.attribute_specs]
    count = int(adjudicated.sum())
    return CaseTable(
        case_ids=np.arange(count).astype(np.str_),
        sites=window.sites,
        test_sets=window.sites,
        truth=window.truth[adjudicated] == 1,
        scores=window.scores[adjudicated],
        evaluable=np.ones(count, dtype=bool),
        levels={name: window.levels[name] for name in names},
        operating_point=baseline.operating_point,
    )


def _performance(
    window: WindowData, baseline: Baseline
) -> tuple[dict[str, Estimate], tuple[RequirementResult, ...]]:
    """Metrics of all adjudicated rows and the protocol's criteria evaluated on them."""
    table = _window_table(window, baseline)
    if table.size == 0:
        return {}, ()
    sites = sorted(set(table.sites.tolist()))
    index = build_populations(
        table.sites,
        table.test_sets,
        table.levels,
        site_order=sites,
        test_set_order=sites,
        attributes=baseline.attribute_specs,
    )
    # Only the metrics a window shows or a criterion names are worth their cost:
    # the calibration fit and the average-precision bootstrap run per population.
    named = {c.metric for r in baseline.requirements for c in r.criteria}
    settings = baseline.settings
    if not named & {"brier", "log_loss", "ece", "calibration_slope", "calibration_intercept"}:
        settings = replace(settings, calibration_bins=None)
    engine = MetricEngine(table, settings, average_precision="average_precision" in named)
    metrics = engine.metrics(index.by_key["all"])
    performance = {name: metrics[name] for name in PERFORMANCE_METRICS}
    requirements = evaluate_requirements(baseline.requirements, engine, index)
    return performance, requirements


def _performance_alerts(
    performance: Mapping[str, Estimate],
    requirements: Sequence[RequirementResult],
    baseline: Baseline,
    thresholds: AlertThresholds,
    *,
    window: str,
    classes: tuple[int, int],
) -> list[Alert]:
    alerts = []
    settings = baseline.settings
    positives_enough = classes[0] >= settings.minimum_positives
    negatives_enough = classes[1] >= settings.minimum_negatives
    enough = {
        "sensitivity": positives_enough,
        "specificity": negatives_enough,
        "auc": positives_enough and negatives_enough,
    }
    if thresholds.performance:
        for name, estimate in performance.items():
            validated = baseline.validated.get(name)
            if not enough.get(name, False) or validated is None:
                continue
            if estimate.high is None or validated.low is None or validated.high is None:
                continue
            if estimate.high < validated.low:
                alerts.append(
                    Alert(
                        "performance",
                        name,
                        f"{name} {estimate.estimate:.3f} [{estimate.low:.3f}, {estimate.high:.3f}] "
                        f"(n {estimate.n}) entirely below the validated interval "
                        f"[{validated.low:.3f}, {validated.high:.3f}]",
                        window,
                        estimate.high,
                        validated.low,
                    )
                )
    if thresholds.criteria:
        alerts += [
            Alert(
                "criterion",
                requirement.id,
                f"{requirement.id}: acceptance criterion {requirement.verdict.value} "
                "on this window's adjudicated rows",
                window,
            )
            for requirement in requirements
            if requirement.verdict.value == "fail"
        ]
    return alerts


def analyse_window(
    window: WindowData, baseline: Baseline, thresholds: AlertThresholds
) -> WindowResult:
    """Drift, positive rate, input drift, performance and alerts of one window.

    Parameters
    ----------
    window:
        The window's usable rows (scores finite and in range, timestamps parsed).
    baseline:
        The validated baseline.
    thresholds:
        Alert rules.

    Returns
    -------
    WindowResult
        Every statistic with its method and n; undefined ones carry a status.
    """
    n = int(window.scores.size)
    label = window.label
    applied = n >= thresholds.min_window_n
    psi = population_stability_index(baseline.scores, window.scores, bins=baseline.psi_edges)
    ks = ks_two_sample(baseline.scores, window.scores)
    wasserstein = wasserstein_distance(baseline.scores, window.scores)
    settings = baseline.settings
    rate = proportion_ci(
        int((window.scores >= baseline.operating_point).sum()),
        n,
        confidence_level=settings.confidence_level,
        method=settings.proportion_method,
    )
    alerts: list[Alert] = []
    if applied:
        alerts += _score_alerts(psi, ks, wasserstein, thresholds, label)
        alerts += _positive_rate_alerts(rate, baseline.positive_rate, thresholds, label)
    attributes: dict[str, AttributeDrift] = {}
    for name, attribute in baseline.attributes.items():
        if attribute.kind == "numeric" and name in window.numeric:
            values = window.numeric[name]
            assert attribute.values is not None  # numeric baselines carry their values
            drift = AttributeDrift(
                name,
                "numeric",
                ks_two_sample(attribute.values, values),
                {},
                (),
                None,
                window.non_numeric.get(name, 0),
            )
        elif name in window.categorical:
            drift = _categorical_drift(name, attribute, window.categorical[name])
        else:
            continue
        attributes[name] = drift
        alerts += _attribute_alerts(drift, thresholds, window=label, applied=applied)
    adjudicated = window.truth >= 0
    positives = int((window.truth == 1).sum())
    classes = (positives, int(adjudicated.sum()) - positives)
    performance, requirements = _performance(window, baseline)
    alerts += _performance_alerts(
        performance, requirements, baseline, thresholds, window=label, classes=classes
    )
    return WindowResult(
        label,
        window.start,
        window.end,
        n,
        psi,
        ks,
        wasserstein,
        rate,
        attributes,
        int(adjudicated.sum()),
        classes[0],
        classes[1],
        performance,
        requirements,
        tuple(alerts),
        applied,
    )
