"""Which printed estimates carry the insufficient-N dagger (†), and why.

The dagger marks an estimate, not a population: a stratum of positives only
(a lesion-size band) has a sensitivity that is not imprecise for lack of
negatives. Where ``criteria.json`` judged the estimate (a criterion on that
metric and population), the dagger is exactly that outcome's
``insufficient``; elsewhere the same rule is applied to the population's
counts in ``metrics.json`` (:meth:`dxval.analysis.metrics.PopulationCounts.insufficient`:
sensitivity needs the protocol's minimum of positives, specificity of
negatives, every other metric both). Nothing here estimates anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dxval.evidence.format import BundleData, PopulationRecord
from dxval.report import formatting as fmt

FLAG = "†"
_CLASSES = {"sensitivity": ("positive",), "specificity": ("negative",)}


@dataclass(frozen=True, slots=True)
class Insufficiency:
    """The dagger decisions of one bundle: criteria.json's, then the counting rule."""

    judged: dict[tuple[str, str], bool]
    minimum_positives: int
    minimum_negatives: int

    def short_classes(self, population: PopulationRecord, metric: str) -> tuple[str, ...]:
        """The truth classes of ``population`` below the protocol's minimum for ``metric``."""
        counts = {"positive": population.positives, "negative": population.negatives}
        minimum = {"positive": self.minimum_positives, "negative": self.minimum_negatives}
        classes = _CLASSES.get(metric, ("positive", "negative"))
        return tuple(name for name in classes if counts[name] < minimum[name])

    def flagged(self, population: PopulationRecord, metric: str) -> bool:
        """Whether the estimate of ``metric`` on ``population`` carries the dagger."""
        key = (population.key, metric)
        if key in self.judged:
            return self.judged[key]
        return bool(self.short_classes(population, metric))

    def reason(self, population: PopulationRecord, metric: str) -> str:
        """Why the estimate is flagged: the short classes against the protocol's minimum."""
        minimum = {"positive": self.minimum_positives, "negative": self.minimum_negatives}
        counts = {"positive": population.positives, "negative": population.negatives}
        return "; ".join(
            f"{fmt.plural(counts[name], f'{name} case')}, minimum {minimum[name]}"
            for name in self.short_classes(population, metric)
        )


def insufficiency(bundle: BundleData) -> Insufficiency:
    """The dagger decisions of ``bundle`` (criteria.json outcomes first)."""
    judged: dict[tuple[str, str], bool] = {}
    for requirement in bundle.criteria.requirements:
        for criterion in requirement.criteria:
            for outcome in criterion.populations:
                key = (outcome.population, criterion.metric)
                judged[key] = judged.get(key, False) or bool(outcome.insufficient)
    settings: dict[str, Any] = bundle.metrics.settings
    return Insufficiency(
        judged, int(settings["minimum_positives"]), int(settings["minimum_negatives"])
    )


def flagged_text(text: str, flagged: bool) -> str:
    """``text`` with the dagger appended when ``flagged``."""
    return f"{text} {FLAG}" if flagged else text
