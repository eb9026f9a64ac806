"""dxval's own quality records: software requirements (``DXV-…``) and the risk file.

``qms/requirements.yaml`` lists dxval's software requirements (IEC 62304
§5.2), one testable statement each in EARS wording (Mavin et al., "Easy
Approach to Requirements Syntax", RE 2009): *dxval shall …* (ubiquitous),
*When …, dxval shall …* (event), *If …, then dxval shall …* (unwanted
behaviour), *While …, dxval shall …* (state) or *Where …, dxval shall …*
(optional feature). ``qms/risks.yaml`` lists the hazards of using the tool
(ISO 14971 §5), each with its severity, controls and the requirement IDs that
implement them (§7.1). Both files are validated here; a problem is one
:class:`~dxval.errors.InputError` reading ``file:line:col field: got X expected Y``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from dxval.errors import InputError, ProtocolError
from dxval.protocol.checks import show_value
from dxval.protocol.loader import read_yaml_document
from dxval.protocol.locations import locate

REQUIREMENTS_SCHEMA = "dxval-requirements/1"
RISKS_SCHEMA = "dxval-risks/1"
REQUIREMENT_ID_PATTERN = r"^DXV-[A-Z][A-Z0-9]*-[0-9]{3}$"  # area: letters, then digits allowed

RequirementId = Annotated[str, StringConstraints(pattern=REQUIREMENT_ID_PATTERN)]
HazardId = Annotated[str, StringConstraints(pattern=r"^HAZ-[0-9]{3}$")]


class EarsPattern(str, Enum):
    """The five EARS sentence templates (Mavin et al. 2009)."""

    UBIQUITOUS = "ubiquitous"
    EVENT = "event-driven"
    UNWANTED = "unwanted behaviour"
    STATE = "state-driven"
    OPTIONAL = "optional feature"


_EARS = (
    (EarsPattern.UBIQUITOUS, re.compile(r"^dxval shall \S")),
    (EarsPattern.EVENT, re.compile(r"^When \S.*?, dxval shall \S")),
    (EarsPattern.UNWANTED, re.compile(r"^If \S.*?, then dxval shall \S")),
    (EarsPattern.STATE, re.compile(r"^While \S.*?, dxval shall \S")),
    (EarsPattern.OPTIONAL, re.compile(r"^Where \S.*?, dxval shall \S")),
)


def ears_pattern(statement: str) -> EarsPattern | None:
    """The EARS template ``statement`` follows, or None when it follows none."""
    for pattern, expression in _EARS:
        if expression.match(statement):
            return pattern
    return None


class Severity(str, Enum):
    """Severity of harm (ISO 14971 Annex C-style five-level scale)."""

    NEGLIGIBLE = "negligible"
    MINOR = "minor"
    SERIOUS = "serious"
    CRITICAL = "critical"
    CATASTROPHIC = "catastrophic"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _RequirementModel(_Record):
    id: RequirementId = Field(description="Requirement ID, DXV-<AREA>-<NNN>.")
    title: str = Field(min_length=1, description="Short name.")
    area: str = Field(min_length=1, description="Capability area (command or package).")
    statement: str = Field(min_length=1, description="One testable EARS statement.")
    exit_codes: list[int] = Field(default_factory=list, description="Exit codes it defines.")


class _RequirementsModel(_Record):
    schema_name: Literal["dxval-requirements/1"] = Field(alias="schema")
    requirements: list[_RequirementModel] = Field(min_length=1)


class _ControlModel(_Record):
    measure: str = Field(min_length=1, description="What reduces the risk.")
    requirements: list[RequirementId] = Field(
        min_length=1, description="Requirements that implement the measure."
    )


class _HazardModel(_Record):
    id: HazardId
    hazard: str = Field(min_length=1)
    sequence: str = Field(min_length=1, description="Sequence of events to harm.")
    harm: str = Field(min_length=1)
    severity: Literal["negligible", "minor", "serious", "critical", "catastrophic"]
    controls: list[_ControlModel] = Field(min_length=1)
    residual: str = Field(min_length=1, description="Residual risk and why it is acceptable.")


class _RisksModel(_Record):
    schema_name: Literal["dxval-risks/1"] = Field(alias="schema")
    hazards: list[_HazardModel] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class SoftwareRequirement:
    """One dxval requirement from ``qms/requirements.yaml``."""

    id: str
    title: str
    area: str
    statement: str
    pattern: EarsPattern
    exit_codes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class RiskControl:
    """A risk control measure and the requirements that implement it."""

    measure: str
    requirements: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Hazard:
    """A hazard of using dxval, with its severity and controls."""

    id: str
    hazard: str
    sequence: str
    harm: str
    severity: Severity
    controls: tuple[RiskControl, ...]
    residual: str


_Model = TypeVar("_Model", bound=BaseModel)


def load_yaml_record(path: Path, model: type[_Model]) -> tuple[Any, _Model]:
    """Read and validate a YAML record file; every problem names file, line and field."""
    try:
        raw_bytes = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from error
    try:
        document = read_yaml_document(path, raw_bytes)
    except ProtocolError as error:
        raise InputError(error.message) from error
    try:
        return document, model.model_validate(_plain(document))
    except ValidationError as error:
        problems = []
        for detail in error.errors(include_url=False):
            position = locate(document, detail["loc"], error_type=detail["type"])
            got = "nothing" if detail["type"] == "missing" else show_value(detail.get("input"))
            problems.append(
                f"{path}:{position.line}:{position.column} {position.path}: got {got} "
                f"expected {detail['msg'][:1].lower()}{detail['msg'][1:]}"
            )
        raise InputError("; ".join(problems[:5])) from error


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(item) for item in node]
    for plain_type in (bool, int, float, str):
        if isinstance(node, plain_type):
            return plain_type(node)
    return node


def _problem(path: Path, document: Any, location: Sequence[str | int], message: str) -> str:
    position = locate(document, location)
    return f"{path}:{position.line}:{position.column} {position.path}: {message}"


def load_requirements(path: str | Path) -> tuple[SoftwareRequirement, ...]:
    """Read ``qms/requirements.yaml``: unique ``DXV-…`` IDs, each statement in EARS wording.

    Raises
    ------
    InputError
        Unreadable file, schema violation, duplicate ID, or a statement that
        follows no EARS template (the message names file, line and field).
    """
    path = Path(path)
    document, model = load_yaml_record(path, _RequirementsModel)
    problems, seen, requirements = [], set(), []
    for index, entry in enumerate(model.requirements):
        location: list[str | int] = ["requirements", index]
        if entry.id in seen:
            problems.append(
                _problem(path, document, [*location, "id"], f"got duplicate ID {entry.id!r}")
            )
        seen.add(entry.id)
        statement = " ".join(entry.statement.split())
        pattern = ears_pattern(statement)
        if pattern is None:
            problems.append(
                _problem(
                    path,
                    document,
                    [*location, "statement"],
                    f"got {show_value(statement)} expected EARS wording: 'dxval shall ...', "
                    "'When ..., dxval shall ...', 'If ..., then dxval shall ...', "
                    "'While ..., dxval shall ...' or 'Where ..., dxval shall ...'",
                )
            )
            continue
        requirements.append(
            SoftwareRequirement(
                entry.id, entry.title, entry.area, statement, pattern, tuple(entry.exit_codes)
            )
        )
    if problems:
        raise InputError("; ".join(problems[:5]))
    return tuple(requirements)


def load_risks(path: str | Path, requirement_ids: Iterable[str]) -> tuple[Hazard, ...]:
    """Read ``qms/risks.yaml`` and check that every control names known requirements.

    Raises
    ------
    InputError
        Unreadable file, schema violation, duplicate hazard ID, or a control
        naming a requirement ID that ``qms/requirements.yaml`` does not define.
    """
    path = Path(path)
    known = set(requirement_ids)
    document, model = load_yaml_record(path, _RisksModel)
    problems, seen, hazards = [], set(), []
    for index, entry in enumerate(model.hazards):
        if entry.id in seen:
            problems.append(
                _problem(path, document, ["hazards", index, "id"], f"got duplicate ID {entry.id!r}")
            )
        seen.add(entry.id)
        for control_index, control in enumerate(entry.controls):
            for item, requirement_id in enumerate(control.requirements):
                if requirement_id not in known:
                    location: list[str | int] = [
                        *("hazards", index, "controls", control_index, "requirements", item)
                    ]
                    problems.append(
                        _problem(
                            path,
                            document,
                            location,
                            f"got unknown requirement {requirement_id!r} expected an ID "
                            "defined in requirements.yaml",
                        )
                    )
        hazards.append(
            Hazard(
                id=entry.id,
                hazard=entry.hazard,
                sequence=entry.sequence,
                harm=entry.harm,
                severity=Severity(entry.severity),
                controls=tuple(
                    RiskControl(" ".join(c.measure.split()), tuple(c.requirements))
                    for c in entry.controls
                ),
                residual=entry.residual,
            )
        )
    if problems:
        raise InputError("; ".join(problems[:5]))
    return tuple(hazards)
