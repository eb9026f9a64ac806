"""The evidence bundle's format: file names and typed records, used to write and to read.

One module says what a bundle holds. The writers (:mod:`dxval.pipeline`,
:class:`~dxval.evidence.BundleWriter`) name files with the constants here and
check ``run.json`` against :class:`RunRecord` before writing it; the readers
(:mod:`dxval.report`, :mod:`dxval.trace`, :mod:`dxval.selfval`) read through
:func:`read_bundle` or the record models. Records are pydantic models at the
edge (unknown keys ignored, so older readers accept newer bundles); nothing
here computes a value. A missing or malformed file is an
:class:`~dxval.errors.InputError` naming the file and the field; a reader
never guesses a value that the bundle does not hold.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dxval.data.hashing import sha256_file
from dxval.errors import InputError

if TYPE_CHECKING:  # the protocol (pydantic, ruamel, and through it the stats) loads on read only
    from dxval.evidence.signatures.registry import SignerRegistry
    from dxval.protocol import LoadedProtocol

MANIFEST_NAME = "MANIFEST.sha256"
RUN_NAME = "run.json"
PROTOCOL_NAME = "protocol.yaml"
LOCK_NAME = "lock.json"
ENVIRONMENT_NAME = "environment.json"
PHI_NAME = "phi.json"
CASES_NAME = "cases.csv"
METRICS_NAME = "metrics.json"
CRITERIA_NAME = "criteria.json"
AUDIT_NAME = "audit.jsonl"
#: The reader study's analysis, present when the protocol has a ``reader_study`` (issue 15).
MRMC_NAME = "mrmc.json"
#: The sample-size justification, present when the protocol has ``sample_size`` (issue 14).
SAMPLE_SIZE_NAME = "sample_size.json"
#: One original and one preprocessed image per site, for model runs (issue 14).
CONTACT_SHEET_NAME = "preprocessing/contact-sheet.png"
#: Detection and segmentation protocols (issue 16): per-population statistics and per-case
#: outcomes in place of metrics.json; the bundle's run.json names the ``task``.
DETECTION_NAME = "detection.json"
SEGMENTATION_NAME = "segmentation.json"
#: Scores of every case at every robustness level, present when the protocol has a
#: ``robustness`` section (issue 19).
ROBUSTNESS_CASES_NAME = "robustness.csv"
#: Per-case wall times of a model run and their summary (issue 19, latency): timings vary
#: from run to run, so they are kept out of cases.csv and metrics.json.
LATENCY_CASES_NAME = "latency.csv"
LATENCY_NAME = "latency.json"
#: Candidate − comparator paired statistics, present when the protocol has ``comparators``
#: (issue 13): :class:`ComparisonRecord`.
COMPARISON_NAME = "comparison.json"
FIGURES_FOLDER = "figures"
#: Files attached to ``report.pdf`` (PDF/A-3 associated files), in this order.
ATTACHED_FILES = ("protocol.yaml", "metrics.json", "criteria.json", "cases.csv", "environment.json")
#: Evidence files listed with their SHA-256 in the traceability section.
EVIDENCE_FILES = (
    "protocol.yaml",
    "lock.json",
    "environment.json",
    "cases.csv",
    "metrics.json",
    "criteria.json",
    "audit.jsonl",
    "run.json",
)
SIGNATURES_FOLDER = "signatures"
#: Content files of a validation bundle (written before the sealing event).
CONTENT_FILES = (
    PROTOCOL_NAME,
    LOCK_NAME,
    ENVIRONMENT_NAME,
    CASES_NAME,
    METRICS_NAME,
    CRITERIA_NAME,
)
#: Files every sealed validation bundle has; ``verify`` reports a bundle lacking one.
REQUIRED_FILES = (*CONTENT_FILES, AUDIT_NAME, RUN_NAME, MANIFEST_NAME)

#: ``run.json`` schema of a post-market monitoring bundle (``dxval monitor``).
MONITORING_RUN_SCHEMA = "dxval-monitoring-run/1"
#: Files of a monitoring bundle: the baseline record, the production log's record, the
#: excluded rows, the monitoring document and (when one was given) ``monitor.yaml``.
BASELINE_NAME = "baseline.json"
PRODUCTION_NAME = "production.json"
EXCLUDED_NAME = "excluded.csv"
MONITORING_NAME = "monitoring.json"
MONITOR_CONFIG_NAME = "monitor.yaml"
#: Content files every monitoring bundle has (``monitor.yaml`` only when one was given).
MONITORING_CONTENT_FILES = (
    BASELINE_NAME,
    PRODUCTION_NAME,
    EXCLUDED_NAME,
    ENVIRONMENT_NAME,
    MONITORING_NAME,
)
#: Files every sealed monitoring bundle has.
MONITORING_REQUIRED_FILES = (*MONITORING_CONTENT_FILES, AUDIT_NAME, RUN_NAME, MANIFEST_NAME)


#: Files every sealed detection / segmentation bundle has (``task`` in run.json).
TASK_REQUIRED_FILES = {
    task: (PROTOCOL_NAME, LOCK_NAME, ENVIRONMENT_NAME, CASES_NAME, name, CRITERIA_NAME,
           AUDIT_NAME, RUN_NAME, MANIFEST_NAME)
    for task, name in (("detection", DETECTION_NAME), ("segmentation", SEGMENTATION_NAME))
}  # fmt: skip
#: Files attached to a detection / segmentation ``report.pdf`` (PDF/A-3), in this order.
TASK_ATTACHED_FILES = {
    task: (PROTOCOL_NAME, name, CRITERIA_NAME, CASES_NAME, ENVIRONMENT_NAME)
    for task, name in (("detection", DETECTION_NAME), ("segmentation", SEGMENTATION_NAME))
}


def required_files(run: object) -> tuple[str, ...]:
    """The files a bundle must have, by the kind its ``run.json`` record names.

    A monitoring bundle (``schema`` :data:`MONITORING_RUN_SCHEMA`) has its own
    set; every other bundle, an unreadable ``run.json`` included, the validation
    set (:data:`REQUIRED_FILES`).
    """
    if isinstance(run, dict) and run.get("schema") == MONITORING_RUN_SCHEMA:
        return MONITORING_REQUIRED_FILES
    if isinstance(run, dict) and run.get("task") in TASK_REQUIRED_FILES:
        return TASK_REQUIRED_FILES[run["task"]]
    return REQUIRED_FILES


class Record(BaseModel):
    """Base of the bundle records: unknown keys ignored (newer bundles), types checked."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class EstimateRecord(Record):
    """An :class:`dxval.stats.Estimate` as written by ``to_dict``."""

    estimate: float | None
    low: float | None
    high: float | None
    confidence_level: float
    method: str
    n: int
    status: str
    reason: str | None = None
    numerator: int | None = None
    denominator: int | None = None


class PopulationRecord(Record):
    """One population of ``metrics.json`` with its counts, metrics and calibration."""

    key: str
    label: str
    kind: str
    site: str | None = None
    test_set: str | None = None
    attribute: str | None = None
    level: str | None = None
    cases: int
    evaluable: int
    non_evaluable: int
    positives: int
    negatives: int
    insufficient: list[str]
    metrics: dict[str, EstimateRecord]
    calibration: dict[str, Any] | None = None


class RocBand(Record):
    """Pointwise band of sensitivity at fixed specificities."""

    method: str
    confidence_level: float
    specificity: list[float]
    sensitivity: list[float | None]
    low: list[float | None]
    high: list[float | None]


class RocCurveRecord(Record):
    """One population's empirical ROC curve (``roc_curves`` of ``metrics.json``)."""

    population: str
    label: str
    status: str
    reason: str | None = None
    curve: dict[str, Any] | None = None
    band: RocBand | None = None


class FisherRecord(Record):
    """Fisher's exact test of a group against the rest."""

    method: str
    p_value: float | None
    status: str
    reason: str | None = None
    effect: EstimateRecord | None = None


class ErrorGroupRecord(Record):
    """A group's error rate and its comparison with the rest."""

    population: str
    label: str
    errors: int
    cases: int
    rate: EstimateRecord
    fisher_exact: FisherRecord
    p_value_adjusted: float | None


class ErrorCount(Record):
    """Errors among the cases of one truth class."""

    errors: int
    cases: int
    rate: EstimateRecord


class ConfidentError(Record):
    """One of the most confident errors."""

    case_id: str
    site: str
    test_set: str
    score: float


class ErrorFamilyRecord(Record):
    """The family the group p-values were adjusted over: the defined tests only."""

    method: str
    family_size: int
    undefined_tests: int


class ErrorAnalysis(Record):
    """False negatives or false positives: overall, by group, the most confident ones."""

    overall: ErrorCount
    groups: list[ErrorGroupRecord]
    most_confident: list[ConfidentError]
    #: Absent in bundles written before undefined tests were left out of the family.
    multiplicity: ErrorFamilyRecord | None = None


class ScoreSummary(Record):
    """Quartiles of the scores of one truth class in one population."""

    population: str
    label: str
    truth: str
    n: int
    min: float | None
    q1: float | None
    median: float | None
    q3: float | None
    max: float | None
    mean: float | None


class FailureModes(Record):
    """The ``failure_modes`` section of ``metrics.json``."""

    method: str
    false_negative: ErrorAnalysis
    false_positive: ErrorAnalysis
    score_distributions: list[ScoreSummary]


class MetricsDocument(Record):
    """``metrics.json``."""

    settings: dict[str, Any]
    cases: dict[str, int]
    populations: list[PopulationRecord]
    failure_modes: FailureModes
    roc_curves: list[RocCurveRecord] | None = None
    #: Robustness levels (issue 19): ``against`` and ``levels`` (each a population entry
    #: plus ``perturbation``, ``differences``, ``auc_test`` and ``flips``).
    robustness: dict[str, Any] | None = None
    #: Precision over repeated acquisitions (issue 19): groups, ICCs, SD, agreement.
    precision: dict[str, Any] | None = None

    def population(self, key: str) -> PopulationRecord | None:
        """The population with ``key``, or None."""
        return next((p for p in self.populations if p.key == key), None)


class TaskPopulationRecord(Record):
    """One population of ``detection.json`` / ``segmentation.json``."""

    key: str
    label: str
    kind: str
    cases: int


class DetectionPopulationRecord(TaskPopulationRecord):
    """A population's detection statistics and FROC curve."""

    abnormal_cases: int
    lesions: int
    statistics: dict[str, EstimateRecord]
    froc: dict[str, Any]


class DetectionRecord(Record):
    """``detection.json``: localisation rule, operating point, populations, per-case outcomes."""

    localisation: dict[str, Any]
    operating_point: float
    confidence_level: float
    populations: list[DetectionPopulationRecord]
    cases: list[dict[str, Any]]


class SegmentationPopulationRecord(TaskPopulationRecord):
    """A population's mean/median of every metric, per structure."""

    structures: dict[str, dict[str, dict[str, Any]]]


class SegmentationRecord(Record):
    """``segmentation.json``: structures, NSD tolerance, populations, per case and structure."""

    structures: dict[str, int]
    nsd_tolerance_mm: float
    confidence_level: float
    populations: list[SegmentationPopulationRecord]
    cases: list[dict[str, Any]]


class MultiplicityRecord(Record):
    """How a criterion's interval level was adjusted for a family of populations."""

    method: str
    family_size: int
    family_confidence_level: float
    adjusted_confidence_level: float
    note: str | None = None


class OutcomeRecord(Record):
    """A criterion's compared number on one population."""

    population: str
    label: str
    observed: float | None
    verdict: str | None = None
    reason: str | None = None
    insufficient: list[str]
    estimate: EstimateRecord | None = None


class CriterionRecord(Record):
    """One criterion of ``criteria.json``."""

    name: str
    description: str
    metric: str
    population: str
    bound: str
    spread: str | None = None
    op: str
    value: float
    non_evaluable: str
    against: str | None = None  # the paired reference of a difference criterion (issue 13)
    required: str
    observed: float | None
    verdict: str
    reason: str | None = None
    insufficient: bool
    confidence_level: float
    multiplicity: MultiplicityRecord
    populations: list[OutcomeRecord]


class RequirementRecord(Record):
    """One requirement of ``criteria.json``."""

    id: str
    text: str
    verdict: str
    criteria: list[CriterionRecord]


class CriteriaDocument(Record):
    """``criteria.json``."""

    summary: dict[str, Any]
    requirements: list[RequirementRecord]


class MrmcReads(Record):
    """The reads file a reader study was analysed from, as the protocol names it, and its pin."""

    path: str
    sha256: str


class MrmcDifference(Record):
    """The reader-averaged difference (first − second modality) and its test."""

    first: str
    second: str
    estimate: float | None
    low: float | None
    high: float | None
    status: str
    reason: str | None = None
    method: str
    confidence_level: float
    n: int
    p_value: float | None = None


class MrmcRecord(Record):
    """``mrmc.json``: the protocol's reader-study analysis (written by the pipeline).

    Only what the readers need is typed; the rest (per-reader figures,
    variance components, ROC points) stays as written and is read by key.
    """

    reads: MrmcReads
    test: str
    reference: str
    method: str
    analysis: str
    confidence_level: float
    n_readers: int
    n_cases: int
    n_positive: int
    modalities: list[str]
    auc: dict[str, dict[str, Any]]
    readers: list[dict[str, Any]]
    difference: MrmcDifference
    variance_components: dict[str, Any]
    roc: dict[str, Any]
    p_value: float | None = None


class RunProtocol(Record):
    """Protocol identity in ``run.json``."""

    id: str
    title: str
    version: str
    sha256: str


class RunRecord(Record):
    """``run.json``."""

    run_id: str
    protocol: RunProtocol
    device: dict[str, Any]
    started_utc: str
    finished_utc: str
    user: str | None = None
    host: str | None = None
    dxval_version: str
    status: str
    exit_code: int
    message: str | None = None
    cases: dict[str, int]
    criteria: dict[str, Any]
    templates: dict[str, Any] | None = None
    #: prior uses of each test set from the evidence root's ledger (absent in older bundles)
    test_set_usage: list[dict[str, Any]] | None = None
    pccp: dict[str, Any] | None = None  # the gated modification and its decision (issue 13)


class ComparisonEntry(Record):
    """One comparator of ``comparison.json``: identity and one paired record per population."""

    id: str
    role: str
    description: str | None = None
    source: str
    path: str
    operating_point: float
    not_scored: int
    populations: list[dict[str, Any]]


class ComparisonRecord(Record):
    """``comparison.json``: candidate − each comparator (issue 13)."""

    schema_: str = Field(alias="schema")
    difference: str
    confidence_level: float
    candidate: dict[str, Any]
    comparators: list[ComparisonEntry]


class MonitoringRunRecord(Record):
    """``run.json`` of a monitoring bundle (``schema`` :data:`MONITORING_RUN_SCHEMA`)."""

    schema_: str = Field(alias="schema")
    run_id: str
    kind: str
    baseline: dict[str, str]
    protocol: dict[str, str]
    started_utc: str
    finished_utc: str
    user: str | None = None
    host: str | None = None
    dxval_version: str
    exit_code: int
    alerts: int
    templates: dict[str, Any] | None = None


class SignatureRecord(Record):
    """One file of ``signatures/``: who signed, when (UTC), what it means (21 CFR 11.50)."""

    name: str
    meaning: str
    signed_utc: str
    key_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class CaseLine:
    """One row of ``cases.csv`` (as text; the score is parsed, never recomputed)."""

    case_id: str
    test_set: str
    site: str
    truth: bool
    score: float | None
    decision: str
    status: str
    reason_code: str
    reason: str
    levels: dict[str, str]


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """A bundle file with its SHA-256 and size in bytes."""

    name: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class SignatureEntry:
    """A signature file as found: its record (or why it could not be read) and its check.

    ``findings`` are the problems :func:`dxval.evidence.signatures.check_signatures`
    reports for the file; empty when the signature is valid.
    """

    file: str
    record: SignatureRecord | None
    problem: str | None
    findings: tuple[str, ...] = ()
    identity: str = "identity not checked"
    registered_name: str | None = None


@dataclass(frozen=True, slots=True)
class BundleData:
    """Everything a report shows, read from one bundle folder."""

    folder: Path
    run: RunRecord
    loaded: LoadedProtocol
    lock: dict[str, Any]
    environment: dict[str, Any]
    metrics: MetricsDocument
    criteria: CriteriaDocument
    cases: CaseColumnsFile  # columns; indexing or iterating gives CaseLine rows
    attributes: tuple[str, ...]
    files: tuple[EvidenceFile, ...]
    signatures: tuple[SignatureEntry, ...]
    mrmc: dict[str, Any] | None = None
    sample_size: dict[str, Any] | None = None
    contact_sheet: bytes | None = None
    comparison: dict[str, Any] | None = None
    latency: dict[str, Any] | None = None  # latency.json (issue 19)

    def file(self, name: str) -> EvidenceFile:
        """The evidence file called ``name`` (one of :data:`EVIDENCE_FILES`)."""
        return next(entry for entry in self.files if entry.name == name)


ModelT = TypeVar("ModelT", bound=BaseModel)


def _location(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(document)"
    return f"{where}: {first['msg']}"


@contextmanager
def _bundle_file(path: Path) -> Iterator[None]:
    """Turn a missing or unreadable bundle file into the one-line InputError."""
    try:
        yield
    except FileNotFoundError as error:
        raise InputError(
            f"{path}: missing; expected an evidence bundle folder written by validate"
        ) from error
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from error


def _read_bytes(folder: Path, name: str) -> bytes:
    path = folder / name
    with _bundle_file(path):
        return path.read_bytes()


def _json(folder: Path, name: str) -> Any:
    try:
        return json.loads(_read_bytes(folder, name))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{folder / name}: not valid JSON ({error})") from error


def _model(model: type[ModelT], document: Any, *, where: Path) -> ModelT:
    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise InputError(f"{where}: {_location(error)}") from error


def read_json_object(path: Path) -> dict[str, Any]:
    """A bundle JSON file that must hold an object (``run.json``, ``lock.json``, ...).

    Raises
    ------
    InputError
        The file is unreadable, not JSON, or not a JSON object.
    """
    try:
        document = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{path}: unreadable ({error})") from error
    if not isinstance(document, dict):
        raise InputError(f"{path}: expected a JSON object")
    return document


def as_record(model: type[ModelT], document: Any, *, where: Path) -> ModelT:
    """``document`` (read from ``where``) as the record ``model``.

    Raises
    ------
    InputError
        The document does not fit ``model``: file and field named.
    """
    return _model(model, document, where=where)


def read_record(folder: Path, name: str, model: type[ModelT]) -> ModelT:
    """The bundle file ``name`` (JSON) read as the record ``model``.

    Raises
    ------
    InputError
        The file is missing, not JSON, or does not fit ``model`` (file and field named).
    """
    return _model(model, _json(folder, name), where=folder / name)


def check_record(model: type[Record], document: Any, *, name: str) -> None:
    """Check a document about to be written against the record its readers use.

    A writer that produced a file its own readers reject is a bug (internal
    error): the check raises :class:`ValueError`, never an exit-2 input error.
    """
    try:
        model.model_validate(document)
    except ValidationError as error:
        raise ValueError(f"{name} would not be readable: {_location(error)}") from error


def _parse_score(text: str, *, where: str) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError as error:
        raise InputError(f"{where}: score: got {text!r} expected a number") from error


def read_cases(content: bytes, *, where: Path) -> tuple[tuple[CaseLine, ...], tuple[str, ...]]:
    """Rows of ``cases.csv`` and the attribute names of its ``attribute.*`` columns.

    One :class:`CaseLine` per case: for small bundles and callers that need
    rows. The report reads :func:`read_case_columns` instead (issue 18).

    Raises
    ------
    InputError
        A required column is missing or a score is not a number.
    """
    columns = read_case_columns(content, where=where)
    return tuple(columns), columns.attributes


#: Rows parsed per chunk of :func:`read_case_columns` (bounds the rows alive at once).
_CASE_CHUNK_ROWS = 16_384
_CASE_TEXT_COLUMNS = ("test_set", "site", "decision", "status", "reason_code", "reason")


class _Categories:
    """A text column as distinct values (first-seen order) and one ``int32`` code per row."""

    __slots__ = ("_chunks", "_index", "values")

    def __init__(self) -> None:
        self._index: dict[str, int] = {}
        self.values: list[str] = []
        self._chunks: list[npt.NDArray[np.int32]] = []

    def add(self, cells: Sequence[str]) -> None:
        for value in dict.fromkeys(cells):
            if value not in self._index:
                self._index[value] = len(self.values)
                self.values.append(value)
        self._chunks.append(np.fromiter(map(self._index.__getitem__, cells), np.int32, len(cells)))

    def codes(self) -> npt.NDArray[np.int32]:
        codes = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int32)
        self._chunks = []
        return codes


@dataclass(frozen=True, slots=True, eq=False)
class Categorical:
    """A low-cardinality text column: ``values[codes[i]]`` is row ``i``'s cell."""

    values: tuple[str, ...]
    codes: npt.NDArray[np.int32]

    def text(self) -> npt.NDArray[np.str_]:
        """The column as a NumPy text array (one cell per row)."""
        return np.array(self.values or ("",), dtype=np.str_)[self.codes]

    def counts(self) -> dict[str, int]:
        """Rows per value (values with no row omitted), in first-seen order."""
        tally = np.bincount(self.codes, minlength=len(self.values))
        return {value: int(tally[code]) for code, value in enumerate(self.values) if tally[code]}


@dataclass(frozen=True, slots=True, eq=False)
class CaseColumnsFile:
    """``cases.csv`` as columns (issue 18): no per-case object is built to read it.

    Text columns other than the case ID are :class:`Categorical`; scores are
    ``float64`` with ``has_score`` marking the non-empty cells (the score of a
    row without one is NaN here, ``None`` in its :class:`CaseLine`). Indexing
    or iterating yields :class:`CaseLine` rows, built on demand, equal to what
    the row-by-row reader returned, so callers needing a few rows keep working.
    """

    case_ids: npt.NDArray[Any]
    text: dict[str, Categorical]
    truth: npt.NDArray[np.bool_]
    scores: npt.NDArray[np.float64]
    has_score: npt.NDArray[np.bool_]
    levels: dict[str, Categorical]
    attributes: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.truth.shape[0])

    def __getitem__(self, index: int) -> CaseLine:
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        index %= max(len(self), 1)
        raw_id = self.case_ids[index]
        cell = {name: column.values[column.codes[index]] for name, column in self.text.items()}
        return CaseLine(
            case_id=raw_id.decode("utf-8") if isinstance(raw_id, bytes) else str(raw_id),
            test_set=cell["test_set"],
            site=cell["site"],
            truth=bool(self.truth[index]),
            score=float(self.scores[index]) if self.has_score[index] else None,
            decision=cell["decision"],
            status=cell["status"],
            reason_code=cell["reason_code"],
            reason=cell["reason"],
            levels={name: c.values[c.codes[index]] for name, c in self.levels.items()},
        )

    def __iter__(self) -> Iterator[CaseLine]:
        return (self[index] for index in range(len(self)))

    def where_status_is_not(self, status: str) -> npt.NDArray[np.intp]:
        """Row indices (file order) whose status differs from ``status``."""
        column = self.text["status"]
        keep = np.array([value != status for value in column.values] or [False], dtype=bool)
        return np.flatnonzero(keep[column.codes])


def _id_column(cells: Sequence[str]) -> npt.NDArray[Any]:
    """Case IDs as UTF-8 bytes (one byte per ASCII character), or objects if a NUL would be lost."""
    if any("\x00" in cell for cell in cells):
        return np.array(cells, dtype=object)
    return np.char.encode(np.array(cells, dtype=np.str_), "utf-8")


def _score_column(
    cells: Sequence[str], *, first_line: int, where: Path
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    try:
        return np.fromiter(map(float, cells), np.float64, len(cells)), np.ones(len(cells), bool)
    except ValueError:  # an empty score (a failed case) or text: cell by cell, for the message
        parsed = [
            _parse_score(cell, where=f"{where}:{number}")
            for number, cell in enumerate(cells, start=first_line)
        ]
    return (
        np.fromiter((np.nan if value is None else value for value in parsed), np.float64),
        np.fromiter((value is not None for value in parsed), bool),
    )


def read_case_columns(content: bytes, *, where: Path) -> CaseColumnsFile:
    """``cases.csv`` as columns, with the checks and messages of :func:`read_cases`.

    Same cells as ``csv.DictReader`` (a short row's missing cells are empty,
    a long row's extra cells ignored). The files dxval writes are split by
    :func:`dxval.evidence.case_scan.scan_case_columns` (NumPy, same result);
    any other file, and every refusal, by :func:`csv_case_columns`.

    Raises
    ------
    InputError
        A required column is missing or a score is not a number.
    """
    from dxval.evidence.case_scan import scan_case_columns

    scanned = scan_case_columns(content)  # the files dxval writes, split by NumPy (issue 18)
    return scanned if scanned is not None else csv_case_columns(content, where=where)


def csv_case_columns(content: bytes, *, where: Path) -> CaseColumnsFile:
    """:func:`read_case_columns` by :mod:`csv`, a chunk of rows at a time: any file, any message."""
    # Decoded as it is read (no second copy of the file), split at "\n" only, like
    # io.StringIO(content.decode("utf-8")) which the row reader used.
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(content), encoding="utf-8", newline="\n"))
    header = next(reader, None) or []
    required = ("case_id", "test_set", "site", "truth", "score", "decision", "status")
    missing = [column for column in required if column not in header]
    if missing:
        noun = "column" if len(missing) == 1 else "columns"
        raise InputError(f"{where}: missing {noun} {', '.join(missing)}")
    attributes = tuple(c.removeprefix("attribute.") for c in header if c.startswith("attribute."))
    # DictReader semantics: the last column of a repeated name wins; absent optional columns are "".
    position = {name: index for index, name in enumerate(header)}
    width = len(header)
    text = {name: _Categories() for name in _CASE_TEXT_COLUMNS}
    levels = {name: _Categories() for name in attributes}
    ids: list[npt.NDArray[Any]] = []
    truth: list[npt.NDArray[np.bool_]] = []
    scores: list[npt.NDArray[np.float64]] = []
    has_score: list[npt.NDArray[np.bool_]] = []
    line = 2
    while rows := list(islice(reader, _CASE_CHUNK_ROWS)):
        rows = [row for row in rows if row]  # DictReader skips blank lines
        if not rows:
            continue
        padded = [row if len(row) >= width else row + [""] * (width - len(row)) for row in rows]
        transposed = list(zip(*padded, strict=False))
        empty = ("",) * len(rows)
        cells = {name: transposed[index] for name, index in position.items()}

        def column(name: str) -> Sequence[str]:
            return cells.get(name, empty)  # noqa: B023 - used within this iteration only

        ids.append(_id_column(column("case_id")))
        truth.append(np.fromiter(map("1".__eq__, column("truth")), bool, len(rows)))
        values, present = _score_column(column("score"), first_line=line, where=where)
        scores.append(values)
        has_score.append(present)
        for name, categories in text.items():
            categories.add(column(name))
        for name, categories in levels.items():
            categories.add(column(f"attribute.{name}"))
        line += len(rows)
    return CaseColumnsFile(
        case_ids=np.concatenate(ids) if ids else np.zeros(0, "S1"),
        text={name: Categorical(tuple(c.values), c.codes()) for name, c in text.items()},
        truth=np.concatenate(truth) if truth else np.zeros(0, bool),
        scores=np.concatenate(scores) if scores else np.zeros(0, np.float64),
        has_score=np.concatenate(has_score) if has_score else np.zeros(0, bool),
        levels={name: Categorical(tuple(c.values), c.codes()) for name, c in levels.items()},
        attributes=attributes,
    )


def read_signature_entries(
    folder: str | Path, *, signers: SignerRegistry | None = None
) -> tuple[SignatureEntry, ...]:
    """The signature records of the bundle at ``folder`` as a report shows them.

    The same entries as :attr:`BundleData.signatures` (see :func:`read_bundle`),
    for bundles that :func:`read_bundle` does not read (detection, segmentation).
    """
    return _signatures(Path(folder), signers)


def _signatures(folder: Path, signers: SignerRegistry | None) -> tuple[SignatureEntry, ...]:
    """Every ``signatures/*.json`` record, sorted by file name, with its signature check.

    With ``signers`` each record also carries the registry's verdict
    (TRUSTED, UNKNOWN SIGNER, ROLE NOT ALLOWED, OUTSIDE VALIDITY) and the
    registry's printed name for its key.
    """
    paths = sorted((folder / SIGNATURES_FOLDER).glob("*.json"))
    if not paths:
        return ()
    from dxval.evidence.signatures import check_signatures

    findings: dict[str, list[str]] = {}
    for problem in check_signatures(folder, signers=signers):
        findings.setdefault(problem.path, []).append(problem.detail)
    entries = []
    for path in paths:
        name = f"{SIGNATURES_FOLDER}/{path.name}"
        found = tuple(findings.get(name, ()))
        try:
            record = SignatureRecord.model_validate(json.loads(path.read_bytes()))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            entries.append(SignatureEntry(name, None, f"not readable JSON ({error})", found))
        except ValidationError as error:
            entries.append(SignatureEntry(name, None, _location(error), found))
        else:
            identity, registered = "identity not checked", None
            if signers is not None:
                verdict, signer = signers.judge(
                    record.key_id or "", record.meaning, record.signed_utc
                )
                identity, registered = verdict.value, None if signer is None else signer.name
            entries.append(SignatureEntry(name, record, None, found, identity, registered))
    return tuple(entries)


def _evidence_files(folder: Path, names: Sequence[str]) -> tuple[EvidenceFile, ...]:
    """Digest and size of each file, read in 1 MiB chunks.

    cases.csv of 10,000,000 cases is 687 MB: parsing it holds its bytes once,
    hashing does not hold them again (issue 18).
    """
    files = []
    for name in names:
        path = folder / name
        with _bundle_file(path):
            files.append(EvidenceFile(name, sha256_file(path), path.stat().st_size))
    return tuple(files)


def read_bundle(folder: str | Path, *, signers: SignerRegistry | None = None) -> BundleData:
    """Read the files of the bundle at ``folder`` that a report shows.

    ``signers``: a signer registry; each signature then shows its verdict and
    the registry's printed name. ``MANIFEST.sha256`` is not needed (the
    report can be rendered before the bundle is sealed); digests are
    computed from the files themselves.

    Raises
    ------
    InputError
        ``folder`` is not a bundle, or a file is missing or malformed.
    ProtocolError
        ``protocol.yaml`` in the bundle is not a valid protocol.
    """
    from dxval.protocol import load_protocol

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder; expected an evidence bundle")
    cases = read_case_columns(_read_bytes(folder, CASES_NAME), where=folder / CASES_NAME)
    return BundleData(
        folder=folder,
        run=read_record(folder, RUN_NAME, RunRecord),
        loaded=load_protocol(folder / PROTOCOL_NAME),
        lock=_json(folder, LOCK_NAME),
        environment=_json(folder, ENVIRONMENT_NAME),
        metrics=read_record(folder, METRICS_NAME, MetricsDocument),
        criteria=read_record(folder, CRITERIA_NAME, CriteriaDocument),
        cases=cases,
        attributes=cases.attributes,
        files=_evidence_files(folder, _present(folder, EVIDENCE_FILES)),
        signatures=_signatures(folder, signers),
        mrmc=_mrmc(folder),
        sample_size=_optional_json(folder, SAMPLE_SIZE_NAME),
        contact_sheet=_optional_bytes(folder, CONTACT_SHEET_NAME),
        comparison=_comparison(folder),
        latency=_optional_json(folder, LATENCY_NAME),
    )


def _optional_bytes(folder: Path, name: str) -> bytes | None:
    """An optional file of the bundle (``None`` when the bundle has no such file)."""
    return _read_bytes(folder, name) if (folder / name).is_file() else None


def _optional_json(folder: Path, name: str) -> dict[str, Any] | None:
    """An optional JSON object of the bundle (``None`` when the bundle has no such file)."""
    return read_json_object(folder / name) if (folder / name).is_file() else None


def _mrmc(folder: Path) -> dict[str, Any] | None:
    """``mrmc.json`` when the bundle has one, checked against :class:`MrmcRecord`.

    The report reads it by key (it shows every figure the analysis wrote), so
    the checked document itself is returned.
    """
    if not (folder / MRMC_NAME).is_file():
        return None
    document = read_json_object(folder / MRMC_NAME)
    as_record(MrmcRecord, document, where=folder / MRMC_NAME)
    return document


def _comparison(folder: Path) -> dict[str, Any] | None:
    """``comparison.json`` when the bundle has one, checked against :class:`ComparisonRecord`."""
    if not (folder / COMPARISON_NAME).is_file():
        return None
    document = read_json_object(folder / COMPARISON_NAME)
    as_record(ComparisonRecord, document, where=folder / COMPARISON_NAME)
    return document


def _present(folder: Path, names: Sequence[str]) -> tuple[str, ...]:
    """The evidence files, with the optional ones the bundle has after ``criteria.json``."""
    optional = [
        name
        for name in (
            MRMC_NAME,
            COMPARISON_NAME,
            SAMPLE_SIZE_NAME,
            CONTACT_SHEET_NAME,
            LATENCY_NAME,
            LATENCY_CASES_NAME,
        )
        if (folder / name).is_file()
    ]
    position = names.index(CRITERIA_NAME) + 1
    return (*names[:position], *optional, *names[position:])
