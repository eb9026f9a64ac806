"""The report's robustness and precision sections, read from ``metrics.json`` (issue 19).

One row per perturbation level: what was changed (registry name, parameters,
seed), the level's AUC, sensitivity and specificity with their intervals, and
the paired differences to the unperturbed run (level − unperturbed: ΔAUC by
DeLong's paired test, Δsensitivity and Δspecificity with Newcombe's interval)
with the decision flips. The precision section shows the repeat-group
statistics (``metrics.json`` ``precision``). Nothing is recomputed: every
number is read from the bundle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dxval.evidence.format import EstimateRecord
from dxval.report import formatting as fmt

__all__ = [
    "PrecisionView",
    "RobustnessRow",
    "RobustnessView",
    "build_precision",
    "build_robustness",
    "precision_paragraph",
    "summary_paragraph",
]

PERTURBATION_TEXT = {
    "rotation": "rotation",
    "translation": "translation",
    "scaling": "scaling",
    "gaussian_noise": "Gaussian noise",
    "blur": "Gaussian blur",
    "gamma": "contrast (gamma)",
    "brightness": "brightness (window-level shift)",
    "jpeg": "JPEG re-compression",
    "resampling": "down/up-sampling",
    "lateral_flip": "left-right flip",
    "ct_window": "CT window of the model's preprocessing (HU)",
}


@dataclass(frozen=True, slots=True)
class RobustnessRow:
    """One level as printed: identity, metrics, differences and flips."""

    level: str
    perturbation: str
    evaluable: str
    auc: str
    sensitivity: str
    specificity: str
    auc_difference: str
    sensitivity_difference: str
    specificity_difference: str
    flips: str
    auc_p_value: str


@dataclass(frozen=True, slots=True)
class RobustnessView:
    """Everything the robustness section shows."""

    level: str
    rows: tuple[RobustnessRow, ...]
    notes: tuple[str, ...]


def _record(entry: Mapping[str, Any] | None) -> EstimateRecord | None:
    return None if entry is None else EstimateRecord.model_validate(entry)


def _estimate(entry: Mapping[str, Any] | None) -> str:
    record = _record(entry)
    text = fmt.estimate_text(record)
    if record is not None and record.estimate is not None and record.low is None:
        return f"{fmt.number(record.estimate)} (CI undefined: {record.reason})"
    return text


def _perturbation(record: Mapping[str, Any]) -> str:
    name = str(record.get("perturbation", ""))
    parameters = record.get("parameters") or {}
    shown = ", ".join(f"{key} {value:g}" for key, value in sorted(parameters.items()))
    text = PERTURBATION_TEXT.get(name, name)
    extra = " (identity level)" if record.get("identity") else ""
    window = record.get("window")
    if isinstance(window, Mapping):  # a ct_window level: the window the model was given
        extra += f" (window centre {window['center']:g}, width {window['width']:g} HU)"
    return f"{text}: {shown or 'no parameters'}; seed {record.get('seed')}{extra}"


def _row(level: Mapping[str, Any]) -> RobustnessRow:
    metrics = level["metrics"]
    differences = level["differences"]
    comparison = level.get("comparison") or {}
    flips = comparison.get("flips") or {}
    auc_test = comparison.get("auc") or {}
    return RobustnessRow(
        level=str(level["level"]),
        perturbation=_perturbation(level["perturbation"]),
        evaluable=f"{level['evaluable']}/{level['cases']}",
        auc=_estimate(metrics.get("auc")),
        sensitivity=_estimate(metrics.get("sensitivity")),
        specificity=_estimate(metrics.get("specificity")),
        auc_difference=_estimate(differences.get("auc_difference")),
        sensitivity_difference=_estimate(differences.get("sensitivity_difference")),
        specificity_difference=_estimate(differences.get("specificity_difference")),
        flips=(
            f"{flips.get('total', 0)} of {flips.get('n', 0)} "
            f"({flips.get('to_positive', 0)} to positive, {flips.get('to_negative', 0)} to "
            "negative)"
        ),
        auc_p_value=fmt.p_value(auc_test.get("p_value")),
    )


def build_robustness(robustness: Mapping[str, Any] | None) -> RobustnessView | None:
    """The section's view, or None when the run had no robustness study."""
    if not robustness or not robustness.get("levels"):
        return None
    levels = robustness["levels"]
    level = levels[0]["metrics"]["auc"]["confidence_level"]
    notes = (
        "Each level scored every case again with the same locked model, preprocessing and "
        "device; the perturbation was applied to the decoded pixels before the model's "
        "preprocessing, and perturbed results were cached under their own keys.",
        "Differences are level − unperturbed on the cases evaluable in both runs: ΔAUC by "
        "DeLong's paired test, Δsensitivity and Δspecificity with Newcombe's paired (method "
        "10) interval; a flip is a case whose decision (score ≥ operating point) changed.",
        "Every number in this section is read from metrics.json (robustness) and the per-case "
        "scores of each level from robustness.csv.",
    )
    return RobustnessView(fmt.level_text(level), tuple(_row(entry) for entry in levels), notes)


def summary_paragraph(robustness: Mapping[str, Any] | None) -> str | None:
    """The 510(k) summary's robustness paragraph (None without a robustness study)."""
    view = build_robustness(robustness)
    if view is None:
        return None
    parts = [
        f"{row.perturbation.split(';')[0]} (level {row.level}): ΔAUC {row.auc_difference}, "
        f"Δsensitivity {row.sensitivity_difference}, Δspecificity "
        f"{row.specificity_difference}, decision flips {row.flips}"
        for row in view.rows
    ]
    return (
        "Robustness to reasonably foreseeable input changes was tested by re-scoring every "
        "test case under "
        f"{fmt.plural(len(view.rows), 'pre-specified perturbation level')} with the locked "
        f"model; paired differences to the unperturbed images ({view.level} CIs, level − "
        "unperturbed): " + "; ".join(parts) + "."
    )


@dataclass(frozen=True, slots=True)
class PrecisionView:
    """The precision section: repeat groups and their agreement statistics."""

    level: str
    groups: str
    rows: tuple[tuple[str, str], ...]
    bland_altman: tuple[tuple[str, str], ...]


PRECISION_LABELS = {
    "within_group_sd": "Within-group SD of the scores (sqrt WMS)",
    "icc1_1": "ICC(1,1), one-way random",
    "icc2_1": "ICC(2,1), two-way random, absolute agreement",
    "icc3_1": "ICC(3,1), two-way mixed, consistency",
    "all_agree_fraction": "Groups whose decisions all agree",
    "fleiss_kappa": "Fleiss' kappa of the decisions",
}


def build_precision(precision: Mapping[str, Any] | None) -> PrecisionView | None:
    """The precision section's view, or None when the run had no precision study."""
    if not precision:
        return None
    estimates = precision["estimates"]
    bland = precision.get("bland_altman") or {}
    limits = tuple(
        (label, _estimate(bland.get(key)))
        for key, label in (
            ("mean_difference", "Mean difference (second − first)"),
            ("lower_limit", "Lower limit of agreement"),
            ("upper_limit", "Upper limit of agreement"),
        )
        if key in bland
    )
    sites = ", ".join(precision.get("sites") or []) or "none"
    return PrecisionView(
        level=fmt.level_text(float(precision["confidence_level"])),
        groups=(
            f"{fmt.plural(precision['complete_groups'], 'group')} of {precision['repeats']} "
            "scored repeats "
            f"(manifest column {precision['repeat_group']}; {precision['excluded_groups']} "
            f"{'group' if precision['excluded_groups'] == 1 else 'groups'} of another size "
            "excluded; "
            f"sites: {sites}); decisions at the operating "
            f"point {precision['operating_point']:g}"
        ),
        rows=tuple(
            (PRECISION_LABELS[name], _estimate(estimates[name])) for name in PRECISION_LABELS
        ),
        bland_altman=limits,
    )


def precision_paragraph(precision: Mapping[str, Any] | None) -> str | None:
    """The 510(k) summary's precision paragraph (None without a precision study)."""
    view = build_precision(precision)
    if view is None:
        return None
    shown = "; ".join(f"{label} {value}" for label, value in view.rows)
    return f"Precision over repeated acquisitions, {view.groups} ({view.level} CIs): {shown}."
