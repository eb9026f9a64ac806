"""Populations: all cases, each site and test set, each attribute level, site × attribute.

Numeric attributes are banded by the protocol's bins: ``[a, b)`` bands, the
last one closed ``[y, z]``. DICOM age strings (VR AS, PS3.5 Table 6.2-1:
``nnnD``, ``nnnW``, ``nnnM``, ``nnnY``) are converted to years first. An
empty value is the level ``missing``, reported like any other level, so no
case silently leaves a subgroup analysis.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from dxval.errors import InputError

MISSING_LEVEL = "missing"
_AGE_STRING = re.compile(r"^(\d{3})([DWMY])$")
_YEARS_PER_UNIT = {"D": 1 / 365.25, "W": 7 / 365.25, "M": 1 / 12, "Y": 1.0}


def parse_dicom_age(text: str) -> float | None:
    """Years from a DICOM Age String (PS3.5 Table 6.2-1), e.g. ``'045Y'`` → 45.0; else None.

    Days and weeks use 365.25 days per year; months 12 per year.
    """
    match = _AGE_STRING.match(text)
    if match is None:
        return None
    return int(match.group(1)) * _YEARS_PER_UNIT[match.group(2)]


def _edge(value: float) -> str:
    return f"{value:g}"


def band_labels(bins: Sequence[float]) -> list[str]:
    """Labels of the bands between ``bins`` edges: ``[a, b)`` …, the last ``[y, z]``."""
    last = len(bins) - 2
    return [
        f"[{_edge(low)}, {_edge(high)}{']' if index == last else ')'}"
        for index, (low, high) in enumerate(itertools.pairwise(bins))
    ]


def band_of(text: str, bins: Sequence[float], *, where: str) -> str:
    """The band label of one attribute value (text as read), or ``missing`` when empty.

    Raises
    ------
    InputError
        The value is neither a number nor a DICOM age string, or lies outside
        the bins (``where`` locates it).
    """
    if not text:
        return MISSING_LEVEL
    value = parse_dicom_age(text)
    if value is None:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
    if not math.isfinite(value):
        raise InputError(f"{where}: got {text!r} expected a number or a DICOM age such as '045Y'")
    labels = band_labels(bins)
    if not bins[0] <= value <= bins[-1]:
        raise InputError(
            f"{where}: got {text!r} expected a value within the bins [{_edge(bins[0])}, "
            f"{_edge(bins[-1])}]"
        )
    index = min(int(np.searchsorted(bins, value, side="right")) - 1, len(labels) - 1)
    return labels[index]


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    """How an attribute's values become levels: its name, display label and optional bins."""

    name: str
    label: str
    bins: tuple[float, ...] | None = None

    def levels_in_order(self, present: set[str]) -> list[str]:
        """Levels present in the data: bands in bin order (or sorted text), ``missing`` last."""
        if self.bins is not None:
            ordered = [label for label in band_labels(self.bins) if label in present]
        else:
            ordered = sorted(level for level in present if level != MISSING_LEVEL)
        return ordered + ([MISSING_LEVEL] if MISSING_LEVEL in present else [])


@dataclass(frozen=True, slots=True, eq=False)
class Population:
    """A named subset of the cases (``mask`` over the case table)."""

    key: str
    label: str
    kind: str
    mask: npt.NDArray[np.bool_]
    site: str | None = None
    test_set: str | None = None
    attribute: str | None = None
    level: str | None = None

    def describe(self) -> dict[str, object]:
        """JSON-safe identity of the population (without its cases)."""
        return {
            "key": self.key,
            "label": self.label,
            "kind": self.kind,
            "site": self.site,
            "test_set": self.test_set,
            "attribute": self.attribute,
            "level": self.level,
        }


@dataclass(frozen=True, slots=True)
class PopulationIndex:
    """Every population of a run, in report order, with lookups for criteria."""

    populations: tuple[Population, ...]
    by_key: Mapping[str, Population] = field(default_factory=dict)

    @classmethod
    def of(cls, populations: Sequence[Population]) -> PopulationIndex:
        """Index ``populations`` by key."""
        return cls(tuple(populations), {population.key: population for population in populations})

    def family(
        self, kind: str, *, attribute: str | None = None, site: str | None = None
    ) -> list[Population]:
        """Populations of one kind (e.g. every site, every level of ``attribute``)."""
        return [
            population
            for population in self.populations
            if population.kind == kind
            and (attribute is None or population.attribute == attribute)
            and (site is None or population.site == site)
        ]


def site_key(site: str) -> str:
    """Key of a site population."""
    return f"site={site}"


def test_set_key(test_set: str) -> str:
    """Key of a test-set population."""
    return f"test_set={test_set}"


def level_key(attribute: str, level: str, *, site: str | None = None) -> str:
    """Key of an attribute-level population, optionally within a site."""
    return (f"site={site}|" if site is not None else "") + f"{attribute}={level}"


def build_populations(
    sites: npt.NDArray[np.str_],
    test_sets: npt.NDArray[np.str_],
    levels: Mapping[str, npt.NDArray[np.str_]],
    *,
    site_order: Sequence[str],
    test_set_order: Sequence[str],
    attributes: Sequence[AttributeSpec],
    site_by: Sequence[str] = (),
) -> PopulationIndex:
    """All populations of a run, in report order.

    Parameters
    ----------
    sites, test_sets:
        Per-case site name and test-set ID, shape (n_cases,).
    levels:
        Attribute name → per-case level (band label, text or ``missing``).
    site_order, test_set_order:
        Declaration order in the protocol.
    attributes:
        Attribute specs in declaration order.
    site_by:
        Attributes also analysed within each site.

    Test-set populations are listed only when some site has several test sets;
    otherwise each site population carries its one test set's ID.
    """
    everything = np.ones(sites.shape, dtype=bool)
    populations = [Population("all", "All cases", "all", everything)]
    separate_test_sets = len(test_set_order) > len(site_order)
    populations += _site_populations(
        sites, test_sets, site_order, one_test_set=not separate_test_sets
    )
    if separate_test_sets:
        populations += [
            Population(
                test_set_key(test_set),
                f"Test set {test_set}",
                "test_set",
                test_sets == test_set,
                test_set=test_set,
            )
            for test_set in test_set_order
        ]
    for spec in attributes:
        populations += _level_populations(spec, levels[spec.name], everything)
    for spec in attributes:
        if spec.name in site_by:
            for site in site_order:
                populations += _level_populations(spec, levels[spec.name], sites == site, site=site)
    return PopulationIndex.of(populations)


def _site_populations(
    sites: npt.NDArray[np.str_],
    test_sets: npt.NDArray[np.str_],
    site_order: Sequence[str],
    *,
    one_test_set: bool,
) -> list[Population]:
    """One population per site; it names its test set when the site has only one."""
    return [
        Population(
            site_key(site),
            site,
            "site",
            sites == site,
            site=site,
            test_set=_first(test_sets, sites == site) if one_test_set else None,
        )
        for site in site_order
    ]


def _first(values: npt.NDArray[np.str_], where: npt.NDArray[np.bool_]) -> str | None:
    """The first of ``values`` where ``where`` holds (no gather of the rest); None if none."""
    return str(values[int(np.argmax(where))]) if bool(where.any()) else None


def _level_populations(
    spec: AttributeSpec,
    values: npt.NDArray[np.str_],
    within: npt.NDArray[np.bool_],
    *,
    site: str | None = None,
) -> list[Population]:
    """One population per level of ``spec`` present among the cases ``within``."""
    prefix = f"{site}, " if site is not None else ""
    return [
        Population(
            level_key(spec.name, level, site=site),
            f"{prefix}{spec.label}: {level}",
            "attribute" if site is None else "site_attribute",
            within & (values == level),
            site=site,
            attribute=spec.name,
            level=level,
        )
        for level in spec.levels_in_order(_distinct(values, within))
    ]


_CHUNK = 1 << 18


def _distinct(values: npt.NDArray[np.str_], within: npt.NDArray[np.bool_]) -> set[str]:
    """The distinct values of ``values[within]``, hashed chunk by chunk (bounded memory)."""
    found: set[str] = set()
    for start in range(0, values.shape[0], _CHUNK):
        found.update(values[start : start + _CHUNK][within[start : start + _CHUNK]].tolist())
    return found
