"""Cross-field checks of a schema-valid protocol, each located at the offending field.

Pydantic validates each field on its own; these checks relate fields to one
another: exactly one score source, unique IDs, criteria that name declared
sites, test sets and attributes, and combinations that have no meaning (a
spread over a single population, a confidence bound of a spread). Each
problem is an :class:`Issue` with the location of the field to fix, so the
loader can point at its line.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from dxval.dicom.phi_table import identifying_row_name
from dxval.dicom.steps import check_pipeline
from dxval.protocol.comparators import check_comparators
from dxval.protocol.criteria import (
    CellPopulation,
    Criterion,
    EachPopulation,
    TestSetPopulation,
)
from dxval.protocol.latency import latency_issues
from dxval.protocol.model_outputs import output_problems
from dxval.protocol.provenance import check_provenance
from dxval.protocol.schema import Protocol
from dxval.protocol.sections import RESERVED_ATTRIBUTE_NAMES, Attribute
from dxval.protocol.studies import (
    criterion_issues,
    precision_criterion_issues,
    robustness_issues,
)
from dxval.protocol.tasks import task_problems
from dxval.stats.vocabulary import DECISION_METRICS as STATS_DECISION_METRICS
from dxval.stats.vocabulary import PRECISION_METRICS, READER_STUDY_METRICS
from dxval.stats.wording import plural

Location = tuple[str | int, ...]

#: Table E.1-1 attributes usable as subgroup variables without justification.
FREELY_USABLE_IDENTIFYING = frozenset({"PatientSex"})
#: Table E.1-1 attributes usable without justification when ``bins`` coarsens them.
_BINNED_IDENTIFYING = frozenset({"PatientAge"})

_CALIBRATION_METRICS = frozenset(
    {"brier", "log_loss", "ece", "calibration_slope", "calibration_intercept"}
)
#: Metrics computed from decisions at the operating point; only these can count
#: non-evaluable cases as test-negative or test-positive.
DECISION_METRICS = frozenset(STATS_DECISION_METRICS)
_PREVALENCE_METRICS = frozenset({"ppv_at_prevalence", "npv_at_prevalence"})


@dataclass(frozen=True, slots=True)
class Issue:
    """One protocol problem: where, what was found and what was expected."""

    location: Location
    got: str
    expected: str


def show_value(value: object, *, limit: int = 60) -> str:
    """Render a found value for an error message: quoted text, shortened when long."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _one_of(options: Sequence[str]) -> str:
    shown = ", ".join(repr(option) for option in options)
    return f"one of {shown}" if options else "none (nothing is declared)"


def check_protocol(protocol: Protocol) -> list[Issue]:
    """Return every cross-field problem of ``protocol`` (empty when it is consistent)."""
    return [
        *_check_source(protocol),
        *_check_unique_ids(protocol),
        *_check_truth(protocol),
        *_check_attributes(protocol),
        *_check_requirements(protocol),
        *_check_reader_study(protocol),
        *check_provenance(protocol),
        *(Issue(*problem) for problem in task_problems(protocol)),
        *(Issue(*problem) for problem in output_problems(protocol)),  # issue 16 item 5
        *_check_robustness(protocol),  # issue 19
        *(Issue(*found) for found in check_comparators(protocol)),
        *(Issue(*found) for found in latency_issues(protocol)),  # issue 19: latency
    ]


def _check_robustness(protocol: Protocol) -> Iterator[Issue]:
    model = protocol.model
    issues = robustness_issues(
        protocol.robustness,
        has_model=model is not None,
        preprocessing=protocol.preprocessing,
        model=None if model is None else model.path,
    )
    yield from (Issue(*issue) for issue in issues)


def _check_source(protocol: Protocol) -> Iterator[Issue]:
    if protocol.model is not None and protocol.predictions is not None:
        yield Issue(("predictions",), "both model and predictions", "exactly one of them")
    elif (
        protocol.model is None and protocol.predictions is None and protocol.task != "segmentation"
    ):
        yield Issue((), "neither model nor predictions", "exactly one of them")
    if protocol.predictions is not None and protocol.preprocessing:
        yield Issue(
            ("preprocessing",),
            f"{plural(len(protocol.preprocessing), 'step')} in a predictions protocol",
            "no preprocessing (scores come from the predictions file)",
        )
        return
    try:
        check_pipeline(protocol.preprocessing)
    except ValueError as error:
        match = re.match(r"preprocessing\[(\d+)\] \(([^)]*)\): (.*)", str(error))
        if match is None:
            yield Issue(("preprocessing",), str(error), "a valid step order")
        else:
            yield Issue(
                ("preprocessing", int(match.group(1))),
                f"{match.group(2)}: {match.group(3)}",
                "a valid step order",
            )


def _duplicates(values: Sequence[str]) -> Iterator[tuple[int, str]]:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            yield index, value
        seen.add(value)


def _check_unique_ids(protocol: Protocol) -> Iterator[Issue]:
    for index, value in _duplicates([test_set.id for test_set in protocol.test_sets]):
        yield Issue(("test_sets", index, "id"), f"duplicate ID {value!r}", "a unique test set ID")
    for index, value in _duplicates([requirement.id for requirement in protocol.requirements]):
        yield Issue(
            ("requirements", index, "id"), f"duplicate ID {value!r}", "a unique requirement ID"
        )


def _check_truth(protocol: Protocol) -> Iterator[Issue]:
    if protocol.truth is None:  # required for classification only: dxval.protocol.tasks
        return
    both = sorted(set(protocol.truth.positive) & set(protocol.truth.negative))
    if both:
        yield Issue(
            ("truth", "negative"),
            f"{', '.join(map(repr, both))} also listed as positive",
            "labels that are either positive or negative",
        )


def _check_attributes(protocol: Protocol) -> Iterator[Issue]:
    for name, attribute in protocol.attributes.items():
        if name in RESERVED_ATTRIBUTE_NAMES:
            yield Issue(
                ("attributes", name),
                f"attribute named {name!r}",
                f"a name other than {', '.join(sorted(RESERVED_ATTRIBUTE_NAMES))}",
            )
        if (attribute.column is None) == (attribute.dicom is None):
            yield Issue(("attributes", name), "column and dicom both or neither set", "one of them")
        if attribute.dicom is not None:
            yield from _check_identifying(name, attribute)
        bins = attribute.bins or []
        if any(later <= earlier for earlier, later in itertools.pairwise(bins)):
            yield Issue(("attributes", name, "bins"), str(bins), "strictly increasing band edges")
    retained = protocol.qc.phi_retained
    for index, keyword in enumerate([] if retained is None else retained.attributes):
        if identifying_row_name(keyword) is None:
            yield Issue(
                ("qc", "phi_retained", "attributes", index),
                show_value(keyword),
                "a DICOM keyword of PS3.15 Table E.1-1",
            )
    for index, name in enumerate(protocol.analysis.site_by):
        if name not in protocol.attributes:
            yield Issue(
                ("analysis", "site_by", index),
                show_value(name),
                f"an attribute name: {_one_of(list(protocol.attributes))}",
            )


def _check_identifying(name: str, attribute: Attribute) -> Iterator[Issue]:
    """PHI rule for subgroup attributes read from DICOM (README "PHI in subgroup attributes").

    PatientSex is allowed (a three-code vocabulary that the Retain Patient
    Characteristics option of PS3.15 keeps) and PatientAge when ``bins``
    coarsens it to bands; every other Table E.1-1 attribute needs both a
    ``phi_justification`` and ``bins``, so that only band labels reach the
    evidence. The message names the attribute, never a value.
    """
    keyword = attribute.dicom or ""
    row_name = identifying_row_name(keyword)
    if row_name is None or keyword in FREELY_USABLE_IDENTIFYING:
        return
    if keyword in _BINNED_IDENTIFYING and attribute.bins is not None:
        return
    if attribute.phi_justification is not None and attribute.bins is not None:
        return
    missing = [
        field
        for field, value in (
            ("phi_justification", attribute.phi_justification),
            ("bins", attribute.bins),
        )
        if value is None
    ]
    yield Issue(
        ("attributes", name, "dicom"),
        f"{keyword} (identifying: PS3.15 Table E.1-1 {row_name!r})",
        "a non-identifying attribute, or " + " and ".join(missing) + " (coarsened, justified use)",
    )


def _check_requirements(protocol: Protocol) -> Iterator[Issue]:
    for requirement_index, requirement in enumerate(protocol.requirements):
        for criterion_index, criterion in enumerate(requirement.criteria):
            location: Location = ("requirements", requirement_index, "criteria", criterion_index)
            robustness = criterion_issues(protocol.robustness, criterion, location)  # issue 19
            yield from (Issue(*issue) for issue in robustness)
            precision = precision_criterion_issues(protocol.precision, criterion, location)
            if criterion.metric in PRECISION_METRICS:
                yield from (Issue(*issue) for issue in precision)
                continue
            if criterion.metric in READER_STUDY_METRICS:
                yield from _check_reader_study_criterion(protocol, criterion, location)
                continue
            yield from _check_population(protocol, criterion, location)
            yield from _check_criterion_form(protocol, criterion, location)


def _check_population(
    protocol: Protocol, criterion: Criterion, location: Location
) -> Iterator[Issue]:
    population = criterion.population
    here: Location = (*location, "population")
    attributes = list(protocol.attributes)
    if isinstance(population, EachPopulation):
        families = ["site", "test_set", *attributes]
        if population.each not in families:
            yield Issue((*here, "each"), show_value(population.each), _one_of(families))
        if population.site is not None and population.each in ("site", "test_set"):
            yield Issue((*here, "site"), show_value(population.site), "no site for this family")
    if isinstance(population, CellPopulation) and population.attribute not in attributes:
        yield Issue((*here, "attribute"), show_value(population.attribute), _one_of(attributes))
    if isinstance(population, TestSetPopulation):
        ids = [test_set.id for test_set in protocol.test_sets]
        if population.test_set not in ids:
            yield Issue((*here, "test_set"), show_value(population.test_set), _one_of(ids))
    site = getattr(population, "site", None)
    if site is not None and site not in protocol.sites:
        yield Issue((*here, "site"), show_value(site), _one_of(protocol.sites))


def _check_criterion_form(
    protocol: Protocol, criterion: Criterion, location: Location
) -> Iterator[Issue]:
    if criterion.spread is not None:
        if not isinstance(criterion.population, EachPopulation):
            yield Issue(
                (*location, "population"),
                show_value(criterion.population),
                "a family {each: ...} for a spread",
            )
        if criterion.bound != "point":
            yield Issue((*location, "bound"), show_value(criterion.bound), "'point' for a spread")
    if criterion.metric in _PREVALENCE_METRICS and protocol.statistics.prevalence is None:
        yield Issue(
            (*location, "metric"),
            show_value(criterion.metric),
            "statistics.prevalence to be set for this metric",
        )
    if criterion.non_evaluable != "exclude" and criterion.metric not in DECISION_METRICS:
        yield Issue(
            (*location, "non_evaluable"),
            show_value(criterion.non_evaluable),
            f"'exclude' for {criterion.metric} (only decision metrics can impute a call)",
        )
    if criterion.metric in _CALIBRATION_METRICS and protocol.statistics.calibration is None:
        yield Issue(
            (*location, "metric"),
            show_value(criterion.metric),
            "statistics.calibration to be set for this metric",
        )


def _check_reader_study(protocol: Protocol) -> Iterator[Issue]:
    study = protocol.reader_study
    if study is not None and study.test == study.reference:
        yield Issue(
            ("reader_study", "test"), show_value(study.test), "a modality other than reference"
        )
    if study is not None and study.method == "u-statistic" and study.factors != "rrrc":
        yield Issue(
            ("reader_study", "factors"),
            show_value(study.factors),
            "'rrrc' for the u-statistic method (random readers and cases)",
        )


def _check_reader_study_criterion(
    protocol: Protocol, criterion: Criterion, location: Location
) -> Iterator[Issue]:
    """A reader-study criterion: one number over all readers and cases, from reader_study."""
    if protocol.reader_study is None:
        yield Issue(
            (*location, "metric"),
            show_value(criterion.metric),
            "a reader_study section for this metric",
        )
    elif criterion.metric != "mrmc_auc_difference" and protocol.reader_study.threshold is None:
        yield Issue(
            (*location, "metric"),
            show_value(criterion.metric),
            "reader_study.threshold to be set for this metric (binary reads)",
        )
    if criterion.population != "all":
        yield Issue(
            (*location, "population"),
            show_value(criterion.population),
            "'all' (a reader-study metric is over all readers and cases)",
        )
    if criterion.spread is not None:
        yield Issue((*location, "spread"), show_value(criterion.spread), "no spread")
    if criterion.non_evaluable != "exclude":
        yield Issue((*location, "non_evaluable"), show_value(criterion.non_evaluable), "'exclude'")
