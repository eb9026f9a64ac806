"""Traceability: protocol requirement → evidence, and dxval requirement → test → result.

Public entry points: :func:`trace_requirement` and :func:`trace_matrix`
over an evidence root (with suspect links by fingerprint),
:func:`scan_markers` for ``@pytest.mark.req`` markers, :func:`read_junit`
and :func:`self_trace` for dxval's own requirement → test → result matrix,
and the renderers in :mod:`dxval.trace.render`.
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
from dxval.trace.markers import MarkedTest, requirement_tests, scan_markers
from dxval.trace.render import (
    Format,
    render_matrix,
    render_self_trace,
    requirement_text,
    self_requirement_text,
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
from dxval.trace.selftrace import (
    Outcome,
    SelfTraceRow,
    TestCaseResult,
    VerifyingTest,
    read_junit,
    self_trace,
    trace_self,
)

__all__ = [
    "CriterionOutcome",
    "Definition",
    "Format",
    "MarkedTest",
    "Outcome",
    "RequirementOutcome",
    "RequirementTrace",
    "RunRecord",
    "SelfTraceRow",
    "TestCaseResult",
    "TraceLink",
    "TraceMatrix",
    "VerifyingTest",
    "current_definitions",
    "find_bundles",
    "read_junit",
    "read_run",
    "read_runs",
    "render_matrix",
    "render_self_trace",
    "requirement_fingerprint",
    "requirement_tests",
    "requirement_text",
    "scan_markers",
    "self_requirement_text",
    "self_trace",
    "trace_matrix",
    "trace_requirement",
    "trace_self",
]
