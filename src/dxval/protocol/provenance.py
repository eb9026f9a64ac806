"""Protocol sections that document the study design: provenance, truthing, sample size.

Every field here is optional. A reviewer reads these statements before any
number (FDA, *Artificial Intelligence-Enabled Device Software Functions:
Lifecycle Management and Marketing Submission Recommendations*, draft
guidance, January 2025, section X and Appendix C; STARD 2015 items 5-9 and
18; CLAIM 2024 items 7-15 and 19), so the report shows "not stated" for
every absent one rather than leaving the gap out of sight:

* ``data.collection`` - per test set: collection period, inclusion and
  exclusion criteria, acquisition devices;
* ``truth.process`` - who established the reference standard (number and
  qualification of the truthers), blinding, adjudication, inter-reader
  agreement;
* ``sample_size`` - the assumed performance, the limit to exceed, alpha and
  power; dxval computes the required numbers of positive and negative cases
  (:mod:`dxval.stats.sample_size`) and the report states whether the test
  set meets them;
* ``limitations`` - the manufacturer's own limitations, shown after the ones
  dxval derives from coverage;
* ``deviations`` - recorded deviations from the protocol, classified minor or
  major.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

if TYPE_CHECKING:
    from dxval.protocol.checks import Issue
    from dxval.protocol.schema import Protocol


# protocol.sections imports this module (``truth.process``), so its names are not imported
# here; tests/protocol/test_provenance.py checks these copies equal the originals there.
Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=100),
]
ProportionCiMethod = Literal["wilson", "wilson_cc", "clopper_pearson", "agresti_coull", "jeffreys"]


class Section(BaseModel):
    """Strict, frozen, no unknown keys, no NaN/inf: as ``dxval.protocol.sections.Section``."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Collection(Section):
    """How the cases of one test set were collected (STARD 2015 items 5, 8, 9)."""

    period: str | None = Field(
        default=None, description="Collection period, e.g. '2019-01 to 2021-06'."
    )
    inclusion: str | None = Field(default=None, description="Inclusion criteria.")
    exclusion: str | None = Field(default=None, description="Exclusion criteria.")
    acquisition_devices: list[str] | None = Field(
        default=None,
        min_length=1,
        description="Acquisition devices (manufacturer and model) the images come from.",
    )
    setting: str | None = Field(
        default=None,
        description="Clinical setting and how cases were selected (consecutive, random, enriched).",
    )


class DataSection(Section):
    """Provenance of the test data."""

    collection: dict[Identifier, Collection] = Field(
        default_factory=dict,
        description="Collection of each test set, keyed by test-set ID (every key must name a "
        "test set; a test set without an entry is reported as 'not stated').",
    )


class Truthers(Section):
    """The readers who established the reference standard."""

    number: int = Field(ge=1, description="Number of truthers per case.")
    qualification: str | None = Field(
        default=None,
        description="Qualification, e.g. 'board-certified thoracic radiologists, 5-20 years'.",
    )


class TruthProcess(Section):
    """How the reference standard was established (STARD 2015 items 11, 13b; CLAIM 2024 17-22)."""

    truthers: Truthers | None = Field(default=None, description="Who labelled the cases.")
    blinding: str | None = Field(
        default=None,
        description="What the truthers did not see (the device output, other readers' labels, "
        "clinical information).",
    )
    adjudication: str | None = Field(
        default=None, description="How disagreements were resolved (e.g. majority, adjudicator)."
    )
    agreement: str | None = Field(
        default=None,
        description="Inter-reader agreement statistic as measured, e.g. 'Fleiss kappa 0.81 "
        "(95% CI 0.77 to 0.85), n = 600'.",
    )


class ProportionAssumption(Section):
    """Assumed sensitivity or specificity and the lower limit its interval must exceed."""

    assumed: float = Field(gt=0, lt=1, description="Anticipated value of the proportion.")
    lower_limit: float = Field(
        gt=0, lt=1, description="Performance goal the lower confidence bound must exceed."
    )

    @model_validator(mode="after")
    def _assumed_above_limit(self) -> ProportionAssumption:
        if not self.assumed > self.lower_limit:
            raise ValueError(
                f"assumed ({self.assumed}) must exceed lower_limit ({self.lower_limit})"
            )
        return self


class AucAssumption(Section):
    """Assumed ROC AUC and the interval half-width (margin) to reach."""

    assumed: float = Field(gt=0.5, lt=1, description="Anticipated ROC AUC.")
    margin: float = Field(gt=0, lt=0.5, description="Required half-width of the AUC interval.")
    negatives_per_positive: float = Field(
        default=1.0, gt=0, description="Planned ratio of negative to positive cases."
    )


class SampleSizePlan(Section):
    """Pre-specified sample-size justification; dxval computes the required case numbers.

    Sensitivity and specificity: exact binomial search for the lower bound to
    exceed the limit with the given power (Flahault, Cadilhac & Thomas 2005).
    AUC: cases for the interval half-width by the Hanley & McNeil (1982)
    variance.
    """

    sensitivity: ProportionAssumption | None = Field(
        default=None, description="Assumed sensitivity and its lower limit (sizes positives)."
    )
    specificity: ProportionAssumption | None = Field(
        default=None, description="Assumed specificity and its lower limit (sizes negatives)."
    )
    auc: AucAssumption | None = Field(default=None, description="Assumed AUC and margin.")
    alpha: float = Field(
        default=0.05, gt=0, lt=0.5, description="Two-sided type I error (interval level 1 - alpha)."
    )
    power: float = Field(default=0.8, gt=0, lt=1, description="Required power.")
    method: ProportionCiMethod | None = Field(
        default=None,
        description="Proportion interval of the design; default: statistics.proportion_ci.",
    )
    rationale: str | None = Field(
        default=None, description="Where the assumed values come from (pilot, literature)."
    )

    @model_validator(mode="after")
    def _something_to_size(self) -> SampleSizePlan:
        if self.sensitivity is None and self.specificity is None and self.auc is None:
            raise ValueError("state at least one of sensitivity, specificity, auc")
        return self


class Deviation(Section):
    """A recorded deviation from the protocol (ISO 14155 style classification)."""

    id: Identifier = Field(description="Deviation ID, unique in the protocol, e.g. DEV-001.")
    description: str = Field(min_length=1, description="What was done differently.")
    impact: str = Field(min_length=1, description="Assessed impact on the results.")
    classification: Literal["minor", "major"] = Field(description="minor or major.")


def check_provenance(protocol: Protocol) -> Iterator[Issue]:
    """Cross-field problems: collection keys naming no test set, repeated deviation IDs."""
    from dxval.protocol.checks import Issue, _one_of

    test_sets = [test_set.id for test_set in protocol.test_sets]
    if protocol.data is not None:
        for key in protocol.data.collection:
            if key not in test_sets:
                yield Issue(("data", "collection", key), repr(key), _one_of(test_sets))
    seen: set[str] = set()
    for index, deviation in enumerate(protocol.deviations):
        if deviation.id in seen:
            yield Issue(("deviations", index, "id"), repr(deviation.id), "a unique deviation ID")
        seen.add(deviation.id)
