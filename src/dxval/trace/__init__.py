"""Traceability of user protocols: requirement → runs → evidence.

Public entry points: :func:`trace_requirement` and :func:`trace_matrix`
over an evidence root (with suspect links by fingerprint), and the renderers
in :mod:`dxval.trace.render`. dxval's own requirement → test → result trace
lives in :mod:`dxval.qms.selftrace` (markers in :mod:`dxval.qms.markers`).
"""

from __future__ import annotations

from dxval.trace.index import (
    Definition,
    RequirementTrace,
    TraceLink,
    TraceMatrix,
    current_definitions,
    trace_matrix,
    trace_requirement,
)
from dxval.trace.render import (
    Format,
    render_matrix,
    requirement_text,
)
from dxval.trace.runs import (
    CriterionOutcome,
    RequirementOutcome,
    RunRecord,
    find_bundles,
    read_run,
    read_runs,
    requirement_fingerprint,
)

__all__ = [
    "CriterionOutcome",
    "Definition",
    "Format",
    "RequirementOutcome",
    "RequirementTrace",
    "RunRecord",
    "TraceLink",
    "TraceMatrix",
    "current_definitions",
    "find_bundles",
    "read_run",
    "read_runs",
    "render_matrix",
    "requirement_fingerprint",
    "requirement_text",
    "trace_matrix",
    "trace_requirement",
]
