"""View objects of the auditor's pages, read from the bundle files on every request.

The index (:mod:`dxval.serve.index`) says which bundles a page shows; every
value on the page — status, exit code, dates, signatures, observed and
required values, verdicts, file digests, audit events — is read here from
the bundle's own files through the bundle format's readers
(:mod:`dxval.evidence.format`, :mod:`dxval.evidence`), and every bundle
carries its verify status. A file that cannot be read is shown as such with
the reason; nothing is guessed.
Templates get these objects and compute nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from dxval.errors import DxvalError, InputError
from dxval.evidence import MANIFEST_NAME, check_chain, parse_manifest, read_events
from dxval.evidence.format import (
    CriteriaDocument,
    FailureModes,
    RunRecord,
    read_case_columns,
    read_record,
)
from dxval.evidence.signatures import key_fingerprint, read_signatures
from dxval.serve.index import EvidenceIndex, IndexedBundle, RequirementLink, VerifyStatus
from dxval.serve.scan import lock_digests
from dxval.serve.trend import Trend, TrendPoint, build_trend

ModelT = TypeVar("ModelT", bound=BaseModel)
#: Runs per page on the protocol and requirement pages; runs per protocol on the matrix.
PAGE_SIZE = 50
MATRIX_RUNS = 25


class BundleReadError(Exception):
    """A bundle file a page needs could not be read or validated (the message says which)."""


def _read_model(folder: Path, name: str, model: type[ModelT]) -> ModelT:
    try:
        return read_record(folder, name, model)
    except InputError as error:
        raise BundleReadError(str(error)) from error


@dataclass(frozen=True, slots=True)
class Paging:
    """Which slice of a long list a page shows (1-based page number)."""

    page: int
    pages: int
    total: int

    @property
    def offset(self) -> int:
        """Index of the first item on this page."""
        return (self.page - 1) * PAGE_SIZE


def paging(total: int, page: int) -> Paging:
    """Page ``page`` of ``total`` items (clamped into range)."""
    pages = max(1, -(-total // PAGE_SIZE))
    return Paging(min(max(page, 1), pages), pages, total)


@dataclass(frozen=True, slots=True)
class SignatureView:
    """A signature as recorded, and whether the verify check found a problem with it."""

    name: str
    meaning: str
    signed_utc: str
    reason: str | None
    key_fingerprint: str
    problems: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One run as a list row: its ``run.json`` (or why not), signatures and verify status."""

    bundle: IndexedBundle
    status: VerifyStatus
    run: RunRecord | None
    problem: str | None
    signatures: tuple[SignatureView, ...]


def _signatures(folder: Path, status: VerifyStatus) -> tuple[SignatureView, ...]:
    if not (folder / "signatures").is_dir():
        return ()  # read_signatures lists the whole bundle to find none
    views = []
    for record in read_signatures(folder):
        problems = tuple(
            finding.detail for finding in status.findings if finding.path == record.path
        )
        views.append(
            SignatureView(
                record.name,
                record.meaning.value,
                record.signed_utc,
                record.reason,
                key_fingerprint(record.key_id),
                problems,
            )
        )
    return tuple(views)


def run_summary(
    index: EvidenceIndex, bundle: IndexedBundle, status: VerifyStatus | None = None
) -> RunSummary:
    """Read ``run.json`` and the signatures of ``bundle``, with its verify status now."""
    status = index.status(bundle) if status is None else status
    try:
        run: RunRecord | None = _read_model(bundle.folder, "run.json", RunRecord)
        problem = None
    except BundleReadError as error:
        run, problem = None, str(error)
    return RunSummary(bundle, status, run, problem, _signatures(bundle.folder, status))


def run_summaries(index: EvidenceIndex, bundles: Sequence[IndexedBundle]) -> list[RunSummary]:
    """:func:`run_summary` of each bundle, their verify statuses looked up together."""
    statuses = index.statuses(bundles)
    return [
        run_summary(index, bundle, status) for bundle, status in zip(bundles, statuses, strict=True)
    ]


# -- the protocols and protocol pages ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProtocolRow:
    """A protocol on the root page: its latest run and how many runs the index holds."""

    protocol_id: str
    runs: int
    latest: RunSummary


def protocols_page(index: EvidenceIndex) -> tuple[list[ProtocolRow], list[IndexedBundle]]:
    """Every protocol with its latest run, and the bundles that could not be read."""
    entries = index.protocols()
    latest = run_summaries(index, [entry.latest for entry in entries])
    rows = [
        ProtocolRow(entry.protocol_id, entry.runs, summary)
        for entry, summary in zip(entries, latest, strict=True)
    ]
    return rows, index.unreadable()


def protocol_page(
    index: EvidenceIndex, protocol_id: str, page: int
) -> tuple[list[RunSummary], Paging] | None:
    """The runs of ``protocol_id`` on page ``page`` (newest first), or None if unknown."""
    total = index.count_runs(protocol_id)
    if total == 0:
        return None
    where = paging(total, page)
    bundles = index.runs(protocol_id, offset=where.offset, limit=PAGE_SIZE)
    return run_summaries(index, bundles), where


# -- the run page -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileView:
    """A file of the bundle: its size, the SHA-256 the manifest lists, and how it stands."""

    path: str
    size: int | None
    listed_sha256: str | None
    state: str


@dataclass(frozen=True, slots=True)
class AuditEventView:
    """One line of ``audit.jsonl``."""

    sequence: str
    time: str
    action: str
    user: str
    host: str
    reason: str


@dataclass(frozen=True, slots=True)
class AuditView:
    """The audit log's events and the state of its hash chain."""

    events: tuple[AuditEventView, ...]
    chain_problems: tuple[str, ...]
    problem: str | None


@dataclass(frozen=True, slots=True)
class CaseView:
    """A case listed on the run page (non-evaluable, or among the most confident errors)."""

    case_id: str
    site: str
    test_set: str
    detail: str


@dataclass(frozen=True, slots=True)
class RunPage:
    """Everything the run page shows, read from one bundle."""

    summary: RunSummary
    criteria: CriteriaDocument | None
    criteria_problem: str | None
    digests: tuple[tuple[str, str], ...]
    files: tuple[FileView, ...]
    audit: AuditView
    non_evaluable: tuple[CaseView, ...]
    confident_errors: tuple[tuple[str, tuple[CaseView, ...]], ...]
    cases_problem: str | None
    reports: tuple[str, ...]


def _walk_files(folder: Path, prefix: str = "") -> dict[str, int | None]:
    found: dict[str, int | None] = {}
    for entry in sorted(os.scandir(folder), key=lambda item: item.name):
        name = prefix + entry.name
        if entry.is_symlink():
            found[name] = None  # never followed, never served
        elif entry.is_dir():
            found.update(_walk_files(Path(entry.path), name + "/"))
        else:
            found[name] = entry.stat().st_size
    return found


def _files(folder: Path) -> tuple[FileView, ...]:
    present = _walk_files(folder)
    try:
        listed = parse_manifest((folder / MANIFEST_NAME).read_bytes()).entries
    except OSError:
        listed = {}
    views = []
    for name in sorted(set(present) | set(listed)):
        size = present.get(name)
        if name not in present:
            state = "missing"
        elif size is None:
            state = "symbolic link (not served)"
        elif name == MANIFEST_NAME:
            state = "manifest"
        elif name not in listed:
            state = "not in manifest"
        else:
            state = "listed"
        views.append(FileView(name, size, listed.get(name), state))
    return tuple(views)


def _audit(folder: Path) -> AuditView:
    try:
        content = (folder / "audit.jsonl").read_bytes()
    except OSError as error:
        return AuditView((), (), f"audit.jsonl: cannot read ({error.strerror})")
    events = tuple(
        AuditEventView(
            str(event.get("sequence", "")),
            str(event.get("time", "")),
            str(event.get("action", "")),
            str(event.get("user", "")),
            str(event.get("host", "")),
            str(event.get("reason", "")),
        )
        for event in read_events(content)
    )
    return AuditView(events, tuple(check_chain(content)), None)


def _digests(folder: Path) -> tuple[tuple[str, str], ...]:
    try:
        lock = json.loads((folder / "lock.json").read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return ()
    return tuple(lock_digests(lock)) if isinstance(lock, dict) else ()


def _cases(folder: Path) -> tuple[tuple[CaseView, ...], str | None]:
    try:  # as columns, rows only for the non-scored cases listed (issue 18: 1e7-case bundles)
        content = (folder / "cases.csv").read_bytes()
        columns = read_case_columns(content, where=folder / "cases.csv")
        lines = [columns[index] for index in columns.where_status_is_not("scored").tolist()]
    except OSError as error:
        return (), f"cases.csv: cannot read ({error.strerror})"
    except (DxvalError, UnicodeDecodeError) as error:
        return (), f"cases.csv: {error}"
    return tuple(
        CaseView(line.case_id, line.site, line.test_set, line.reason or line.reason_code)
        for line in lines
        if line.status != "scored"
    ), None


def _confident_errors(folder: Path) -> tuple[tuple[str, tuple[CaseView, ...]], ...]:
    try:
        document = json.loads((folder / "metrics.json").read_bytes())
        modes = FailureModes.model_validate(document["failure_modes"])
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, ValidationError):
        return ()
    return tuple(
        (
            title,
            tuple(
                CaseView(error.case_id, error.site, error.test_set, f"score {error.score!r}")
                for error in analysis.most_confident
            ),
        )
        for title, analysis in (
            ("most confident false negatives", modes.false_negative),
            ("most confident false positives", modes.false_positive),
        )
    )


def run_page(index: EvidenceIndex, bundle: IndexedBundle) -> RunPage:
    """Read everything the run page shows from ``bundle``."""
    summary = run_summary(index, bundle)
    folder = bundle.folder
    try:
        criteria: CriteriaDocument | None = _read_model(folder, "criteria.json", CriteriaDocument)
        criteria_problem = None
    except BundleReadError as error:
        criteria, criteria_problem = None, str(error)
    non_evaluable, cases_problem = _cases(folder)
    files = _files(folder)
    reports = tuple(
        name
        for name in ("report.pdf", "report-submission.pdf", "report.html")
        if any(view.path == name and view.size is not None for view in files)
    )
    return RunPage(
        summary=summary,
        criteria=criteria,
        criteria_problem=criteria_problem,
        digests=_digests(folder),
        files=files,
        audit=_audit(folder),
        non_evaluable=non_evaluable,
        confident_errors=_confident_errors(folder),
        cases_problem=cases_problem,
        reports=reports,
    )


# -- the requirement page ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CriterionView:
    """One criterion of a requirement in one run, as ``criteria.json`` holds it."""

    description: str
    observed: float | None
    required: str
    op: str
    value: float
    verdict: str


@dataclass(frozen=True, slots=True)
class RequirementRow:
    """A run that evaluated the requirement: its outcome, and whether the link is suspect."""

    summary: RunSummary
    text: str
    verdict: str | None
    criteria: tuple[CriterionView, ...]
    problem: str | None
    suspect_reason: str | None


@dataclass(frozen=True, slots=True)
class RequirementGroup:
    """The requirement within one protocol: current text, runs (newest first) and trends."""

    protocol_id: str
    current_text: str | None
    current_source: str
    rows: tuple[RequirementRow, ...]
    trends: tuple[Trend, ...]


@dataclass(frozen=True, slots=True)
class RequirementPage:
    """Every run that evaluated a requirement ID, grouped by protocol."""

    requirement_id: str
    groups: tuple[RequirementGroup, ...]
    paging: Paging


def _suspect_reason(
    link: RequirementLink, current: tuple[IndexedBundle, RequirementLink | None] | None
) -> str | None:
    if current is None:
        return None
    latest, definition = current
    if definition is None:
        return f"the requirement is no longer in the protocol (latest run {latest.run_id})"
    if link.fingerprint == definition.fingerprint:
        return None
    what = "text" if link.text != definition.text else "acceptance criteria"
    return (
        f"the requirement's {what} changed since this run (latest run {latest.run_id}); re-verify"
    )


def _requirement_row(
    summary: RunSummary,
    link: RequirementLink,
    requirement_id: str,
    current: tuple[IndexedBundle, RequirementLink | None] | None,
) -> RequirementRow:
    suspect = _suspect_reason(link, current)
    try:
        document = _read_model(link.bundle.folder, "criteria.json", CriteriaDocument)
    except BundleReadError as error:
        return RequirementRow(summary, link.text, None, (), str(error), suspect)
    found = next((r for r in document.requirements if r.id == requirement_id), None)
    if found is None:
        problem = f"criteria.json: no requirement {requirement_id}"
        return RequirementRow(summary, link.text, None, (), problem, suspect)
    criteria = tuple(
        CriterionView(c.description, c.observed, c.required, c.op, c.value, c.verdict)
        for c in found.criteria
    )
    text = " ".join(found.text.split())
    return RequirementRow(summary, text, found.verdict, criteria, None, suspect)


def _trends(rows: Sequence[RequirementRow]) -> tuple[Trend, ...]:
    chronological = list(reversed(rows))
    count = max((len(row.criteria) for row in rows), default=0)
    trends = []
    for position in range(count):
        points = [
            TrendPoint(
                label=row.summary.bundle.run_id,
                observed=row.criteria[position].observed,
                required=row.criteria[position].value,
                passed=row.criteria[position].verdict == "pass",
            )
            for row in chronological
            if len(row.criteria) > position
        ]
        title = next(
            row.criteria[position].description for row in rows if len(row.criteria) > position
        )
        trends.append(build_trend(title, points))
    return tuple(trends)


def requirement_page(
    index: EvidenceIndex, requirement_id: str, page: int
) -> RequirementPage | None:
    """The runs (page ``page``, newest first) that evaluated ``requirement_id``; None if none."""
    total = index.count_requirement_links(requirement_id)
    if total == 0:
        return None
    where = paging(total, page)
    links = index.requirement_links(requirement_id, offset=where.offset, limit=PAGE_SIZE)
    by_protocol: dict[str, list[RequirementLink]] = {}
    for link in links:
        by_protocol.setdefault(link.bundle.protocol_id, []).append(link)
    groups = []
    for protocol_id, protocol_links in sorted(by_protocol.items()):
        current = index.current_requirement(protocol_id, requirement_id)
        summaries = run_summaries(index, [link.bundle for link in protocol_links])
        rows = tuple(
            _requirement_row(summary, link, requirement_id, current)
            for summary, link in zip(summaries, protocol_links, strict=True)
        )
        text = None if current is None or current[1] is None else current[1].text
        source = "" if current is None else f"latest run {current[0].run_id}"
        groups.append(RequirementGroup(protocol_id, text, source, rows, _trends(rows)))
    return RequirementPage(requirement_id, tuple(groups), where)


# -- the matrix -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MatrixCell:
    """A requirement's outcome in one run (None: the run did not evaluate it)."""

    verdict: str
    observed: tuple[float | None, ...]
    suspect: bool


@dataclass(frozen=True, slots=True)
class MatrixRow:
    """One requirement across the runs of a protocol."""

    requirement_id: str
    text: str
    cells: tuple[MatrixCell | None, ...]


@dataclass(frozen=True, slots=True)
class MatrixTable:
    """Requirements × the latest runs of one protocol."""

    protocol_id: str
    total_runs: int
    runs: tuple[RunSummary, ...]
    rows: tuple[MatrixRow, ...]
    problems: tuple[tuple[str, str], ...]


def _matrix_table(index: EvidenceIndex, protocol_id: str, total: int) -> MatrixTable:
    bundles = index.runs(protocol_id, limit=MATRIX_RUNS)
    summaries = tuple(run_summaries(index, bundles))
    documents: list[dict[str, Any]] = []
    problems = []
    for bundle in bundles:
        try:
            document = _read_model(bundle.folder, "criteria.json", CriteriaDocument)
            documents.append({r.id: r for r in document.requirements})
        except BundleReadError as error:
            documents.append({})
            problems.append((bundle.run_id, str(error)))
    order: dict[str, str] = {}
    for by_id in documents:
        for identifier, requirement in by_id.items():
            order.setdefault(identifier, " ".join(requirement.text.split()))
    links = [index.requirements_of(bundle) for bundle in bundles]
    rows = []
    for identifier, text in order.items():
        current = index.current_requirement(protocol_id, identifier)
        cells: list[MatrixCell | None] = []
        for by_id, by_link in zip(documents, links, strict=True):
            requirement = by_id.get(identifier)
            link = by_link.get(identifier)
            if requirement is None:
                cells.append(None)
                continue
            suspect = link is not None and _suspect_reason(link, current) is not None
            observed = tuple(criterion.observed for criterion in requirement.criteria)
            cells.append(MatrixCell(requirement.verdict, observed, suspect))
        rows.append(MatrixRow(identifier, text, tuple(cells)))
    return MatrixTable(protocol_id, total, summaries, tuple(rows), tuple(problems))


def matrix_page(index: EvidenceIndex) -> tuple[MatrixTable, ...]:
    """One requirements × runs table per protocol (its latest :data:`MATRIX_RUNS` runs)."""
    return tuple(_matrix_table(index, entry.protocol_id, entry.runs) for entry in index.protocols())
