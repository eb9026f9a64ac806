"""Checklists appendix view: every item of CLAIM 2024, STARD 2015 and TRIPOD+AI answered.

Each item (:mod:`dxval.report.checklists`) is shown with the report section
that addresses it (a link) and, where the bundle answers it, a short
answer filled from the evidence or the protocol (:data:`FILLERS`). An item
that only a person can answer, or whose protocol field is absent, reads
:data:`TO_COMPLETE`, so a reviewer sees the gap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dxval.evidence.format import BundleData
from dxval.protocol.provenance import TruthProcess
from dxval.report import formatting as fmt
from dxval.report.checklists import CHECKLISTS, SECTIONS, Checklist, Item
from dxval.report.views_design import input_shape_text

TO_COMPLETE = "To be completed by the manufacturer."
#: Longest answer shown in full; longer ones are cut at a word and point to their section.
ANSWER_LIMIT = 120


def _short(text: str) -> str:
    if len(text) <= ANSWER_LIMIT:
        return text
    return text[:ANSWER_LIMIT].rsplit(" ", 1)[0] + " … (see the section)"


@dataclass(frozen=True, slots=True)
class ChecklistRow:
    """One checklist item as shown: ID, text, section link, answer, status."""

    id: str
    text: str
    anchor: str
    section: str
    answer: str
    status: str


@dataclass(frozen=True, slots=True)
class ChecklistView:
    """One checklist with its rows and counts."""

    key: str
    name: str
    source: str
    rows: tuple[ChecklistRow, ...]
    counts: str


def _sites(bundle: BundleData) -> str:
    protocol = bundle.loaded.protocol
    return (
        f"{len(protocol.sites)} sites ({', '.join(protocol.sites)}), "
        f"{len(protocol.test_sets)} test sets"
    )


def _collections(bundle: BundleData, field: str) -> str | None:
    """``field`` of every test set's ``data.collection`` entry, or ``None`` if any is absent."""
    data = bundle.loaded.protocol.data
    if data is None:
        return None
    values = []
    for test_set in bundle.loaded.protocol.test_sets:
        entry = data.collection.get(test_set.id)
        value = None if entry is None else getattr(entry, field)
        if not value:
            return None
        values.append(f"{test_set.id}: {'; '.join(value) if isinstance(value, list) else value}")
    return " | ".join(values)


def _eligibility(bundle: BundleData) -> str | None:
    inclusion = _collections(bundle, "inclusion")
    exclusion = _collections(bundle, "exclusion")
    if inclusion is None or exclusion is None:
        return None
    return f"Inclusion: {inclusion}. Exclusion: {exclusion}."


def _process(bundle: BundleData) -> TruthProcess | None:
    truth = bundle.loaded.protocol.truth
    return None if truth is None else truth.process


def _truthers(bundle: BundleData) -> str | None:
    process = _process(bundle)
    truthers = None if process is None else process.truthers
    if truthers is None:
        return None
    noun = "truther" if truthers.number == 1 else "truthers"
    qualification = truthers.qualification or "qualification not stated"
    return f"{truthers.number} {noun} per case; {qualification}"


def _process_field(name: str) -> Callable[[BundleData], str | None]:
    def fill(bundle: BundleData) -> str | None:
        process = _process(bundle)
        return None if process is None else getattr(process, name)

    return fill


def _truth_process(bundle: BundleData) -> str | None:
    process = _process(bundle)
    if process is None or process.adjudication is None:
        return None
    return f"Adjudication: {process.adjudication}"


def _preprocessing(bundle: BundleData) -> str | None:
    protocol = bundle.loaded.protocol
    if protocol.model is None:
        return None
    ops = ", ".join(step.op for step in protocol.preprocessing) or "none"
    digest = fmt.short_digest(bundle.lock.get("preprocessing_digest"))
    return f"{len(protocol.preprocessing)} steps ({ops}); digest {digest}"


def _model(bundle: BundleData) -> str | None:
    model = bundle.loaded.protocol.model
    if model is None:
        return None
    sha = fmt.short_digest((bundle.lock.get("model") or {}).get("sha256"))
    return (
        f"Locked {model.runtime} model, SHA-256 {sha}; input {input_shape_text(model.input.shape)}"
    )


def _phi(bundle: BundleData) -> str:
    qc = bundle.loaded.protocol.qc
    text = f"DICOM PS3.15 Annex E PHI scan of every file, policy '{qc.phi}'"
    if qc.phi_retained is not None:
        text += f"; retained on purpose: {', '.join(qc.phi_retained.attributes)}"
    return text + "; case IDs are pseudonymous manifest IDs."


def _non_evaluable(bundle: BundleData) -> str:
    cases = bundle.metrics.cases
    return (
        f"{cases['non_evaluable']} of {cases['total']} cases non-evaluable, kept with their "
        "reason; imputed analyses in metrics.json"
    )


def _uncertainty(bundle: BundleData) -> str:
    settings = bundle.metrics.settings
    return (
        f"Two-sided {fmt.level_text(settings['confidence_level'])} intervals: proportions "
        f"{settings['proportion_method']}, AUC {settings['auc_method']}; multiplicity "
        f"{fmt.multiplicity_name(settings['multiplicity'])}"
    )


def _sample_size(bundle: BundleData) -> str | None:
    document = bundle.sample_size
    if document is None:
        return None
    return "Pre-specified; " + ("met by the test set" if document["met"] else "NOT met")


def _performance(bundle: BundleData) -> str | None:
    overall = bundle.metrics.population("all")
    if overall is None:
        return None
    parts = [
        f"{name} {fmt.estimate_text(overall.metrics.get(name))}"
        for name in ("sensitivity", "specificity", "auc")
        if name in overall.metrics
    ]
    return "; ".join(parts) or None


def _two_by_two(bundle: BundleData) -> str | None:
    overall = bundle.metrics.population("all")
    if overall is None:
        return None
    return f"{overall.positives} reference positive, {overall.negatives} reference negative"


def _limitations(bundle: BundleData) -> str:
    stated = len(bundle.loaded.protocol.limitations)
    return f"Generated from coverage, plus {stated} stated in the protocol"


def _update_plan(bundle: BundleData) -> str | None:
    return None if getattr(bundle.loaded.protocol, "pccp", None) is None else "PCCP stated"


def _truth_labels(bundle: BundleData) -> str | None:
    truth = bundle.loaded.protocol.truth
    if truth is None:
        return None
    return f"column '{truth.column}', positive = {', '.join(truth.positive)}"


def _outcome(bundle: BundleData) -> str:
    summary = bundle.criteria.summary
    return f"{summary['passed']} of {summary['total']} pre-specified criteria met"


FILLERS: dict[str, Callable[[BundleData], str | None]] = {
    "outcome": _outcome,
    "intended_use": lambda b: b.loaded.protocol.device.intended_use,
    "requirements": lambda b: (
        f"{len(b.loaded.protocol.requirements)} requirements with pre-specified acceptance criteria"
    ),
    "study_goal": lambda b: (
        "Standalone performance evaluation of a locked model against "
        "pre-specified acceptance criteria"
    ),
    "sites": _sites,
    "test_sets": lambda b: ", ".join(t.id for t in b.loaded.protocol.test_sets),
    "eligibility": _eligibility,
    "setting": lambda b: _collections(b, "setting"),
    "periods": lambda b: _collections(b, "period"),
    "devices": lambda b: _collections(b, "acquisition_devices"),
    "preprocessing": _preprocessing,
    "phi": _phi,
    "non_evaluable": _non_evaluable,
    "reference": lambda b: (
        None if b.loaded.protocol.truth is None else b.loaded.protocol.truth.reference_standard
    ),
    "truthers": _truthers,
    "truth_process": _truth_process,
    "agreement": _process_field("agreement"),
    "blinding": _process_field("blinding"),
    "independence": lambda b: b.loaded.protocol.independence,
    "sample_size": _sample_size,
    "model": _model,
    "software": lambda b: f"dxval {b.run.dxval_version}; every distribution in Appendix B",
    "metrics": lambda b: "Sensitivity, specificity, ROC AUC and further metrics per population",
    "uncertainty": _uncertainty,
    "subgroups": lambda b: (
        f"{sum(1 for p in b.metrics.populations if p.kind != 'all')} "
        "site and subgroup populations with intervals"
    ),
    "flow": lambda b: (
        f"{b.metrics.cases['total']} cases, {b.metrics.cases['non_evaluable']} non-evaluable"
    ),
    "demo": lambda b: ", ".join(b.attributes) or None,
    "performance": _performance,
    "accuracy": _performance,
    "counts": _two_by_two,
    "two_by_two": _two_by_two,
    "failures": lambda b: "False negatives and false positives by site and subgroup",
    "limitations": _limitations,
    "protocol": lambda b: (
        f"protocol.yaml in the bundle (SHA-256 {fmt.short_digest(b.run.protocol.sha256)})"
    ),
    "threshold": lambda b: f"score ≥ {b.loaded.protocol.operating_point:g}, fixed before testing",
    "truth_labels": _truth_labels,
    "index_blinding": lambda b: (
        "The model sees only the preprocessed pixels; no clinical "
        "information or reference-standard result"
    ),
    "update_plan": _update_plan,
}


def _row(item: Item, bundle: BundleData) -> ChecklistRow:
    if item.where is None:
        return ChecklistRow(item.id, item.text, "", "", TO_COMPLETE, "manufacturer")
    anchor, section = SECTIONS[item.where]
    answer = None if item.fill is None else FILLERS[item.fill](bundle)
    if answer:
        return ChecklistRow(item.id, item.text, anchor, section, _short(answer), "filled")
    if item.fill is None:
        return ChecklistRow(item.id, item.text, anchor, section, "See the section.", "addressed")
    return ChecklistRow(item.id, item.text, anchor, section, TO_COMPLETE, "manufacturer")


def _checklist(checklist: Checklist, bundle: BundleData) -> ChecklistView:
    rows = tuple(_row(item, bundle) for item in checklist.items)
    filled = sum(1 for row in rows if row.status == "filled")
    addressed = sum(1 for row in rows if row.status == "addressed")
    manual = len(rows) - filled - addressed
    return ChecklistView(
        key=checklist.key,
        name=checklist.name,
        source=checklist.source,
        rows=rows,
        counts=(
            f"{len(rows)} items: {filled} answered from the evidence, {addressed} addressed in "
            f"a section, {manual} to be completed by the manufacturer"
        ),
    )


def build_checklists(bundle: BundleData) -> tuple[ChecklistView, ...]:
    """CLAIM 2024, STARD 2015 and TRIPOD+AI, item by item."""
    return tuple(_checklist(checklist, bundle) for checklist in CHECKLISTS)
