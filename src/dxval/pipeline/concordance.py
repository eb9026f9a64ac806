"""Concordance: the same cases scored twice, and what changed.

CPU vs GPU, onnxruntime vs TorchScript, an fp32 build vs a quantised one:
:func:`compare_scores` takes the two score lists of the same cases and
reports, per case, the absolute score difference and whether the decision at
the frozen operating point flipped (positive ⇔ score ≥ operating point), and
overall the largest and mean difference, the flips in each direction, the
AUC difference with DeLong's paired test and the sensitivity and specificity
differences with McNemar's exact test (effect: Newcombe's paired interval),
all from :mod:`dxval.stats`.

A case failed in either run is listed with its status and left out of the
paired statistics (a paired test needs both members of the pair).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

from dxval.analysis.paired import compare_paired
from dxval.errors import InputError, UsageError
from dxval.inference.config import Device, ModelConfig, Runtime
from dxval.inference.executor import CaseLoaderFunction
from dxval.inference.harness import HarnessResult, default_workers, score_cases
from dxval.inference.options import InferenceOptions
from dxval.inference.results import CaseInput, CaseResult, CaseStatus
from dxval.inference.runner import load_runner
from dxval.stats import AucComparison, TestResult
from dxval.stats.wording import plural

__all__ = [
    "CaseComparison",
    "ComparisonStatus",
    "ConcordanceResult",
    "ConcordanceRun",
    "Counterpart",
    "compare_results",
    "compare_scores",
    "parse_against",
    "run_concordance",
    "write_concordance",
]


class ComparisonStatus(str, Enum):
    """Whether a case could be compared."""

    COMPARED = "compared"
    FAILED_IN_REFERENCE = "failed_in_reference"
    FAILED_IN_COMPARISON = "failed_in_comparison"
    FAILED_IN_BOTH = "failed_in_both"


@dataclass(frozen=True, slots=True)
class CaseComparison:
    """One case scored by the reference run and the comparison run."""

    case_id: str
    truth: bool
    reference_score: float | None
    comparison_score: float | None
    absolute_difference: float | None
    reference_positive: bool | None
    comparison_positive: bool | None
    flipped: bool
    status: ComparisonStatus


@dataclass(frozen=True, slots=True)
class ConcordanceResult:
    """Differences between two runs over the same cases.

    ``max_absolute_difference`` and ``mean_absolute_difference`` are ``None`` when
    no case was scored by both runs; the paired tests then carry their own
    undefined status and reason.
    """

    reference_label: str
    comparison_label: str
    operating_point: float
    confidence_level: float
    cases: tuple[CaseComparison, ...]
    compared: int
    max_absolute_difference: float | None
    mean_absolute_difference: float | None
    max_difference_case_id: str | None
    flips: int
    flipped_to_positive: int
    flipped_to_negative: int
    auc: AucComparison
    sensitivity: TestResult
    specificity: TestResult

    @property
    def failed(self) -> dict[str, int]:
        """Cases left out, by status."""
        counts = {status.value: 0 for status in ComparisonStatus if status.value != "compared"}
        for case in self.cases:
            if case.status is not ComparisonStatus.COMPARED:
                counts[case.status.value] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (per-case rows are in the CSV)."""
        return {
            "reference": self.reference_label,
            "comparison": self.comparison_label,
            "operating_point": self.operating_point,
            "confidence_level": self.confidence_level,
            "cases": len(self.cases),
            "compared": self.compared,
            "failed": self.failed,
            "max_absolute_difference": self.max_absolute_difference,
            "mean_absolute_difference": self.mean_absolute_difference,
            "max_difference_case_id": self.max_difference_case_id,
            "flips": self.flips,
            "flipped_to_positive": self.flipped_to_positive,
            "flipped_to_negative": self.flipped_to_negative,
            "flipped_case_ids": [case.case_id for case in self.cases if case.flipped],
            "auc": self.auc.to_dict(),
            "sensitivity": self.sensitivity.to_dict(),
            "specificity": self.specificity.to_dict(),
        }

    def summary(self) -> str:
        """One line for the terminal."""
        largest = (
            "n/a" if self.max_absolute_difference is None else f"{self.max_absolute_difference:.3g}"
        )
        difference = self.auc.difference.estimate
        auc_text = "undefined" if difference is None else f"{difference:+.4g}"
        p_text = "" if self.auc.p_value is None else f" (DeLong p = {self.auc.p_value:.3g})"
        return (
            f"{self.comparison_label} vs {self.reference_label}: {self.compared} of "
            f"{len(self.cases)} cases compared, max |Δscore| = {largest}, "
            f"{self.flips} decision flips at operating point {self.operating_point:g}, "
            f"ΔAUC = {auc_text}{p_text}"
        )


def _compare_case(
    case_id: str, truth: bool, first: float | None, second: float | None, threshold: float
) -> CaseComparison:
    status = {
        (False, False): ComparisonStatus.COMPARED,
        (True, False): ComparisonStatus.FAILED_IN_REFERENCE,
        (False, True): ComparisonStatus.FAILED_IN_COMPARISON,
        (True, True): ComparisonStatus.FAILED_IN_BOTH,
    }[(first is None, second is None)]
    first_positive = None if first is None else first >= threshold
    second_positive = None if second is None else second >= threshold
    both = first is not None and second is not None
    return CaseComparison(
        case_id=case_id,
        truth=truth,
        reference_score=first,
        comparison_score=second,
        absolute_difference=abs(first - second) if both else None,  # type: ignore[operator]
        reference_positive=first_positive,
        comparison_positive=second_positive,
        flipped=both and first_positive != second_positive,
        status=status,
    )


def compare_scores(
    case_ids: Sequence[str],
    truth: Sequence[bool],
    reference_scores: Sequence[float | None],
    comparison_scores: Sequence[float | None],
    *,
    operating_point: float,
    confidence_level: float = 0.95,
    reference_label: str = "reference",
    comparison_label: str = "comparison",
) -> ConcordanceResult:
    """Compare two runs' scores of the same cases.

    Parameters
    ----------
    case_ids, truth:
        Shape (n,): case identifiers and truth (True = positive).
    reference_scores, comparison_scores:
        Shape (n,): each run's score per case; ``None`` where that run failed the case.
    operating_point:
        Frozen threshold; positive ⇔ score ≥ operating_point.
    confidence_level:
        For the AUC-difference and paired-difference intervals.
    reference_label, comparison_label:
        Names of the two runs in reports (e.g. ``"onnxruntime cpu"``).

    Raises
    ------
    InputError
        The four sequences differ in length, or a score is not finite.
    """
    lengths = {len(case_ids), len(truth), len(reference_scores), len(comparison_scores)}
    if len(lengths) != 1:
        raise InputError(f"concordance: expected equal lengths, got {sorted(lengths)}")
    for scores, label in (
        (reference_scores, reference_label),
        (comparison_scores, comparison_label),
    ):
        if any(score is not None and not np.isfinite(score) for score in scores):
            raise InputError(f"concordance: {label} scores must be finite or absent (failed)")
    cases = tuple(
        _compare_case(case_id, bool(label), first, second, operating_point)
        for case_id, label, first, second in zip(
            case_ids, truth, reference_scores, comparison_scores, strict=True
        )
    )
    return _summarise(
        cases,
        operating_point=operating_point,
        confidence_level=confidence_level,
        labels=(reference_label, comparison_label),
    )


def _summarise(
    cases: tuple[CaseComparison, ...],
    *,
    operating_point: float,
    confidence_level: float,
    labels: tuple[str, str],
) -> ConcordanceResult:
    """Score differences per case, and the paired statistics of :func:`compare_paired`.

    The statistics are the comparison stage's (issue 13: one implementation
    of paired analysis), with the reference run as the first member of each
    pair: differences are reference − comparison, as DeLong's test has always
    been reported here.
    """
    paired = [case for case in cases if case.status is ComparisonStatus.COMPARED]
    truth = np.array([case.truth for case in paired], dtype=bool)
    first = np.array([case.reference_score for case in paired], dtype=np.float64)
    second = np.array([case.comparison_score for case in paired], dtype=np.float64)
    differences = np.abs(first - second)
    worst = int(np.argmax(differences)) if paired else None
    statistics = compare_paired(
        truth,
        first,
        second,
        candidate_threshold=operating_point,
        reference_threshold=operating_point,
        confidence_level=confidence_level,
    )
    flips = statistics.flips  # to_positive there: positive in the reference run only
    return ConcordanceResult(
        reference_label=labels[0],
        comparison_label=labels[1],
        operating_point=operating_point,
        confidence_level=confidence_level,
        cases=cases,
        compared=len(paired),
        max_absolute_difference=None if worst is None else float(differences[worst]),
        mean_absolute_difference=float(differences.mean()) if paired else None,
        max_difference_case_id=None if worst is None else paired[worst].case_id,
        flips=flips.total,
        flipped_to_positive=flips.to_negative,
        flipped_to_negative=flips.to_positive,
        auc=statistics.auc,
        sensitivity=statistics.sensitivity.mcnemar_exact,
        specificity=statistics.specificity.mcnemar_exact,
    )


def compare_results(
    reference: Iterable[CaseResult],
    comparison: Iterable[CaseResult],
    truth: Mapping[str, bool],
    *,
    operating_point: float,
    confidence_level: float = 0.95,
    reference_label: str = "reference",
    comparison_label: str = "comparison",
) -> ConcordanceResult:
    """Compare two harness runs (their per-case results) over the cases in ``truth``.

    Parameters
    ----------
    reference, comparison:
        Per-case results of each run (e.g. ``HarnessResult.iter_results()``).
    truth:
        Case ID → truth, in the order the cases are reported.

    Raises
    ------
    InputError
        A case of ``truth`` is missing from a run's results.
    """
    first = {result.case_id: result for result in reference}
    second = {result.case_id: result for result in comparison}
    for label, results in ((reference_label, first), (comparison_label, second)):
        missing = [case_id for case_id in truth if case_id not in results]
        if missing:
            raise InputError(
                f"concordance: the {label} run has no result for {plural(len(missing), 'case')}, "
                f"e.g. {missing[0]!r}"
            )
    case_ids = list(truth)
    return compare_scores(
        case_ids,
        [truth[case_id] for case_id in case_ids],
        [_score(first[case_id]) for case_id in case_ids],
        [_score(second[case_id]) for case_id in case_ids],
        operating_point=operating_point,
        confidence_level=confidence_level,
        reference_label=reference_label,
        comparison_label=comparison_label,
    )


def _score(result: CaseResult) -> float | None:
    return result.score if result.status is CaseStatus.SCORED else None


_CSV_COLUMNS = (
    "case_id",
    "truth",
    "reference_score",
    "comparison_score",
    "absolute_difference",
    "reference_decision",
    "comparison_decision",
    "flipped",
    "status",
)


def _decision(positive: bool | None) -> str:
    return "" if positive is None else ("positive" if positive else "negative")


def _number(value: float | None) -> str:
    return "" if value is None else repr(value)


def write_concordance(
    result: ConcordanceResult, folder: Path, *, extra: Mapping[str, Any] | None = None
) -> tuple[Path, Path]:
    """Write ``concordance.csv`` (one row per case) and ``concordance.json`` (summary).

    Parameters
    ----------
    result:
        The comparison.
    folder:
        Output folder (created).
    extra:
        More JSON-safe fields for the summary (the two runners, environments).

    Returns
    -------
    tuple
        Paths of the CSV and JSON files.
    """
    folder.mkdir(parents=True, exist_ok=True)
    table = folder / "concordance.csv"
    with table.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(_CSV_COLUMNS)
        for case in result.cases:
            writer.writerow(
                (
                    case.case_id,
                    "positive" if case.truth else "negative",
                    _number(case.reference_score),
                    _number(case.comparison_score),
                    _number(case.absolute_difference),
                    _decision(case.reference_positive),
                    _decision(case.comparison_positive),
                    "yes" if case.flipped else "no",
                    case.status.value,
                )
            )
    summary = folder / "concordance.json"
    payload = {**result.to_dict(), **(dict(extra) if extra else {})}
    summary.write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return table, summary


@dataclass(frozen=True, slots=True)
class Counterpart:
    """The second leg of a concordance run: which artifact, runtime and device."""

    model: ModelConfig
    device: str
    label: str


def _label(model: ModelConfig, device: str) -> str:
    return f"{model.runtime.value} {model.path.name} on {device}"


def parse_against(
    value: str,
    model: ModelConfig,
    *,
    device: str,
    against_device: str | None = None,
    against_sha256: str | None = None,
) -> Counterpart:
    """Interpret ``--against``: a device, a runtime, or another artifact.

    Parameters
    ----------
    value:
        ``cpu`` / ``cuda`` / ``tensorrt``: the same artifact on that device.
        ``onnxruntime`` / ``torch``: the same artifact with that runtime.
        ``PATH`` or ``RUNTIME:PATH``: another artifact (runtime from the prefix, else
        from the suffix: ``.onnx`` → onnxruntime, ``.pt``/``.pt2`` → torch), e.g. an
        int8-quantised build. Its golden check is not run (its outputs are expected to
        differ); ``against_sha256`` pins its digest.
    model:
        The protocol's model (the reference leg).
    device:
        The reference leg's device.
    against_device:
        Device of the comparison leg when it is another artifact or runtime (default:
        ``device``).
    against_sha256:
        Pinned SHA-256 of the other artifact (exit 3 on mismatch).

    Raises
    ------
    UsageError
        An artifact whose runtime cannot be told from its name.
    """
    other_device = against_device or device
    if value in {member.value for member in Device}:
        return Counterpart(model, value, _label(model, value))
    if value in {member.value for member in Runtime}:
        changed = replace(model, runtime=Runtime(value))
        return Counterpart(changed, other_device, _label(changed, other_device))
    prefix, separator, rest = value.partition(":")
    if separator and prefix in {member.value for member in Runtime}:
        runtime, path = Runtime(prefix), Path(rest)
    else:
        path = Path(value)
        suffix_runtime = _RUNTIME_BY_SUFFIX.get(path.suffix.lower())
        if suffix_runtime is None:
            raise UsageError(
                f"--against: got {value!r}; expected cpu, cuda, tensorrt, onnxruntime, torch, "
                "or a model file (.onnx, .pt, .pt2; or write RUNTIME:PATH)"
            )
        runtime = suffix_runtime
    other = replace(
        model, path=path.resolve(), runtime=runtime, sha256=against_sha256, reference=None
    )
    return Counterpart(other, other_device, _label(other, other_device))


_RUNTIME_BY_SUFFIX = {
    ".onnx": Runtime.ONNXRUNTIME,
    ".pt": Runtime.TORCH,
    ".pth": Runtime.TORCH,
    ".pt2": Runtime.TORCH,
}


@dataclass(frozen=True, slots=True)
class ConcordanceRun:
    """Both harness runs and their comparison, with the files written."""

    result: ConcordanceResult
    reference: HarnessResult
    comparison: HarnessResult
    table_path: Path
    summary_path: Path


def run_concordance(
    model: ModelConfig,
    counterpart: Counterpart,
    loader: CaseLoaderFunction,
    cases: Sequence[CaseInput],
    truth: Mapping[str, bool],
    *,
    output: Path,
    preprocessing_digest: str | None,
    options: InferenceOptions | None = None,
    confidence_level: float = 0.95,
) -> ConcordanceRun:
    """Score the same cases with the reference and the counterpart; compare; write both.

    Writes ``reference.jsonl`` and ``comparison.jsonl`` (per-case results of each
    run), ``concordance.csv`` and ``concordance.json`` (with both runners and the
    environment) into ``output``. ``options`` (device of the reference leg,
    workers, batch size, threads, cache, progress) apply to both legs; the
    comparison leg runs on the counterpart's device.

    Raises
    ------
    UsageError, IntegrityError
        As :func:`~dxval.inference.harness.score_cases` for either leg; both artifacts
        are loaded and checked before any case is scored.
    """
    options = options or InferenceOptions()
    threads = options.threads or default_workers()
    plan = [
        ("reference", model, load_runner(model, device=options.device, threads=threads)),
        (
            "comparison",
            counterpart.model,
            load_runner(counterpart.model, device=counterpart.device, threads=threads),
        ),
    ]
    legs = []
    for leg_name, leg_model, leg_runner in plan:
        legs.append(
            score_cases(
                leg_model,
                loader,
                cases,
                results_path=output / f"{leg_name}.jsonl",
                preprocessing_digest=preprocessing_digest,
                options=replace(options, device=leg_runner.info.device, threads=threads),
                runner=leg_runner,
            )
        )
    reference, comparison = legs
    result = compare_results(
        reference.iter_results(),
        comparison.iter_results(),
        truth,
        operating_point=model.operating_point,
        confidence_level=confidence_level,
        reference_label=_label(model, options.device),
        comparison_label=counterpart.label,
    )
    extra = {
        "reference_run": reference.to_dict(),
        "comparison_run": comparison.to_dict(),
        "environment": dict(comparison.environment),
    }
    table, summary = write_concordance(result, output, extra=extra)
    return ConcordanceRun(result, reference, comparison, table, summary)
