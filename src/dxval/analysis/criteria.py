"""Evaluate acceptance criteria: observed value, required value, pass / fail / undefined.

A criterion compares one number with the required value: the point
estimate or a confidence bound of a metric on one population, the worst of
those over a family of K populations (``{each: site}``: every member must
meet it), or the spread (max − min of point estimates) across the family.
For a bound over K > 1 populations the interval level is adjusted for
multiplicity (Bonferroni 1 − (1 − CL)/K; Holm uses the Bonferroni level for
intervals) and the adjustment is recorded. A criterion that cannot be
evaluated (no positives in a subgroup, an undefined interval) is
``undefined`` with its reason and counts as not met.

A criterion with ``against: <reference id>`` compares a paired difference
(candidate − reference, :data:`~dxval.stats.vocabulary.DIFFERENCE_METRICS`)
instead; its estimates come from the :class:`~dxval.analysis.paired.PairedReference`
registered under that id (a comparator model, or any other reference kind
that provides paired scores per population).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum

import numpy as np

from dxval.analysis.metrics import MetricEngine, population_counts
from dxval.analysis.paired import PairedReference
from dxval.analysis.populations import (
    Population,
    PopulationIndex,
    level_key,
    site_key,
    test_set_key,
)
from dxval.analysis.robustness import LevelAnalysis, level_population
from dxval.stats import Estimate, adjusted_confidence_level

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}


class Verdict(str, Enum):
    """Outcome of a criterion or requirement."""

    PASS = "pass"  # noqa: S105  (a verdict, not a password)
    FAIL = "fail"
    UNDEFINED = "undefined"


@dataclass(frozen=True, slots=True)
class PopulationSpec:
    """Which population(s) a criterion names; ``form`` is all, each, site, test_set or cell."""

    form: str
    family: str | None = None
    site: str | None = None
    test_set: str | None = None
    attribute: str | None = None
    value: str | None = None

    def describe(self) -> str:
        """Short text such as ``each site`` or ``sex = Female``."""
        where = f" in site {self.site}" if self.site is not None else ""
        texts = {
            "all": "all cases",
            "each": f"each {self.family}{where}"
            if self.family in ("site", "test_set")
            else f"each level of {self.family}{where}",
            "site": f"site {self.site}",
            "test_set": f"test set {self.test_set}",
            "cell": f"{self.attribute} = {self.value}{where}",
            "reader_study": "all readers and cases of the reader study",
            "perturbation": f"perturbation {self.value}",
            "precision": "all repeat groups",
            "latency": "scored cases timed in this run"
            + ("" if self.value is None else f", stage {self.value}"),
        }
        return texts[self.form]


@dataclass(frozen=True, slots=True)
class CriterionSpec:
    """One acceptance criterion, as plain values."""

    metric: str
    population: PopulationSpec
    op: str
    value: float
    bound: str = "point"
    spread: str | None = None
    non_evaluable: str = "exclude"
    against: str | None = None

    def describe(self, confidence_level: float) -> str:
        """Human text of what is compared, e.g. ``sensitivity, lower 95% bound, all cases``."""
        what = {"point": "point estimate", "lower": "lower", "upper": "upper"}[self.bound]
        if self.bound != "point":
            what = f"{what} {confidence_level * 100:.4g}% bound"
        if self.spread is not None:
            what = "spread (max - min)"
        extra = "" if self.non_evaluable == "exclude" else f", non-evaluable {self.non_evaluable}"
        metric = self.metric if self.against is None else f"{self.metric} vs {self.against}"
        return f"{metric}, {what}, {self.population.describe()}{extra}"

    @property
    def required(self) -> str:
        """The requirement as text, e.g. ``>= 0.8``."""
        return f"{self.op} {self.value:g}"


@dataclass(frozen=True, slots=True)
class RequirementSpec:
    """A requirement with its criteria."""

    id: str
    text: str
    criteria: tuple[CriterionSpec, ...]


@dataclass(frozen=True, slots=True)
class PopulationOutcome:
    """The compared number of one population and its verdict.

    A member of a spread criterion has no verdict of its own (``None``): only
    the spread across the family is compared with the required value.
    """

    population: Population
    estimate: Estimate | None
    observed: float | None
    verdict: Verdict | None
    reason: str | None
    insufficient: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON-safe record."""
        return {
            "population": self.population.key,
            "label": self.population.label,
            "observed": self.observed,
            "verdict": None if self.verdict is None else self.verdict.value,
            "reason": self.reason,
            "insufficient": list(self.insufficient),
            "estimate": None if self.estimate is None else self.estimate.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class CriterionResult:
    """Outcome of one criterion with everything needed to trace it."""

    requirement_id: str
    index: int
    spec: CriterionSpec
    verdict: Verdict
    observed: float | None
    reason: str | None
    description: str
    confidence_level: float
    multiplicity: dict[str, object]
    outcomes: tuple[PopulationOutcome, ...]

    @property
    def name(self) -> str:
        """Test name: the requirement ID, with ``[i]`` when it has several criteria."""
        return self.requirement_id if self.index < 0 else f"{self.requirement_id}[{self.index}]"

    @property
    def insufficient(self) -> bool:
        """Whether any population compared is below the protocol's minimum cell size."""
        return any(outcome.insufficient for outcome in self.outcomes)

    def to_dict(self) -> dict[str, object]:
        """JSON-safe record for ``criteria.json``."""
        spec = self.spec
        return {
            "name": self.name,
            "description": self.description,
            "metric": spec.metric,
            "population": spec.population.describe(),
            "bound": spec.bound,
            "spread": spec.spread,
            "op": spec.op,
            "value": spec.value,
            "non_evaluable": spec.non_evaluable,
            "against": spec.against,
            "required": spec.required,
            "observed": self.observed,
            "verdict": self.verdict.value,
            "reason": self.reason,
            "insufficient": self.insufficient,
            "confidence_level": self.confidence_level,
            "multiplicity": self.multiplicity,
            "populations": [outcome.to_dict() for outcome in self.outcomes],
        }


@dataclass(frozen=True, slots=True)
class RequirementResult:
    """A requirement's verdict: pass when every criterion passes."""

    id: str
    text: str
    verdict: Verdict
    criteria: tuple[CriterionResult, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON-safe record for ``criteria.json``."""
        return {
            "id": self.id,
            "text": self.text,
            "verdict": self.verdict.value,
            "criteria": [criterion.to_dict() for criterion in self.criteria],
        }


def resolve_populations(spec: PopulationSpec, index: PopulationIndex) -> list[Population]:
    """The populations a criterion names (empty when the data hold none of them)."""
    if spec.form == "each":
        if spec.family == "site":
            return index.family("site")
        if spec.family == "test_set":
            return index.family("test_set") or index.family("site")
        kind = "attribute" if spec.site is None else "site_attribute"
        return index.family(kind, attribute=spec.family, site=spec.site)
    keys = {
        "all": "all",
        "site": site_key(spec.site or ""),
        "test_set": test_set_key(spec.test_set or ""),
        "cell": level_key(spec.attribute or "", spec.value or "", site=spec.site),
    }
    found = index.by_key.get(keys[spec.form])
    if found is None and spec.form == "test_set":
        found = next((p for p in index.family("site") if p.test_set == spec.test_set), None)
    return [found] if found is not None else []


def _combine(verdicts: Sequence[Verdict]) -> Verdict:
    """Fail if any fails; else undefined if any is undefined; else pass."""
    if Verdict.FAIL in verdicts:
        return Verdict.FAIL
    if Verdict.UNDEFINED in verdicts or not verdicts:
        return Verdict.UNDEFINED
    return Verdict.PASS


def _compared(estimate: Estimate, bound: str) -> tuple[float | None, str | None]:
    value = {"point": estimate.estimate, "lower": estimate.low, "upper": estimate.high}[bound]
    if value is None:
        return None, estimate.reason or f"no {bound} value"
    return value, None


@dataclass(frozen=True, slots=True)
class _Context:
    engine: MetricEngine
    index: PopulationIndex
    confidence_level: float
    multiplicity: str
    external: Mapping[str, Estimate] = field(default_factory=dict)
    levels: Mapping[str, LevelAnalysis] = field(default_factory=dict)
    references: Mapping[str, PairedReference] = field(default_factory=dict)


#: The one "population" of a reader-study criterion (form ``reader_study``): its
#: estimate comes from the reader-study analysis, not from the case table.
READER_STUDY_POPULATION = Population(
    key="reader_study",
    label="reader study",
    kind="reader_study",
    mask=np.zeros(0, dtype=np.bool_),
)


#: The one "population" of a precision criterion (form ``precision``, issue 19): its
#: estimate comes from the repeat-group analysis (:mod:`dxval.analysis.precision`).
PRECISION_POPULATION = Population(
    key="precision",
    label="repeat groups",
    kind="precision",
    mask=np.zeros(0, dtype=np.bool_),
)


#: The one "population" of a latency criterion (form ``latency``, issue 19): its estimate
#: comes from the run's per-case timings (:mod:`dxval.pipeline.latency`).
LATENCY_POPULATION = Population(
    key="latency",
    label="cases timed in this run",
    kind="latency",
    mask=np.zeros(0, dtype=np.bool_),
)
_EXTERNAL_POPULATIONS = {
    "precision": (PRECISION_POPULATION, "precision"),
    "latency": (LATENCY_POPULATION, "latency"),
}


def _reader_study_criterion(
    context: _Context, requirement_id: str, index: int, spec: CriterionSpec
) -> CriterionResult:
    """A criterion on a reader-study metric: one estimate, compared as it is."""
    estimate = context.external.get(spec.metric)
    observed: float | None
    reason: str | None
    population, source = _EXTERNAL_POPULATIONS.get(
        spec.population.form, (READER_STUDY_POPULATION, "reader-study")
    )
    if estimate is None:
        observed, reason = None, f"no {source} result for {spec.metric}"
    else:
        observed, reason = _compared(estimate, spec.bound)
    verdict = Verdict.UNDEFINED
    if observed is not None:
        verdict = Verdict.PASS if _OPERATORS[spec.op](observed, spec.value) else Verdict.FAIL
    level = context.confidence_level if estimate is None else estimate.confidence_level
    outcome = PopulationOutcome(population, estimate, observed, verdict, reason, ())
    return CriterionResult(
        requirement_id=requirement_id,
        index=index,
        spec=spec,
        verdict=verdict,
        observed=observed,
        reason=reason,
        description=spec.describe(level),
        confidence_level=level,
        multiplicity={
            "method": "none",
            "family_size": 1,
            "family_confidence_level": level,
            "adjusted_confidence_level": level,
            "note": None,
        },
        outcomes=(outcome,),
    )


def _perturbation_criterion(
    context: _Context, requirement_id: str, index: int, spec: CriterionSpec
) -> CriterionResult:
    """A criterion on one robustness level: its metric, or its paired difference (``against``)."""
    level = context.levels.get(spec.population.value or "")
    if level is None:
        population = level_population(spec.population.value or "", 0)
        outcome = PopulationOutcome(population, None, None, Verdict.UNDEFINED, "not scored", ())
    else:  # the level's own metrics; a difference goes through references[against]
        level_context = replace(context, engine=level.engine)
        outcome = _outcome(level_context, spec, level.population, context.confidence_level)
    _, multiplicity = _multiplicity(context, spec, 1)
    return CriterionResult(
        requirement_id=requirement_id,
        index=index,
        spec=spec,
        verdict=outcome.verdict or Verdict.UNDEFINED,
        observed=outcome.observed,
        reason=outcome.reason
        if outcome.reason is None
        else f"{spec.population.describe()}: {outcome.reason}",
        description=spec.describe(context.confidence_level),
        confidence_level=context.confidence_level,
        multiplicity=multiplicity,
        outcomes=(outcome,),
    )


def _outcome(
    context: _Context, spec: CriterionSpec, population: Population, level: float
) -> PopulationOutcome:
    engine = context.engine
    estimate = _estimate(context, spec, population, level)
    counts = population_counts(engine.table, population)
    # a paired difference of sensitivity needs positives only, as sensitivity does
    base = {"sensitivity_difference": "sensitivity", "specificity_difference": "specificity"}
    insufficient = counts.insufficient(engine.settings, metric=base.get(spec.metric, spec.metric))
    bound = "point" if spec.spread is not None else spec.bound
    observed, reason = _compared(estimate, bound)
    verdict: Verdict | None
    if observed is None:
        verdict = Verdict.UNDEFINED
    elif spec.spread is not None:
        verdict = None
    else:
        verdict = Verdict.PASS if _OPERATORS[spec.op](observed, spec.value) else Verdict.FAIL
    return PopulationOutcome(population, estimate, observed, verdict, reason, insufficient)


def _estimate(
    context: _Context, spec: CriterionSpec, population: Population, level: float
) -> Estimate:
    """The compared estimate: a metric, or a paired difference ``against`` a reference."""
    if spec.against is None:
        return context.engine.estimate(
            population, spec.metric, handling=spec.non_evaluable, confidence_level=level
        )
    reference = context.references.get(spec.against)
    if reference is None:  # the protocol checks exclude it; never a silent pass
        return Estimate.undefined(
            f"no paired reference {spec.against!r} in this run",
            confidence_level=level,
            method="paired difference",
            n=0,
        )
    return reference.difference(population, spec.metric, confidence_level=level)


def _multiplicity(
    context: _Context, spec: CriterionSpec, k: int
) -> tuple[float, dict[str, object]]:
    """Interval level for a criterion over ``k`` populations, and the record of the adjustment."""
    applies = spec.bound != "point" and spec.spread is None and k > 1
    method = context.multiplicity if applies else "none"
    level = adjusted_confidence_level(context.confidence_level, max(k, 1), method=method)
    note = None
    if applies and method == "holm":
        note = "Holm has no interval form; intervals use the Bonferroni level"
    record: dict[str, object] = {
        "method": method,
        "family_size": k,
        "family_confidence_level": context.confidence_level,
        "adjusted_confidence_level": level,
        "note": note,
    }
    return level, record


def _spread(
    outcomes: Sequence[PopulationOutcome], spec: CriterionSpec
) -> tuple[float | None, Verdict, str | None]:
    undefined = [outcome for outcome in outcomes if outcome.observed is None]
    if undefined:
        first = undefined[0]
        return None, Verdict.UNDEFINED, f"{first.population.label}: {first.reason}"
    values = [outcome.observed for outcome in outcomes if outcome.observed is not None]
    if len(values) < 2:
        return (
            None,
            Verdict.UNDEFINED,
            f"a spread needs at least 2 populations, found {len(values)}",
        )
    observed = max(values) - min(values)
    passed = _OPERATORS[spec.op](observed, spec.value)
    return observed, Verdict.PASS if passed else Verdict.FAIL, None


def _worst(
    outcomes: Sequence[PopulationOutcome], spec: CriterionSpec
) -> tuple[float | None, Verdict, str | None]:
    verdict = _combine([outcome.verdict or Verdict.UNDEFINED for outcome in outcomes])
    values = [outcome.observed for outcome in outcomes if outcome.observed is not None]
    observed = (min(values) if spec.op in (">=", ">") else max(values)) if values else None
    reasons = [
        f"{outcome.population.label}: {outcome.reason}"
        for outcome in outcomes
        if outcome.verdict is Verdict.UNDEFINED
    ]
    return observed, verdict, "; ".join(reasons) or None


def evaluate_criterion(
    context: _Context, requirement_id: str, index: int, spec: CriterionSpec
) -> CriterionResult:
    """Evaluate one criterion (``index`` is -1 when it is its requirement's only one)."""
    if spec.population.form in ("reader_study", "precision", "latency"):  # one external estimate
        return _reader_study_criterion(context, requirement_id, index, spec)
    if spec.population.form == "perturbation":  # a robustness level (issue 19)
        return _perturbation_criterion(context, requirement_id, index, spec)
    populations = resolve_populations(spec.population, context.index)
    level, multiplicity = _multiplicity(context, spec, len(populations))
    outcomes = tuple(_outcome(context, spec, population, level) for population in populations)
    observed: float | None
    reason: str | None
    if not populations:
        observed, verdict = None, Verdict.UNDEFINED
        reason = f"no cases in {spec.population.describe()}"
    elif spec.spread is not None:
        observed, verdict, reason = _spread(outcomes, spec)
    else:
        observed, verdict, reason = _worst(outcomes, spec)
    return CriterionResult(
        requirement_id=requirement_id,
        index=index,
        spec=spec,
        verdict=verdict,
        observed=observed,
        reason=reason,
        description=spec.describe(level),
        confidence_level=level,
        multiplicity=multiplicity,
        outcomes=outcomes,
    )


def evaluate_requirements(
    requirements: Sequence[RequirementSpec],
    engine: MetricEngine,
    index: PopulationIndex,
    *,
    external: Mapping[str, Estimate] | None = None,
    levels: Mapping[str, LevelAnalysis] | None = None,
    references: Mapping[str, PairedReference] | None = None,
) -> tuple[RequirementResult, ...]:
    """Evaluate every criterion of every requirement, in protocol order.

    ``external`` holds the estimates of criteria on the ``reader_study``
    population (the reader-study metrics), by metric name; ``levels`` the
    analysed robustness levels by ID (criteria on ``{perturbation: ID}``).
    population (the reader-study metrics), by metric name. ``references``
    holds the paired references that criteria with ``against: <id>`` name,
    by id (:class:`~dxval.analysis.paired.PairedScores` for a comparator).
    """
    context = _Context(
        engine=engine,
        index=index,
        confidence_level=engine.settings.confidence_level,
        multiplicity=engine.settings.multiplicity,
        external=dict(external or {}),
        levels=dict(levels or {}),
        references=dict(references or {}),
    )
    results = []
    for requirement in requirements:
        single = len(requirement.criteria) == 1
        criteria = tuple(
            evaluate_criterion(context, requirement.id, -1 if single else position, spec)
            for position, spec in enumerate(requirement.criteria)
        )
        verdict = _combine([criterion.verdict for criterion in criteria])
        results.append(RequirementResult(requirement.id, requirement.text, verdict, criteria))
    return tuple(results)
