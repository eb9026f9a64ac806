"""``validate protocol.yaml`` end to end: load → locks → cases → scores → analysis → bundle.

:func:`run_validation` follows DESIGN.md's data flow. Nothing is written
until the protocol is valid, the output folder writable, every pin matches
and every input is readable; the bundle is then written atomically. The
exit code says which way the run went (0 all criteria met, 1 not met,
4 incomplete: non-evaluable cases beyond the QC tolerance); errors raise
:class:`~dxval.errors.DxvalError` subclasses with codes 2 and 3.
:func:`lock_protocol` (from :mod:`dxval.pipeline.lock`) computes and writes the pins.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dxval import __version__
from dxval.analysis import (
    AnalysisResult,
    CaseRecord,
    CaseTable,
    CriteriaSummary,
    PopulationIndex,
    RequirementResult,
    analyse,
    band_of,
    build_populations,
)
from dxval.analysis.paired import PairedScores
from dxval.analysis.populations import MISSING_LEVEL
from dxval.analysis.precision import analyse_precision
from dxval.analysis.robustness import LevelScores
from dxval.data import (
    Case,
    DicomAttributeReader,
    TestSetSource,
    build_cases,
    check_coverage,
    check_pins,
    read_predictions,
)
from dxval.data.limits import check_run_size
from dxval.errors import ExitCode
from dxval.evidence import AuditLog, BundleWriter, capture_environment, check_writable, new_run_id
from dxval.evidence.anchor import audit_head, record_anchor
from dxval.evidence.audit import utc_now
from dxval.evidence.format import (
    AUDIT_NAME,
    CASES_NAME,
    COMPARISON_NAME,
    CRITERIA_NAME,
    ENVIRONMENT_NAME,
    LATENCY_CASES_NAME,
    LATENCY_NAME,
    LOCK_NAME,
    METRICS_NAME,
    MRMC_NAME,
    PHI_NAME,
    PROTOCOL_NAME,
    ROBUSTNESS_CASES_NAME,
    RUN_NAME,
    SAMPLE_SIZE_NAME,
    ComparisonRecord,
    CriteriaDocument,
    MetricsDocument,
    MrmcRecord,
    RunRecord,
    check_record,
)
from dxval.evidence.ledger import LedgerSession, TestSetUsage, TestSetUse, ledger_session
from dxval.evidence.records import CaseColumnRows, CaseRow, case_column_chunks, render_cases
from dxval.inference import capture_environment as capture_runtime
from dxval.pipeline.columnar import (
    case_columns,
    columnar_run,
    row_by_row_reason,
    scored_columns,
)
from dxval.pipeline.comparison import (
    NOT_IMPLEMENTED,
    ComparatorScores,
    comparison_document,
    paired_references,
    pccp_record,
    score_comparators,
)
from dxval.pipeline.contact_sheet import CONTACT_SHEET_NAME, contact_sheet_png
from dxval.pipeline.latency import LatencyStudy, latency_study
from dxval.pipeline.lock import (
    LockResult,
    PinnedItem,
    lock_protocol,
    lock_record,
    protocol_pins,
    read_sources,
)
from dxval.pipeline.plan import RunPlan, plan_run
from dxval.pipeline.robustness import (
    check_window_levels,
    render_level_cases,
    repeat_groups,
    score_levels,
)
from dxval.pipeline.sample_size import sample_size_document
from dxval.pipeline.score import InferenceOptions, ModelScores, score_with_model
from dxval.pipeline.tasks import run_task
from dxval.report.template_set import TemplateSet, check_template_folder, template_set
from dxval.stats.wording import plural

if TYPE_CHECKING:  # the reader study (pandas, ~0.3 s to import) loads only when a protocol has one
    from dxval.analysis.reader_study import ProtocolReaderStudy

__all__ = ["CaseOutcome", "LockResult", "RunResult", "lock_protocol", "run_validation"]

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class CaseOutcome:
    """A case's score, or why it has none (reason code and text)."""

    score: float | None
    reason_code: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RunResult:
    """What a validation run produced and the exit code it ends with."""

    exit_code: ExitCode
    status: str
    run_id: str
    protocol_id: str
    bundle: Path
    requirements: tuple[RequirementResult, ...]
    summary: CriteriaSummary
    cases: dict[str, int]
    message: str | None = None
    evidence_digest: str = ""


def _quiet(message: str) -> None:
    """Default progress sink: report nothing."""


def _dicom_attribute_reader() -> DicomAttributeReader:
    """Read DICOM keywords from a file's header; unreadable files give missing values."""
    from dxval.dicom import CaseFailure
    from dxval.dicom.attributes import extract_attributes
    from dxval.dicom.notes import captured
    from dxval.dicom.reader import read_header

    def read(path: Path, keywords: Sequence[str]) -> dict[str, str]:
        """Keyword → value as text; multi-valued joined with a backslash as in DICOM."""
        try:
            with captured():  # pydicom's warnings quote raw values: never shown
                values = extract_attributes(read_header(path), keywords)
        except CaseFailure:
            return {}
        return {
            keyword: ""
            if value is None
            else "\\".join(map(str, value))
            if isinstance(value, list)
            else str(value)
            for keyword, value in values.items()
        }

    return read


def _read_cases(plan: RunPlan, sources: Sequence[TestSetSource]) -> tuple[Case, ...]:
    attributes = plan.attribute_sources
    reader = _dicom_attribute_reader() if attributes.dicom else None
    return build_cases(sources, plan.truth, attributes=attributes, dicom_reader=reader)


def _prediction_scores(plan: RunPlan, cases: Sequence[Case]) -> dict[str, CaseOutcome]:
    """Scores from the protocol's predictions CSV (bring-your-own-predictions)."""
    section = plan.predictions
    assert section is not None  # only called for predictions protocols
    path = section.resolved
    predictions = read_predictions(
        path,
        case_id_column=section.case_id,
        score_column=section.score,
        failure_reason_column=section.failure_reason,
    )
    check_coverage(path, predictions, (case.case_id for case in cases))
    return {
        case_id: CaseOutcome(p.score)
        if p.score is not None
        else CaseOutcome(None, "no_prediction", p.reason or "")
        for case_id, p in predictions.items()
    }


def _model_scores(
    plan: RunPlan,
    cases: Sequence[Case],
    options: InferenceOptions,
    cache_dir: Path,
) -> tuple[dict[str, CaseOutcome], ModelScores]:
    """Scores from the frozen model through the locked harness (:mod:`dxval.pipeline.score`)."""
    run = score_with_model(plan, cases, options=options, default_cache_dir=cache_dir)
    return _outcomes(cases, run), run


def _outcomes(cases: Sequence[Case], run: ModelScores) -> dict[str, CaseOutcome]:
    """Each case's score from a harness run, or its reason code and text."""
    outcomes = {}
    for case in cases:
        score = run.scores.get(case.case_id)
        if score is not None:
            outcomes[case.case_id] = CaseOutcome(score)
        else:
            code, reason = run.failures.get(case.case_id, ("failed", "no result from the harness"))
            outcomes[case.case_id] = CaseOutcome(None, code, reason)
    return outcomes


def _levels(plan: RunPlan, case: Case) -> dict[str, str]:
    """Attribute levels of a case: band labels for binned attributes, text otherwise."""
    levels = {}
    for attribute in plan.attributes:
        name = attribute.name
        value = case.attributes.get(name, "")
        if attribute.bins is not None:
            levels[name] = band_of(value, list(attribute.bins), where=f"{case.source} {name}")
        else:
            levels[name] = value or MISSING_LEVEL
    return levels


# --- reader study hook (issue 15) ---------------------------------------------------------
# The plan holds the reader study as plain values (RunPlan.reader_study; criteria on its
# metrics get the ``reader_study`` population in plan_run); lock pins the reads file.


def _reader_study(plan: RunPlan, pins: Sequence[PinnedItem]) -> ProtocolReaderStudy | None:
    """Run the protocol's reader study, if it has one (the reads file is already pin-checked)."""
    study = plan.reader_study
    if study is None:
        return None
    from dxval.analysis.reader_study import run_protocol_reader_study

    digest = next(item.pin.actual for item in pins if item.pin.field == "reader_study.sha256")
    return run_protocol_reader_study(
        study.resolved,
        label=study.reads,
        sha256=digest,
        columns=study.columns,
        positive=study.positive,
        test=study.test,
        reference=study.reference,
        options=study.options,
    )


# --- end of the reader study hook ---------------------------------------------------------


def _table(
    plan: RunPlan, cases: Sequence[Case], outcomes: dict[str, CaseOutcome]
) -> tuple[CaseTable, list[CaseRow]]:
    records, rows = [], []
    for case in cases:
        outcome = outcomes[case.case_id]
        levels = _levels(plan, case)
        records.append(
            CaseRecord(case.case_id, case.site, case.test_set, case.truth, outcome.score, levels)
        )
        rows.append(
            CaseRow(
                case_id=case.case_id,
                test_set=case.test_set,
                site=case.site,
                truth_label=case.truth_label,
                truth=case.truth,
                score=outcome.score,
                decision=None if outcome.score is None else outcome.score >= plan.operating_point,
                status="scored" if outcome.score is not None else "failed",
                reason_code=outcome.reason_code,
                reason=outcome.reason,
                levels=levels,
                input_sha256=case.input_sha256,
            )
        )
    table = CaseTable.from_records(
        records, operating_point=plan.operating_point, attributes=plan.attribute_names
    )
    return table, rows


def _exit_code(
    summary: CriteriaSummary, failed_fraction: float, tolerance: float
) -> tuple[ExitCode, str, str | None]:
    if failed_fraction > tolerance:
        message = (
            f"run incomplete: {failed_fraction:.2%} of cases are non-evaluable, "
            f"above qc.max_failed_fraction {tolerance:.2%}"
        )
        return ExitCode.INCOMPLETE, "incomplete", message
    if summary.all_met:
        return ExitCode.OK, "complete", None
    return ExitCode.CRITERIA_NOT_MET, "complete", None


@dataclass(frozen=True, slots=True)
class _Gathered:
    """Everything read and checked before the analysis: nothing is written yet."""

    sources: list[TestSetSource]
    pins: list[PinnedItem]
    table: CaseTable
    rows: list[CaseRow] | CaseColumnRows
    counts: dict[str, int]
    model_run: ModelScores | None
    uses: list[TestSetUse]
    usage: tuple[TestSetUsage, ...]
    comparators: tuple[ComparatorScores, ...] = ()
    levels: tuple[LevelScores, ...] = ()
    level_cases: bytes | None = None
    repeat_groups: Mapping[str, str] | None = None


def _gather(
    plan: RunPlan,
    audit: AuditLog,
    progress: Progress,
    *,
    options: InferenceOptions,
    out: Path,
    ledger: LedgerSession,
) -> _Gathered:
    """Check the locks, read the cases and their scores; record each step in ``audit``."""
    progress(f"protocol {plan.protocol_id} loaded ({plan.path}); checking locks")
    sources = read_sources(plan)
    row_by_row = row_by_row_reason(plan, sources)
    check_run_size(
        plan.path,
        sum(source.manifest.size for source in sources),
        plan.statistics.resampling_replicates,  # closed-form intervals draw nothing
        row_by_row=row_by_row,  # per-case objects: the lower MAX_ROW_CASES
    )
    pins = protocol_pins(plan, sources)
    check_pins(item.pin for item in pins)
    pinned = {item.pin.field: item.pin.actual for item in pins}
    audit.record("locks.checked", pinned, "every pinned digest matches")
    uses = [
        TestSetUse(source.test_set, source.lock.digest, source.manifest.size)
        for source in sources
        if source.lock is not None
    ]
    usage = ledger.check(uses, max_uses=plan.max_test_set_uses)
    audit.record(
        "test_sets.reuse_checked",
        {"test_sets": [item.to_dict() for item in usage]},
        "test-set reuse ledger read; within qc.max_test_set_uses",
    )
    if columnar_run(plan, sources):  # large predictions protocols: columns, no per-case objects
        return _gather_columns(
            plan, audit, progress, sources=sources, pins=pins, uses=uses, usage=usage
        )
    cases = _read_cases(plan, sources)
    check_window_levels(plan, cases)  # a CT window level needs CT test sets (issue 19)
    groups = repeat_groups(plan, sources) if plan.precision_column else None  # issue 19
    per_test_set = {source.test_set: source.manifest.size for source in sources}
    audit.record("cases.read", {"cases": len(cases), "test_sets": per_test_set}, "manifests read")
    progress(f"{plural(len(cases), 'case')} read from {plural(len(sources), 'test set')}; scoring")
    model_run = None
    if plan.model is not None:
        outcomes, model_run = _model_scores(plan, cases, options, out / ".dxval-cache")
        _record_model_run(audit, model_run)
        origin = "model"
    else:
        outcomes, origin = _prediction_scores(plan, cases), "predictions file"
    table, rows = _table(plan, cases, outcomes)
    counts = {
        "total": table.size,
        "scored": int(table.evaluable.sum()),
        "failed": int((~table.evaluable).sum()),
    }
    audit.record("cases.scored", counts, f"scores from the {origin}")
    comparators: tuple[ComparatorScores, ...] = ()
    if plan.comparators:  # comparison stage (issue 13)
        progress(f"scoring {plural(len(plan.comparators), 'comparator')} on the same cases")
        comparators = score_comparators(
            plan, cases, table, options=options, cache_dir=out / ".dxval-cache", audit=audit
        )
    progress(f"{counts['scored']} scored, {counts['failed']} non-evaluable; analysing")
    levels, level_cases = _robustness(plan, cases, audit, progress, options=options, out=out)
    return _Gathered(
        sources,
        pins,
        table,
        rows,
        counts,
        model_run,
        uses,
        usage,
        comparators,
        levels,
        level_cases,
        groups,
    )


def _gather_columns(
    plan: RunPlan,
    audit: AuditLog,
    progress: Progress,
    *,
    sources: list[TestSetSource],
    pins: list[PinnedItem],
    uses: list[TestSetUse],
    usage: tuple[TestSetUsage, ...],
) -> _Gathered:
    """The rest of :func:`_gather` for a predictions protocol whose cases stay columns."""
    cases = case_columns(plan, sources)
    per_test_set = {source.test_set: source.manifest.size for source in sources}
    audit.record("cases.read", {"cases": cases.size, "test_sets": per_test_set}, "manifests read")
    progress(f"{plural(cases.size, 'case')} read from {plural(len(sources), 'test set')}; scoring")
    table, rows = scored_columns(plan, sources, cases)
    scored = int(table.evaluable.sum())
    counts = {"total": table.size, "scored": scored, "failed": table.size - scored}
    audit.record("cases.scored", counts, "scores from the predictions file")
    progress(f"{counts['scored']} scored, {counts['failed']} non-evaluable; analysing")
    return _Gathered(sources, pins, table, rows, counts, None, uses, usage)


def _robustness(
    plan: RunPlan,
    cases: Sequence[Case],
    audit: AuditLog,
    progress: Progress,
    *,
    options: InferenceOptions,
    out: Path,
) -> tuple[tuple[LevelScores, ...], bytes | None]:
    """Score the robustness levels (issue 19); their case tables and ``robustness.csv``."""
    if not plan.robustness or plan.model is None:
        return (), None
    progress(f"robustness: scoring {plural(len(plan.robustness), 'perturbation level')}")
    runs = score_levels(plan, cases, options=options, default_cache_dir=out / ".dxval-cache")
    levels = []
    for level_run in runs:
        outcomes = _outcomes(cases, level_run.run)
        table, _ = _table(plan, cases, outcomes)
        levels.append(LevelScores(level_run.level.id, level_run.record(), table))
        audit.record("robustness.scored", level_run.audit(), f"level {level_run.level.id}")
    rendered = render_level_cases(runs, cases, operating_point=plan.operating_point)
    return tuple(levels), rendered


def _latency(plan: RunPlan, gathered: _Gathered, audit: AuditLog) -> LatencyStudy | None:
    """Per-case timings of the model run and the latency criteria's estimates (issue 19)."""
    if gathered.model_run is None:
        return None
    assert isinstance(gathered.rows, list)  # a model run's cases are rows, never columns
    study = latency_study(
        [row.case_id for row in gathered.rows],
        gathered.model_run,
        plan.latency,
        confidence_level=plan.statistics.confidence_level,
    )
    counts = dict(study.document["cases"])
    audit.record("latency.timed", counts, "per-case wall times recorded (latency.csv)")
    return study


def _external(
    study: ProtocolReaderStudy | None, latency: LatencyStudy | None
) -> dict[str, Any] | None:
    """Estimates of the criteria not computed from the case table: reader study, latency."""
    if study is None and latency is None:
        return None
    return {
        **({} if study is None else study.estimates),
        **({} if latency is None else latency.estimates),
    }


def _write_latency(writer: BundleWriter, latency: LatencyStudy | None) -> None:
    """``latency.csv`` and ``latency.json`` of a model run (issue 19)."""
    if latency is not None:
        writer.write_bytes(LATENCY_CASES_NAME, latency.cases_csv)
        writer.write_json(LATENCY_NAME, latency.document)


def _record_model_run(audit: AuditLog, run: ModelScores) -> None:
    """Audit events of a model run: runner and golden check, cache use, PHI policy."""
    audit.record("model.loaded", run.runner, "artifact signature checked before any case")
    if run.golden is not None:
        audit.record("model.golden_checked", run.golden, "pinned reference input re-scored")
    cache = {**run.cache, "hit_case_ids": list(run.cache_hit_case_ids)}
    audit.record("cache.used", cache, "cached scores verified by hash before use")
    if run.phi_findings:
        findings = {"findings": len(run.phi_findings), "file": PHI_NAME}
        audit.record("phi.warned", findings, "qc.phi is 'warn': findings recorded, run continues")


def _report_templates(plan: RunPlan, templates: str | Path | None) -> TemplateSet:
    """The template set the report will use: ``--templates``, else ``report.templates``.

    Checked before anything is written: a missing folder or a template that
    does not parse is exit 2 (file and line named).
    """
    if templates is not None:
        folder = check_template_folder(templates, where="--templates")
    else:
        where = f"{plan.path}: report.templates"
        folder = check_template_folder(plan.templates, where=where)
    return template_set(folder)


def _renderer(templates: TemplateSet) -> Callable[[Path], list[Path]]:
    """Render the bundle's reports with ``templates`` (WeasyPrint is imported only here)."""

    def render(folder: Path) -> list[Path]:
        from dxval.report import render_bundle_reports

        return render_bundle_reports(folder, templates=templates.folder)

    return render


def _record_uses(
    ledger: LedgerSession,
    *,
    uses: Sequence[TestSetUse],
    pins: Sequence[PinnedItem],
    plan: RunPlan,
    run_id: str,
    audit: AuditLog,
) -> None:
    """Append this run's test sets to the reuse ledger (after the bundle is sealed)."""
    pinned = {item.pin.field: item.pin.actual for item in pins}
    ledger.record(
        uses,
        protocol_id=plan.protocol_id,
        run_id=run_id,
        model_sha256=pinned.get("model.sha256"),
        predictions_sha256=pinned.get("predictions.sha256"),
        user=audit.user,
        host=audit.host,
    )


def _populations(plan: RunPlan, table: CaseTable) -> PopulationIndex:
    return build_populations(
        table.sites,
        table.test_sets,
        table.levels,
        site_order=plan.sites,
        test_set_order=[test_set.id for test_set in plan.test_sets],
        attributes=plan.attribute_specs,
        site_by=list(plan.site_by),
    )


def _analyse(
    plan: RunPlan,
    table: CaseTable,
    external: Mapping[str, Any] | None = None,
    references: Mapping[str, PairedScores] | None = None,
    levels: Sequence[LevelScores] = (),
    *,
    groups: Mapping[str, str] | None = None,
) -> AnalysisResult:
    """Populations, metrics, criteria and failure modes of the protocol."""
    populations = _populations(plan, table)
    header = {"id": plan.protocol_id, "version": plan.version, "sha256": plan.digest}
    return analyse(
        table,
        populations,
        list(plan.requirements),
        settings=plan.statistics,
        header=header,
        external=external,
        references=references,
        levels=levels,
        precision=None
        if groups is None or plan.precision_column is None
        else analyse_precision(table, groups, plan.statistics, column=plan.precision_column),
    )


def _run_record(plan: RunPlan, run_id: str, started: str, audit: AuditLog) -> dict[str, Any]:
    """Identity part of ``run.json`` (outcome fields are added by the caller)."""
    return {
        "schema": "dxval-run/1",
        "run_id": run_id,
        "protocol": {
            "id": plan.protocol_id,
            "title": plan.title,
            "version": plan.version,
            "path": str(plan.path),
            "sha256": plan.digest,
        },
        "device": dict(plan.device),
        "started_utc": started,
        "finished_utc": utc_now(),
        "user": audit.user,
        "host": audit.host,
        "dxval_version": __version__,
    }


def run_validation(
    protocol_path: str | Path,
    *,
    out: str | Path = "evidence",
    progress: Progress = _quiet,
    run_id: str | None = None,
    inference: InferenceOptions | None = None,
    reports: bool = True,
    templates: str | Path | None = None,
) -> RunResult:
    """Run the validation a protocol specifies and write its evidence bundle.

    Parameters
    ----------
    protocol_path:
        The protocol YAML file.
    out:
        Evidence root; the bundle lands in ``out/<protocol-id>/<run-id>/``.
    progress:
        Called with one line per step (the CLI prints it on stderr).
    run_id:
        Fixed run ID (tests); default :func:`dxval.evidence.new_run_id`.
    inference:
        Device, workers, batch size and cache use for a ``model:`` protocol;
        the prediction cache defaults to ``<out>/.dxval-cache``.
    reports:
        Render ``report.pdf``, ``report-submission.pdf``, ``report.html`` and
        the figures into the bundle before it is sealed (default). Without
        them the evidence is complete; ``dxval report`` renders them later.
    templates:
        A folder of report templates used over the shipped ones; default the
        protocol's ``report.templates``. The template set's SHA-256 listing is
        recorded in ``run.json`` (``templates``).

    Returns
    -------
    RunResult
        Exit code 0 (all criteria met), 1 (some not met) or 4 (incomplete).

    Raises
    ------
    ProtocolError, InputError, UsageError
        Invalid protocol or unusable input (exit 2); nothing is written.
    TemplateError
        A report template fails (exit 2, file and line named); no bundle is published.
    IntegrityError
        A pinned digest differs (exit 3); nothing is written.
    """
    started = utc_now()
    run_id = run_id or new_run_id()
    audit = AuditLog()
    plan = plan_run(protocol_path)
    digest = {"path": str(plan.path), "sha256": plan.digest}
    audit.record("protocol.loaded", digest, f"validate run {run_id}")
    report_templates = _report_templates(plan, templates) if reports else None
    out = Path(out)
    check_writable(out)
    capped = plan.max_test_set_uses is not None

    def waiting() -> None:
        progress("waiting for another run into this evidence root to release the ledger")

    with ledger_session(out, hold=capped, waiting=waiting) as ledger:
        if plan.task is not None:  # detection / segmentation (issue 16)
            task = run_task(
                plan, audit=audit, progress=progress, run_id=run_id, started=started,
                out=out, ledger=ledger, reports=reports, inference=inference,
                templates=None if report_templates is None else report_templates.folder,
            )  # fmt: skip
            evidence = _anchor(out, task.bundle, plan.protocol_id, run_id)
            return RunResult(
                task.exit_code, task.status, run_id, plan.protocol_id, task.bundle,
                task.requirements, task.summary, task.counts, task.message, evidence,
            )  # fmt: skip
        code, status, message, result, counts, bundle = _run_and_seal(
            plan,
            audit=audit,
            progress=progress,
            run_id=run_id,
            started=started,
            out=out,
            inference=inference,
            ledger=ledger,
            report_templates=report_templates,
        )
    evidence = _anchor(out, bundle, plan.protocol_id, run_id)
    return RunResult(
        code,
        status,
        run_id,
        plan.protocol_id,
        bundle,
        result.requirements,
        result.summary,
        counts,
        message,
        evidence,
    )


def _anchor(out: Path, bundle: Path, protocol_id: str, run_id: str) -> str:
    """Record the sealed bundle's evidence digest in the evidence root's ledger; return it."""
    from dxval.evidence.signatures import evidence_digest

    digest = evidence_digest(bundle)
    record_anchor(
        out,
        event="sealed",
        protocol_id=protocol_id,
        run_id=run_id,
        evidence_digest=digest,
        audit=audit_head((bundle / AUDIT_NAME).read_bytes()),
    )
    return digest


def _write_cases(
    writer: BundleWriter, rows: list[CaseRow] | CaseColumnRows, attributes: Sequence[str]
) -> None:
    """``cases.csv`` from per-case rows, or from columns a chunk at a time (same bytes)."""
    if isinstance(rows, list):
        writer.write_bytes(CASES_NAME, render_cases(rows, attributes))
    else:  # never whole in memory
        writer.write_chunks(CASES_NAME, case_column_chunks(rows, attributes))


def _write_design_records(
    writer: BundleWriter, plan: RunPlan, gathered: _Gathered, result: AnalysisResult
) -> None:
    """The sample-size justification and the preprocessing contact sheet (issue 14)."""
    sizes = sample_size_document(plan.sample_size, result.metrics_document)
    if sizes is not None:
        writer.write_json(SAMPLE_SIZE_NAME, sizes)
    rows = gathered.rows if isinstance(gathered.rows, list) else []  # columns: no model, no sheet
    sheet = contact_sheet_png(plan, gathered.sources, rows)
    if sheet is not None:
        writer.write_bytes(CONTACT_SHEET_NAME, sheet)


def _run_and_seal(
    plan: RunPlan,
    *,
    audit: AuditLog,
    progress: Progress,
    run_id: str,
    started: str,
    out: Path,
    inference: InferenceOptions | None,
    ledger: LedgerSession,
    report_templates: TemplateSet | None,
) -> tuple[ExitCode, str, str | None, AnalysisResult, dict[str, int], Path]:
    """Gather, analyse, write and seal the bundle; record the test-set uses in ``ledger``.

    Returns the exit code, status, message, analysis, case counts and the sealed bundle.
    """
    gathered = _gather(
        plan,
        audit,
        progress,
        options=inference or InferenceOptions(),
        out=out,
        ledger=ledger,
    )
    study = _reader_study(plan, gathered.pins)  # reader study hook (issue 15)
    if study is not None:
        audit.record(
            "reader_study.analysed",
            {"reads": study.document["reads"], "p_value": study.document.get("p_value")},
            "reader study read and analysed",
        )
    references = paired_references(gathered.table, gathered.comparators)
    latency = _latency(plan, gathered, audit)  # issue 19: latency study
    external = _external(study, latency)
    result = _analyse(
        plan, gathered.table, external, references, gathered.levels, groups=gathered.repeat_groups
    )
    audit.record("analysis.completed", result.summary.to_dict(), "metrics and criteria computed")
    failed_fraction = gathered.counts["failed"] / max(gathered.table.size, 1)
    code, status, message = _exit_code(result.summary, failed_fraction, plan.max_failed_fraction)
    progress("writing evidence bundle")
    with BundleWriter(out, plan.protocol_id, run_id) as writer:
        writer.write_bytes(PROTOCOL_NAME, plan.raw_bytes)
        model_run = gathered.model_run
        comparator_runs = {
            item.comparator.id: item.run for item in gathered.comparators if item.run is not None
        }
        lock = lock_record(plan, gathered.pins, gathered.sources, model_run, comparator_runs)
        writer.write_json(LOCK_NAME, lock)
        runtime = capture_runtime() if model_run is None else model_run.environment
        writer.write_json(ENVIRONMENT_NAME, capture_environment(runtime=runtime))
        if model_run is not None and model_run.phi_findings:
            writer.write_json(PHI_NAME, {"findings": list(model_run.phi_findings)})
        _write_cases(writer, gathered.rows, plan.attribute_names)
        check_record(MetricsDocument, result.metrics_document, name=METRICS_NAME)
        writer.write_json(METRICS_NAME, result.metrics_document)
        check_record(CriteriaDocument, result.criteria_document, name=CRITERIA_NAME)
        writer.write_json(CRITERIA_NAME, result.criteria_document)
        if gathered.comparators:  # comparison stage (issue 13)
            populations = _populations(plan, gathered.table)
            document = comparison_document(plan, populations, gathered.comparators, references)
            check_record(ComparisonRecord, document, name=COMPARISON_NAME)
            writer.write_json(COMPARISON_NAME, document)
        pccp = pccp_record(plan, all_met=result.summary.all_met)
        if pccp is not None and not pccp["implement"]:
            message = message or f"{pccp['id']}: {NOT_IMPLEMENTED}"
            audit.record("pccp.decided", pccp, "a criterion is not met")
        if study is not None:  # reader study hook (issue 15)
            check_record(MrmcRecord, study.document, name=MRMC_NAME)
            writer.write_json(MRMC_NAME, study.document)
        _write_design_records(writer, plan, gathered, result)  # issue 14
        if gathered.level_cases is not None:  # robustness levels (issue 19)
            writer.write_bytes(ROBUSTNESS_CASES_NAME, gathered.level_cases)
        _write_latency(writer, latency)  # issue 19
        run = {
            **_run_record(plan, run_id, started, audit),
            "status": status,
            "exit_code": int(code),
            "message": message,
            "cases": gathered.counts,
            "criteria": result.summary.to_dict(),
            "test_set_usage": [item.to_dict() for item in gathered.usage],
            "templates": None if report_templates is None else report_templates.to_dict(),
            "pccp": pccp,
        }
        check_record(RunRecord, run, name=RUN_NAME)
        # Every file is written: the run's tables go before the report reads the bundle back
        # (issue 18: ~1.5 GiB at 10,000,000 cases, which the 4 GB bound cannot hold twice).
        counts, uses, pins = gathered.counts, gathered.uses, gathered.pins
        del gathered, references, model_run, comparator_runs, study, latency, external
        bundle = writer.seal(
            audit, run, render=None if report_templates is None else _renderer(report_templates)
        )
    _record_uses(ledger, uses=uses, pins=pins, plan=plan, run_id=run_id, audit=audit)
    return code, status, message, result, counts, bundle
