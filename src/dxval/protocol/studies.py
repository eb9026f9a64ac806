"""Protocol ``robustness:``: perturbation levels scored again under the same locks (issue 19).

A robustness study (FDA draft guidance on AI-enabled device software
functions, 2025, §X.A and Appendix C: robustness to "reasonably foreseeable"
changes of the input) names perturbations from the closed registry of
:mod:`dxval.dicom.perturbations`, each with its parameters and a seed::

    robustness:
      seed: 20261206
      perturbations:
        - {id: noise_0.02, perturbation: gaussian_noise, parameters: {relative_sd: 0.02}}
        - {perturbation: rotation, parameters: {degrees: 10}}

Each level is scored by the same harness (perturbed after decode, before the
model's preprocessing) and analysed as a population of its own, paired with
the unperturbed run. Criteria name a level as ``population: {perturbation:
ID}``; the paired differences (``auc_difference``, ``sensitivity_difference``,
``specificity_difference``, ``flip_fraction``) take ``against: unperturbed``.

A left-right flip changes what a chest image means (lateralised anatomy), so
``lateral_flip`` is refused unless ``allow_lateral_flip: true`` comes with a
``lateral_flip_reason``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from pydantic import Field

from dxval.dicom.perturbations import (
    LATERAL_FLIP_REASON,
    Perturbation,
    PerturbationName,
    make_perturbation,
    window_problem,
)
from dxval.errors import ProtocolError
from dxval.protocol.criteria import Criterion, PerturbationPopulation
from dxval.protocol.sections import Identifier, Section
from dxval.stats.vocabulary import PRECISION_METRICS

__all__ = [
    "DIFFERENCE_AGAINST",
    "PerturbationLevel",
    "Precision",
    "Robustness",
    "RobustnessLevel",
    "criterion_issues",
    "precision_criterion_issues",
    "robustness_issues",
    "robustness_levels",
]

#: The comparator name of a robustness difference: the run without a perturbation.
DIFFERENCE_AGAINST = "unperturbed"
DEFAULT_ROBUSTNESS_SEED = 20261206

PerturbationChoice = str  # checked against PerturbationName in robustness_issues (exact match)


class RobustnessLevel(Section):
    """One perturbation level: a registry name, its parameters and (optionally) its own seed."""

    id: Identifier | None = Field(
        default=None,
        description="Population ID of this level (default: the perturbation's label, e.g. "
        "'gaussian_noise_0.02'); criteria name it as population: {perturbation: ID}.",
    )
    perturbation: PerturbationChoice = Field(
        description="A registry name: " + ", ".join(member.value for member in PerturbationName)
    )
    parameters: dict[str, float] = Field(
        default_factory=dict, description="Exactly the parameters of that registry entry."
    )
    seed: int | None = Field(
        default=None,
        ge=0,
        description="Seed of this level's random draws (default: robustness.seed).",
    )


class Robustness(Section):
    """Robustness study: each level scored through the same harness and paired with the original."""

    seed: int = Field(
        default=DEFAULT_ROBUSTNESS_SEED, ge=0, description="Default seed of every level."
    )
    perturbations: list[RobustnessLevel] = Field(
        min_length=1, description="Perturbation levels, each a population of its own."
    )
    allow_lateral_flip: bool = Field(
        default=False,
        description="Permit 'lateral_flip' (refused by default: it changes lateralised anatomy).",
    )
    lateral_flip_reason: str | None = Field(
        default=None, description="Why a left-right flip is meaningful here (required with it)."
    )


@dataclass(frozen=True, slots=True)
class PerturbationLevel:
    """A validated level as plain values: its population ID and the perturbation."""

    id: str
    perturbation: Perturbation


def _level(section: Robustness, index: int, where: str) -> PerturbationLevel:
    level = section.perturbations[index]
    perturbation = make_perturbation(
        level.perturbation,
        level.parameters,
        seed=section.seed if level.seed is None else level.seed,
        allow_lateral_flip=section.allow_lateral_flip,
        reason=section.lateral_flip_reason,
        where=where,
    )
    return PerturbationLevel(level.id or perturbation.label, perturbation)


def robustness_levels(section: Robustness | None) -> tuple[PerturbationLevel, ...]:
    """The levels of a checked ``robustness:`` section (empty without one).

    Raises
    ------
    ProtocolError
        A level the registry refuses (only when the section was not checked
        by :func:`robustness_issues` first).
    """
    if section is None:
        return ()
    return tuple(
        _level(section, index, f"robustness.perturbations[{index}]")
        for index in range(len(section.perturbations))
    )


def _split(message: str) -> tuple[str, str]:
    """``'robustness <name>.<parameter>: got X, expected Y'`` → (``<parameter> X``, Y)."""
    head, _, rest = message.partition(": got ")
    got, _, expected = rest.partition(", expected ")
    parameter = head.rsplit(".", 1)[1] if "." in head else ""
    return (f"{parameter} {got}" if parameter else got), expected or "registry parameters"


def _lateral_flip_issue(section: Robustness) -> tuple[str, str] | None:
    """Why a requested lateral flip is refused, as (got, expected); None when it is allowed."""
    if not section.allow_lateral_flip:
        return (
            "'lateral_flip' without allow_lateral_flip: true",
            f"no left-right flip: refused because {LATERAL_FLIP_REASON} (request one only with "
            "robustness.allow_lateral_flip: true and a lateral_flip_reason)",
        )
    if section.lateral_flip_reason is None or not section.lateral_flip_reason.strip():
        return (
            "allow_lateral_flip: true without a lateral_flip_reason",
            f"a statement of why a flip is meaningful here ({LATERAL_FLIP_REASON})",
        )
    return None


IssueTuple = tuple[tuple[str | int, ...], str, str]


def robustness_issues(
    section: Robustness | None,
    *,
    has_model: bool,
    preprocessing: Sequence[object] = (),
    model: str | None = None,
) -> Iterator[IssueTuple]:
    """(location, got, expected) of every problem of a ``robustness:`` section.

    The lateral-flip refusal names its reason: a left-right flip changes
    what a chest image means (lateralised anatomy). A ``ct_window`` level
    is refused when the model's ``preprocessing`` has no CT window to move
    (the message names the level and the ``model`` file).
    """
    if section is None:
        return
    if not has_model:
        yield (
            ("robustness",),
            "a robustness section in a predictions protocol",
            "a model: section (dxval perturbs the images and runs the model itself)",
        )
    ids: list[str] = []
    for index, level in enumerate(section.perturbations):
        here: tuple[str | int, ...] = ("robustness", "perturbations", index)
        if level.perturbation not in {member.value for member in PerturbationName}:
            known = ", ".join(repr(member.value) for member in PerturbationName)
            yield (*here, "perturbation"), repr(level.perturbation), f"one of {known}"
            continue
        if level.perturbation == PerturbationName.LATERAL_FLIP.value:
            flip = _lateral_flip_issue(section)
            if flip is not None:
                yield (*here, "perturbation"), *flip
                continue
        try:
            built = _level(section, index, "robustness")
        except ProtocolError as error:
            got, expected = _split(str(error))
            yield (*here, "parameters"), got, expected
            continue
        window = window_problem(preprocessing, built.perturbation)
        if window is not None and has_model:
            yield (
                (*here, "perturbation"),
                f"{built.perturbation.name.value!r} (level {built.id!r}) for model {model} whose "
                f"preprocessing has {window}",
                "a CT model whose preprocessing applies {op: window, center, width} (HU) after "
                "{op: modality_lut}: the perturbation moves that window",
            )
        if built.id == DIFFERENCE_AGAINST or built.id in ids:
            expected = f"a level ID unique in robustness, not {DIFFERENCE_AGAINST!r}"
            yield (*here, "id"), repr(built.id), expected
        ids.append(built.id)
    if section.lateral_flip_reason is not None and not section.allow_lateral_flip:
        yield (
            ("robustness", "lateral_flip_reason"),
            "a reason without allow_lateral_flip: true",
            "both, or neither",
        )


def criterion_issues(
    section: Robustness | None, criterion: Criterion, location: tuple[str | int, ...]
) -> Iterator[IssueTuple]:
    """(location, got, expected) of a criterion's ``{perturbation: ID}`` / ``unperturbed`` problems.

    ``against`` itself (missing on a difference metric, set on another
    metric, an unknown id) is checked with the comparators
    (:func:`dxval.protocol.comparators.check_comparators`, where
    ``unperturbed`` is a known id when the protocol has a robustness study).
    Here: ``against: unperturbed`` needs a ``{perturbation: ID}`` population,
    such a population names a declared level, and a comparator model is not
    scored on perturbed inputs.
    """
    population = criterion.population
    perturbed = isinstance(population, PerturbationPopulation)
    if criterion.against == DIFFERENCE_AGAINST and not perturbed:
        yield (
            (*location, "population"),
            _shown(population),
            f"{{perturbation: ID}} for a difference against {DIFFERENCE_AGAINST}",
        )
    if not isinstance(population, PerturbationPopulation):
        return
    if criterion.against not in (None, DIFFERENCE_AGAINST):
        yield (
            (*location, "against"),
            repr(criterion.against),
            f"{DIFFERENCE_AGAINST!r} on a {{perturbation: ID}} population (comparators are not "
            "scored on perturbed inputs)",
        )
    ids = _level_ids(section)
    if section is None:
        yield (
            (*location, "population", "perturbation"),
            repr(population.perturbation),
            "a robustness section declaring this level",
        )
    elif population.perturbation not in ids:
        shown = ", ".join(repr(name) for name in ids)
        yield (
            (*location, "population", "perturbation"),
            repr(population.perturbation),
            f"one of {shown}",
        )


def _level_ids(section: Robustness | None) -> list[str]:
    """IDs of the levels that are valid (invalid ones are reported by robustness_issues)."""
    ids = []
    for index in range(0 if section is None else len(section.perturbations)):
        assert section is not None  # for mypy: the range is empty without a section
        try:
            ids.append(_level(section, index, "robustness").id)
        except ProtocolError:
            continue
    return ids


def _shown(population: object) -> str:
    if isinstance(population, str):
        return repr(population)
    if isinstance(population, Section):
        return str(population.model_dump(exclude_none=True))
    return str(population)


class Precision(Section):
    """Precision over repeated acquisitions: the manifest column that groups the repeats."""

    repeat_group: str = Field(
        min_length=1,
        description="Manifest column naming the repeat group of a case (the same patient or "
        "lesion acquired again); an empty cell means the case is not repeated. Within-group "
        "SD, ICC(1,1)/(2,1)/(3,1), Bland–Altman limits (2 repeats) and decision agreement "
        "are computed over the groups.",
    )


def precision_criterion_issues(
    section: Precision | None, criterion: Criterion, location: tuple[str | int, ...]
) -> Iterator[IssueTuple]:
    """(location, got, expected) of a criterion on a precision metric (needs ``precision:``)."""
    if criterion.metric not in PRECISION_METRICS:
        return
    if section is None:
        yield (
            (*location, "metric"),
            repr(criterion.metric),
            "a precision section (precision: {repeat_group: COLUMN}) for this metric",
        )
    if criterion.population != "all":
        yield (
            (*location, "population"),
            _shown(criterion.population),
            "'all' (a precision metric is over all repeat groups)",
        )
    if criterion.spread is not None:
        yield (*location, "spread"), repr(criterion.spread), "no spread"
