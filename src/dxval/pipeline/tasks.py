"""The detection and segmentation stage of ``validate`` (issue 16).

Called by :func:`dxval.pipeline.validate.run_validation` for a protocol with
``task: detection`` or ``task: segmentation``. Same order as a
classification run: locks (test sets, the lesion truth file, the marks
file), cases from the manifests, per-case outcomes, populations, criteria,
then one atomically written bundle. Every manifest case appears in the
outcome: a detection case without marks has its lesions missed, a
segmentation case without a predicted mask is scored against an empty
prediction; a case whose masks cannot be read or are on different grids is
non-evaluable with its reason code and counts toward
``qc.max_failed_fraction``.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dxval import __version__
from dxval.analysis import CriteriaSummary, RequirementResult, band_of, build_populations
from dxval.analysis.detection import TruthCase, read_marks, read_truth
from dxval.analysis.detection import _weights as lesion_weights
from dxval.analysis.documents import CRITERIA_SCHEMA, summarise
from dxval.analysis.populations import MISSING_LEVEL, PopulationIndex
from dxval.analysis.tasks import (
    Bootstrap,
    DetectionEstimates,
    SegmentationEstimates,
    StructureOutcome,
    evaluate_task_requirements,
    score_model_case,
    score_segmentation_case,
)
from dxval.data import TestSetSource, check_pins
from dxval.data.detection_sr import image_geometry, read_sr_lesions
from dxval.data.limits import check_run_size
from dxval.data.locks import case_input_digest
from dxval.data.manifest import ManifestRow
from dxval.errors import ExitCode, InputError
from dxval.evidence import AuditLog, BundleWriter, capture_environment
from dxval.evidence.audit import utc_now
from dxval.evidence.format import (
    CASES_NAME,
    CRITERIA_NAME,
    DETECTION_NAME,
    ENVIRONMENT_NAME,
    LOCK_NAME,
    PHI_NAME,
    PROTOCOL_NAME,
    RUN_NAME,
    SEGMENTATION_NAME,
    CriteriaDocument,
    DetectionRecord,
    RunRecord,
    SegmentationRecord,
    check_record,
)
from dxval.evidence.ledger import LedgerSession, TestSetUse
from dxval.evidence.records import CaseRow, render_cases
from dxval.inference import capture_environment as capture_runtime
from dxval.inference.options import InferenceOptions
from dxval.pipeline.lock import lock_record, protocol_pins, read_sources
from dxval.pipeline.plan import RunPlan
from dxval.pipeline.score import ModelScores
from dxval.pipeline.task_model import (
    ModelCase,
    model_marks,
    model_prediction,
    record_model_run,
    score_task_model,
)
from dxval.stats.detection import (
    FROC_RATES,
    CaseMatch,
    FrocData,
    froc_band,
    froc_curve,
    match_case,
    sensitivity_at_rates,
)
from dxval.stats.results import finite_or_none
from dxval.stats.vocabulary import DETECTION_METRICS, SEGMENTATION_METRICS

__all__ = ["TaskOutcome", "run_task"]

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class TaskCase:
    """A manifest case of a task protocol: identity, subgroup levels and its manifest row."""

    case_id: str
    test_set: str
    site: str
    levels: dict[str, str]
    row: ManifestRow
    source: TestSetSource


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """What the task stage produced, in the shape ``run_validation`` returns."""

    exit_code: ExitCode
    status: str
    message: str | None
    requirements: tuple[RequirementResult, ...]
    summary: CriteriaSummary
    counts: dict[str, int]
    bundle: Path


def _cases(plan: RunPlan, sources: Sequence[TestSetSource]) -> list[TaskCase]:
    """Every manifest row as a case; attributes come from manifest columns."""
    cases, seen = [], set()
    for source in sources:
        manifest = source.manifest
        for row in manifest.rows:
            where = manifest.location(row)
            if row.case_id in seen:
                raise InputError(f"{where}: case_id {row.case_id!r} repeated across test sets")
            seen.add(row.case_id)
            levels = {}
            for attribute in plan.attributes:
                if attribute.column is None:
                    raise InputError(
                        f"{plan.path}: attributes.{attribute.name}: a {_kind(plan)} protocol "
                        "reads subgroup attributes from manifest columns; expected column:"
                    )
                if attribute.column not in row.values:
                    raise InputError(f"{where}: no column {attribute.column!r}")
                text = row.values[attribute.column]
                levels[attribute.name] = (
                    band_of(text, list(attribute.bins), where=f"{where} {attribute.name}")
                    if attribute.bins is not None
                    else text or MISSING_LEVEL
                )
            cases.append(TaskCase(row.case_id, source.test_set, source.site, levels, row, source))
    return cases


def _input_digest(case: TaskCase) -> str | None:
    """Digest of the case's files as cases.csv records it for a classification case."""
    lock = case.source.lock
    if lock is None or not case.row.names:
        return None
    digests = lock.file_sha256()
    return case_input_digest((name, digests[name]) for name in case.row.names)


def _kind(plan: RunPlan) -> str:
    assert plan.task is not None  # only called for task protocols
    return plan.task.kind


def _populations(plan: RunPlan, cases: Sequence[TaskCase]) -> PopulationIndex:
    return build_populations(
        np.array([case.site for case in cases], dtype=np.str_),
        np.array([case.test_set for case in cases], dtype=np.str_),
        {
            name: np.array([case.levels[name] for case in cases], dtype=np.str_)
            for name in plan.attribute_names
        },
        site_order=plan.sites,
        test_set_order=[test_set.id for test_set in plan.test_sets],
        attributes=plan.attribute_specs,
        site_by=list(plan.site_by),
    )


def _bootstrap(plan: RunPlan) -> Bootstrap:
    return Bootstrap(plan.statistics.bootstrap_replicates, plan.statistics.bootstrap_seed)


# --- detection ------------------------------------------------------------------------------


def _csv_truth(path: Path, cases: Sequence[TaskCase]) -> dict[str, TruthCase]:
    truth = read_truth(path)
    listed = {case.case_id for case in cases}
    for case_id in truth:
        if case_id not in listed:
            raise InputError(
                f"{path}: case {case_id!r} is in the lesion truth but in no "
                "test-set manifest; expected the manifests to list every truth case"
            )
    return {case.case_id: truth.get(case.case_id, TruthCase()) for case in cases}


def _sr_truth(column: str, cases: Sequence[TaskCase]) -> dict[str, TruthCase]:
    """Each case's lesions from its TID 1500 SR file (no file: a normal case)."""
    every = {}
    for case in cases:
        path = _row_file(case, column, field="detection.truth", required=False)
        lesion_truth = TruthCase()
        if path is not None:
            regions, _ = read_sr_lesions(path)
            lesion_truth.lesions.extend(regions)
            lesion_truth.weights.extend([None] * len(regions))
        every[case.case_id] = lesion_truth
    return every


def _detection_truth(plan: RunPlan, cases: Sequence[TaskCase]) -> dict[str, TruthCase]:
    """Lesions per manifest case; spacing and image size from the case's DICOM image if unset."""
    assert plan.task is not None
    detection = plan.task.detection
    assert detection is not None
    if detection.format == "csv":
        every = _csv_truth(detection.resolved, cases)
    else:
        every = _sr_truth(detection.truth, cases)
    for case in cases:
        lesion_truth = every[case.case_id]
        if case.row.files and (lesion_truth.spacing is None or lesion_truth.size is None):
            spacing, size = image_geometry(case.row.files)
            lesion_truth.spacing = lesion_truth.spacing or spacing
            lesion_truth.size = lesion_truth.size or size
    return every


def _detection_matches(
    plan: RunPlan,
    cases: Sequence[TaskCase],
    model_run: ModelScores | None = None,
    failures: dict[str, tuple[str, str]] | None = None,
) -> list[CaseMatch]:
    """Each case's marks matched to its lesions (cases without marks: every lesion missed).

    The marks come from the marks CSV, or from a box model's run (issue 16 item 5;
    its failed cases are added to ``failures`` and have no marks).
    """
    assert plan.task is not None
    assert plan.task.detection is not None
    detection = plan.task.detection
    every = _detection_truth(plan, cases)
    if model_run is not None:
        marks, failed = model_marks(plan, model_run, every)
        if failures is not None:
            failures.update(failed)
    else:
        assert plan.predictions is not None  # checked at load (dxval.protocol.tasks)
        marks = read_marks(plan.predictions.resolved, every)
    matches = []
    for case in cases:
        lesion_truth = every[case.case_id]
        regions, scores = marks.get(case.case_id, ([], []))
        source = detection.resolved if detection.format == "csv" else "detection.truth (SR)"
        where = f"{source}: case {case.case_id!r}"
        try:
            matches.append(
                match_case(
                    lesion_truth.lesions, regions, scores, detection.localisation,
                    spacing=lesion_truth.spacing, weights=lesion_weights(where, lesion_truth),
                )
            )  # fmt: skip
        except ValueError as error:
            raise InputError(f"{where}: {error}") from None
    return matches


#: FP-per-image rates at which the FROC band is estimated (1/16 … 8, log-spaced).
BAND_RATES = tuple(float(rate) for rate in np.geomspace(1 / 16, 8, 22))


def _curve(matches: Sequence[CaseMatch], plan: RunPlan) -> dict[str, Any]:
    data = FrocData.from_cases(list(matches))
    thresholds, nlf, llf = froc_curve(data)
    low, high = froc_band(
        data,
        BAND_RATES,
        confidence_level=plan.statistics.confidence_level,
        replicates=plan.statistics.bootstrap_replicates,
        seed=plan.statistics.bootstrap_seed,
    )
    return {
        "band": {
            "rates": list(BAND_RATES),
            "low": [finite_or_none(value) for value in low],
            "high": [finite_or_none(value) for value in high],
            "method": "pointwise percentile bootstrap over cases stratified by truth",
        },
        "thresholds": [None if math.isinf(t) else float(t) for t in thresholds],
        "fp_per_image": nlf.tolist(),
        "sensitivity": [finite_or_none(value) for value in llf],
        "rates": list(FROC_RATES),
        "sensitivity_at_rates": [finite_or_none(v) for v in sensitivity_at_rates(nlf, llf)],
    }


def _detection_document(
    plan: RunPlan,
    cases: Sequence[TaskCase],
    matches: Sequence[CaseMatch],
    estimates: DetectionEstimates,
    populations: PopulationIndex,
) -> dict[str, Any]:
    assert plan.task is not None
    assert plan.task.detection is not None
    detection = plan.task.detection
    level = plan.statistics.confidence_level
    threshold = plan.operating_point
    entries = []
    for population in populations.populations:
        chosen = [match for match, keep in zip(matches, population.mask, strict=True) if keep]
        statistics = estimates.statistics(population, level)
        entries.append(
            {
                **population.describe(),
                "cases": len(chosen),
                "abnormal_cases": sum(1 for match in chosen if match.abnormal),
                "lesions": sum(int(match.lesion_ratings.size) for match in chosen),
                "statistics": {name: statistics[name].to_dict() for name in DETECTION_METRICS},
                "froc": _curve(chosen, plan),
            }
        )
    return {
        "schema": "dxval-detection/1",
        "truth": {"path": detection.truth, "format": detection.format},
        "localisation": {
            "criterion": detection.localisation.criterion.value,
            "threshold": detection.localisation.threshold,
            "matching": "greedy by decreasing score; one mark matches at most one lesion",
        },
        "operating_point": threshold,
        "confidence_level": level,
        "populations": entries,
        "cases": [
            {
                "case_id": case.case_id,
                "site": case.site,
                "lesions": int(match.lesion_ratings.size),
                "lesions_found": int(np.count_nonzero(match.lesion_ratings >= threshold)),
                "false_positives": int(np.count_nonzero(match.false_positive_ratings >= threshold)),
                "case_score": finite_or_none(match.case_score),
            }
            for case, match in zip(cases, matches, strict=True)
        ],
    }


def _detection_rows(
    plan: RunPlan,
    cases: Sequence[TaskCase],
    matches: Sequence[CaseMatch],
    failures: dict[str, tuple[str, str]] | None = None,
) -> list[CaseRow]:
    rows = []
    for case, match in zip(cases, matches, strict=True):
        score = finite_or_none(match.case_score)
        failure = (failures or {}).get(case.case_id)
        if failure is not None:  # a box model's failed case: no marks, its lesions missed
            rows.append(
                CaseRow(
                    case_id=case.case_id,
                    test_set=case.test_set,
                    site=case.site,
                    truth_label="abnormal" if match.abnormal else "normal",
                    truth=match.abnormal,
                    score=None,
                    decision=False,
                    status="failed",
                    reason_code=failure[0],
                    reason=failure[1],
                    levels=case.levels,
                    input_sha256=_input_digest(case),
                )
            )
            continue
        rows.append(
            CaseRow(
                case_id=case.case_id,
                test_set=case.test_set,
                site=case.site,
                truth_label="abnormal" if match.abnormal else "normal",
                truth=match.abnormal,
                score=score,
                decision=score is not None and score >= plan.operating_point,
                status="scored",
                reason_code="" if score is not None else "no_marks",
                reason="" if score is not None else "no mark: its lesions count as missed",
                levels=case.levels,
                input_sha256=_input_digest(case),
            )
        )
    return rows


# --- segmentation ---------------------------------------------------------------------------


def _row_file(case: TaskCase, column: str, *, field: str, required: bool) -> Path | None:
    """The file a manifest cell names; it must be one of the files the row's pin covers."""
    manifest = case.source.manifest
    where = manifest.location(case.row)
    if column not in case.row.values:
        raise InputError(f"{where}: no column {column!r} ({field})")
    text = case.row.values[column]
    if not text:
        if required:
            raise InputError(f"{where}: {column}: empty; expected a file path ({field})")
        return None
    path = (manifest.path.parent / text).resolve()
    covered = {file.resolve() for file in case.row.files}
    if path not in covered:
        raise InputError(
            f"{where}: {column}: {text!r} is not among the files of the row's path column; "
            "expected a file under `path` (so the test-set pin covers it)"
        )
    return path


def _model_outcomes(
    plan: RunPlan, cases: Sequence[TaskCase], progress: Progress, run: ModelScores
) -> tuple[dict[str, list[StructureOutcome]], list[bool]]:
    """The model's label maps (issue 16 item 5) scored like bundled predictions."""
    assert plan.task is not None
    assert plan.task.segmentation is not None
    section = plan.task.segmentation
    outcomes: dict[str, list[StructureOutcome]] = {name: [] for name, _ in section.structures}
    for number, case in enumerate(cases, 1):
        truth = _row_file(case, section.truth_column, field="segmentation.truth", required=True)
        assert truth is not None  # required=True
        for outcome in score_model_case(
            case.case_id, truth, model_prediction(run, case.case_id), section.structures,
            tolerance=section.nsd_tolerance_mm,
        ):  # fmt: skip
            outcomes[outcome.structure].append(outcome)
        if number % 10 == 0 or number == len(cases):
            progress(f"segmentation: {number}/{len(cases)} cases scored")
    return outcomes, [True] * len(cases)


def _segmentation_outcomes(
    plan: RunPlan, cases: Sequence[TaskCase], progress: Progress, run: ModelScores | None = None
) -> tuple[dict[str, list[StructureOutcome]], list[bool]]:
    """Per structure, each case's outcome in case order; and which cases had a prediction."""
    assert plan.task is not None
    assert plan.task.segmentation is not None
    if run is not None:
        return _model_outcomes(plan, cases, progress, run)
    section = plan.task.segmentation
    paths = [
        (
            _row_file(case, section.truth_column, field="segmentation.truth", required=True),
            _row_file(
                case, section.prediction_column, field="segmentation.prediction", required=False
            ),
        )
        for case in cases
    ]
    outcomes: dict[str, list[StructureOutcome]] = {name: [] for name, _ in section.structures}
    for number, (case, (truth, prediction)) in enumerate(zip(cases, paths, strict=True), 1):
        assert truth is not None  # required=True
        for outcome in score_segmentation_case(
            case.case_id, truth, prediction, section.structures,
            tolerance=section.nsd_tolerance_mm,
        ):  # fmt: skip
            outcomes[outcome.structure].append(outcome)
        if number % 10 == 0 or number == len(cases):
            progress(f"segmentation: {number}/{len(cases)} cases scored")
    return outcomes, [prediction is not None for _, prediction in paths]


def _segmentation_document(
    plan: RunPlan,
    cases: Sequence[TaskCase],
    outcomes: dict[str, list[StructureOutcome]],
    estimates: SegmentationEstimates,
    populations: PopulationIndex,
) -> dict[str, Any]:
    assert plan.task is not None
    assert plan.task.segmentation is not None
    section = plan.task.segmentation
    level = plan.statistics.confidence_level
    entries = []
    for population in populations.populations:
        structures: dict[str, Any] = {}
        for name, _ in section.structures:
            metrics = {}
            for metric in SEGMENTATION_METRICS:
                _, missing = estimates.values(name, metric, population.mask)
                metrics[metric] = {
                    statistic: estimates.summary(
                        population, name, metric, statistic, level
                    ).to_dict()
                    for statistic in ("mean", "median")
                } | {"cases_undefined": missing}
            structures[name] = metrics
        entries.append(
            {**population.describe(), "cases": int(population.mask.sum()), "structures": structures}
        )
    rows = []
    for name, _ in section.structures:
        for case, outcome in zip(cases, outcomes[name], strict=True):
            values = (
                dict.fromkeys(SEGMENTATION_METRICS)
                if outcome.result is None
                else {metric: outcome.result.value(metric) for metric in SEGMENTATION_METRICS}
            )
            rows.append(
                {
                    "case_id": case.case_id,
                    "site": case.site,
                    "structure": name,
                    **values,
                    "status": outcome.status,
                    "reason": outcome.reason_code if outcome.result is not None else outcome.reason,
                }
            )
    return {
        "schema": "dxval-segmentation/1",
        "structures": dict(section.structures),
        "nsd_tolerance_mm": section.nsd_tolerance_mm,
        "confidence_level": level,
        "populations": entries,
        "cases": rows,
    }


def _segmentation_rows(
    cases: Sequence[TaskCase], outcomes: dict[str, list[StructureOutcome]], predicted: list[bool]
) -> list[CaseRow]:
    rows = []
    for index, case in enumerate(cases):
        errors = [values[index] for values in outcomes.values() if values[index].result is None]
        code, reason = "", ""
        if errors:
            reason = errors[0].reason or ""
            code = reason.split(":", 1)[0]
        elif not predicted[index]:
            code, reason = "no_prediction", "no predicted mask: scored against an empty mask"
        rows.append(
            CaseRow(
                case_id=case.case_id,
                test_set=case.test_set,
                site=case.site,
                truth_label="",
                truth=False,
                score=None,
                decision=None,
                status="failed" if errors else "scored",
                reason_code=code,
                reason=reason,
                levels=case.levels,
                input_sha256=_input_digest(case),
            )
        )
    return rows


# --- the stage ------------------------------------------------------------------------------


def _exit(
    summary: CriteriaSummary, failed: int, total: int, tolerance: float
) -> tuple[ExitCode, str, str | None]:
    fraction = failed / max(total, 1)
    if fraction > tolerance:
        message = (
            f"run incomplete: {fraction:.2%} of cases are non-evaluable, "
            f"above qc.max_failed_fraction {tolerance:.2%}"
        )
        return ExitCode.INCOMPLETE, "incomplete", message
    return (
        (ExitCode.OK, "complete", None)
        if summary.all_met
        else (ExitCode.CRITERIA_NOT_MET, "complete", None)
    )


@dataclass(frozen=True, slots=True)
class _Analysed:
    """Per-case rows, the task document and its name, and the estimate lookup of criteria."""

    rows: list[CaseRow]
    name: str
    record: type[DetectionRecord] | type[SegmentationRecord]
    document: dict[str, Any]
    lookup: Any
    failed: int


def _analyse(
    plan: RunPlan,
    cases: Sequence[TaskCase],
    populations: PopulationIndex,
    progress: Progress,
    model_run: ModelScores | None = None,
) -> _Analysed:
    bootstrap = _bootstrap(plan)
    if _kind(plan) == "detection":
        failures: dict[str, tuple[str, str]] = {}
        matches = _detection_matches(plan, cases, model_run, failures)
        detection = DetectionEstimates(matches, threshold=plan.operating_point, bootstrap=bootstrap)
        progress(f"{len(cases)} cases matched; analysing")
        return _Analysed(
            _detection_rows(plan, cases, matches, failures),
            DETECTION_NAME,
            DetectionRecord,
            _detection_document(plan, cases, matches, detection, populations),
            detection.estimate,
            len(failures),
        )
    outcomes, predicted = _segmentation_outcomes(plan, cases, progress, model_run)
    segmentation = SegmentationEstimates(outcomes, bootstrap=bootstrap)
    rows = _segmentation_rows(cases, outcomes, predicted)
    failed = sum(1 for row in rows if row.status == "failed")
    progress(f"{len(cases) - failed} cases scored, {failed} non-evaluable; analysing")
    return _Analysed(
        rows,
        SEGMENTATION_NAME,
        SegmentationRecord,
        _segmentation_document(plan, cases, outcomes, segmentation, populations),
        segmentation.estimate,
        failed,
    )


def _run_record(
    plan: RunPlan,
    audit: AuditLog,
    *,
    run_id: str,
    started: str,
    templates: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "schema": "dxval-run/1",
        "task": _kind(plan),
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
        "templates": templates,
    }


def _template_set(templates: Path | None) -> dict[str, Any]:
    """``run.json``'s ``templates``: the task report's template set, checked before writing.

    Raises
    ------
    TemplateError
        A template of ``templates`` does not parse (file and line named, exit 2).
    """
    from dxval.report.task_report import TASK_REPORT_ROOTS
    from dxval.report.template_set import template_set

    return template_set(templates, TASK_REPORT_ROOTS).to_dict()


def _renderer(templates: Path | None) -> Callable[[Path], list[Path]]:
    """Render the task report into the unsealed bundle (WeasyPrint is imported only here)."""

    def render(folder: Path) -> list[Path]:
        from dxval.report.task_report import render_task_reports

        return render_task_reports(folder, templates=templates)

    return render


def run_task(
    plan: RunPlan,
    *,
    audit: AuditLog,
    progress: Progress,
    run_id: str,
    started: str,
    out: Path,
    ledger: LedgerSession,
    reports: bool = True,
    inference: InferenceOptions | None = None,
    templates: Path | None = None,
) -> TaskOutcome:
    """Run a detection or segmentation protocol and seal its bundle.

    With ``reports`` the bundle gets ``report.pdf``, ``report-submission.pdf``,
    ``report.html`` and its figures (:mod:`dxval.report.task_report`) before
    it is sealed, rendered from ``templates`` (a folder over the shipped
    templates) whose template set ``run.json`` records. A segmentation
    protocol with a mask model is scored through the harness with
    ``inference`` (:mod:`dxval.pipeline.task_model`; prediction cache in
    ``<out>/.dxval-cache`` unless the options name one).
    """
    recorded_templates = _template_set(templates) if reports else None
    progress(f"protocol {plan.protocol_id} ({_kind(plan)}) loaded; checking locks")
    sources = read_sources(plan)
    total = sum(len(source.manifest.rows) for source in sources)
    check_run_size(
        plan.path, total, plan.statistics.bootstrap_replicates, row_by_row="a task protocol"
    )
    pins = protocol_pins(plan, sources)
    check_pins(item.pin for item in pins)
    pinned = {item.pin.field: item.pin.actual for item in pins}
    audit.record("locks.checked", pinned, "every pinned digest matches")
    uses = [
        TestSetUse(source.test_set, source.lock.digest, len(source.manifest.rows))
        for source in sources
        if source.lock is not None
    ]
    usage = ledger.check(uses, max_uses=plan.max_test_set_uses)
    cases = _cases(plan, sources)
    audit.record("cases.read", {"cases": len(cases)}, "manifests read")
    populations = _populations(plan, cases)
    model_run = None
    with tempfile.TemporaryDirectory(prefix="dxval-masks-") as work:
        if plan.model is not None:  # a mask or box model (issue 16 item 5)
            progress(f"scoring {len(cases)} cases with the model")
            model_run = score_task_model(
                plan,
                [ModelCase(c.case_id, c.test_set, c.site, c.row, c.source) for c in cases],
                options=inference or InferenceOptions(),
                cache_dir=out / ".dxval-cache",
                work_dir=Path(work),
            )
            record_model_run(audit, model_run)
        analysed = _analyse(plan, cases, populations, progress, model_run)
    counts = {
        "total": len(cases),
        "scored": len(cases) - analysed.failed,
        "failed": analysed.failed,
    }
    audit.record("cases.scored", counts, f"{_kind(plan)} outcomes computed")
    assert plan.task is not None
    requirements = evaluate_task_requirements(
        [(r.id, r.text, r.criteria) for r in plan.task.requirements],
        populations,
        analysed.lookup,
        confidence_level=plan.statistics.confidence_level,
        multiplicity=plan.statistics.multiplicity,
    )
    summary = summarise(requirements)
    audit.record("analysis.completed", summary.to_dict(), "metrics and criteria computed")
    code, status, message = _exit(summary, analysed.failed, len(cases), plan.max_failed_fraction)
    header = {"id": plan.protocol_id, "version": plan.version, "sha256": plan.digest}
    criteria = {
        "schema": CRITERIA_SCHEMA,
        "protocol": header,
        "summary": summary.to_dict(),
        "requirements": [requirement.to_dict() for requirement in requirements],
    }
    progress("writing evidence bundle")
    with BundleWriter(out, plan.protocol_id, run_id) as writer:
        writer.write_bytes(PROTOCOL_NAME, plan.raw_bytes)
        writer.write_json(LOCK_NAME, lock_record(plan, pins, sources, model_run))
        runtime = capture_runtime() if model_run is None else model_run.environment
        writer.write_json(ENVIRONMENT_NAME, capture_environment(runtime=runtime))
        if model_run is not None and model_run.phi_findings:
            writer.write_json(PHI_NAME, {"findings": list(model_run.phi_findings)})
        writer.write_bytes(CASES_NAME, render_cases(analysed.rows, plan.attribute_names))
        document = {**analysed.document, "protocol": header}
        check_record(analysed.record, document, name=analysed.name)
        writer.write_json(analysed.name, document)
        check_record(CriteriaDocument, criteria, name=CRITERIA_NAME)
        writer.write_json(CRITERIA_NAME, criteria)
        run = {
            **_run_record(
                plan, audit, run_id=run_id, started=started, templates=recorded_templates
            ),
            "status": status,
            "exit_code": int(code),
            "message": message,
            "cases": counts,
            "criteria": summary.to_dict(),
            "test_set_usage": [item.to_dict() for item in usage],
        }
        check_record(RunRecord, run, name=RUN_NAME)
        bundle = writer.seal(audit, run, render=_renderer(templates) if reports else None)
    ledger.record(
        uses,
        protocol_id=plan.protocol_id,
        run_id=run_id,
        model_sha256=None if model_run is None else pinned.get("model.sha256"),
        predictions_sha256=pinned.get("predictions.sha256"),
        user=audit.user,
        host=audit.host,
    )
    return TaskOutcome(code, status, message, requirements, summary, counts, bundle)
