"""View objects of the report: everything the templates show, taken from the bundle only.

The index is built once from :class:`~dxval.evidence.format.BundleData` and
rendered to PDF and HTML (StrictDoc's "build one index, render many
formats"). Views hold text ready to print and plain values; templates hold no
logic beyond loops and never see a raw bundle document. This module builds
the document identity, the cover, the requirement summary and the
traceability matrix; the other sections come from :mod:`.views_data`,
:mod:`.views_results` and :mod:`.views_methods`.
"""

from __future__ import annotations

from dataclasses import dataclass

from dxval.evidence.format import (
    ATTACHED_FILES,
    BundleData,
    CriterionRecord,
    OutcomeRecord,
    RequirementRecord,
    SignatureEntry,
)
from dxval.evidence.signatures import key_fingerprint
from dxval.report import formatting as fmt
from dxval.report.elements import Field, anchor, population_anchor
from dxval.report.views_checklists import ChecklistView, build_checklists
from dxval.report.views_comparison import ComparisonView, build_comparison, pccp_fields
from dxval.report.views_data import TestDataView, build_test_data
from dxval.report.views_design import DesignView, ModelInputView, build_design, build_model_input
from dxval.report.views_latency import LatencyView, build_latency
from dxval.report.views_limitations import LimitationsView, build_limitations
from dxval.report.views_methods import AppendixView, MethodsView, build_appendix, build_methods
from dxval.report.views_model_card import ModelCardView, build_model_card
from dxval.report.views_reader_study import ReaderStudyView, build_reader_study
from dxval.report.views_results import (
    FailureModesView,
    ResultsView,
    build_failure_modes,
    build_results,
)
from dxval.report.views_robustness import (
    PrecisionView,
    RobustnessView,
    build_precision,
    build_robustness,
)

VERDICT_TEXT = {"pass": "PASS", "fail": "FAIL", "undefined": "UNDEFINED"}
FILE_DESCRIPTIONS = {
    "protocol.yaml": "the protocol exactly as run",
    "lock.json": "pinned digests of model/predictions and test sets",
    "environment.json": "software and machine (SOUP record)",
    "cases.csv": "one row per case: truth, score, decision, status",
    "metrics.json": "every metric of every population with its interval",
    "criteria.json": "every criterion: observed, required, verdict",
    "audit.jsonl": "hash-chained audit events of the run",
    "run.json": "run identity, times, status and exit code",
    "mrmc.json": "the reader study (MRMC) analysis",
    "sample_size.json": "the sample-size justification: required and analysed cases",
    "preprocessing/contact-sheet.png": "one original and one model input per site",
    "robustness.csv": "each case's score and decision at each robustness level",
    "comparison.json": "candidate − comparator paired statistics per population",
    "latency.json": "per-stage latency percentiles and the hardware the run scored on",
    "latency.csv": "each case's wall time per stage, or why it was not timed",
    "detection.json": "lesion-level statistics, FROC and per-case matches per population",
    "segmentation.json": "per-case, per-structure overlap and distance metrics and aggregates",
}


#: Where each reader-study metric lives in ``mrmc.json``.
MRMC_POINTERS = {
    "mrmc_auc_difference": "/difference",
    "mrmc_sensitivity_difference": "/sensitivity/difference",
    "mrmc_specificity_difference": "/specificity/difference",
}


@dataclass(frozen=True, slots=True)
class DocumentView:
    """Identity of the rendered document (header, footer, PDF metadata)."""

    document_id: str
    title: str
    heading: str
    run_id: str
    protocol_id: str
    protocol_version: str
    created: str
    date_text: str
    dxval_version: str


@dataclass(frozen=True, slots=True)
class OutcomeView:
    """The overall result of the run as printed on the cover."""

    text: str
    css_class: str
    detail: str
    message: str | None


@dataclass(frozen=True, slots=True)
class SignatureView:
    """One signature record (or why its file could not be read) and whether it is valid."""

    file: str
    name: str
    signed_utc: str
    meaning: str
    key_id: str
    problem: str | None
    status: str
    valid: bool
    identity: str = "identity not checked"


@dataclass(frozen=True, slots=True)
class CoverView:
    """The cover page."""

    subtitle: str
    device: tuple[Field, ...]
    intended_use: str
    protocol: tuple[Field, ...]
    run: tuple[Field, ...]
    digests: tuple[Field, ...]
    outcome: OutcomeView
    signatures: tuple[SignatureView, ...]
    pccp: tuple[Field, ...] = ()


@dataclass(frozen=True, slots=True)
class OutcomeLine:
    """A criterion's compared number on one population."""

    label: str
    observed: str
    estimate: str
    verdict: str
    verdict_class: str
    note: str


@dataclass(frozen=True, slots=True)
class CriterionView:
    """One criterion in the summary."""

    anchor: str
    name: str
    description: str
    required: str
    observed: str
    level: str
    verdict: str
    verdict_class: str
    note: str
    multiplicity: str
    populations: tuple[OutcomeLine, ...]


@dataclass(frozen=True, slots=True)
class RequirementView:
    """One requirement with its criteria."""

    id: str
    anchor: str
    text: str
    verdict: str
    verdict_class: str
    criteria: tuple[CriterionView, ...]


@dataclass(frozen=True, slots=True)
class EvidenceLink:
    """Where a number lives: a bundle file, a location inside it, the file's digest."""

    file: str
    location: str
    sha256_short: str


@dataclass(frozen=True, slots=True)
class TraceRow:
    """One line of the traceability matrix: criterion × population."""

    requirement_id: str
    requirement_anchor: str
    criterion: str
    criterion_anchor: str
    population: str
    population_anchor: str
    cases: str
    metric: str
    observed: str
    verdict: str
    verdict_class: str
    evidence: tuple[EvidenceLink, ...]


@dataclass(frozen=True, slots=True)
class EvidenceFileView:
    """A bundle file with its full SHA-256."""

    name: str
    description: str
    sha256: str
    size: str
    attached: bool


@dataclass(frozen=True, slots=True)
class TemplatesView:
    """The template set that rendered the report (:mod:`dxval.report.template_set`)."""

    sha256: str
    source: str
    custom: tuple[str, ...]
    listing: tuple[str, ...]
    note: str


@dataclass(frozen=True, slots=True)
class ReportView:
    """The whole report (``templates`` is filled in by the renderer)."""

    document: DocumentView
    cover: CoverView
    requirements: tuple[RequirementView, ...]
    summary_counts: str
    trace: tuple[TraceRow, ...]
    files: tuple[EvidenceFileView, ...]
    test_data: TestDataView
    results: ResultsView
    failure_modes: FailureModesView
    methods: MethodsView
    appendix: AppendixView
    reader_study: ReaderStudyView | None = None
    comparison: ComparisonView | None = None
    templates: TemplatesView | None = None
    # issue 14: design, limitations, model card and checklists (sections 7-10, Appendix C)
    model_input: ModelInputView | None = None
    design: DesignView | None = None
    limitations: LimitationsView | None = None
    model_card: ModelCardView | None = None
    checklists: tuple[ChecklistView, ...] = ()
    robustness: RobustnessView | None = None
    precision: PrecisionView | None = None
    latency: LatencyView | None = None  # issue 19

    @property
    def study_numbers(self) -> dict[str, str]:
        """Section numbers of the optional studies present, in document order from 4.5.

        Sections 4.1-4.4 are always there; the studies after them are numbered
        only when present, so the contents and headings never skip a number.
        """
        present = [
            name
            for name in ("reader_study", "comparison", "robustness", "precision", "latency")
            if getattr(self, name) is not None
        ]
        return {name: f"4.{index}" for index, name in enumerate(present, start=5)}


def verdict_class(verdict: str) -> str:
    """CSS class of a verdict (``pass``, ``fail``, ``undefined``)."""
    return verdict if verdict in VERDICT_TEXT else "undefined"


def build_document(bundle: BundleData) -> DocumentView:
    """Document identity: ID ``<protocol>-VR-<run>``, dates from ``run.json``."""
    run = bundle.run
    return DocumentView(
        document_id=f"{run.protocol.id}-VR-{run.run_id}",
        title=f"Validation report: {run.protocol.title}",
        heading=run.protocol.title,
        run_id=run.run_id,
        protocol_id=run.protocol.id,
        protocol_version=run.protocol.version,
        created=run.started_utc.split(".")[0].removesuffix("Z") + "Z",
        date_text=fmt.utc_text(run.started_utc),
        dxval_version=run.dxval_version,
    )


def _outcome(bundle: BundleData) -> OutcomeView:
    run, summary = bundle.run, bundle.criteria.summary
    detail = (
        f"{summary['passed']} of {summary['total']} criteria met, {summary['failed']} not met, "
        f"{summary['undefined']} undefined; run {run.status}, exit code {run.exit_code}"
    )
    if run.status == "incomplete":
        return OutcomeView("RUN INCOMPLETE", "undefined", detail, run.message)
    if summary.get("all_met"):
        return OutcomeView("ALL ACCEPTANCE CRITERIA MET", "pass", detail, run.message)
    return OutcomeView("ACCEPTANCE CRITERIA NOT MET", "fail", detail, run.message)


def _fingerprint(key_id: str | None) -> str:
    """The key's fingerprint as ``dxval verify`` prints it (a malformed ID as it stands)."""
    if not key_id:
        return fmt.DASH
    if len(key_id) == 64 and all(c in "0123456789abcdef" for c in key_id):
        return key_fingerprint(key_id)
    return key_id


def signature_view(entry: SignatureEntry) -> SignatureView:
    """One signature record as the signature block shows it (name, time, meaning, check)."""
    record = entry.record
    valid = record is not None and not entry.findings
    findings = entry.findings or ((entry.problem,) if entry.problem else ())
    status = "valid" if valid else "NOT VALID: " + "; ".join(findings)
    if record is None:
        dash = fmt.DASH
        return SignatureView(entry.file, dash, dash, dash, dash, entry.problem, status, False)
    meaning = record.meaning.capitalize() + (f" ({record.reason})" if record.reason else "")
    name = entry.registered_name or (
        record.name if entry.identity == "identity not checked" else f"unregistered: {record.name}"
    )
    return SignatureView(
        file=entry.file,
        name=name,
        signed_utc=fmt.utc_text(record.signed_utc),
        meaning=meaning,
        key_id=_fingerprint(record.key_id),
        problem=None,
        status=status,
        valid=valid,
        identity=entry.identity,
    )


def _source_digests(bundle: BundleData) -> list[Field]:
    fields = [Field("Protocol SHA-256", bundle.run.protocol.sha256, mono=True)]
    for key, label in (("model", "Model"), ("predictions", "Predictions file")):
        source = bundle.lock.get(key)
        if isinstance(source, dict):
            fields.append(Field(f"{label} ({source.get('path')}) SHA-256", source["sha256"], True))
    for comparator in bundle.lock.get("comparators") or []:  # issue 13
        kind = "model" if comparator.get("model") else "predictions"
        source = comparator[kind]
        label = f"Comparator {comparator['id']} {kind} ({source.get('path')}) SHA-256"
        fields.append(Field(label, source["sha256"], mono=True))
    for test_set in bundle.lock.get("test_sets", []):
        fields.append(
            Field(f"Test set {test_set['test_set']} lock SHA-256", test_set["sha256"], mono=True)
        )
    return fields


def build_cover(bundle: BundleData) -> CoverView:
    """The cover: device, protocol, run, digests, overall result, signature block."""
    run, protocol = bundle.run, bundle.loaded.protocol
    device = protocol.device
    return CoverView(
        subtitle=f"{device.name}, version {device.version}",
        device=(
            Field("Device", device.name),
            Field("Device version", device.version),
            Field("Manufacturer", device.manufacturer or "not stated in the protocol"),
        ),
        intended_use=device.intended_use,
        protocol=(
            Field("Protocol", f"{protocol.id} version {protocol.version}"),
            Field("Title", protocol.title),
        ),
        run=(
            Field("Run ID", run.run_id, mono=True),
            Field("Started", fmt.utc_text(run.started_utc)),
            Field("Finished", fmt.utc_text(run.finished_utc)),
            Field("Executed by", f"{run.user or fmt.DASH} on {run.host or fmt.DASH}"),
            Field("dxval version", run.dxval_version),
        ),
        digests=tuple(_source_digests(bundle)),
        outcome=_outcome(bundle),
        signatures=tuple(signature_view(entry) for entry in bundle.signatures),
        pccp=pccp_fields(bundle),
    )


def _population_verdict(outcome: OutcomeRecord, criterion: CriterionRecord) -> tuple[str, str]:
    """Verdict text and class of one population; none for members of a spread (max − min)."""
    if criterion.spread is not None or outcome.verdict is None:
        return "", ""
    verdict = outcome.verdict
    return VERDICT_TEXT.get(verdict, verdict.upper()), verdict_class(verdict)


def _outcome_line(outcome: OutcomeRecord, criterion: CriterionRecord) -> OutcomeLine:
    notes = [outcome.reason] if outcome.reason else []
    notes += outcome.insufficient
    verdict, css_class = _population_verdict(outcome, criterion)
    return OutcomeLine(
        label=outcome.label,
        observed=fmt.number(outcome.observed),
        estimate=fmt.estimate_text(outcome.estimate),
        verdict=verdict,
        verdict_class=css_class,
        note="; ".join(notes),
    )


def _multiplicity_text(criterion: CriterionRecord) -> str:
    record = criterion.multiplicity
    if record.method == "none":
        return ""
    text = (
        f"{fmt.multiplicity_name(record.method)} over {record.family_size} populations: "
        "intervals at "
        f"{fmt.level_text(record.adjusted_confidence_level)} "
        f"(family {fmt.level_text(record.family_confidence_level)})"
    )
    return text + (f"; {record.note}" if record.note else "")


def _criterion(criterion: CriterionRecord) -> CriterionView:
    # population reasons are shown with each population; keep the criterion's own otherwise
    notes = [criterion.reason] if criterion.reason and not criterion.populations else []
    if criterion.insufficient:
        notes.append("a population is below the protocol's minimum cell size")
    return CriterionView(
        anchor=anchor("crit-", criterion.name),
        name=criterion.name,
        description=criterion.description,
        required=criterion.required,
        observed=fmt.number(criterion.observed),
        level=fmt.level_text(criterion.confidence_level),
        verdict=VERDICT_TEXT.get(criterion.verdict, criterion.verdict.upper()),
        verdict_class=verdict_class(criterion.verdict),
        note="; ".join(notes),
        multiplicity=_multiplicity_text(criterion),
        populations=tuple(_outcome_line(o, criterion) for o in criterion.populations),
    )


def build_requirements(bundle: BundleData) -> tuple[RequirementView, ...]:
    """Every requirement of ``criteria.json`` with its criteria, in protocol order."""
    return tuple(
        RequirementView(
            id=requirement.id,
            anchor=anchor("req-", requirement.id),
            text=requirement.text,
            verdict=VERDICT_TEXT.get(requirement.verdict, requirement.verdict.upper()),
            verdict_class=verdict_class(requirement.verdict),
            criteria=tuple(_criterion(criterion) for criterion in requirement.criteria),
        )
        for requirement in bundle.criteria.requirements
    )


def _case_rows(bundle: BundleData, key: str) -> str:
    """The rows of ``cases.csv`` a population is made of, as a filter expression."""
    population = bundle.metrics.population(key)
    if population is None or population.kind == "all":
        return "all rows"
    parts = []
    if population.site is not None and population.kind in ("site", "site_attribute"):
        parts.append(f'site = "{population.site}"')
    if population.kind == "test_set":
        parts.append(f'test_set = "{population.test_set}"')
    if population.attribute is not None:
        parts.append(f'attribute.{population.attribute} = "{population.level}"')
    return "rows with " + " and ".join(parts)


def _metric_location(bundle: BundleData, key: str, criterion: CriterionRecord) -> str | None:
    index = next((i for i, p in enumerate(bundle.metrics.populations) if p.key == key), None)
    if index is None:
        return None
    if criterion.non_evaluable == "exclude":
        return f"/populations/{index}/metrics/{criterion.metric}"
    return (
        f"/populations/{index}/non_evaluable_imputed/{criterion.non_evaluable}/{criterion.metric}"
    )


def _comparison_location(bundle: BundleData, against: str, key: str) -> str:
    """JSON pointer of a difference criterion's population in ``comparison.json``."""
    comparators = (bundle.comparison or {}).get("comparators", [])
    for index, entry in enumerate(comparators):
        if entry["id"] == against:
            keys = [item["key"] for item in entry["populations"]]
            if key in keys:
                return f"/comparators/{index}/populations/{keys.index(key)}"
            return f"/comparators/{index}"
    return "/comparators"


def _trace_rows(
    bundle: BundleData, position: tuple[int, int], requirement: RequirementRecord
) -> list[TraceRow]:
    criterion = requirement.criteria[position[1]]
    short = {entry.name: fmt.short_digest(entry.sha256) for entry in bundle.files}
    pointer = f"/requirements/{position[0]}/criteria/{position[1]}"
    what = criterion.metric + ("" if criterion.bound == "point" else f", {criterion.bound} bound")
    rows = []
    for index, outcome in enumerate(criterion.populations):
        links = [
            EvidenceLink("criteria.json", f"{pointer}/populations/{index}", short["criteria.json"])
        ]
        if criterion.against is not None and "comparison.json" in short:
            links.append(
                EvidenceLink(
                    "comparison.json",
                    _comparison_location(bundle, criterion.against, outcome.population),
                    short["comparison.json"],
                )
            )
        elif outcome.population == "latency" and "latency.json" in short:  # issue 19
            links.append(EvidenceLink("latency.json", "/stages", short["latency.json"]))
        elif outcome.population == "reader_study" and "mrmc.json" in short:
            links.append(
                EvidenceLink("mrmc.json", MRMC_POINTERS[criterion.metric], short["mrmc.json"])
            )
        else:
            location = _metric_location(bundle, outcome.population, criterion)
            if location is not None:
                links.append(EvidenceLink("metrics.json", location, short["metrics.json"]))
            links.append(
                EvidenceLink(
                    "cases.csv", _case_rows(bundle, outcome.population), short["cases.csv"]
                )
            )
        verdict, css_class = _population_verdict(outcome, criterion)
        rows.append(
            TraceRow(
                requirement_id=requirement.id,
                requirement_anchor=anchor("req-", requirement.id),
                criterion=criterion.name,
                criterion_anchor=anchor("crit-", criterion.name),
                population=outcome.label,
                population_anchor=population_anchor(outcome.population),
                cases="" if outcome.estimate is None else f"n = {outcome.estimate.n}",
                metric=f"{what} ({fmt.level_text(criterion.confidence_level)})"
                if criterion.bound != "point"
                else what,
                observed=fmt.number(outcome.observed),
                verdict=verdict,
                verdict_class=css_class,
                evidence=tuple(links),
            )
        )
    if criterion.spread is not None or not rows:
        rows.append(
            TraceRow(
                requirement_id=requirement.id,
                requirement_anchor=anchor("req-", requirement.id),
                criterion=criterion.name,
                criterion_anchor=anchor("crit-", criterion.name),
                population=f"{criterion.population} ({criterion.spread or 'no population'})",
                population_anchor="",
                cases="",
                metric=criterion.description,
                observed=fmt.number(criterion.observed),
                verdict=VERDICT_TEXT.get(criterion.verdict, criterion.verdict.upper()),
                verdict_class=verdict_class(criterion.verdict),
                evidence=(EvidenceLink("criteria.json", pointer, short["criteria.json"]),),
            )
        )
    return rows


def build_trace(bundle: BundleData) -> tuple[TraceRow, ...]:
    """Requirement → criterion → population → metric → observed → evidence, one row each."""
    rows = []
    for r_index, requirement in enumerate(bundle.criteria.requirements):
        for c_index in range(len(requirement.criteria)):
            rows += _trace_rows(bundle, (r_index, c_index), requirement)
    return tuple(rows)


def build_files(bundle: BundleData) -> tuple[EvidenceFileView, ...]:
    """The evidence files with their full SHA-256 and whether report.pdf attaches them."""
    return tuple(
        EvidenceFileView(
            name=entry.name,
            description=FILE_DESCRIPTIONS.get(entry.name, ""),
            sha256=entry.sha256,
            size=f"{entry.size:,} bytes",
            attached=entry.name in ATTACHED_FILES,
        )
        for entry in bundle.files
    )


def build_report_view(bundle: BundleData) -> ReportView:
    """The complete view index of one bundle (figures included, as SVG text)."""
    summary = bundle.criteria.summary
    results = build_results(bundle)
    last = results.calibration.figure or results.forest[-1]
    reader_study = (  # issue 15: the reader study's figures follow the results'
        None
        if bundle.mrmc is None
        else build_reader_study(bundle.mrmc, figure_number=last.number + 1)
    )
    last_number = last.number if reader_study is None else reader_study.last_number
    test_data = build_test_data(bundle)
    limitations = build_limitations(bundle)
    comparison = build_comparison(bundle, figure_number=last_number + 1)  # issue 13
    last_number = last_number if comparison is None else comparison.last_number
    return ReportView(
        document=build_document(bundle),
        cover=build_cover(bundle),
        requirements=build_requirements(bundle),
        summary_counts=(
            f"{summary['passed']} of {summary['total']} criteria met, {summary['failed']} not "
            f"met, {summary['undefined']} undefined."
        ),
        trace=build_trace(bundle),
        files=build_files(bundle),
        test_data=test_data,
        results=results,
        failure_modes=build_failure_modes(bundle, figure_number=last_number + 1),
        methods=build_methods(bundle),
        appendix=build_appendix(bundle),
        reader_study=reader_study,
        model_input=build_model_input(bundle),
        design=build_design(bundle),
        limitations=limitations,
        model_card=build_model_card(bundle, test_data, limitations),
        checklists=build_checklists(bundle),
        robustness=build_robustness(bundle.metrics.robustness),  # issue 19
        precision=build_precision(bundle.metrics.precision),
        latency=build_latency(bundle),
        comparison=comparison,
    )
