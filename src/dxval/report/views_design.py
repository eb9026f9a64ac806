"""Study-design views: model input and preprocessing, data provenance, sample size, reuse.

What FDA's draft guidance on AI-enabled device software functions (January
2025, section X.A and Appendix C) asks a submission to describe before the
results: what the model receives and how it is pre-processed, where the test
data came from (collection period, criteria, devices per site), how the
reference standard was established, why the test set is large enough, and
whether the test data was used before (FDA CADe guidance on test-data
reuse). Every statement is read from the bundle: the protocol as run
(``protocol.yaml``), ``lock.json`` (preprocessing digest, decoders),
``sample_size.json`` and ``run.json`` (test-set usage). An absent protocol
field reads :data:`NOT_STATED` so the gap stays visible.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from dxval.evidence.format import BundleData
from dxval.protocol.preprocessing import OPS
from dxval.protocol.provenance import Collection
from dxval.report import formatting as fmt
from dxval.report.elements import Field

NOT_STATED = "not stated in the protocol"
DESIGN_NAMES = {
    "sensitivity": "Sensitivity (sizes the positive cases)",
    "specificity": "Specificity (sizes the negative cases)",
    "auc": "ROC AUC interval width",
}


@dataclass(frozen=True, slots=True)
class OpRow:
    """One preprocessing step: position, op, what it does, its parameters."""

    position: int
    op: str
    description: str
    parameters: str


@dataclass(frozen=True, slots=True)
class ModelInputView:
    """Section "Model input and preprocessing"."""

    summary: str
    fields: tuple[Field, ...]
    ops: tuple[OpRow, ...]
    decoders: tuple[str, ...]
    contact_sheet: str | None = None


@dataclass(frozen=True, slots=True)
class ProvenanceRow:
    """Collection of one test set."""

    test_set: str
    site: str
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class SizeRow:
    """One sample-size design: assumptions, required and observed cases, met."""

    quantity: str
    assumptions: str
    required: str
    observed: str
    verdict: str
    verdict_class: str
    method: str


@dataclass(frozen=True, slots=True)
class SampleSizeView:
    """The sample-size justification (empty ``rows``: the protocol states none)."""

    settings: tuple[Field, ...]
    rows: tuple[SizeRow, ...]
    conclusion: str


@dataclass(frozen=True, slots=True)
class ReuseRow:
    """Prior uses of one test set before this run (from the evidence root's ledger)."""

    test_set: str
    sha256: str
    cases: str
    prior_uses: str
    prior_runs: str
    prior_models: str
    cap: str


@dataclass(frozen=True, slots=True)
class DesignView:
    """Section "Study design and data provenance"."""

    provenance: tuple[ProvenanceRow, ...]
    truth_process: tuple[Field, ...]
    independence: str
    sample_size: SampleSizeView
    reuse: tuple[ReuseRow, ...]
    reuse_note: str


def _parameters(values: dict[str, Any]) -> str:
    return ", ".join(f"{key} = {value}" for key, value in values.items()) or "none"


def input_shape_text(shape: list[int | None]) -> str:
    """An input shape as ``batch × 1 × 128 × 128`` (a null axis is dynamic)."""
    return " × ".join("batch" if size is None else str(size) for size in shape)


def _op_description(op: str) -> str:
    model = OPS.get(op)
    doc = (model.__doc__ or "") if model is not None else ""
    # the op docstrings are reStructuredText: drop the inline-literal markers
    return doc.strip().splitlines()[0].replace("``", "") if doc.strip() else op


def build_model_input(bundle: BundleData) -> ModelInputView:
    """What the model receives: input tensor, the ordered preprocessing, digest, decoders."""
    protocol = bundle.loaded.protocol
    lock = bundle.lock
    model = protocol.model
    if model is None:
        return ModelInputView(
            summary="The scores were produced outside dxval (predictions file "
            f"{protocol.predictions.path if protocol.predictions else fmt.DASH}); dxval neither "
            "decoded the images nor ran the model, so model input and preprocessing are "
            "documented by the manufacturer elsewhere in the submission.",
            fields=(),
            ops=(),
            decoders=(),
        )
    shape = input_shape_text(model.input.shape)
    ops = tuple(
        OpRow(
            position=index,
            op=step.op,
            description=_op_description(step.op),
            parameters=_parameters(step.model_dump(exclude={"op"}, mode="json")),
        )
        for index, step in enumerate(protocol.preprocessing, start=1)
    )
    fields = (
        Field("Model artifact", f"{model.path} ({model.runtime})"),
        Field("Model SHA-256", str((lock.get("model") or {}).get("sha256", fmt.DASH)), mono=True),
        Field("Input tensor", f"'{model.input.name}', {shape}, {model.input.dtype}"),
        Field(
            "Output → score",
            f"'{model.output.name}', activation {model.output.activation}, positive class "
            f"index {model.output.positive_index}",
        ),
        Field("Operating point", f"score ≥ {model.operating_point:g} is a positive call"),
        Field(
            "Preprocessing digest",
            str(lock.get("preprocessing_digest") or "not recorded"),
            mono=True,
        ),
    )
    summary = (
        f"Each case's DICOM image is decoded and transformed by the {len(ops)} steps below, in "
        "order, into the input tensor of the frozen model. The steps come from a closed "
        "registry of documented operations (DICOM PS3.3 C.11 for the LUT steps); their "
        "SHA-256 digest (lock.json) keys the prediction cache, so a changed step is a "
        "different preprocessing. A case that cannot be decoded or transformed is kept as "
        "non-evaluable with its reason (section 3.3)."
    )
    decoders = tuple(str(name) for name in lock.get("decoders") or ())
    sheet = bundle.contact_sheet
    return ModelInputView(
        summary=summary,
        fields=fields,
        ops=ops,
        decoders=decoders,
        contact_sheet=None
        if sheet is None
        else "data:image/png;base64," + base64.b64encode(sheet).decode("ascii"),
    )


def _collection_fields(collection: Collection | None) -> tuple[Field, ...]:
    if collection is None:
        collection = Collection()
    devices = collection.acquisition_devices
    return (
        Field("Collection period", collection.period or NOT_STATED),
        Field("Setting and selection", collection.setting or NOT_STATED),
        Field("Inclusion criteria", collection.inclusion or NOT_STATED),
        Field("Exclusion criteria", collection.exclusion or NOT_STATED),
        Field("Acquisition devices", "; ".join(devices) if devices else NOT_STATED),
    )


def _provenance(bundle: BundleData) -> tuple[ProvenanceRow, ...]:
    protocol = bundle.loaded.protocol
    collection = protocol.data.collection if protocol.data is not None else {}
    return tuple(
        ProvenanceRow(test_set.id, test_set.site, _collection_fields(collection.get(test_set.id)))
        for test_set in protocol.test_sets
    )


def truth_process_fields(bundle: BundleData) -> tuple[Field, ...]:
    """Reference-standard process: truthers, qualification, blinding, adjudication, agreement."""
    truth = bundle.loaded.protocol.truth
    process = None if truth is None else truth.process
    truthers = None if process is None else process.truthers
    return (
        Field("Reference standard", NOT_STATED if truth is None else truth.reference_standard),
        Field("Number of truthers", NOT_STATED if truthers is None else str(truthers.number)),
        Field(
            "Truther qualification",
            (truthers.qualification if truthers is not None else None) or NOT_STATED,
        ),
        Field("Blinding", (process.blinding if process else None) or NOT_STATED),
        Field("Adjudication", (process.adjudication if process else None) or NOT_STATED),
        Field("Inter-reader agreement", (process.agreement if process else None) or NOT_STATED),
    )


def _assumptions(quantity: str, assumption: dict[str, Any]) -> str:
    if quantity == "auc":
        return (
            f"assumed AUC {assumption['assumed']:g}, half-width ≤ {assumption['margin']:g}, "
            f"{assumption['negatives_per_positive']:g} negatives per positive"
        )
    return f"assumed {assumption['assumed']:g}, lower limit {assumption['lower_limit']:g}"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{value} {key}" for key, value in counts.items())


def _size_row(design: dict[str, Any]) -> SizeRow:
    met = bool(design["met"])
    achieved = design["design"]
    detail = (
        f"power {achieved['achieved']:.4f}"
        if achieved["quantity"] == "power"
        else f"half-width {achieved['achieved']:.4f}"
    )
    return SizeRow(
        quantity=DESIGN_NAMES.get(design["quantity"], design["quantity"]),
        assumptions=_assumptions(design["quantity"], design["assumptions"]),
        required=_counts(design["required"]),
        observed=_counts(design["observed"]),
        verdict="MET" if met else "NOT MET",
        verdict_class="pass" if met else "fail",
        method=f"{achieved['method']}; {detail} at the required size",
    )


def build_sample_size(bundle: BundleData) -> SampleSizeView:
    """The sample-size justification from ``sample_size.json`` (or why there is none)."""
    document = bundle.sample_size
    if document is None:
        statement = (
            "The protocol states no sample-size justification (field 'sample_size'): the "
            "assumed performance, the limit to exceed, alpha and power are not stated, so "
            "the adequacy of the test-set size must be justified elsewhere in the submission."
            if bundle.loaded.protocol.sample_size is None
            else "The bundle holds no sample_size.json (written by an older dxval)."
        )
        return SampleSizeView(settings=(), rows=(), conclusion=statement)
    level = 1.0 - float(document["alpha"])
    settings = (
        Field("Alpha (two-sided)", f"{document['alpha']:g} (intervals at {fmt.level_text(level)})"),
        Field("Power", f"{document['power']:g}"),
        Field("Proportion interval of the design", str(document["method"])),
        Field("Rationale of the assumptions", document.get("rationale") or NOT_STATED),
    )
    rows = tuple(_size_row(design) for design in document["designs"])
    conclusion = (
        "The analysed test set meets every pre-specified sample-size requirement."
        if document["met"]
        else "The analysed test set does NOT meet every pre-specified sample-size requirement "
        "(rows marked NOT MET); the precision the protocol planned for is not reached there."
    )
    return SampleSizeView(settings=settings, rows=rows, conclusion=conclusion)


def _reuse(bundle: BundleData) -> tuple[tuple[ReuseRow, ...], str]:
    usage = bundle.run.test_set_usage
    if usage is None:
        return (), "run.json of this bundle records no test-set usage (written by an older dxval)."
    rows = tuple(
        ReuseRow(
            test_set=str(item["test_set"]),
            sha256=fmt.short_digest(str(item["sha256"])),
            cases=str(item["cases"]),
            prior_uses=str(item["prior_uses"]),
            prior_runs=", ".join(item["prior_runs"]) or "none",
            prior_models=str(item["prior_models"]),
            cap="none" if item["max_uses"] is None else str(item["max_uses"]),
        )
        for item in usage
    )
    reused = [row.test_set for row in rows if row.prior_uses != "0"]
    note = (
        "No test set was used in an earlier run recorded in this evidence root's ledger."
        if not reused
        else f"Used before this run: {', '.join(reused)} (prior runs listed); "
        "repeated evaluation on the same test data can overstate performance (FDA guidance on "
        "CADe performance testing, test-data reuse)."
    )
    return rows, note


def build_design(bundle: BundleData) -> DesignView:
    """Section "Study design and data provenance"."""
    reuse, note = _reuse(bundle)
    return DesignView(
        provenance=_provenance(bundle),
        truth_process=truth_process_fields(bundle),
        independence=bundle.loaded.protocol.independence or NOT_STATED,
        sample_size=build_sample_size(bundle),
        reuse=reuse,
        reuse_note=note,
    )
