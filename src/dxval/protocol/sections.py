"""Protocol sections other than the requirements: identity, scores, data, statistics, QC.

Every model forbids unknown keys and is strict about types (a quoted number
is not a number, a number is not a string), so a typo in a protocol is an
error located at its line rather than a silently ignored setting. Paths are
strings relative to the protocol file's folder; :mod:`dxval.protocol.loader`
resolves them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from dxval.data.limits import MAX_BOOTSTRAP_REPLICATES
from dxval.protocol.provenance import TruthProcess

Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=100),
]
"""An ID that is safe as a folder name: letters, digits, ``.``, ``_``, ``-``."""

Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
"""A SHA-256 digest as 64 lowercase hexadecimal digits."""

ProportionCiMethod = Literal["wilson", "wilson_cc", "clopper_pearson", "agresti_coull", "jeffreys"]
AucCiMethod = Literal["delong", "bootstrap"]
ApCiMethod = Literal["logit", "bootstrap"]
BootstrapInterval = Literal["percentile", "bca"]
MultiplicityMethod = Literal["none", "bonferroni", "holm"]

#: Attribute names with a fixed meaning in populations; an attribute may not use them.
RESERVED_ATTRIBUTE_NAMES = frozenset({"all", "site", "test_set"})


class Section(BaseModel):
    """Common configuration of every protocol model: strict, frozen, no unknown keys."""

    # allow_inf_nan=False: .nan, .inf and 1e309 (inf) are refused in every float field
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Device(Section):
    """The device under validation, as named in the submission."""

    name: str = Field(description="Device (product) name.")
    version: str = Field(description="Device software version under validation, e.g. '0.3.0'.")
    intended_use: str = Field(description="Intended use statement, quoted in the report.")
    manufacturer: str | None = Field(default=None, description="Legal manufacturer (optional).")


class ModelInput(Section):
    """The model's input tensor."""

    name: str = Field(description="Input name in the artifact (ONNX graph input, argument name).")
    shape: list[Annotated[int, Field(ge=1)] | None] = Field(
        min_length=1,
        description="Expected shape, batch axis first; null entries are dynamic axes.",
    )
    dtype: Literal["float32", "float16", "float64", "uint8", "int8", "int16", "int32", "int64"] = (
        Field(default="float32", description="Element type the model expects.")
    )


class ModelOutput(Section):
    """How a model output becomes one score per case (larger = more likely positive), or,
    with ``kind: mask``, one label map per case (issue 16 item 5)."""

    name: str = Field(description="Output name in the artifact that carries the score.")
    activation: Literal["none", "sigmoid", "softmax"] = Field(
        default="none", description="Applied to the raw output before taking the score."
    )
    positive_index: int = Field(
        default=0, ge=0, description="Index of the positive class along the last output axis."
    )
    kind: Literal["score", "mask", "boxes"] = Field(
        default="score",
        description="What the output is: one score per case (classification), a label map "
        "or per-class probability maps (segmentation), or boxes (detection: shape [null, N, 5], "
        "rows x0, y0, x1, y1, score in the model input's pixels). Checked by "
        "dxval.protocol.model_outputs.",
    )
    shape: list[Annotated[int, Field(ge=1)] | None] | None = Field(
        default=None,
        description="kind: mask: the output's full shape, batch axis first (null = dynamic); "
        "with encoding: probabilities axis 1 holds the channels.",
    )
    encoding: Literal["labels", "probabilities"] | None = Field(
        default=None,
        description="kind: mask: 'labels' (integer-valued label map; default) or "
        "'probabilities' (one map per channel; a voxel takes the label of its most probable "
        "channel among those with probability >= model.operating_point, else 0).",
    )
    channel_labels: list[Annotated[int, Field(ge=0)]] | None = Field(
        default=None,
        description="encoding: probabilities: the label each output channel stands for "
        "(0 = a background channel, never chosen).",
    )
    transpose: list[Annotated[int, Field(ge=0)]] | None = Field(
        default=None,
        description="kind: mask: permutation taking the output's spatial axes to the truth "
        "label map's axis order (numpy.transpose); default: the same order.",
    )
    score_floor: float | None = Field(
        default=None,
        allow_inf_nan=False,
        description="kind: boxes: rows whose score is below this are padding, not marks.",
    )


class ModelReference(Section):
    """Golden check: a fixed input whose outputs must be reproduced before any case is scored."""

    input: str = Field(
        description="Path (relative to the protocol) of a .npy array holding one input batch."
    )
    input_sha256: Sha256Hex | None = Field(
        default=None, description="SHA-256 of the input file; written by `dxval lock`."
    )
    expected: list[float] | None = Field(
        default=None, min_length=1, description="Expected outputs, flattened."
    )
    expected_sha256: Sha256Hex | None = Field(
        default=None,
        description="Instead of expected: SHA-256 of the raw output bytes (C order, the "
        "runtime's dtype), for large outputs such as masks; compared bit for bit.",
    )
    tolerance: float = Field(
        default=0.0, ge=0, description="Largest allowed absolute difference (with expected)."
    )


class ModelSection(Section):
    """A frozen model artifact that dxval runs itself."""

    path: str = Field(description="Model file (ONNX or TorchScript), relative to the protocol.")
    sha256: Sha256Hex | None = Field(
        default=None, description="SHA-256 of the model file; written by `dxval lock`."
    )
    runtime: Literal["onnxruntime", "torch"] = Field(description="Inference runtime.")
    input: ModelInput = Field(description="Input tensor.")
    output: ModelOutput = Field(description="Output → score.")
    operating_point: float = Field(
        description="Frozen decision threshold: a case is positive when score >= operating_point."
    )
    reference: ModelReference | None = Field(
        default=None, description="Optional golden input/output check."
    )
    decoders: dict[str, str] | None = Field(
        default=None,
        description="Optional pin of DICOM decoder distributions: name -> exact version.",
    )


class Predictions(Section):
    """Bring-your-own predictions: scores produced elsewhere, one CSV row per case."""

    path: str = Field(description="Predictions CSV, relative to the protocol.")
    sha256: Sha256Hex | None = Field(
        default=None, description="SHA-256 of the predictions file; written by `dxval lock`."
    )
    case_id: str = Field(default="case_id", description="Column holding the case ID.")
    score: str = Field(
        default="score", description="Column holding the score (larger = more likely positive)."
    )
    failure_reason: str | None = Field(
        default=None,
        description="Optional column: a row with an empty score and a reason here is a "
        "non-evaluable case; without this column every case needs a finite score.",
    )
    operating_point: float = Field(
        description="Frozen decision threshold: a case is positive when score >= operating_point."
    )


class TestSet(Section):
    """One test set: a manifest CSV of cases from one site."""

    __test__ = False  # not a pytest test class despite its name

    id: Identifier = Field(description="Test set ID, unique in the protocol.")
    site: str = Field(min_length=1, description="Site (clinical source) name.")
    manifest: str = Field(
        description="Manifest CSV, relative to the protocol: columns case_id, path (optional "
        "for predictions-only protocols), the truth column, optional sha256 and attributes."
    )
    sha256: Sha256Hex | None = Field(
        default=None,
        description="Lock digest of the manifest and every file it names; written by `dxval lock`.",
    )
    data_root: str | None = Field(
        default=None,
        description="Folder (relative to the protocol) that every manifest path must resolve "
        "inside; default: the manifest's own folder. Paths leaving it (.., absolute paths, "
        "symbolic links) are refused.",
    )


def _as_text_list(value: object) -> object:
    """Accept one label or a list of labels; numbers become their text (CSV values are text)."""
    values = value if isinstance(value, list) else [value]
    if all(isinstance(item, (str, int)) and not isinstance(item, bool) for item in values):
        return [str(item) for item in values]
    return value


class Truth(Section):
    """Reference-standard labels in the manifests."""

    column: str = Field(description="Manifest column holding the reference-standard label.")
    positive: list[str] = Field(
        min_length=1, description="Label (or labels) meaning positive, matched exactly as text."
    )
    negative: list[str] = Field(
        min_length=1, description="Label (or labels) meaning negative, matched exactly as text."
    )
    reference_standard: str = Field(
        description="How truth was established, e.g. '3-reader consensus'."
    )
    process: TruthProcess | None = Field(
        default=None, description="Truthers, blinding, adjudication and agreement (optional)."
    )

    @field_validator("positive", "negative", mode="before")
    @classmethod
    def _labels(cls, value: object) -> object:
        return _as_text_list(value)


class Attribute(Section):
    """A case attribute used for subgroups: a manifest column or a DICOM keyword."""

    column: str | None = Field(default=None, description="Manifest column holding the value.")
    dicom: str | None = Field(
        default=None, description="DICOM keyword read from the case's first file, e.g. PatientSex."
    )
    bins: list[float] | None = Field(
        default=None,
        min_length=2,
        description="Increasing band edges for a numeric attribute: [a, b) bands, the last "
        "closed [y, z]. DICOM age strings such as '045Y' are converted to years.",
    )
    label: str | None = Field(default=None, description="Display name in the report.")
    phi_justification: str | None = Field(
        default=None,
        min_length=20,
        description="Why an identifying DICOM attribute (PS3.15 Table E.1-1) is needed as a "
        "subgroup variable; required, together with bins, for any Table E.1-1 attribute other "
        "than PatientSex and a binned PatientAge. Recorded in the evidence with the protocol.",
    )


class Bootstrap(Section):
    """Bootstrap settings (stratified by truth and site)."""

    replicates: int = Field(
        default=2000,
        ge=100,
        le=MAX_BOOTSTRAP_REPLICATES,
        description=f"Number of resamples (at most {MAX_BOOTSTRAP_REPLICATES}).",
    )
    seed: int = Field(default=20261126, ge=0, description="Seed of the random generator.")
    interval: BootstrapInterval = Field(default="percentile", description="Interval type.")


class Minimum(Section):
    """Smallest cells reported without an 'insufficient' flag."""

    positives: int = Field(default=10, ge=0, description="Minimum number of positive cases.")
    negatives: int = Field(default=10, ge=0, description="Minimum number of negative cases.")


class Calibration(Section):
    """Calibration analysis; only for scores that are probabilities in [0, 1]."""

    bins: int = Field(default=10, ge=2, description="Equal-width bins for ECE/MCE.")


class Statistics(Section):
    """Pre-specified statistical methods."""

    confidence_level: float = Field(
        default=0.95, gt=0.5, lt=1.0, description="Two-sided confidence level of every interval."
    )
    proportion_ci: ProportionCiMethod = Field(
        default="wilson", description="Interval for sensitivity, specificity and other proportions."
    )
    auc_ci: AucCiMethod = Field(default="delong", description="Interval for the ROC AUC.")
    ap_ci: ApCiMethod = Field(
        default="logit",
        description="Interval for average precision: logit (closed form, Boyd, Eng & Page 2013; "
        "the default since issue 18, like the AUC's DeLong: no resampling, so large test sets "
        "stay fast) or bootstrap (stratified by truth and site; the default before issue 18 — "
        "a protocol that wants its earlier intervals back writes ap_ci: bootstrap).",
    )
    bootstrap: Bootstrap = Field(default_factory=Bootstrap, description="Bootstrap settings.")
    multiplicity: MultiplicityMethod = Field(
        default="holm",
        description="Correction for a criterion over K populations (intervals use the "
        "Bonferroni level for holm; recorded).",
    )
    prevalence: float | None = Field(
        default=None, gt=0, lt=1, description="Target prevalence for PPV/NPV at prevalence."
    )
    minimum: Minimum = Field(default_factory=Minimum, description="Insufficient-cell thresholds.")
    calibration: Calibration | None = Field(
        default=None, description="Calibration analysis (scores must be probabilities)."
    )


class PhiRetention(Section):
    """Table E.1-1 attributes the test data keeps on purpose, and why (recorded in evidence)."""

    attributes: list[str] = Field(
        min_length=1,
        description="DICOM keywords whose values the PHI scan accepts, e.g. StudyInstanceUID "
        "(new UIDs) or StudyDate (shifted dates) that the de-identification replaced.",
    )
    justification: str = Field(
        min_length=20,
        description="Who replaced these values and how (the de-identification procedure).",
    )


class Qc(Section):
    """Quality-control tolerances."""

    max_failed_fraction: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Largest fraction of non-evaluable cases for a complete run (else exit 4).",
    )
    phi: Literal["refuse", "warn"] = Field(
        default="refuse", description="What to do when a DICOM file holds PHI."
    )
    phi_retained: PhiRetention | None = Field(
        default=None,
        description="Identifying attributes the protocol accepts in the DICOM files, with a "
        "justification. A file's own de-identification claim is never trusted instead.",
    )
    max_test_set_uses: int | None = Field(
        default=None,
        ge=1,
        description="Most runs a test set (identified by its lock digest) may be used in, "
        "counted in the evidence root's test-set ledger; a run past the cap is refused "
        "(exit 2). Unset: uses are counted and reported, never refused.",
    )


class Analysis(Section):
    """Optional extra analyses."""

    site_by: list[str] = Field(
        default_factory=list, description="Attributes analysed within each site (site × attribute)."
    )
    most_confident_errors: int = Field(
        default=10, ge=0, description="How many most confident false negatives/positives to list."
    )


class ReaderStudyColumns(Section):
    """Column names of a reader study's reads file."""

    reader: str = Field(default="reader", description="Reader ID column.")
    case: str = Field(default="case", description="Case ID column.")
    modality: str = Field(default="modality", description="Modality (reading condition) column.")
    truth: str = Field(
        default="truth",
        description="Truth column (absent: iMRMC layout, truth rows with reader = modality = "
        "'truth').",
    )
    score: str = Field(default="score", description="Reader score column (higher = positive).")


class ReaderStudyPlan(Section):
    """Size a planned reader study with this one as the pilot (sample-size justification)."""

    readers: int = Field(ge=2, description="Readers of the planned study.")
    effect: float = Field(description="AUC difference (test − reference) to detect.")
    power: float = Field(default=0.8, gt=0, lt=1, description="Target power.")
    cases: int | None = Field(default=None, ge=2, description="Also report power at this size.")


class ReaderStudy(Section):
    """A multi-reader multi-case study: readers read the cases unaided and aided by the device.

    The difference analysed is ``test`` minus ``reference`` (e.g. aided − unaided),
    reader-averaged, by Obuchowski–Rockette with Hillis's degrees of freedom or by
    Gallas's U-statistics (iMRMC).
    """

    reads: str = Field(
        description="Path (relative to the protocol) of the long-format reads CSV: one row per "
        "reader, case and modality."
    )
    sha256: Sha256Hex | None = Field(default=None, description="Written by `dxval lock`.")
    columns: ReaderStudyColumns = Field(
        default_factory=ReaderStudyColumns, description="Column names of the reads file."
    )
    positive: str | None = Field(
        default=None, description="Truth value of a positive case (default '1' for 0/1 truth)."
    )
    reference: str = Field(description="The reference reading condition, e.g. 'unaided'.")
    test: str = Field(description="The reading condition with the device, e.g. 'aided'.")
    method: Literal["or", "u-statistic"] = Field(
        default="or",
        description="Obuchowski-Rockette with Hillis ddf (or) or Gallas U-statistics (iMRMC).",
    )
    u_test: Literal["bdg", "normal"] = Field(
        default="bdg",
        description="Test and intervals of method u-statistic, as iMRMC reports them: t with "
        "the BDG degrees of freedom (bdg) or the normal approximation (normal).",
    )
    covariance: Literal["jackknife", "delong", "unbiased"] = Field(
        default="jackknife", description="Covariance of the reader x modality AUCs (method or)."
    )
    factors: Literal["rrrc", "frrc", "rrfc"] = Field(
        default="rrrc",
        description="Random readers and cases (rrrc), fixed readers (frrc) or fixed cases (rrfc).",
    )
    threshold: float | None = Field(
        default=None,
        description="Binary reads: a read is positive when score >= threshold; needed for "
        "mrmc_sensitivity_difference and mrmc_specificity_difference.",
    )
    plan: ReaderStudyPlan | None = Field(
        default=None,
        description="Sample size of a planned study from this study's variance components "
        "(Hillis, Obuchowski & Berbaum 2011), reported as the sample-size justification.",
    )


class Report(Section):
    """How the report is rendered (never what it says)."""

    templates: str | None = Field(
        default=None,
        description="Folder of report templates used over the shipped ones (relative to this "
        "file); start from a copy of dxval's templates/ folder.",
    )
    contact_sheet: bool = Field(
        default=True,
        description="Draw one original and one model input per site into the bundle and the "
        "report (model runs). Only cases whose every file states BurnedInAnnotation NO are "
        "drawn; set false where pixel data must not leave the test site at all.",
    )
