"""The SOUP list ``qms/soup.yaml``, generated from ``pyproject.toml`` and installed distributions.

IEC 62304 §8.1.2 asks for the title, manufacturer and unique designation
(version) of every SOUP item; §5.3.3/§5.3.4 for its purpose, requirements
and verification. ``dxval qms soup`` reads the runtime dependencies of
``pyproject.toml`` (``[project] dependencies`` and every optional extra but
``dev``), follows them through the installed distributions' metadata to the
full runtime closure, and writes for each item its name, version, licence
(metadata: ``License-Expression``, else the licence classifiers, else a short
``License`` field), the requirement that pulls it in, and dxval's purpose,
risk class and verification (:mod:`dxval.qms.soup_catalog`; transitive items
inherit the highest class of what needs them).

The list stores the SHA-256 of the dependency specification, so a test
fails when ``pyproject.toml``'s dependencies change and the list was not
regenerated (:func:`soup_problems`). :func:`installation_qualification`
compares the installed versions with the list (the IQ of ``dxval
self-validate``).

The list is shipped inside the package (``dxval/qms/soup.yaml``, a symbolic
link to ``qms/soup.yaml`` in the source tree that the wheel build copies),
so an installed dxval can qualify itself (:func:`packaged_soup_path`).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field

from dxval import __version__
from dxval.errors import UsageError
from dxval.qms.records import load_yaml_record
from dxval.qms.soup_catalog import CATALOG, RISK_CLASSES, SoupPurpose

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the tomli backport provides the same API
    import tomli as tomllib

SOUP_SCHEMA = "dxval-soup/1"
#: Name of the SOUP list inside the ``dxval.qms`` package.
PACKAGED_SOUP = "soup.yaml"
#: Optional extras that are development tools, not part of the product.
DEVELOPMENT_EXTRAS = frozenset({"dev"})


@dataclass(frozen=True, slots=True)
class DependencySpecification:
    """The runtime dependencies declared in ``pyproject.toml``."""

    dependencies: tuple[str, ...]
    optional: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def digest(self) -> str:
        """SHA-256 of the sorted, whitespace-normalised specification (canonical JSON)."""
        document = {
            "dependencies": sorted(_normal(text) for text in self.dependencies),
            "optional": {
                extra: sorted(_normal(text) for text in items)
                for extra, items in sorted(self.optional.items())
            },
        }
        return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SoupItem:
    """One SOUP item."""

    name: str
    version: str
    licence: str
    requirement: str | None
    extra: str | None
    required_by: tuple[str, ...]
    purpose: str
    risk_class: str
    verification: str


@dataclass(frozen=True, slots=True)
class SoupList:
    """The SOUP list and the dependency specification it was generated from."""

    specification: DependencySpecification
    dependencies_sha256: str
    items: tuple[SoupItem, ...]
    generated_with: Mapping[str, str]


def _normal(text: str) -> str:
    return "".join(text.split())


def read_dependency_specification(pyproject: str | Path) -> DependencySpecification:
    """The runtime dependencies of ``pyproject`` (``dependencies`` and non-``dev`` extras).

    Raises
    ------
    UsageError
        The file is missing, not TOML, or has no ``[project]`` table.
    """
    path = Path(pyproject)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"{path}: cannot read ({error.strerror})") from error
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{path}: not valid TOML ({error})") from error
    project = document.get("project")
    if not isinstance(project, dict):
        raise UsageError(f"{path}: no [project] table; expected dxval's pyproject.toml")
    optional = project.get("optional-dependencies", {})
    return DependencySpecification(
        tuple(project.get("dependencies", [])),
        {
            extra: tuple(items)
            for extra, items in sorted(optional.items())
            if extra not in DEVELOPMENT_EXTRAS
        },
    )


#: Distributions offered under a choice of licences, and the one dxval uses them
#: under. Trove classifiers cannot say whether several licences combine or are
#: alternatives, so a multi-licence distribution is resolved here, by reading
#: its licence file, rather than guessed.
LICENCE_CHOICES: Mapping[str, str] = {
    "pyphen": "MPL-1.1 (offered under GPL-2.0-or-later OR LGPL-2.1-or-later OR MPL-1.1; "
    "dxval uses it under MPL-1.1)",
}

#: Licence words that must not appear in the runtime path unless resolved above.
COPYLEFT_MARKERS = ("GPL", "AGPL", "General Public License")


def distribution_licence(distribution: metadata.Distribution) -> str:
    """Licence of an installed distribution from its metadata (SPDX expression preferred).

    Several licence classifiers are listed with ``" / "`` between them: the
    metadata does not say whether they combine or are alternatives
    (:data:`LICENCE_CHOICES` resolves those that matter).
    """
    fields = distribution.metadata
    name = str(fields["Name"] or "").lower()
    if name in LICENCE_CHOICES:
        return LICENCE_CHOICES[name]
    expression = fields["License-Expression"]
    if expression:
        return str(expression)
    classifiers = [
        str(text).split(" :: ")[-1]
        for text in fields.get_all("Classifier") or []
        if str(text).startswith("License ::")
    ]
    if classifiers:
        return " / ".join(dict.fromkeys(classifiers))
    text = str(fields["License"] or "").strip()
    if text and "\n" not in text and len(text) <= 60:
        return text
    return "see the distribution's licence file (no short licence in its metadata)"


def _installed(name: str, *, needed_by: str) -> metadata.Distribution:
    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError as error:
        raise UsageError(
            f"{name} ({needed_by}) is not installed; install dxval with its extras "
            "before generating the SOUP list"
        ) from error


def _requirements_of(
    distribution: metadata.Distribution, extras: frozenset[str] = frozenset()
) -> list[Requirement]:
    """The requirements of ``distribution`` itself and of the ``extras`` asked of it."""
    found = []
    for text in distribution.requires or []:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": name}) for name in ("", *extras)):
            found.append(requirement)
    return found


@dataclass
class _Closure:
    """Working state of the dependency walk."""

    direct: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    parents: dict[str, set[str]] = field(default_factory=dict)
    extras: dict[str, set[str | None]] = field(default_factory=dict)
    distributions: dict[str, metadata.Distribution] = field(default_factory=dict)


def _walk(specification: DependencySpecification) -> _Closure:
    closure = _Closure()
    pending: list[tuple[Requirement, str | None, str | None]] = []
    for extra, texts in [(None, specification.dependencies), *specification.optional.items()]:
        for text in texts:
            requirement = Requirement(text)
            name = canonicalize_name(requirement.name)
            closure.direct.setdefault(name, (text, extra))
            pending.append((requirement, None, extra))
    visited: set[tuple[str, str | None, frozenset[str]]] = set()
    while pending:
        requirement, parent, extra = pending.pop()
        name = canonicalize_name(requirement.name)
        closure.parents.setdefault(name, set())
        if parent is not None:
            closure.parents[name].add(parent)
        closure.extras.setdefault(name, set()).add(extra)
        # A requirement such as fonttools[woff] pulls in the extra's requirements too.
        asked = frozenset(requirement.extras)
        if (name, extra, asked) in visited:
            continue
        visited.add((name, extra, asked))
        if name not in closure.distributions:
            needed_by = "pyproject.toml" if parent is None else f"required by {parent}"
            closure.distributions[name] = _installed(requirement.name, needed_by=needed_by)
        children = _requirements_of(closure.distributions[name], asked)
        pending.extend((child, name, extra) for child in children)
    return closure


def _direct_ancestors(name: str, closure: _Closure) -> list[str]:
    """The declared dependencies through which ``name`` is installed (cycle-safe walk up)."""
    found, seen, stack = set(), {name}, [name]
    while stack:
        for parent in closure.parents[stack.pop()]:
            if parent in closure.direct:
                found.add(parent)
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return sorted(found)


def _purpose(name: str, closure: _Closure) -> SoupPurpose:
    """Catalog entry of a declared item; a derived one for a transitive item.

    A transitive item takes the highest risk class of the declared
    dependencies that need it, and is verified through their verification.
    """
    catalog = {str(canonicalize_name(key)): value for key, value in CATALOG.items()}
    if name in closure.direct:
        if name not in catalog:
            raise UsageError(
                f"SOUP item {name}: no purpose, risk class and verification recorded; add it "
                "to dxval.qms.soup_catalog.CATALOG before generating the SOUP list"
            )
        return catalog[name]
    ancestors = _direct_ancestors(name, closure)
    risk = min(
        (_purpose(ancestor, closure).risk_class for ancestor in ancestors),
        key=RISK_CLASSES.index,
        default="low",
    )
    return SoupPurpose(
        f"Runtime dependency of {', '.join(sorted(closure.parents[name]))}.",
        risk,
        f"Indirectly, through the verification of {', '.join(ancestors)}.",
    )


def build_soup(pyproject: str | Path) -> SoupList:
    """The SOUP list for ``pyproject``'s runtime dependencies as installed now.

    Raises
    ------
    UsageError
        Unreadable ``pyproject.toml``, a dependency not installed, or a direct
        dependency without an entry in :data:`dxval.qms.soup_catalog.CATALOG`.
    """
    specification = read_dependency_specification(pyproject)
    closure = _walk(specification)
    items = []
    for name in sorted(closure.distributions):
        distribution = closure.distributions[name]
        purpose = _purpose(name, closure)
        requirement = closure.direct[name][0] if name in closure.direct else None
        extras = closure.extras[name]
        extra = None if None in extras else ",".join(sorted(str(e) for e in extras))
        items.append(
            SoupItem(
                name=str(distribution.metadata["Name"]),
                version=str(distribution.version),
                licence=distribution_licence(distribution),
                requirement=requirement,
                extra=extra,
                required_by=tuple(sorted(closure.parents[name])),
                purpose=purpose.purpose,
                risk_class=purpose.risk_class,
                verification=purpose.verification,
            )
        )
    generated_with = {"dxval": __version__, "python": ".".join(map(str, sys.version_info[:3]))}
    return SoupList(specification, specification.digest(), tuple(items), generated_with)


def _scalar(value: Any) -> str:
    """A YAML scalar: JSON strings and null are valid YAML flow scalars."""
    return json.dumps(value, ensure_ascii=False)


def render_soup(soup: SoupList) -> bytes:
    """``qms/soup.yaml`` text for ``soup`` (deterministic; JSON-quoted scalars)."""
    lines = [
        "# SOUP list of dxval (IEC 62304 §8.1.2), generated by `dxval qms soup` from",
        "# pyproject.toml and the installed distributions. Do not edit by hand: purposes,",
        "# risk classes and verification are in src/dxval/qms/soup_catalog.py.",
        f"schema: {_scalar(SOUP_SCHEMA)}",
        "generated_with:",
        *(f"  {key}: {_scalar(value)}" for key, value in soup.generated_with.items()),
        f"dependencies_sha256: {_scalar(soup.dependencies_sha256)}",
        "dependencies:",
        *(f"  - {_scalar(text)}" for text in soup.specification.dependencies),
        "optional_dependencies:" + ("" if soup.specification.optional else " {}"),
    ]
    for extra, texts in soup.specification.optional.items():
        lines += [f"  {extra}:", *(f"    - {_scalar(text)}" for text in texts)]
    lines.append("items:")
    for item in soup.items:
        lines += [
            f"  - name: {_scalar(item.name)}",
            f"    version: {_scalar(item.version)}",
            f"    licence: {_scalar(item.licence)}",
            f"    requirement: {_scalar(item.requirement)}",
            f"    extra: {_scalar(item.extra)}",
            f"    required_by: {_scalar(list(item.required_by))}",
            f"    purpose: {_scalar(item.purpose)}",
            f"    risk_class: {_scalar(item.risk_class)}",
            f"    verification: {_scalar(item.verification)}",
        ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def write_soup(pyproject: str | Path, out: str | Path) -> SoupList:
    """Generate the SOUP list (:func:`build_soup`) and write it to ``out``.

    Raises
    ------
    UsageError
        See :func:`build_soup`; or ``out`` cannot be written.
    """
    soup = build_soup(pyproject)
    path = Path(out)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(render_soup(soup))
    except OSError as error:
        raise UsageError(f"{path}: cannot write the SOUP list ({error.strerror})") from error
    return soup


class _SoupItemModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: str
    version: str
    licence: str
    requirement: str | None
    extra: str | None
    required_by: list[str]
    purpose: str
    risk_class: str = Field(pattern="^(high|medium|low)$")
    verification: str


class _SoupModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    schema_name: str = Field(alias="schema", pattern="^dxval-soup/1$")
    generated_with: dict[str, str]
    dependencies_sha256: str = Field(pattern="^[0-9a-f]{64}$")
    dependencies: list[str]
    optional_dependencies: dict[str, list[str]]
    items: list[_SoupItemModel]


def load_soup(path: str | Path) -> SoupList:
    """Read ``qms/soup.yaml``.

    Raises
    ------
    InputError
        Unreadable file or a schema violation (file, line and field named).
    """
    _, model = load_yaml_record(Path(path), _SoupModel)
    specification = DependencySpecification(
        tuple(model.dependencies),
        {extra: tuple(items) for extra, items in model.optional_dependencies.items()},
    )
    items = tuple(
        SoupItem(
            name=item.name,
            version=item.version,
            licence=item.licence,
            requirement=item.requirement,
            extra=item.extra,
            required_by=tuple(item.required_by),
            purpose=item.purpose,
            risk_class=item.risk_class,
            verification=item.verification,
        )
        for item in model.items
    )
    return SoupList(specification, model.dependencies_sha256, items, dict(model.generated_with))


def soup_problems(soup_path: str | Path, pyproject: str | Path) -> list[str]:
    """Why ``soup_path`` is out of date with ``pyproject`` (empty when current).

    Checks the stored dependency digest against ``pyproject.toml`` and that
    every declared runtime dependency is an item of the list.

    Raises
    ------
    InputError, UsageError
        Either file is unreadable or invalid.
    """
    soup = load_soup(soup_path)
    specification = read_dependency_specification(pyproject)
    problems = []
    if soup.dependencies_sha256 != specification.digest():
        problems.append(
            f"{soup_path}: the dependencies in {pyproject} changed since the SOUP list was "
            "generated; run `dxval qms soup` and review the new items"
        )
    names = {canonicalize_name(item.name) for item in soup.items}
    for text in [*specification.dependencies, *sum(specification.optional.values(), ())]:
        name = canonicalize_name(Requirement(text).name)
        if name not in names:
            problems.append(f"{soup_path}: dependency {text!r} is not a SOUP item")
    return problems


def packaged_soup_path() -> Path:
    """The SOUP list shipped with this dxval (the copy of ``qms/soup.yaml`` in the package).

    Raises
    ------
    UsageError
        The package was installed without its data (a broken installation).
    """
    path = Path(str(resources.files("dxval.qms").joinpath(PACKAGED_SOUP)))
    if not path.is_file():
        raise UsageError(
            f"{path}: the SOUP list shipped with dxval is missing; reinstall dxval, or pass "
            "--soup FILE"
        )
    return path


@dataclass(frozen=True, slots=True)
class QualificationResult:
    """Installation qualification of one SOUP item: expected vs installed version."""

    name: str
    expected: str
    installed: str | None
    requirement: str | None
    passed: bool
    note: str
    in_use: bool = True

    @property
    def drifted(self) -> bool:
        """True when the item is in use and installed at a version other than the listed one."""
        return self.in_use and self.installed is not None and self.installed != self.expected


def _qualify(
    item: SoupItem, *, strict: bool, extras: frozenset[str] = frozenset()
) -> QualificationResult:
    def result(
        installed: str | None, passed: bool, note: str, *, in_use: bool = True
    ) -> QualificationResult:
        """The qualification of ``item`` with these findings."""
        return QualificationResult(
            item.name, item.version, installed, item.requirement, passed, note, in_use
        )

    try:
        installed: str | None = metadata.version(item.name)
    except metadata.PackageNotFoundError:
        installed = None
    if item.extra is not None and not extras & set(item.extra.split(",")):
        # Only an extra that is not installed needs it: another distribution (or
        # the venv itself, for setuptools) may have installed it, but not for dxval.
        found = "absent" if installed is None else f"{installed} present for another reason"
        return result(
            installed,
            True,
            f"not in use: only the extra {item.extra!r} needs it, and that extra is not "
            f"installed ({found})",
            in_use=False,
        )
    if installed is None:
        return result(None, False, "not installed")
    if item.requirement is not None:
        try:
            satisfied = Requirement(item.requirement).specifier.contains(
                Version(installed), prereleases=True
            )
        except InvalidVersion:
            satisfied = False
        if not satisfied:
            return result(installed, False, f"{installed} does not satisfy {item.requirement}")
    if installed == item.version:
        return result(installed, True, "as listed")
    note = (
        f"differs from the SOUP list ({item.version}); regenerate the list (dxval qms soup) "
        "and re-verify before a release"
    )
    return result(installed, not strict, note)


def installation_qualification(
    soup: SoupList, *, strict: bool = False
) -> tuple[QualificationResult, ...]:
    """Compare every SOUP item's installed version with the list (IQ).

    An item passes when installed at a version that satisfies its
    requirement; an item that only an optional extra needs is not in use
    (and passes, whatever is installed) unless every declared dependency of
    that extra is installed; a version other than the
    listed one passes with a note, or fails when ``strict`` (release
    qualification: the installation must equal the validated configuration).
    """
    extras = frozenset(
        extra
        for extra, texts in soup.specification.optional.items()
        if all(_is_installed(Requirement(text).name) for text in texts)
    )
    return tuple(_qualify(item, strict=strict, extras=extras) for item in soup.items)


def _is_installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True
