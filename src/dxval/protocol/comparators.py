"""Protocol ``comparators:`` and ``pccp:``: reference models and the modification they gate.

A comparator is a reference model scored on the same locked cases as the
candidate: the originally cleared model, the last released one, or another.
It has ``predictions:`` or ``model:`` exactly like the candidate (a model
comparator may declare its own ``preprocessing``; without it the
candidate's applies), and ``dxval lock`` pins it. Criteria on a difference
metric name it with ``against: <id>`` (candidate − comparator).

``pccp:`` identifies the modification under a Predetermined Change Control
Plan (FDA, final guidance on PCCPs for AI-enabled device software
functions, 2025): each modification is evaluated against the original and
the last released model with pre-specified criteria, and one that fails is
recorded and not implemented.

:func:`check_comparators` holds the cross-field checks; it yields plain
``(location, got, expected)`` triples that :mod:`dxval.protocol.checks`
turns into located issues.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from dxval.dicom.steps import check_pipeline
from dxval.protocol.preprocessing import PreprocessingStep
from dxval.protocol.sections import Identifier, ModelSection, Predictions, Section
from dxval.protocol.studies import DIFFERENCE_AGAINST
from dxval.stats.vocabulary import DIFFERENCE_METRICS

if TYPE_CHECKING:
    from dxval.protocol.schema import Protocol

ComparatorRole = Literal["original", "last_released", "other"]
Found = tuple[tuple[str | int, ...], str, str]
"""One problem: location of the field, what was found, what was expected."""


class Comparator(Section):
    """A reference model scored on the same cases as the candidate."""

    id: Identifier = Field(description="Comparator ID, unique; criteria name it in `against`.")
    role: ComparatorRole = Field(
        description="original (the cleared model), last_released (the version in the field) "
        "or other."
    )
    description: str | None = Field(default=None, description="Shown in the report.")
    model: ModelSection | None = Field(
        default=None, description="A model dxval runs (exactly one of model/predictions)."
    )
    predictions: Predictions | None = Field(
        default=None,
        description="Its scores produced elsewhere (exactly one of model/predictions).",
    )
    preprocessing: list[PreprocessingStep] | None = Field(
        default=None,
        description="Its own preprocessing (model comparators only); default: the candidate's.",
    )

    @property
    def operating_point(self) -> float:
        """The comparator's own frozen decision threshold."""
        source = self.model if self.model is not None else self.predictions
        if source is None:  # excluded by check_comparators
            raise ValueError(f"comparator {self.id} has neither model nor predictions")
        return source.operating_point


class Pccp(Section):
    """The modification a comparison run gates (Predetermined Change Control Plan)."""

    id: Identifier = Field(description="Modification ID in the PCCP, e.g. PCCP-MOD-003.")
    modification: str = Field(description="What changes, e.g. 'retrained on 2026 data'.")
    description: str | None = Field(default=None, description="Details shown on the cover.")
    method_refs: list[str] = Field(
        default_factory=list,
        description="Where the PCCP's modification protocol specifies the methods "
        "(document and section references).",
    )


def reference_ids(protocol: Protocol) -> list[str]:
    """IDs a criterion may name in ``against``: the comparators (other kinds add theirs here)."""
    ids = [comparator.id for comparator in protocol.comparators]
    if protocol.robustness is not None:  # the unperturbed run of a robustness study (issue 19)
        ids.append(DIFFERENCE_AGAINST)
    return ids


def check_comparators(protocol: Protocol) -> Iterator[Found]:
    """Every problem of the comparators and of the criteria on differences."""
    seen: set[str] = set()
    for index, comparator in enumerate(protocol.comparators):
        here: tuple[str | int, ...] = ("comparators", index)
        if comparator.id in seen:
            yield (*here, "id"), f"duplicate ID {comparator.id!r}", "a unique comparator ID"
        seen.add(comparator.id)
        if (comparator.model is None) == (comparator.predictions is None):
            got = (
                "both model and predictions"
                if comparator.model
                else "neither model nor predictions"
            )
            yield here, got, "exactly one of model/predictions"
        if comparator.preprocessing is not None and comparator.model is None:
            yield (
                (*here, "preprocessing"),
                "preprocessing for a predictions comparator",
                "no preprocessing (scores come from the predictions file)",
            )
        elif comparator.preprocessing is not None:
            try:
                check_pipeline(comparator.preprocessing)
            except ValueError as error:
                yield (*here, "preprocessing"), str(error), "a valid step order"
    yield from _check_against(protocol)


def _check_against(protocol: Protocol) -> Iterator[Found]:
    known = reference_ids(protocol)
    for requirement_index, requirement in enumerate(protocol.requirements):
        for criterion_index, criterion in enumerate(requirement.criteria):
            here = ("requirements", requirement_index, "criteria", criterion_index)
            is_difference = criterion.metric in DIFFERENCE_METRICS
            if criterion.against is None and is_difference:
                yield (
                    (*here, "against"),
                    f"no against for {criterion.metric}",
                    "against: <comparator id> for a difference metric",
                )
            elif criterion.against is not None and not is_difference:
                yield (
                    (*here, "against"),
                    f"against on {criterion.metric!r}",
                    "a difference metric (" + ", ".join(DIFFERENCE_METRICS) + ") or no against",
                )
            elif criterion.against is not None and criterion.against not in known:
                shown = ", ".join(repr(name) for name in known) or "none (no comparators declared)"
                yield (*here, "against"), repr(criterion.against), f"one of {shown}"
