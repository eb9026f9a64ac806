"""The validation protocol: schema ``dxval: 1``, YAML loading with positions, JSON Schema.

Public entry points: :func:`load_protocol` (→ :class:`LoadedProtocol`),
:class:`Protocol` and its sections, :func:`json_schema` / :func:`json_schema_text`.
"""

from __future__ import annotations

from dxval.protocol.checks import Issue, check_protocol
from dxval.protocol.criteria import (
    CellPopulation,
    Criterion,
    EachPopulation,
    MetricName,
    Population,
    Requirement,
    SitePopulation,
    TestSetPopulation,
)
from dxval.protocol.loader import LoadedProtocol, load_protocol, read_yaml_document
from dxval.protocol.schema import SCHEMA_VERSION, Protocol, json_schema, json_schema_text
from dxval.protocol.sections import (
    Analysis,
    Attribute,
    Device,
    ModelInput,
    ModelOutput,
    ModelReference,
    ModelSection,
    Predictions,
    Qc,
    Statistics,
    TestSet,
    Truth,
)

__all__ = [
    "SCHEMA_VERSION",
    "Analysis",
    "Attribute",
    "CellPopulation",
    "Criterion",
    "Device",
    "EachPopulation",
    "Issue",
    "LoadedProtocol",
    "MetricName",
    "ModelInput",
    "ModelOutput",
    "ModelReference",
    "ModelSection",
    "Population",
    "Predictions",
    "Protocol",
    "Qc",
    "Requirement",
    "SitePopulation",
    "Statistics",
    "TestSet",
    "TestSetPopulation",
    "Truth",
    "check_protocol",
    "json_schema",
    "json_schema_text",
    "load_protocol",
    "read_yaml_document",
]
