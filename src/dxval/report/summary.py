"""The "Performance Testing" section of a 510(k) summary, as Markdown and PDF, from a bundle.

Content follows what FDA 510(k) summaries of cleared AI/ML imaging devices
state for standalone performance testing (21 CFR 807.92(b)(2), performance
data): device and indication, the test data (sites, number of cases,
demographics, equipment), the reference standard, results with confidence
intervals overall, per site and per subgroup, and the conclusion against the
pre-specified acceptance criteria. Proposed labeling limitations are derived
from what the test set covered and did not cover (sites, sexes, age bands,
manufacturers and models, views, non-evaluable images), the way cleared
devices state them. Every number comes from the bundle; nothing is estimated.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from dxval.analysis import MISSING_LEVEL, band_labels
from dxval.errors import IntegrityError, UsageError
from dxval.evidence import verify_bundle
from dxval.evidence.format import BundleData, PopulationRecord, read_bundle
from dxval.protocol.sections import Attribute
from dxval.report import formatting as fmt
from dxval.report.insufficiency import Insufficiency, flagged_text, insufficiency
from dxval.report.pdf import layout, write_pdf
from dxval.report.render import run_time, template_environment
from dxval.report.views import VERDICT_TEXT, DocumentView, build_document
from dxval.report.views_comparison import summary_paragraph as comparison_paragraph
from dxval.report.views_data import INDEPENDENCE_MISSING, SiteRow, TestDataView, build_test_data
from dxval.report.views_latency import latency_paragraph
from dxval.report.views_reader_study import summary_paragraph as reader_study_paragraph
from dxval.report.views_robustness import precision_paragraph
from dxval.report.views_robustness import summary_paragraph as robustness_paragraph

#: DICOM keyword → the kind of coverage an attribute describes.
DICOM_KINDS = {
    "PatientSex": "sex",
    "PatientAge": "age",
    "Manufacturer": "manufacturer",
    "ManufacturerModelName": "model",
    "ViewPosition": "view",
    "BodyPartExamined": "body part",
    "Modality": "modality",
}
#: Kinds whose absence from the protocol's attributes is itself a limitation.
UNCHARACTERISED_KINDS = ("sex", "age", "manufacturer")
#: Words in an attribute's name → kind, for attributes read from manifest columns.
NAME_KINDS = (
    ("sex", "sex"),
    ("gender", "sex"),
    ("age", "age"),
    ("manufacturer", "manufacturer"),
    ("vendor", "manufacturer"),
    ("model", "model"),
    ("scanner", "model"),
    ("view", "view"),
)


@dataclass(frozen=True, slots=True)
class ResultRow:
    """Sensitivity, specificity and AUC of one population with intervals (``†`` appended to an
    estimate below the protocol's minimum cell size, as in the report)."""

    population: str
    cases: str
    sensitivity: str
    specificity: str
    auc: str


@dataclass(frozen=True, slots=True)
class CriterionRow:
    """A pre-specified criterion and its outcome."""

    name: str
    requirement: str
    observed: str
    required: str
    verdict: str


@dataclass(frozen=True, slots=True)
class Demographic:
    """One attribute's distribution over all cases, as one line of text."""

    label: str
    text: str


@dataclass(frozen=True, slots=True)
class SummaryView:
    """Everything the 510(k) performance-testing section shows."""

    document: DocumentView
    device: str
    manufacturer: str
    intended_use: str
    protocol: str
    data_text: str
    sites: tuple[SiteRow, ...]
    total: SiteRow
    demographics: tuple[Demographic, ...]
    reference_standard: str
    independence: str
    level: str
    methods: str
    overall: tuple[ResultRow, ...]
    subgroups: tuple[ResultRow, ...]
    criteria: tuple[CriterionRow, ...]
    conclusion: str
    limitations: tuple[str, ...]
    source: str
    reader_study: str | None = None
    robustness: str | None = None
    precision: str | None = None
    comparison: str | None = None
    latency: str | None = None  # issue 19


def attribute_kind(name: str, attribute: Attribute | None) -> str | None:
    """What an attribute describes (sex, age, manufacturer, …), from its DICOM keyword or name."""
    if attribute is not None and attribute.dicom in DICOM_KINDS:
        return DICOM_KINDS[attribute.dicom]
    lowered = name.lower()
    return next((kind for word, kind in NAME_KINDS if word in lowered), None)


def _result_row(population: PopulationRecord, label: str, flags: Insufficiency) -> ResultRow:
    """One population's estimates; † on each estimate the report's section 4.3 marks."""

    def cell(name: str) -> str:
        record = population.metrics.get(name)
        defined = record is not None and record.estimate is not None
        return flagged_text(fmt.estimate_text(record), defined and flags.flagged(population, name))

    return ResultRow(
        population=label,
        cases=f"{population.evaluable} ({population.positives}+/{population.negatives}−)",
        sensitivity=cell("sensitivity"),
        specificity=cell("specificity"),
        auc=cell("auc"),
    )


def _demographics(bundle: BundleData) -> tuple[Demographic, ...]:
    lines = []
    declared = bundle.loaded.protocol.attributes
    for name in bundle.attributes:
        attribute = declared.get(name)
        counts = Counter(bundle.cases.levels[name].counts())
        levels = [
            p.level or ""
            for p in bundle.metrics.populations
            if p.kind == "attribute" and p.attribute == name
        ]
        text = "; ".join(
            f"{level} {counts[level]} ({fmt.percent(counts[level], len(bundle.cases))})"
            for level in levels
        )
        label = attribute.label if attribute is not None and attribute.label else name
        lines.append(Demographic(label, text))
    return tuple(lines)


def _attribute_populations(bundle: BundleData, name: str) -> list[PopulationRecord]:
    return [p for p in bundle.metrics.populations if p.kind == "attribute" and p.attribute == name]


def _covered_levels(bundle: BundleData, name: str) -> list[str]:
    return [p.level or "" for p in _attribute_populations(bundle, name) if p.level != MISSING_LEVEL]


def _attribute_limitations(bundle: BundleData, name: str, attribute: Attribute | None) -> list[str]:
    """Limitation statements for one attribute: covered levels, gaps, thin cells, missing."""
    kind = attribute_kind(name, attribute)
    label = attribute.label if attribute is not None and attribute.label else name
    levels = _covered_levels(bundle, name)
    statements = []
    if kind == "age" and attribute is not None and attribute.bins is not None:
        empty = [band for band in band_labels(attribute.bins) if band not in levels]
        statements.append(
            f"The test set included patients in the age bands {', '.join(levels)} (years). "
            + (
                f"No case fell in {', '.join(empty)}; performance in these ages has not been "
                "established."
                if empty
                else "Performance outside these bands has not been established."
            )
        )
    elif kind == "sex":
        counts = {p.level: p.cases for p in _attribute_populations(bundle, name)}
        listed = ", ".join(f"{level} (n = {counts.get(level, 0)})" for level in levels)
        statements.append(
            f"The test set included patients of {label.lower()} {listed}."
            if len(levels) > 1
            else f"The test set included only patients of {label.lower()} {listed}; "
            "performance in other patients has not been established."
        )
    elif kind in ("manufacturer", "model", "view", "body part", "modality"):
        statements.append(
            f"Performance was established on images with {label.lower()} "
            f"{', '.join(levels)} only; performance with other {kind}s has not been established."
        )
    else:
        statements.append(f"{label}: the test set covered {', '.join(levels)}.")
    settings = bundle.metrics.settings
    for population in _attribute_populations(bundle, name):
        if population.level == MISSING_LEVEL:
            statements.append(
                f"{fmt.plural(population.cases, 'case')} had no recorded {label.lower()}."
            )
            continue
        # a class absent from a level (e.g. lesion size of negatives) makes that metric
        # inapplicable, not imprecise; only a present but small class limits the claim
        thin = [
            f"{fmt.plural(count, what + ' case')}, minimum {minimum}"
            for count, what, minimum in (
                (population.positives, "positive", settings["minimum_positives"]),
                (population.negatives, "negative", settings["minimum_negatives"]),
            )
            if 0 < count < minimum
        ]
        if thin:
            statements.append(
                f"{label} {population.level}: {'; '.join(thin)}; performance in this subgroup "
                "is not established with the protocol's minimum precision."
            )
    return statements


def proposed_limitations(bundle: BundleData) -> tuple[str, ...]:
    """Labeling limitation statements derived from what the test set covered.

    Sites, each subgroup attribute (sex, age bands, manufacturers and
    models, views, other attributes), thin subgroups (below the protocol's
    minimum cell size), non-evaluable images, prevalence and the frozen
    operating point.
    """
    protocol = bundle.loaded.protocol
    sites = [p.label for p in bundle.metrics.populations if p.kind == "site"]
    statements = [
        f"Performance was established on data from {fmt.plural(len(sites), 'site')} "
        f"({', '.join(sites)}); performance at other sites, populations and acquisition "
        "conditions has not been established."
    ]
    kinds = set()
    for name in bundle.attributes:
        attribute = protocol.attributes.get(name)
        kinds.add(attribute_kind(name, attribute))
        statements += _attribute_limitations(bundle, name, attribute)
    for kind in UNCHARACTERISED_KINDS:
        if kind not in kinds:
            statements.append(
                f"The protocol analysed no {kind} attribute: performance by {kind} has not been "
                "characterised."
            )
    cases = bundle.metrics.cases
    if cases["non_evaluable"]:
        reasons = sorted(
            {
                bundle.cases[index].reason_code or "unspecified"
                for index in bundle.cases.where_status_is_not("scored").tolist()
            }
        )
        statements.append(
            f"{cases['non_evaluable']} of {cases['total']} images "
            f"({fmt.percent(cases['non_evaluable'], cases['total'])}) could not be processed "
            f"({', '.join(reasons)}); the device produces no result for such images."
        )
    overall = bundle.metrics.population("all")
    if overall is not None:
        statements.append(
            f"The test-set prevalence was {fmt.percent(overall.positives, overall.evaluable)}; "
            "positive and negative predictive values depend on the prevalence in the intended "
            "population."
        )
    statements.append(
        f"Results apply at the fixed operating point (score ≥ {protocol.operating_point:g}); "
        "the device output must not be interpreted at other thresholds."
    )
    return tuple(statements)


def _conclusion(bundle: BundleData) -> str:
    summary = bundle.criteria.summary
    not_met = [
        criterion.name
        for requirement in bundle.criteria.requirements
        for criterion in requirement.criteria
        if criterion.verdict != "pass"
    ]
    if summary.get("all_met"):
        return (
            f"All {summary['total']} pre-specified acceptance criteria were met. The standalone "
            "performance testing supports the device's performance as specified in the protocol."
        )
    return (
        f"{summary['passed']} of {summary['total']} pre-specified acceptance criteria were met; "
        f"not met or not evaluable: {', '.join(not_met)}. The acceptance criteria of the "
        "protocol were not all met."
    )


def _methods(bundle: BundleData) -> str:
    overall = bundle.metrics.population("all") or bundle.metrics.populations[0]
    level = fmt.level_text(bundle.metrics.settings["confidence_level"])
    sensitivity, auc = overall.metrics.get("sensitivity"), overall.metrics.get("auc")
    return (
        f"Sensitivity and specificity with two-sided {level} confidence intervals "
        f"({sensitivity.method if sensitivity else fmt.DASH}); ROC AUC with "
        f"{auc.method if auc else fmt.DASH} intervals; operating point fixed before testing "
        f"(score ≥ {bundle.loaded.protocol.operating_point:g}). Subgroup intervals are not "
        f"adjusted for multiplicity; criteria over K populations use "
        f"{fmt.interval_adjustment(bundle.metrics.settings['multiplicity'])}."
    )


def _data_text(test_data: TestDataView) -> str:
    total, flow = test_data.total, test_data.flow
    text = (
        f"The test data comprised {fmt.plural(total.cases, 'case')} from "
        f"{fmt.plural(len(test_data.sites), 'site')}: "
        f"{total.positives} positive and {total.negatives} negative by the reference standard "
        f"among {total.evaluable} analysed cases (prevalence {total.prevalence})."
    )
    if flow.non_evaluable:
        verb = "was" if flow.non_evaluable == 1 else "were"
        text += f" {fmt.plural(flow.non_evaluable, 'case')} {verb} non-evaluable and not analysed."
    return text


def build_summary_view(bundle: BundleData) -> SummaryView:
    """The view of the 510(k) performance-testing section of ``bundle``."""
    protocol, run = bundle.loaded.protocol, bundle.run
    test_data = build_test_data(bundle)
    populations = bundle.metrics.populations
    flags = insufficiency(bundle)
    return SummaryView(
        document=build_document(bundle),
        device=f"{protocol.device.name}, version {protocol.device.version}",
        manufacturer=protocol.device.manufacturer or "not stated in the protocol",
        intended_use=protocol.device.intended_use,
        protocol=(
            f"{protocol.id} version {protocol.version} (SHA-256 {run.protocol.sha256}), "
            f"run {run.run_id} on {fmt.utc_text(run.started_utc)}, dxval {run.dxval_version}"
        ),
        data_text=_data_text(test_data),
        sites=test_data.sites,
        total=test_data.total,
        demographics=_demographics(bundle),
        reference_standard="" if protocol.truth is None else protocol.truth.reference_standard,
        independence=protocol.independence or INDEPENDENCE_MISSING,
        level=fmt.level_text(bundle.metrics.settings["confidence_level"]),
        methods=_methods(bundle),
        overall=tuple(
            _result_row(p, p.label, flags) for p in populations if p.kind in ("all", "site")
        ),
        subgroups=tuple(
            _result_row(p, p.label, flags) for p in populations if p.kind == "attribute"
        ),
        criteria=tuple(
            CriterionRow(
                name=criterion.name,
                requirement=f"{requirement.text} ({criterion.description})",
                observed=fmt.number(criterion.observed),
                required=criterion.required,
                verdict=VERDICT_TEXT.get(criterion.verdict, criterion.verdict.upper()),
            )
            for requirement in bundle.criteria.requirements
            for criterion in requirement.criteria
        ),
        conclusion=_conclusion(bundle),
        limitations=proposed_limitations(bundle),
        source=f"Generated by dxval {run.dxval_version} from evidence bundle {run.run_id}.",
        reader_study=None if bundle.mrmc is None else reader_study_paragraph(bundle.mrmc),
        robustness=robustness_paragraph(bundle.metrics.robustness),  # issue 19
        precision=precision_paragraph(bundle.metrics.precision),
        comparison=comparison_paragraph(bundle),
        latency=latency_paragraph(bundle),
    )


def render_summary_markdown(view: SummaryView) -> str:
    """The section as GitHub-flavoured Markdown."""
    return template_environment().get_template("summary.md").render(summary=view)


def render_summary_pdf(view: SummaryView, bundle: BundleData) -> bytes:
    """The section as a tagged PDF/A-2b (2–3 pages), dated by the run's start time."""
    html = template_environment().get_template("summary.html").render(summary=view)
    moment = run_time(bundle)
    return write_pdf(layout(html, moment), variant="pdf/a-2b", attachments=[], moment=moment)


@dataclass(frozen=True, slots=True)
class SummaryFiles:
    """Where ``dxval summary`` wrote the section."""

    markdown: Path
    pdf: Path


def _write(path: Path, content: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_bytes(content)
        os.replace(temporary, path)
    except OSError as error:
        raise UsageError(f"{path}: cannot write ({error.strerror})") from error


def write_summary(bundle_dir: str | Path, *, out: str | Path | None = None) -> SummaryFiles:
    """Write the 510(k) performance-testing section of a bundle as Markdown and PDF.

    Parameters
    ----------
    bundle_dir:
        The evidence bundle folder.
    out:
        The Markdown file (``.md``); the PDF is written beside it with the
        suffix ``.pdf``. Default: ``<protocol-id>-<run-id>-510k-performance.md``
        in the current folder (never inside the sealed bundle).

    Raises
    ------
    IntegrityError
        The bundle does not verify (:func:`dxval.evidence.verify_bundle`);
        nothing is written: a summary is never drawn from altered evidence.
    InputError, ProtocolError
        The bundle is missing a file or a file is malformed.
    UsageError
        ``out`` does not end in ``.md`` or cannot be written.
    """
    verified = verify_bundle(bundle_dir)
    if not verified.intact:
        raise IntegrityError(
            f"{bundle_dir}: {fmt.plural(len(verified.problems), 'integrity problem')}, first: "
            f"{verified.problems[0]}; refusing to write a summary from evidence that does "
            "not verify (run dxval verify)"
        )
    bundle = read_bundle(bundle_dir)
    markdown = Path(
        out
        if out is not None
        else f"{bundle.run.protocol.id}-{bundle.run.run_id}-510k-performance.md"
    )
    if markdown.suffix != ".md":
        raise UsageError(f"--out {markdown}: expected a Markdown file name ending in .md")
    view = build_summary_view(bundle)
    pdf = markdown.with_suffix(".pdf")
    _write(markdown, render_summary_markdown(view).encode("utf-8"))
    _write(pdf, render_summary_pdf(view, bundle))
    return SummaryFiles(markdown, pdf)
