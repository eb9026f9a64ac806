"""``validate protocol.yaml`` end to end: load → locks → cases → scores → analysis → bundle.

:func:`run_validation` follows DESIGN.md's data flow. Nothing is written
until the protocol is valid, the output folder writable, every pin matches
and every input is readable; the bundle is then written atomically. The
exit code says which way the run went (0 all criteria met, 1 not met,
4 incomplete: non-evaluable cases beyond the QC tolerance); errors raise
:class:`~dxval.errors.DxvalError` subclasses with codes 2 and 3.
:func:`lock_protocol` (from :mod:`dxval.locking`) computes and writes the pins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dxval import __version__
from dxval.analysis import (
    AnalysisResult,
    AttributeSpec,
    CaseRecord,
    CaseTable,
    CriteriaSummary,
    CriterionSpec,
    PopulationSpec,
    RequirementResult,
    RequirementSpec,
    StatisticsSettings,
    analyse,
    band_of,
    build_populations,
)
from dxval.analysis.populations import MISSING_LEVEL
from dxval.data import (
    AttributeSources,
    Case,
    DicomAttributeReader,
    TestSetSource,
    TruthRule,
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
from dxval.evidence.ledger import LedgerSession, TestSetUsage, TestSetUse, ledger_session
from dxval.evidence.records import CaseRow, render_cases
from dxval.locking import (
    LockResult,
    PinnedItem,
    lock_protocol,
    lock_record,
    protocol_pins,
    read_sources,
)
from dxval.protocol import (
    CellPopulation,
    Criterion,
    EachPopulation,
    LoadedProtocol,
    SitePopulation,
    TestSetPopulation,
    load_protocol,
)
from dxval.scoring import InferenceOptions, ModelScores, score_with_model

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


def _read_cases(loaded: LoadedProtocol, sources: Sequence[TestSetSource]) -> tuple[Case, ...]:
    protocol = loaded.protocol
    attributes = AttributeSources(
        columns={name: a.column for name, a in protocol.attributes.items() if a.column is not None},
        dicom={name: a.dicom for name, a in protocol.attributes.items() if a.dicom is not None},
    )
    rule = TruthRule(
        protocol.truth.column,
        frozenset(protocol.truth.positive),
        frozenset(protocol.truth.negative),
    )
    reader = _dicom_attribute_reader() if attributes.dicom else None
    return build_cases(sources, rule, attributes=attributes, dicom_reader=reader)


def _prediction_scores(loaded: LoadedProtocol, cases: Sequence[Case]) -> dict[str, CaseOutcome]:
    """Scores from the protocol's predictions CSV (bring-your-own-predictions)."""
    section = loaded.protocol.predictions
    assert section is not None  # only called for predictions protocols
    path = loaded.resolve(section.path)
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
    loaded: LoadedProtocol,
    cases: Sequence[Case],
    options: InferenceOptions,
    cache_dir: Path,
) -> tuple[dict[str, CaseOutcome], ModelScores]:
    """Scores from the frozen model through the locked harness (:mod:`dxval.scoring`)."""
    run = score_with_model(loaded, cases, options=options, default_cache_dir=cache_dir)
    outcomes = {}
    for case in cases:
        score = run.scores.get(case.case_id)
        if score is not None:
            outcomes[case.case_id] = CaseOutcome(score)
        else:
            code, reason = run.failures.get(case.case_id, ("failed", "no result from the harness"))
            outcomes[case.case_id] = CaseOutcome(None, code, reason)
    return outcomes, run


def _levels(loaded: LoadedProtocol, case: Case) -> dict[str, str]:
    """Attribute levels of a case: band labels for binned attributes, text otherwise."""
    levels = {}
    for name, attribute in loaded.protocol.attributes.items():
        value = case.attributes.get(name, "")
        if attribute.bins is not None:
            levels[name] = band_of(value, attribute.bins, where=f"{case.source} {name}")
        else:
            levels[name] = value or MISSING_LEVEL
    return levels


def _settings(loaded: LoadedProtocol) -> StatisticsSettings:
    protocol = loaded.protocol
    statistics = protocol.statistics
    return StatisticsSettings(
        operating_point=protocol.operating_point,
        confidence_level=statistics.confidence_level,
        proportion_method=statistics.proportion_ci,
        auc_method=statistics.auc_ci,
        bootstrap_replicates=statistics.bootstrap.replicates,
        bootstrap_seed=statistics.bootstrap.seed,
        bootstrap_interval=statistics.bootstrap.interval,
        multiplicity=statistics.multiplicity,
        prevalence=statistics.prevalence,
        calibration_bins=None if statistics.calibration is None else statistics.calibration.bins,
        minimum_positives=statistics.minimum.positives,
        minimum_negatives=statistics.minimum.negatives,
        most_confident_errors=protocol.analysis.most_confident_errors,
    )


def _population_spec(criterion: Criterion) -> PopulationSpec:
    population = criterion.population
    if isinstance(population, EachPopulation):
        return PopulationSpec("each", family=population.each, site=population.site)
    if isinstance(population, SitePopulation):
        return PopulationSpec("site", site=population.site)
    if isinstance(population, TestSetPopulation):
        return PopulationSpec("test_set", test_set=population.test_set)
    if isinstance(population, CellPopulation):
        value = population.value
        text = f"{value:g}" if isinstance(value, float) else str(value)
        return PopulationSpec(
            "cell", attribute=population.attribute, value=text, site=population.site
        )
    return PopulationSpec("all")


def _requirement_specs(loaded: LoadedProtocol) -> list[RequirementSpec]:
    return [
        RequirementSpec(
            requirement.id,
            requirement.text,
            tuple(
                CriterionSpec(
                    metric=criterion.metric,
                    population=_population_spec(criterion),
                    op=criterion.op,
                    value=criterion.value,
                    bound=criterion.bound,
                    spread=criterion.spread,
                    non_evaluable=criterion.non_evaluable,
                )
                for criterion in requirement.criteria
            ),
        )
        for requirement in loaded.protocol.requirements
    ]


def _table(
    loaded: LoadedProtocol, cases: Sequence[Case], outcomes: dict[str, CaseOutcome]
) -> tuple[CaseTable, list[CaseRow]]:
    protocol = loaded.protocol
    records, rows = [], []
    for case in cases:
        outcome = outcomes[case.case_id]
        levels = _levels(loaded, case)
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
                decision=None
                if outcome.score is None
                else outcome.score >= protocol.operating_point,
                status="scored" if outcome.score is not None else "failed",
                reason_code=outcome.reason_code,
                reason=outcome.reason,
                levels=levels,
                input_sha256=case.input_sha256,
            )
        )
    table = CaseTable.from_records(
        records, operating_point=protocol.operating_point, attributes=list(protocol.attributes)
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
    rows: list[CaseRow]
    counts: dict[str, int]
    model_run: ModelScores | None
    uses: list[TestSetUse]
    usage: tuple[TestSetUsage, ...]


def _gather(
    loaded: LoadedProtocol,
    audit: AuditLog,
    progress: Progress,
    *,
    options: InferenceOptions,
    out: Path,
    ledger: LedgerSession,
) -> _Gathered:
    """Check the locks, read the cases and their scores; record each step in ``audit``."""
    protocol = loaded.protocol
    progress(f"protocol {protocol.id} loaded ({loaded.path}); checking locks")
    sources = read_sources(loaded)
    check_run_size(
        loaded.path,
        sum(len(source.manifest.rows) for source in sources),
        protocol.statistics.bootstrap.replicates,
    )
    pins = protocol_pins(loaded, sources)
    check_pins(item.pin for item in pins)
    pinned = {item.pin.field: item.pin.actual for item in pins}
    audit.record("locks.checked", pinned, "every pinned digest matches")
    uses = [
        TestSetUse(source.test_set, source.lock.digest, len(source.manifest.rows))
        for source in sources
        if source.lock is not None
    ]
    usage = ledger.check(uses, max_uses=protocol.qc.max_test_set_uses)
    audit.record(
        "test_sets.reuse_checked",
        {"test_sets": [item.to_dict() for item in usage]},
        "test-set reuse ledger read; within qc.max_test_set_uses",
    )
    cases = _read_cases(loaded, sources)
    per_test_set = {source.test_set: len(source.manifest.rows) for source in sources}
    audit.record("cases.read", {"cases": len(cases), "test_sets": per_test_set}, "manifests read")
    progress(f"{len(cases)} cases read from {len(sources)} test set(s); scoring")
    model_run = None
    if protocol.model is not None:
        outcomes, model_run = _model_scores(loaded, cases, options, out / ".dxval-cache")
        _record_model_run(audit, model_run)
        origin = "model"
    else:
        outcomes, origin = _prediction_scores(loaded, cases), "predictions file"
    table, rows = _table(loaded, cases, outcomes)
    counts = {
        "total": table.size,
        "scored": int(table.evaluable.sum()),
        "failed": int((~table.evaluable).sum()),
    }
    audit.record("cases.scored", counts, f"scores from the {origin}")
    progress(f"{counts['scored']} scored, {counts['failed']} non-evaluable; analysing")
    return _Gathered(sources, pins, table, rows, counts, model_run, uses, usage)


def _record_model_run(audit: AuditLog, run: ModelScores) -> None:
    """Audit events of a model run: runner and golden check, cache use, PHI policy."""
    audit.record("model.loaded", run.runner, "artifact signature checked before any case")
    if run.golden is not None:
        audit.record("model.golden_checked", run.golden, "pinned reference input re-scored")
    cache = {**run.cache, "hit_case_ids": list(run.cache_hit_case_ids)}
    audit.record("cache.used", cache, "cached scores verified by hash before use")
    if run.phi_findings:
        findings = {"findings": len(run.phi_findings), "file": "phi.json"}
        audit.record("phi.warned", findings, "qc.phi is 'warn': findings recorded, run continues")


def _render_reports(folder: Path) -> list[Path]:
    """Render the bundle's reports (imported here: WeasyPrint is slow to import)."""
    from dxval.report import render_bundle_reports

    return render_bundle_reports(folder)


def _record_uses(
    ledger: LedgerSession,
    gathered: _Gathered,
    loaded: LoadedProtocol,
    run_id: str,
    audit: AuditLog,
) -> None:
    """Append this run's test sets to the reuse ledger (after the bundle is sealed)."""
    pinned = {item.pin.field: item.pin.actual for item in gathered.pins}
    ledger.record(
        gathered.uses,
        protocol_id=loaded.protocol.id,
        run_id=run_id,
        model_sha256=pinned.get("model.sha256"),
        predictions_sha256=pinned.get("predictions.sha256"),
        user=audit.user,
        host=audit.host,
    )


def _site_by(loaded: LoadedProtocol) -> list[str]:
    """Attributes analysed within each site: ``analysis.site_by`` and those criteria need."""
    names = list(loaded.protocol.analysis.site_by)
    for requirement in loaded.protocol.requirements:
        for criterion in requirement.criteria:
            population = criterion.population
            if isinstance(population, (EachPopulation, CellPopulation)) and population.site:
                attribute = (
                    population.each
                    if isinstance(population, EachPopulation)
                    else population.attribute
                )
                if attribute not in names:
                    names.append(attribute)
    return names


def _analyse(loaded: LoadedProtocol, table: CaseTable) -> AnalysisResult:
    """Populations, metrics, criteria and failure modes of the protocol."""
    protocol = loaded.protocol
    populations = build_populations(
        table.sites,
        table.test_sets,
        table.levels,
        site_order=protocol.sites,
        test_set_order=[test_set.id for test_set in protocol.test_sets],
        attributes=[
            AttributeSpec(name, a.label or name, None if a.bins is None else tuple(a.bins))
            for name, a in protocol.attributes.items()
        ],
        site_by=_site_by(loaded),
    )
    header = {"id": protocol.id, "version": protocol.version, "sha256": loaded.digest}
    return analyse(
        table, populations, _requirement_specs(loaded), settings=_settings(loaded), header=header
    )


def _run_record(
    loaded: LoadedProtocol, run_id: str, started: str, audit: AuditLog
) -> dict[str, Any]:
    """Identity part of ``run.json`` (outcome fields are added by the caller)."""
    protocol = loaded.protocol
    return {
        "schema": "dxval-run/1",
        "run_id": run_id,
        "protocol": {
            "id": protocol.id,
            "title": protocol.title,
            "version": protocol.version,
            "path": str(loaded.path),
            "sha256": loaded.digest,
        },
        "device": protocol.device.model_dump(),
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

    Returns
    -------
    RunResult
        Exit code 0 (all criteria met), 1 (some not met) or 4 (incomplete).

    Raises
    ------
    ProtocolError, InputError, UsageError
        Invalid protocol or unusable input (exit 2); nothing is written.
    IntegrityError
        A pinned digest differs (exit 3); nothing is written.
    """
    started = utc_now()
    run_id = run_id or new_run_id()
    audit = AuditLog()
    loaded = load_protocol(protocol_path)
    protocol = loaded.protocol
    digest = {"path": str(loaded.path), "sha256": loaded.digest}
    audit.record("protocol.loaded", digest, f"validate run {run_id}")
    out = Path(out)
    check_writable(out)
    capped = protocol.qc.max_test_set_uses is not None

    def waiting() -> None:
        progress("waiting for another run into this evidence root to release the ledger")

    with ledger_session(out, hold=capped, waiting=waiting) as ledger:
        code, status, message, result, gathered, bundle = _run_and_seal(
            loaded,
            audit=audit,
            progress=progress,
            run_id=run_id,
            started=started,
            out=out,
            inference=inference,
            ledger=ledger,
            reports=reports,
        )
    evidence = _anchor(out, bundle, protocol.id, run_id)
    return RunResult(
        code,
        status,
        run_id,
        protocol.id,
        bundle,
        result.requirements,
        result.summary,
        gathered.counts,
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
        audit=audit_head((bundle / "audit.jsonl").read_bytes()),
    )
    return digest


def _run_and_seal(
    loaded: LoadedProtocol,
    *,
    audit: AuditLog,
    progress: Progress,
    run_id: str,
    started: str,
    out: Path,
    inference: InferenceOptions | None,
    ledger: LedgerSession,
    reports: bool,
) -> tuple[ExitCode, str, str | None, AnalysisResult, _Gathered, Path]:
    """Gather, analyse, write and seal the bundle; record the test-set uses in ``ledger``."""
    protocol = loaded.protocol
    gathered = _gather(
        loaded,
        audit,
        progress,
        options=inference or InferenceOptions(),
        out=out,
        ledger=ledger,
    )
    result = _analyse(loaded, gathered.table)
    audit.record("analysis.completed", result.summary.to_dict(), "metrics and criteria computed")
    failed_fraction = gathered.counts["failed"] / max(gathered.table.size, 1)
    code, status, message = _exit_code(
        result.summary, failed_fraction, protocol.qc.max_failed_fraction
    )
    progress("writing evidence bundle")
    with BundleWriter(out, protocol.id, run_id) as writer:
        writer.write_bytes("protocol.yaml", loaded.raw_bytes)
        model_run = gathered.model_run
        lock = lock_record(loaded, gathered.pins, gathered.sources, model_run)
        writer.write_json("lock.json", lock)
        environment = capture_environment()
        if model_run is not None:
            environment["runtime"] = model_run.environment
        writer.write_json("environment.json", environment)
        if model_run is not None and model_run.phi_findings:
            writer.write_json("phi.json", {"findings": list(model_run.phi_findings)})
        writer.write_bytes("cases.csv", render_cases(gathered.rows, list(protocol.attributes)))
        writer.write_json("metrics.json", result.metrics_document)
        writer.write_json("criteria.json", result.criteria_document)
        run = {
            **_run_record(loaded, run_id, started, audit),
            "status": status,
            "exit_code": int(code),
            "message": message,
            "cases": gathered.counts,
            "criteria": result.summary.to_dict(),
            "test_set_usage": [item.to_dict() for item in gathered.usage],
        }
        bundle = writer.seal(audit, run, render=_render_reports if reports else None)
    _record_uses(ledger, gathered, loaded, run_id, audit)
    return code, status, message, result, gathered, bundle
