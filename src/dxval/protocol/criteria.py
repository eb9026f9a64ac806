"""Requirements and their acceptance criteria: data only, never expressions.

A criterion names a metric, the population it is computed on, which number
of the estimate is compared (the point estimate or a confidence bound), the
comparison operator and the required value. ``spread: max_minus_min``
compares the range of point estimates across a family of populations
(``{each: site}``) instead. Nothing is evaluated as code: every field is a
closed vocabulary or a number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag

from dxval.protocol.sections import Identifier, Section
from dxval.stats.vocabulary import CRITERION_METRICS

if TYPE_CHECKING:  # mypy cannot read a Literal built from a tuple
    MetricName = str
else:
    MetricName = Literal[CRITERION_METRICS]
"""Metrics a criterion may name: :data:`dxval.stats.vocabulary.CRITERION_METRICS`, defined once.

The ``mrmc_*`` metrics are the reader-averaged differences (test − reference
modality) of the protocol's ``reader_study`` (:mod:`dxval.analysis.reader_study`).
"""

Operator = Literal[">=", "<=", ">", "<"]
Bound = Literal["point", "lower", "upper"]
NonEvaluableHandling = Literal["exclude", "as_negative", "as_positive"]

#: Union tags of :data:`Population`; they appear in pydantic error locations.
POPULATION_TAGS = frozenset(
    {
        "AllPopulation",
        "EachPopulation",
        "SitePopulation",
        "TestSetPopulation",
        "CellPopulation",
        "PerturbationPopulation",
    }
)


class EachPopulation(Section):
    """A family of populations: every site, every test set or every level of an attribute."""

    each: str = Field(description="'site', 'test_set' or an attribute name.")
    site: str | None = Field(
        default=None, description="Restrict the family to one site (site × attribute)."
    )


class SitePopulation(Section):
    """The cases of one site."""

    site: str = Field(description="Site name as declared in test_sets.")


class TestSetPopulation(Section):
    """The cases of one test set."""

    __test__ = False  # not a pytest test class despite its name

    test_set: str = Field(description="Test set ID.")


class CellPopulation(Section):
    """The cases with one level of an attribute, optionally within one site."""

    attribute: str = Field(description="Attribute name declared under attributes.")
    value: str | int | float = Field(
        description="Attribute level (for binned attributes the band label, e.g. '[40, 65)')."
    )
    site: str | None = Field(default=None, description="Restrict to one site.")


class PerturbationPopulation(Section):
    """Every case scored at one level of the protocol's robustness study (issue 19)."""

    perturbation: str = Field(description="A level ID of robustness.perturbations.")


def _population_tag(value: Any) -> str | None:
    """Pick the population form from the keys present (a callable discriminator)."""
    if isinstance(value, str):
        return "AllPopulation"
    if isinstance(value, dict):
        for key, tag in (
            ("perturbation", "PerturbationPopulation"),
            ("each", "EachPopulation"),
            ("attribute", "CellPopulation"),
            ("test_set", "TestSetPopulation"),
            ("site", "SitePopulation"),
        ):
            if key in value:
                return tag
        return None
    return type(value).__name__ if type(value).__name__ in POPULATION_TAGS else None


Population = Annotated[
    Union[  # noqa: UP007  (a tagged union needs the Union form on Python 3.10)
        Annotated[Literal["all"], Tag("AllPopulation")],
        Annotated[EachPopulation, Tag("EachPopulation")],
        Annotated[CellPopulation, Tag("CellPopulation")],
        Annotated[TestSetPopulation, Tag("TestSetPopulation")],
        Annotated[SitePopulation, Tag("SitePopulation")],
        Annotated[PerturbationPopulation, Tag("PerturbationPopulation")],
    ],
    Discriminator(
        _population_tag,
        custom_error_type="population_form",
        custom_error_message="a population: 'all', {each: site|test_set|<attribute>}, "
        "{site: S}, {test_set: T}, {attribute: A, value: V} or {perturbation: ID}",
    ),
]


class Criterion(Section):
    """One acceptance criterion: metric on a population compared with a required value."""

    metric: MetricName = Field(description="Metric compared.")
    population: Population = Field(default="all", description="Population(s) it is computed on.")
    bound: Bound = Field(
        default="point",
        description="Compare the point estimate or the lower/upper confidence bound.",
    )
    spread: Literal["max_minus_min"] | None = Field(
        default=None,
        description="Compare the range of point estimates across an {each: ...} family.",
    )
    op: Operator = Field(description="Comparison of the observed value with `value`.")
    value: float = Field(description="Required value.")
    statistic: Literal["mean", "median"] | None = Field(
        default=None, description="Segmentation: summary of the per-case values (default mean)."
    )
    structure: str | None = Field(default=None, description="Segmentation: structure name.")
    non_evaluable: NonEvaluableHandling = Field(
        default="exclude",
        description="Non-evaluable cases: excluded, counted as test-negative or as test-positive "
        "(FDA 2007 guidance on equivocal results).",
    )
    against: Identifier | None = Field(
        default=None,
        description="For a difference metric (auc_difference, sensitivity_difference, "
        "specificity_difference, flip_fraction): the id of the comparator the candidate is "
        "compared with; the value compared is candidate − comparator ('unperturbed' with a "
        "{perturbation: ID} population: that robustness level − the unperturbed run).",
    )


class Requirement(Section):
    """A requirement with an ID that traces to the evidence."""

    id: Identifier = Field(description="Requirement ID, unique in the protocol, e.g. PERF-001.")
    text: str = Field(description="Requirement statement as written in the plan.")
    criteria: list[Criterion] = Field(min_length=1, description="All must be met.")
