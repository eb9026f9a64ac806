"""End-to-end check: ``lock`` and ``validate`` of a model on a small generated DICOM set.

The demo generator writes three synthetic sites (one MONOCHROME1, one RLE
Lossless with a rescale, one file cut short on purpose). A protocol names
the reference model (:mod:`dxval.selfval.model`, an ONNX graph computing
max − mean of the image) with a golden reference input, dxval's
preprocessing, the three test sets and four requirements, one of which
fails on purpose. ``dxval lock`` pins it and ``validate`` runs it through
the locked inference harness in process.

Expected values are computed here without dxval's inference or statistics:
each case's score by numpy from the preprocessed image, the AUC as an exact
Mann–Whitney count in rational arithmetic over the bundle's scores, and
sensitivity and specificity by counting. A rerun without the prediction
cache must reproduce the evidence byte for byte, and a changed DICOM file or
model file after locking must be refused with exit code 3.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from dxval.demo import DEFAULT_SEED, generate_demo
from dxval.dicom.failures import CaseFailure
from dxval.dicom.loader import CaseLoader
from dxval.errors import IntegrityError
from dxval.evidence import read_events, verify_bundle
from dxval.evidence.format import (
    AUDIT_NAME,
    CASES_NAME,
    CRITERIA_NAME,
    METRICS_NAME,
    CaseLine,
    CriteriaDocument,
    read_cases,
    read_record,
)
from dxval.pipeline import InferenceOptions, RunResult, lock_protocol, run_validation
from dxval.protocol.preprocessing import plain_steps
from dxval.selfval.checks import CheckResult, compare_exact, compare_values
from dxval.selfval.model import INPUT_SIZE, expected_scores, model_bytes

GROUP = "end to end"
PREPROCESSING: list[dict[str, object]] = [
    {"op": "modality_lut"},
    {"op": "voi_lut"},
    {"op": "monochrome2"},
    {"op": "resize", "size": [INPUT_SIZE, INPUT_SIZE], "method": "area"},
    {"op": "scale", "low": 0.0, "high": 1.0},
    {"op": "to_channels", "channels": 1},
]
OPERATING_POINT = 0.6
SCORE_TOLERANCE = 1e-5
PROTOCOL_ID = "DXVAL-SELF-VALIDATION"
RERUN_FILES = (METRICS_NAME, CRITERIA_NAME, CASES_NAME)

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ExpectedCase:
    """A generated case: truth, and the score numpy computes (None for a damaged file)."""

    case_id: str
    truth: bool
    score: float | None


@dataclass(frozen=True, slots=True)
class EndToEndOutcome:
    """The checks and the bundle the end-to-end run wrote."""

    checks: list[CheckResult]
    bundle: Path


def _steps_text() -> str:
    return "\n".join(f"  - {json.dumps(step)}" for step in PREPROCESSING)


def _protocol_text(sites: Sequence[str], expected: Sequence[float]) -> str:
    test_sets = "\n".join(
        f"  - {{id: {site}, site: {site}, manifest: demo/{site}/manifest.csv}}" for site in sites
    )
    return f"""dxval: 1
id: {PROTOCOL_ID}
title: dxval self-validation, end-to-end run on generated DICOM
version: "1"
device: {{name: reference model (max - mean), version: "1", intended_use: tool validation}}
model:
  path: model.onnx
  runtime: onnxruntime
  input: {{name: image, shape: [null, 1, {INPUT_SIZE}, {INPUT_SIZE}], dtype: float32}}
  output: {{name: score, activation: none, positive_index: 0}}
  operating_point: {OPERATING_POINT}
  reference:
    input: reference-input.npy
    expected: {json.dumps([float(value) for value in expected])}
    tolerance: {SCORE_TOLERANCE}
preprocessing:
{_steps_text()}
test_sets:
{test_sets}
truth: {{column: label, positive: "1", negative: "0", reference_standard: generator truth}}
attributes:
  sex: {{column: sex}}
qc:
  max_failed_fraction: 0.2
  phi: refuse
  phi_retained:
    attributes: [StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID, MediaStorageSOPInstanceUID,
                 StudyDate, StudyTime, ContentDate, ContentTime, PatientSex, PatientAge]
    justification: >-
      Synthetic images from the demo generator: UIDs derived from the seed, a fixed dummy
      date, generated sex and age; the PHI scan trusts no file's own claim.
requirements:
  - id: E2E-AUC
    text: ROC AUC of the reference model at least 0.
    criteria:
      - {{metric: auc, population: all, op: ">=", value: 0.0}}
  - id: E2E-SENS
    text: Sensitivity of the reference model at least 0.
    criteria:
      - {{metric: sensitivity, population: all, op: ">=", value: 0.0}}
  - id: E2E-SPEC
    text: Specificity of the reference model at least 0.
    criteria:
      - {{metric: specificity, population: all, op: ">=", value: 0.0}}
  - id: E2E-QC
    text: No case is non-evaluable (fails on purpose, one file is damaged).
    criteria:
      - {{metric: failed_fraction, population: all, op: "<=", value: 0.0}}
"""


def expected_cases(folder: Path, sites: Sequence[str]) -> list[ExpectedCase]:
    """Every case of the generated demo with the score numpy computes from its model input."""
    loader = CaseLoader(plain_steps(PREPROCESSING))
    cases = []
    for site in sites:
        with (folder / site / "manifest.csv").open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                try:
                    tensor = loader.load([folder / site / row["path"]]).tensor
                    score: float | None = float(expected_scores(tensor[np.newaxis])[0])
                except CaseFailure:
                    score = None
                cases.append(ExpectedCase(row["case_id"], row["label"] == "1", score))
    return cases


def exact_auc(positives: Sequence[float], negatives: Sequence[float]) -> Fraction:
    """Mann–Whitney AUC in rational arithmetic: P(X⁺ > X⁻) + ½ P(X⁺ = X⁻)."""
    wins = sum(
        (
            Fraction(1) if p > n else Fraction(1, 2) if p == n else Fraction(0)
            for p in positives
            for n in negatives
        ),
        Fraction(0),
    )
    return Fraction(wins, len(positives) * len(negatives))


def _golden_check(bundle: Path) -> CheckResult:
    """The golden reference check ran, on the pinned input, and passed."""
    events = read_events((bundle / AUDIT_NAME).read_bytes())
    actions = [event["action"] for event in events]
    scored_at = actions.index("cases.scored") if "cases.scored" in actions else -1
    observed = [
        (event["object"].get("values"), event["object"].get("passed"), position < scored_at)
        for position, event in enumerate(events)
        if event["action"] == "model.golden_checked"
    ]
    return compare_exact(
        GROUP,
        "the golden reference input is re-scored within tolerance before any case",
        [(2, True, True)],
        observed,
    )


def _rows(bundle: Path) -> tuple[CaseLine, ...]:
    """The rows of the bundle's ``cases.csv``, read as its readers read them."""
    path = bundle / CASES_NAME
    rows, _ = read_cases(path.read_bytes(), where=path)
    return rows


def _observed(bundle: Path) -> dict[str, tuple[float | None, str]]:
    """Requirement ID → (observed value, verdict) from the bundle's ``criteria.json``."""
    document = read_record(bundle, CRITERIA_NAME, CriteriaDocument)
    return {
        requirement.id: (requirement.criteria[0].observed, requirement.verdict)
        for requirement in document.requirements
    }


def _case_checks(
    bundle: Path, cases: Sequence[ExpectedCase], damaged: set[str]
) -> list[CheckResult]:
    rows = _rows(bundle)
    failed = {row.case_id: row.reason_code for row in rows if row.status == "failed"}
    scores = {
        row.case_id: float(row.score)
        for row in rows
        if row.status == "scored" and row.score is not None
    }
    expected = {case.case_id: case.score for case in cases if case.score is not None}
    largest = max(abs(scores[key] - value) for key, value in expected.items() if key in scores)
    return [
        compare_exact(
            GROUP,
            "every case accounted for: cases in = scored + failed",
            f"{len(cases)} = {len(cases) - len(damaged)} + {len(damaged)}",
            f"{len(rows)} = {len(scores)} + {len(failed)}",
        ),
        compare_exact(
            GROUP,
            "the damaged DICOM files are the failed cases, with their reason code",
            sorted((case_id, "truncated_pixel_data") for case_id in damaged),
            sorted(failed.items()),
        ),
        CheckResult(
            GROUP,
            "each score equals max - mean of its model input computed by numpy",
            f"{len(expected)} scores within {SCORE_TOLERANCE:g}",
            f"{len(scores)} scores, largest difference {largest:.3g}",
            scores.keys() == expected.keys() and largest <= SCORE_TOLERANCE,
            "numpy on dxval's preprocessed tensors",
        ),
    ]


def _statistics_checks(bundle: Path) -> list[CheckResult]:
    observed = _observed(bundle)
    scored = [row for row in _rows(bundle) if row.status == "scored" and row.score is not None]
    positives = [float(row.score) for row in scored if row.truth and row.score is not None]
    negatives = [float(row.score) for row in scored if not row.truth and row.score is not None]
    called = sum(1 for score in positives if score >= OPERATING_POINT)
    cleared = sum(1 for score in negatives if score < OPERATING_POINT)
    source = "exact Mann-Whitney and counts over the bundle's cases.csv"
    return [
        compare_values(
            GROUP,
            "overall ROC AUC in the bundle",
            [float(exact_auc(positives, negatives))],
            [observed["E2E-AUC"][0]],
            relative=1e-12,
            source=source,
        ),
        compare_values(
            GROUP,
            f"sensitivity at score >= {OPERATING_POINT}",
            [called / len(positives)],
            [observed["E2E-SENS"][0]],
            relative=1e-12,
            source=source,
        ),
        compare_values(
            GROUP,
            f"specificity at score >= {OPERATING_POINT}",
            [cleared / len(negatives)],
            [observed["E2E-SPEC"][0]],
            relative=1e-12,
            source=source,
        ),
        compare_exact(
            GROUP,
            "criteria verdicts (E2E-QC fails on purpose)",
            ["pass", "pass", "pass", "fail"],
            [observed[key][1] for key in ("E2E-AUC", "E2E-SENS", "E2E-SPEC", "E2E-QC")],
        ),
    ]


def _refused_after_change(protocol: Path, evidence: Path, target: Path, run_id: str) -> str:
    original = target.read_bytes()
    changed = bytearray(original)
    changed[-1] ^= 0x01
    target.write_bytes(bytes(changed))
    try:
        run_validation(
            protocol,
            out=evidence,
            run_id=run_id,
            inference=_options(cache=False),
            reports=False,
        )
        outcome = "ran"
    except IntegrityError as error:
        outcome = f"refused, exit {int(error.exit_code)}"
    target.write_bytes(original)
    return outcome


def _options(*, cache: bool) -> InferenceOptions:
    return InferenceOptions(workers=0, batch_size=8, use_cache=cache, progress=False)


def _rerun_and_lock_checks(protocol: Path, first: RunResult, evidence: Path) -> list[CheckResult]:
    second = run_validation(
        protocol,
        out=evidence,
        run_id="selfval-rerun",
        inference=_options(cache=False),
        reports=False,
    )
    identical = [
        name
        for name in RERUN_FILES
        if (first.bundle / name).read_bytes() == (second.bundle / name).read_bytes()
    ]
    shutil.rmtree(second.bundle)
    dicom = sorted((protocol.parent / "demo").rglob("*.dcm"))[0]
    return [
        compare_exact(
            GROUP,
            "a rerun without the prediction cache gives identical evidence",
            list(RERUN_FILES),
            identical,
        ),
        compare_exact(
            GROUP,
            "a changed DICOM file after locking is refused",
            "refused, exit 3",
            _refused_after_change(protocol, evidence, dicom, "selfval-changed-data"),
        ),
        compare_exact(
            GROUP,
            "a changed model file after locking is refused",
            "refused, exit 3",
            _refused_after_change(
                protocol, evidence, protocol.parent / "model.onnx", "selfval-changed-model"
            ),
        ),
    ]


def _write_inputs(work: Path, sites: Sequence[str]) -> Path:
    (work / "model.onnx").write_bytes(model_bytes())
    reference = np.random.default_rng(DEFAULT_SEED).random(
        (2, 1, INPUT_SIZE, INPUT_SIZE), dtype=np.float32
    )
    np.save(work / "reference-input.npy", reference)
    protocol = work / "protocol.yaml"
    expected = [float(value) for value in expected_scores(reference)]
    protocol.write_text(_protocol_text(sites, expected), encoding="utf-8")
    return protocol


def end_to_end_checks(work: Path, *, cases_per_site: int, progress: Progress) -> EndToEndOutcome:
    """Generate, lock and validate a small DICOM set with the reference model in ``work``.

    Returns the checks and the path of the (first) bundle written.
    """
    progress(f"end to end: generating {cases_per_site} DICOM cases per site")
    demo = generate_demo(work / "demo", cases_per_site=cases_per_site, seed=DEFAULT_SEED)
    sites = [site.site_id for site in demo.sites]
    damaged = {case_id for site in demo.sites for case_id in site.truncated_case_ids}
    protocol = _write_inputs(work, sites)
    progress("end to end: lock and validate")
    locked = lock_protocol(protocol)
    evidence = work / "evidence"
    result = run_validation(
        protocol, out=evidence, run_id="selfval-run", inference=_options(cache=True)
    )
    report = verify_bundle(result.bundle)
    checks = [
        compare_exact(
            GROUP,
            "dxval lock pins the model, its reference input and each test set",
            sorted(
                [
                    "model.sha256",
                    "model.reference.input_sha256",
                    *(f"test_sets[{i}].sha256" for i in range(len(sites))),
                ]
            ),
            sorted(update.field for update in locked.updates if update.new != update.old),
        ),
        compare_exact(GROUP, "validate exit code", 1, int(result.exit_code)),
        _golden_check(result.bundle),
        *_case_checks(result.bundle, expected_cases(work / "demo", sites), damaged),
        *_statistics_checks(result.bundle),
        compare_exact(
            GROUP,
            "the new bundle verifies",
            "intact",
            "intact" if report.intact else "; ".join(map(str, report.problems)),
        ),
        *_rerun_and_lock_checks(protocol, result, evidence),
    ]
    return EndToEndOutcome(checks, result.bundle)
