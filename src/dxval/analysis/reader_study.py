"""Reader studies: run the MRMC analysis of checked reads, and shape its documents.

A stage module with plain values in and out, used by ``dxval mrmc`` and by
the protocol's ``reader_study:`` section: :func:`analyse_reader_study` runs
the chosen analysis on :class:`~dxval.analysis.reads.Reads` (read and
checked by :func:`~dxval.analysis.reads.read_reads`), ``to_dict`` is the
JSON of ``dxval mrmc --json``, :func:`mrmc_document` the bundle's
``mrmc.json`` and :func:`criterion_estimates` the numbers the protocol's
``mrmc_*`` criteria compare.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

from dxval.analysis.reads import ReadColumns, Reads, read_reads
from dxval.errors import InputError
from dxval.stats.mrmc import (
    CovarianceMethod,
    Factors,
    ReaderStudyAnalysis,
    UStatisticAnalysis,
    UStatisticTest,
    cases_for_power,
    reader_study_auc,
    reader_study_binary,
    reader_study_power,
    u_statistic_analysis,
)
from dxval.stats.mrmc.power import METHOD as POWER_METHOD
from dxval.stats.results import finite_or_none

#: Most success-kernel values (modalities × readers × positives × negatives) the unbiased
#: and U-statistic estimators may hold in memory (8 bytes each: 400 MB); the jackknife
#: and DeLong estimators are linear in the cases and have no such limit.
MAX_KERNEL_VALUES = 50_000_000
#: The short names of the factor designs, as the command line and the protocol spell them.
FACTOR_NAMES = {"rrrc": Factors.RRRC, "frrc": Factors.FRRC, "rrfc": Factors.RRFC}


class AnalysisMethod(str, Enum):
    """The reader-study analysis: Obuchowski–Rockette or Gallas's U-statistics."""

    OR = "or"
    U_STATISTIC = "u-statistic"


@dataclass(frozen=True, slots=True)
class StudyPlan:
    """A planned reader study to size from this one (the pilot): Hillis-Obuchowski power."""

    readers: int
    effect: float
    power: float = 0.8
    cases: int | None = None


@dataclass(frozen=True, slots=True)
class ReaderStudyOptions:
    """How to analyse a reader study."""

    method: AnalysisMethod = AnalysisMethod.OR
    covariance: CovarianceMethod = CovarianceMethod.JACKKNIFE
    u_test: UStatisticTest = UStatisticTest.BDG
    factors: Factors = Factors.RRRC
    confidence_level: float = 0.95
    threshold: float | None = None
    plan: StudyPlan | None = None


@dataclass(frozen=True, slots=True)
class ReaderStudyReport:
    """The results of one reader study: AUC analysis and, with a threshold, binary reads."""

    reads: Reads
    options: ReaderStudyOptions
    auc: ReaderStudyAnalysis | None = None
    u_statistic: UStatisticAnalysis | None = None
    sensitivity: ReaderStudyAnalysis | None = None
    specificity: ReaderStudyAnalysis | None = None
    sample_size: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``dxval mrmc --json`` and of ``mrmc.json``."""
        reads = self.reads
        result: dict[str, Any] = {
            "method": self.options.method.value,
            "covariance": (
                self.options.covariance.value
                if self.options.method is AnalysisMethod.OR
                else "unbiased"
            ),
            "factors": self.options.factors.value,
            "confidence_level": self.options.confidence_level,
            "n_readers": len(reads.readers),
            "n_cases": len(reads.cases),
            "n_positive": int(reads.truth.sum()),
            "modalities": list(reads.modalities),
        }
        if self.auc is not None:
            result.update(_or_keys(self.auc))
        elif self.u_statistic is not None:
            result.update(_u_statistic_keys(self.u_statistic))
        if self.options.threshold is not None:
            result["threshold"] = self.options.threshold
            for name, analysis in (
                ("sensitivity", self.sensitivity),
                ("specificity", self.specificity),
            ):
                if analysis is not None:
                    result[name] = _or_keys(analysis)
        if self.sample_size is not None:
            result["sample_size"] = self.sample_size
        return result


def _interval(estimate: Any) -> dict[str, Any]:
    return {
        "estimate": finite_or_none(estimate.estimate),
        "low": finite_or_none(estimate.low),
        "high": finite_or_none(estimate.high),
        "variance": finite_or_none(estimate.variance),
        "status": estimate.status.value,
        "reason": estimate.reason,
        "method": estimate.method,
        "confidence_level": estimate.confidence_level,
        "n": estimate.n,
    }


def _or_keys(analysis: ReaderStudyAnalysis) -> dict[str, Any]:
    first = analysis.differences[0]
    return {
        "analysis": analysis.method,
        "figure_of_merit": analysis.figure_of_merit,
        "auc": {
            modality: _interval(estimate)
            for modality, estimate in zip(
                analysis.modalities, analysis.modality_estimates, strict=True
            )
        },
        "readers": [
            {"reader": figure.reader, "modality": figure.modality, **_interval(figure.estimate)}
            for figure in analysis.reader_figures
        ],
        "f": finite_or_none(analysis.test.statistic),
        "test_distribution": analysis.test.distribution,
        "df1": analysis.test.df1,
        "df2": finite_or_none(analysis.test.df2),
        "p_value": finite_or_none(analysis.test.p_value),
        "test_status": analysis.test.status.value,
        "test_reason": analysis.test.reason,
        "difference": {
            "first": first.first,
            "second": first.second,
            **_interval(first.estimate),
            "statistic": finite_or_none(first.statistic),
            "df": finite_or_none(first.df),
            "p_value": finite_or_none(first.p_value),
        },
        "reader_differences": [
            {"reader": reader, **_interval(difference.estimate), "p_value": difference.p_value}
            for reader, difference in zip(
                analysis.readers, analysis.reader_differences, strict=False
            )
        ],
        "variance_components": analysis.components.to_dict(),
        "mean_squares": {
            key: finite_or_none(value) for key, value in analysis.mean_squares.items()
        },
    }


def _u_statistic_keys(analysis: UStatisticAnalysis) -> dict[str, Any]:
    covariance = analysis.covariance
    inference = analysis.inference
    return {
        "analysis": analysis.method,
        "figure_of_merit": "empirical AUC",
        "auc": {
            modality: _interval(estimate)
            for modality, estimate in zip(
                analysis.modalities, analysis.modality_estimates, strict=True
            )
        },
        "readers": [
            {
                "reader": reader,
                "modality": modality,
                "estimate": float(analysis.reader_aucs[i, j]),
            }
            for i, modality in enumerate(analysis.modalities)
            for j, reader in enumerate(analysis.readers)
        ],
        "f": None,
        "u_test": analysis.test.value,
        "test_distribution": inference.distribution,
        "df1": None,
        "df2": inference.df_used,
        "df_bdg": finite_or_none(inference.df),
        "z": finite_or_none(analysis.statistic),
        "p_value": finite_or_none(analysis.p_value),
        "difference": {
            "first": analysis.modalities[0],
            "second": analysis.modalities[1],
            **_interval(analysis.difference),
            "statistic": finite_or_none(analysis.statistic),
            "df": inference.df_used,
            "p_value": finite_or_none(analysis.p_value),
        },
        "variance_components": {
            "var_first": float(covariance[0, 0]),
            "var_second": float(covariance[1, 1]),
            "cov_first_second": float(covariance[0, 1]),
        },
    }


def _u_test_text(document: dict[str, Any]) -> str:
    """The U-statistic test of a reader-study document in one line (t or z, and p)."""
    if document.get("test_distribution") == "t":
        name = f"t({document['df2']}; BDG df {document['df_bdg']:.2f})"
    else:
        name = "z"
    return f"{name} = {document['z']:.4f}, two-sided p = {_p_value(document['p_value'])}"


def analyse_reader_study(reads: Reads, options: ReaderStudyOptions) -> ReaderStudyReport:
    """Run the chosen analysis (and the binary analysis when a threshold is set).

    Raises:
        InputError: the design cannot support the analysis (one reader with
            random readers, two classes missing, more than two modalities
            for the U-statistic method); the message names the reads file.
    """
    readers = len(reads.readers)
    if options.factors is not Factors.FRRC and readers < 2:
        raise InputError(
            f"{reads.path}: only reader {reads.readers[0]!r}; a random-reader analysis "
            f"({options.factors.value}) needs at least 2 readers (with one reader only "
            "fixed readers apply: --factors frrc)"
        )
    positives = int(reads.truth.sum())
    kernel_values = reads.scores.shape[0] * readers * positives * (len(reads.cases) - positives)
    quadratic = options.method is AnalysisMethod.U_STATISTIC or (
        options.covariance is CovarianceMethod.UNBIASED
    )
    if quadratic and kernel_values > MAX_KERNEL_VALUES:
        raise InputError(
            f"{reads.path}: the unbiased / U-statistic estimator needs {kernel_values:,} kernel "
            f"values, expected at most {MAX_KERNEL_VALUES:,} (documented input limit); use the "
            "jackknife or DeLong covariance with --method or"
        )
    if options.threshold is not None and not math.isfinite(options.threshold):
        raise InputError(f"--threshold: got {options.threshold}, expected a finite number")
    try:
        auc = u_statistic = None
        if options.method is AnalysisMethod.OR:
            auc = reader_study_auc(
                reads.scores,
                reads.truth,
                modalities=reads.modalities,
                readers=reads.readers,
                factors=options.factors,
                covariance=options.covariance,
                confidence_level=options.confidence_level,
            )
        else:
            u_statistic = u_statistic_analysis(
                reads.scores,
                reads.truth,
                modalities=reads.modalities,
                readers=reads.readers,
                confidence_level=options.confidence_level,
                test=options.u_test,
            )
        sensitivity = specificity = None
        if options.threshold is not None:
            sensitivity, specificity = reader_study_binary(
                reads.scores,
                reads.truth,
                threshold=options.threshold,
                modalities=reads.modalities,
                readers=reads.readers,
                factors=options.factors,
                confidence_level=options.confidence_level,
            )
    except ValueError as error:
        raise InputError(f"{reads.path}: {error}") from None
    sample_size = None
    if options.plan is not None:
        sample_size = _sample_size(reads, options, auc)
    return ReaderStudyReport(
        reads=reads,
        options=options,
        auc=auc,
        u_statistic=u_statistic,
        sensitivity=sensitivity,
        specificity=specificity,
        sample_size=sample_size,
    )


def _sample_size(
    reads: Reads, options: ReaderStudyOptions, auc: ReaderStudyAnalysis | None
) -> dict[str, Any]:
    """Power of the planned study and the cases it needs, this study as the pilot."""
    plan = options.plan
    assert plan is not None  # only called with a plan
    if auc is None:  # the U-statistic method: pilot components from the OR analysis
        auc = reader_study_auc(
            reads.scores, reads.truth, factors=options.factors, covariance=options.covariance
        )
    pilot = len(reads.cases)
    try:
        needed = cases_for_power(
            auc.components,
            pilot_cases=pilot,
            effect=plan.effect,
            n_readers=plan.readers,
            target_power=plan.power,
            alpha=1.0 - options.confidence_level,
            factors=options.factors,
        )
        at_cases = (
            None
            if plan.cases is None
            else reader_study_power(
                auc.components,
                pilot_cases=pilot,
                effect=plan.effect,
                n_readers=plan.readers,
                n_cases=plan.cases,
                alpha=1.0 - options.confidence_level,
                factors=options.factors,
            )
        )
    except ValueError as error:
        raise InputError(f"sample size plan: {error}") from None
    return {
        "method": POWER_METHOD,
        "pilot": {"readers": len(reads.readers), "cases": pilot, "covariance": auc.covariance},
        "components": auc.components.to_dict(),
        "effect": plan.effect,
        "readers": plan.readers,
        "alpha": 1.0 - options.confidence_level,
        "target_power": plan.power,
        "cases_needed": None if needed is None else needed.n_cases,
        "power_at_cases_needed": None if needed is None else needed.power,
        "reason": None
        if needed is not None
        else "the target power is not reached with up to 100,000 cases (reader variability "
        "bounds the power: add readers)",
        "cases": plan.cases,
        "power_at_cases": None if at_cases is None else at_cases.power,
    }


def _number(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _p_value(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def format_table(report: ReaderStudyReport) -> str:
    """A plain-text summary of a reader study for the terminal."""
    document = report.to_dict()
    level = f"{document['confidence_level']:.0%}"
    lines = [
        f"Reader study: {document['n_readers']} readers x {len(document['modalities'])} "
        f"modalities x {document['n_cases']} cases ({document['n_positive']} positive)",
        f"Analysis: {document['analysis']}",
        "",
        f"{'reader':<12}" + "".join(f"{name:>14}" for name in document["modalities"]),
    ]
    by_reader: dict[str, dict[str, float | None]] = {}
    for row in document["readers"]:
        by_reader.setdefault(row["reader"], {})[row["modality"]] = row["estimate"]
    for reader, values in by_reader.items():
        cells = "".join(f"{_number(values.get(name)):>14}" for name in document["modalities"])
        lines.append(f"{reader:<12}{cells}")
    lines.append("")
    lines.append(f"Reader-averaged AUC ({level} CI)")
    for modality, estimate in document["auc"].items():
        lines.append(
            f"  {modality:<12}{_number(estimate['estimate'])}  "
            f"[{_number(estimate['low'])}, {_number(estimate['high'])}]"
        )
    difference = document["difference"]
    lines.append(
        f"Difference {difference['first']} - {difference['second']}: "
        f"{_number(difference['estimate'])}  [{_number(difference['low'])}, "
        f"{_number(difference['high'])}]  p = {_p_value(difference['p_value'])}"
    )
    if document["f"] is not None:
        df2 = "" if document["df2"] is None else f", {document['df2']:.2f}"
        name = "F" if document["test_distribution"] == "F" else "X2"
        lines.append(
            f"Test of equal AUCs: {name}({document['df1']}{df2}) = {document['f']:.4f}, "
            f"p = {_p_value(document['p_value'])}"
        )
    elif document.get("z") is not None:
        lines.append(f"Test of equal AUCs: {_u_test_text(document)}")
    components = document["variance_components"]
    lines.append(
        "Variance components: "
        + ", ".join(
            f"{key} {_number(value, 8)}"
            for key, value in components.items()
            if not isinstance(value, dict)
        )
    )
    plan = document.get("sample_size")
    if plan is not None:
        lines.append(sample_size_text(plan))
    for name in ("sensitivity", "specificity"):
        if name in document:
            part = document[name]["difference"]
            lines.append(
                f"{name.capitalize()} difference (score >= {document['threshold']:g}): "
                f"{_number(part['estimate'])}  [{_number(part['low'])}, {_number(part['high'])}]"
                f"  p = {_p_value(part['p_value'])}"
            )
    return "\n".join(lines)


# --- the protocol's reader study: criteria estimates and mrmc.json -------------------

MRMC_SCHEMA = "dxval-mrmc/1"
ROC_GRID = 101  # false-positive fractions 0, 0.01, ..., 1 for the reader-averaged ROC


def check_modalities(reads: Reads, *, test: str, reference: str) -> None:
    """The reads hold exactly the protocol's two modalities, test first after ordering.

    Raises:
        InputError: naming the modalities found and those the protocol names.
    """
    if set(reads.modalities) != {test, reference} or reads.modalities[1] != reference:
        found = ", ".join(repr(name) for name in reads.modalities)
        raise InputError(
            f"{reads.path}: modalities {found}; the protocol's reader_study names test "
            f"{test!r} and reference {reference!r}, expected exactly these two"
        )


def criterion_estimates(report: ReaderStudyReport) -> dict[str, Any]:
    """The estimate of each reader-study metric (test − reference), by metric name.

    A metric whose analysis was not run (no threshold for the binary ones)
    is absent; the criterion is then undefined with that reason.
    """
    estimates: dict[str, Any] = {}
    if report.auc is not None:
        estimates["mrmc_auc_difference"] = report.auc.differences[0].estimate
    elif report.u_statistic is not None:
        estimates["mrmc_auc_difference"] = report.u_statistic.difference
    if report.sensitivity is not None and report.specificity is not None:
        estimates["mrmc_sensitivity_difference"] = report.sensitivity.differences[0].estimate
        estimates["mrmc_specificity_difference"] = report.specificity.differences[0].estimate
    return estimates


def reader_averaged_roc(reads: Reads) -> dict[str, dict[str, list[float]]]:
    """Each modality's empirical ROC averaged over readers vertically (mean TPR at fixed FPR).

    For each reader the empirical ROC (positive ⇔ score ≥ threshold) is a step
    function TPR(FPR); its upper value at each grid FPR is averaged over the
    readers. A display of the reader-averaged curve, not a statistic tested.
    """
    grid = np.linspace(0.0, 1.0, ROC_GRID)
    positives = reads.scores[:, :, reads.truth]
    negatives = reads.scores[:, :, ~reads.truth]
    curves: dict[str, dict[str, list[float]]] = {}
    for index, modality in enumerate(reads.modalities):
        tprs = []
        for reader in range(len(reads.readers)):
            thresholds = np.unique(reads.scores[index, reader])[::-1]
            fpr = [0.0, *[float(np.mean(negatives[index, reader] >= t)) for t in thresholds]]
            tpr = [0.0, *[float(np.mean(positives[index, reader] >= t)) for t in thresholds]]
            positions = np.searchsorted(fpr, grid, side="right") - 1
            tprs.append(np.asarray(tpr)[np.clip(positions, 0, len(tpr) - 1)])
        curves[modality] = {
            "fpr": [float(value) for value in grid],
            "tpr": [float(value) for value in np.mean(tprs, axis=0)],
        }
    return curves


def mrmc_document(report: ReaderStudyReport, *, reads: str, sha256: str) -> dict[str, Any]:
    """``mrmc.json``: the reader study's full analysis, as the report reads it back."""
    return {
        "schema": MRMC_SCHEMA,
        "reads": {"path": reads, "sha256": sha256},
        "test": report.reads.modalities[0],
        "reference": report.reads.modalities[1],
        **report.to_dict(),
        "roc": reader_averaged_roc(report.reads),
    }


@dataclass(frozen=True, slots=True)
class ProtocolReaderStudy:
    """What a protocol's reader study contributes to a run: ``mrmc.json`` and criteria estimates."""

    report: ReaderStudyReport
    document: dict[str, Any]
    estimates: dict[str, Any]


def run_protocol_reader_study(
    path: Path,
    *,
    label: str,
    sha256: str,
    columns: ReadColumns,
    positive: str | None,
    test: str,
    reference: str,
    options: ReaderStudyOptions,
) -> ProtocolReaderStudy:
    """Read, check and analyse a protocol's reader study (plain values in and out).

    Args:
        path: the reads file (resolved).
        label: the path as the protocol writes it (recorded in ``mrmc.json``).
        sha256: its pinned digest (checked by the caller).
        columns, positive: how to read it.
        test, reference: the modalities; the difference is test − reference.
        options: method, covariance, factors, confidence level, threshold.

    Raises:
        InputError: as :func:`read_reads` and :func:`analyse_reader_study`, or
            modalities other than test and reference.
    """
    reads = read_reads(path, columns=columns, positive=positive, reference=reference)
    check_modalities(reads, test=test, reference=reference)
    report = analyse_reader_study(reads, options)
    document = mrmc_document(report, reads=label, sha256=sha256)
    return ProtocolReaderStudy(report, document, criterion_estimates(report))


def sample_size_text(plan: dict[str, Any]) -> str:
    """One sentence of sample-size justification from a ``sample_size`` record."""
    pilot = plan["pilot"]
    text = (
        f"Sample size ({plan['method']}; pilot {pilot['readers']} readers x {pilot['cases']} "
        f"cases): to detect an AUC difference of {plan['effect']:g} with {plan['readers']} "
        f"readers at two-sided alpha {plan['alpha']:.3g}, "
    )
    if plan["cases_needed"] is None:
        text += f"power {plan['target_power']:g} is not reachable ({plan['reason']})"
    else:
        text += (
            f"{plan['cases_needed']} cases give power {plan['power_at_cases_needed']:.3f} "
            f"(target {plan['target_power']:g})"
        )
    if plan["cases"] is not None:
        text += f"; {plan['cases']} cases give power {plan['power_at_cases']:.3f}"
    return text + "."
