"""dxval's own quality records (``qms/``): requirements, risks and the SOUP list.

Public entry points: :func:`load_requirements` (→ :class:`SoftwareRequirement`),
:func:`load_risks` (→ :class:`Hazard`), :func:`build_soup` / :func:`write_soup` /
:func:`load_soup` (→ :class:`SoupList`), :func:`soup_problems` and
:func:`installation_qualification`.
"""

from __future__ import annotations

from dxval.qms.records import (
    EarsPattern,
    Hazard,
    RiskControl,
    Severity,
    SoftwareRequirement,
    ears_pattern,
    load_requirements,
    load_risks,
)
from dxval.qms.soup import (
    DependencySpecification,
    QualificationResult,
    SoupItem,
    SoupList,
    build_soup,
    installation_qualification,
    load_soup,
    read_dependency_specification,
    render_soup,
    soup_problems,
    write_soup,
)

__all__ = [
    "DependencySpecification",
    "EarsPattern",
    "Hazard",
    "QualificationResult",
    "RiskControl",
    "Severity",
    "SoftwareRequirement",
    "SoupItem",
    "SoupList",
    "build_soup",
    "ears_pattern",
    "installation_qualification",
    "load_requirements",
    "load_risks",
    "load_soup",
    "read_dependency_specification",
    "render_soup",
    "soup_problems",
    "write_soup",
]
