"""The model card: a one-page summary of the model and its validation, from protocol + evidence.

Content follows the example model card of FDA's draft guidance *Artificial
Intelligence-Enabled Device Software Functions: Lifecycle Management and
Marketing Submission Recommendations* (January 2025, Appendix E): model
identity, intended use, the data used for validation (sites, demographics,
reference standard), performance with confidence intervals overall, per site
and per subgroup, limitations, independence of the test data, and the update
plan: the PCCP modification the run gates when the protocol has a ``pccp:``
block. It is shown as a report section and written to the bundle as
``model-card.md`` (a rendering, like ``report.html``). Every value is read
from the bundle; nothing is estimated here.
"""

from __future__ import annotations

from dataclasses import dataclass

from dxval.evidence.format import BundleData, PopulationRecord
from dxval.report import formatting as fmt
from dxval.report.elements import Field
from dxval.report.insufficiency import Insufficiency, flagged_text, insufficiency
from dxval.report.views_comparison import pccp_fields
from dxval.report.views_data import TestDataView
from dxval.report.views_design import NOT_STATED, input_shape_text, truth_process_fields
from dxval.report.views_limitations import LimitationsView

#: Name of the Markdown model card in the bundle.
MODEL_CARD_NAME = "model-card.md"
NO_UPDATE_PLAN = (
    "No predetermined change control plan (PCCP) is stated in the protocol: the model is "
    "locked; any change to the model, its preprocessing or its operating point requires a "
    "new validation."
)


@dataclass(frozen=True, slots=True)
class PerformanceRow:
    """Sensitivity, specificity and AUC with intervals for one population."""

    population: str
    kind: str
    cases: str
    sensitivity: str
    specificity: str
    auc: str


@dataclass(frozen=True, slots=True)
class ModelCardView:
    """Everything the model card shows."""

    title: str
    identity: tuple[Field, ...]
    intended_use: str
    data: tuple[Field, ...]
    demographics: tuple[Field, ...]
    reference_standard: tuple[Field, ...]
    level: str
    performance: tuple[PerformanceRow, ...]
    criteria: str
    limitations: tuple[str, ...]
    independence: str
    update_plan: tuple[str, ...]
    source: str


def _performance_row(population: PopulationRecord, flags: Insufficiency) -> PerformanceRow:
    """One population's estimates; † on each estimate the report's section 4.3 marks."""
    metrics = population.metrics

    def cell(name: str) -> str:
        record = metrics.get(name)
        defined = record is not None and record.estimate is not None
        return flagged_text(fmt.estimate_text(record), defined and flags.flagged(population, name))

    return PerformanceRow(
        population=population.label,
        kind=population.kind.replace("_", " "),
        cases=f"{population.evaluable} ({population.positives}+/{population.negatives}−)",
        sensitivity=cell("sensitivity"),
        specificity=cell("specificity"),
        auc=cell("auc"),
    )


def _identity(bundle: BundleData) -> tuple[Field, ...]:
    protocol, lock = bundle.loaded.protocol, bundle.lock
    device = protocol.device
    fields = [
        Field("Device", f"{device.name}, version {device.version}"),
        Field("Manufacturer", device.manufacturer or NOT_STATED),
    ]
    if protocol.model is not None:
        model = protocol.model
        fields += [
            Field("Model artifact", f"{model.path} ({model.runtime})"),
            Field("Model SHA-256", str((lock.get("model") or {}).get("sha256")), mono=True),
            Field(
                "Preprocessing digest",
                str(lock.get("preprocessing_digest") or "not recorded"),
                mono=True,
            ),
            Field(
                "Input",
                f"'{model.input.name}', {input_shape_text(model.input.shape)}, {model.input.dtype}",
            ),
        ]
    else:
        predictions = lock.get("predictions") or {}
        fields.append(Field("Predictions file SHA-256", str(predictions.get("sha256")), mono=True))
    fields.append(
        Field("Operating point", f"score ≥ {protocol.operating_point:g} is a positive call")
    )
    return tuple(fields)


def _data(bundle: BundleData, test_data: TestDataView) -> tuple[Field, ...]:
    protocol = bundle.loaded.protocol
    collection = protocol.data.collection if protocol.data is not None else {}
    fields = [
        Field(
            row.site,
            f"{row.cases} cases ({row.positives} positive, {row.negatives} negative, "
            f"{row.non_evaluable} non-evaluable) from {row.test_sets}",
        )
        for row in test_data.sites
    ]
    for test_set in protocol.test_sets:
        entry = collection.get(test_set.id)
        period = entry.period if entry is not None and entry.period else NOT_STATED
        fields.append(Field(f"Collection period, {test_set.id}", period))
    return tuple(fields)


def _demographics(test_data: TestDataView) -> tuple[Field, ...]:
    return tuple(
        Field(table.label, "; ".join(f"{row.level} {row.cells[-1]}" for row in table.rows))
        for table in test_data.attributes
    )


def update_plan_lines(bundle: BundleData) -> tuple[str, ...]:
    """The update plan: the PCCP modification this run gates, or the locked-model statement.

    A run with a ``pccp:`` block records the modification and the decision on
    it in ``run.json``; its lines are the cover's PCCP block
    (:func:`dxval.report.views_comparison.pccp_fields`), reused.
    """
    fields = pccp_fields(bundle)
    if not fields:
        return (NO_UPDATE_PLAN,)
    lines = ["Predetermined change control plan (PCCP): this run gates the modification below."]
    return (*lines, *(f"{field.label}: {field.value}" for field in fields))


def build_model_card(
    bundle: BundleData, test_data: TestDataView, limitations: LimitationsView
) -> ModelCardView:
    """The model card of ``bundle`` (test data and limitations views are shared with the report)."""
    protocol, run = bundle.loaded.protocol, bundle.run
    summary = bundle.criteria.summary
    kinds = ("all", "site", "attribute")
    flags = insufficiency(bundle)
    return ModelCardView(
        title=f"Model card: {protocol.device.name}, version {protocol.device.version}",
        identity=_identity(bundle),
        intended_use=protocol.device.intended_use,
        data=_data(bundle, test_data),
        demographics=_demographics(test_data),
        reference_standard=truth_process_fields(bundle),
        level=fmt.level_text(bundle.metrics.settings["confidence_level"]),
        performance=tuple(
            _performance_row(p, flags) for p in bundle.metrics.populations if p.kind in kinds
        ),
        criteria=(
            f"{summary['passed']} of {summary['total']} pre-specified acceptance criteria met, "
            f"{summary['failed']} not met, {summary['undefined']} undefined (run {run.status})."
        ),
        limitations=limitations.generated + limitations.stated,
        independence=protocol.independence or NOT_STATED,
        update_plan=update_plan_lines(bundle),
        source=(
            f"Generated by dxval {run.dxval_version} from evidence bundle {run.run_id} "
            f"(protocol {protocol.id} version {protocol.version}, SHA-256 {run.protocol.sha256})."
        ),
    )
