"""The traceability index: protocol requirements × evidence bundles, with suspect links.

For each protocol ID found under an evidence root, the *current*
definition of each requirement comes from the protocol file given with
``--protocol`` (when its ID matches) or else from the most recent run. Every
run that evaluated the requirement is linked to it with the observed values
and verdict; a link whose fingerprint (text and criteria,
:func:`~dxval.trace.runs.requirement_fingerprint`) differs from the current
one is *suspect*: the evidence was produced against a requirement that has
since changed and must be re-verified (IEC 62304 §9.8).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dxval.errors import UsageError
from dxval.trace.runs import (
    RequirementOutcome,
    RunRecord,
    protocol_requirements,
    read_runs,
    requirement_fingerprint,
)


@dataclass(frozen=True, slots=True)
class Definition:
    """The current text and fingerprint of a requirement, and where they come from."""

    text: str
    fingerprint: str
    source: str


@dataclass(frozen=True, slots=True)
class TraceLink:
    """One run's evaluation of a requirement, and whether the link is suspect."""

    run: RunRecord
    outcome: RequirementOutcome
    suspect: bool
    suspect_reason: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (the JSON matrix and ``--format json``)."""
        return {
            "run_id": self.run.run_id,
            "bundle": str(self.run.bundle),
            "date_utc": self.run.started_utc,
            "protocol_version": self.run.protocol_version,
            "protocol_sha256": self.run.protocol_sha256,
            "model_sha256": self.run.model_sha256,
            "predictions_sha256": self.run.predictions_sha256,
            "text": self.outcome.text,
            "fingerprint": self.outcome.fingerprint,
            "criteria": [
                {
                    "description": criterion.description,
                    "observed": criterion.observed,
                    "required": criterion.required,
                    "result": criterion.verdict,
                }
                for criterion in self.outcome.criteria
            ],
            "result": self.outcome.verdict,
            "suspect": self.suspect,
            "suspect_reason": self.suspect_reason,
            "evidence_intact": self.run.intact,
            "signatures": list(self.run.signatures),
        }


@dataclass(frozen=True, slots=True)
class RequirementTrace:
    """A protocol requirement and every run that evaluated it, oldest first."""

    protocol_id: str
    requirement_id: str
    current: Definition | None
    links: tuple[TraceLink, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "protocol_id": self.protocol_id,
            "requirement_id": self.requirement_id,
            "current_text": None if self.current is None else self.current.text,
            "current_fingerprint": None if self.current is None else self.current.fingerprint,
            "current_source": None if self.current is None else self.current.source,
            "links": [link.to_dict() for link in self.links],
        }


@dataclass(frozen=True, slots=True)
class TraceMatrix:
    """All requirements × all runs under an evidence root."""

    traces: tuple[RequirementTrace, ...]
    runs: tuple[RunRecord, ...]


def _definitions_from(raw_bytes: bytes, *, where: str, source: str) -> dict[str, Definition]:
    return {
        identifier: Definition(
            " ".join(str(entry.get("text", "")).split()), requirement_fingerprint(entry), source
        )
        for identifier, entry in protocol_requirements(raw_bytes, where=where).items()
    }


def current_definitions(
    runs: Sequence[RunRecord], *, protocol: str | Path | None = None
) -> dict[str, dict[str, Definition]]:
    """Protocol ID → requirement ID → current definition.

    The latest run of each protocol ID defines its requirements, unless
    ``protocol`` (a protocol file) has that ID.

    Raises
    ------
    UsageError
        ``protocol`` cannot be read or has no ``id``.
    """
    definitions: dict[str, dict[str, Definition]] = {}
    for run in runs:  # oldest first: the latest run wins
        protocol_file = run.bundle / "protocol.yaml"
        definitions[run.protocol_id] = _definitions_from(
            protocol_file.read_bytes(),
            where=str(protocol_file),
            source=f"latest run {run.run_id}",
        )
    if protocol is not None:
        from dxval.protocol import load_protocol

        loaded = load_protocol(protocol)
        definitions[loaded.protocol.id] = _definitions_from(
            loaded.raw_bytes, where=str(loaded.path), source=f"protocol file {loaded.path}"
        )
    return definitions


def _link(run: RunRecord, outcome: RequirementOutcome, current: Definition | None) -> TraceLink:
    if current is None:
        return TraceLink(run, outcome, True, "the requirement is no longer in the protocol")
    if outcome.fingerprint == current.fingerprint:
        return TraceLink(run, outcome, False, None)
    what = "text" if outcome.text != current.text else "acceptance criteria"
    return TraceLink(
        run,
        outcome,
        True,
        f"the requirement's {what} changed since this run ({current.source}); re-verify",
    )


def _traces(
    runs: Sequence[RunRecord], definitions: dict[str, dict[str, Definition]]
) -> list[RequirementTrace]:
    order: dict[tuple[str, str], None] = {}
    for protocol_id, by_id in definitions.items():
        order.update(dict.fromkeys((protocol_id, identifier) for identifier in by_id))
    for run in runs:
        order.update(
            dict.fromkeys((run.protocol_id, identifier) for identifier in run.requirements)
        )
    traces = []
    for protocol_id, identifier in order:
        current = definitions.get(protocol_id, {}).get(identifier)
        links = tuple(
            _link(run, run.requirements[identifier], current)
            for run in runs
            if run.protocol_id == protocol_id and identifier in run.requirements
        )
        traces.append(RequirementTrace(protocol_id, identifier, current, links))
    return sorted(traces, key=lambda trace: trace.protocol_id)


def trace_matrix(evidence: str | Path, *, protocol: str | Path | None = None) -> TraceMatrix:
    """Every requirement × every run below the evidence root ``evidence``.

    Raises
    ------
    InputError
        The evidence folder is missing or a bundle is unreadable.
    ProtocolError
        ``protocol`` is not a valid protocol.
    """
    runs = read_runs(evidence)
    return TraceMatrix(tuple(_traces(runs, current_definitions(runs, protocol=protocol))), runs)


def trace_requirement(
    requirement_id: str, evidence: str | Path, *, protocol: str | Path | None = None
) -> tuple[RequirementTrace, ...]:
    """Every run below ``evidence`` that evaluated ``requirement_id`` (one trace per protocol).

    Raises
    ------
    UsageError
        No protocol under ``evidence`` (or ``protocol``) defines the ID.
    """
    matrix = trace_matrix(evidence, protocol=protocol)
    found = tuple(trace for trace in matrix.traces if trace.requirement_id == requirement_id)
    if not found:
        known = sorted({trace.requirement_id for trace in matrix.traces})
        shown = ", ".join(known[:20]) + (" ..." if len(known) > 20 else "")
        raise UsageError(
            f"{requirement_id}: no run under {evidence} evaluated it; requirements found: "
            f"{shown or 'none (no bundles)'}"
        )
    return found
