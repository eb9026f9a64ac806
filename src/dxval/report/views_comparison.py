"""The report's model-comparison section, read from ``comparison.json`` (issue 13).

A side-by-side table per comparator (candidate and comparator AUC, the
differences with their intervals and tests), a forest plot of the AUC
differences per population with the non-inferiority margins of the
protocol's criteria drawn, and the matrix of decision flips. The cover's
PCCP block and the 510(k) summary's "comparison to the predicate / previous
version" paragraph come from here too. Nothing is recomputed: every number
is read from the bundle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from dxval.evidence.format import BundleData
from dxval.report import formatting as fmt
from dxval.report.elements import Field, FigureView, figure_view
from dxval.report.plots import BLUE, GREY, _figure, _svg

ROLE_TEXT = {
    "original": "original (cleared) model",
    "last_released": "last released model",
    "other": "other reference model",
}
#: Populations shown in the section (all subgroups are in comparison.json).
SHOWN_KINDS = ("all", "site")
RED = "#b2182b"


@dataclass(frozen=True, slots=True)
class ComparisonRow:
    """One population of one comparator, as printed."""

    population: str
    cases: str
    candidate_auc: str
    comparator_auc: str
    auc_difference: str
    auc_test: str
    sensitivity_difference: str
    specificity_difference: str
    flips: str


@dataclass(frozen=True, slots=True)
class FlipRow:
    """The 2×2 matrix of calls (candidate vs comparator) on one population."""

    population: str
    both_positive: str
    to_positive: str
    to_negative: str
    both_negative: str
    fraction: str


@dataclass(frozen=True, slots=True)
class ComparatorView:
    """One comparator's tables."""

    id: str
    role: str
    source: str
    rows: tuple[ComparisonRow, ...]
    flips: tuple[FlipRow, ...]


@dataclass(frozen=True, slots=True)
class ComparisonView:
    """Everything the comparison section shows."""

    level: str
    intro: str
    comparators: tuple[ComparatorView, ...]
    forest: FigureView
    decision: str | None

    @property
    def last_number(self) -> int:
        """The number of its (only) figure."""
        return self.forest.number


def _interval(entry: Mapping[str, Any] | None, *, signed: bool = False) -> str:
    if entry is None or entry.get("estimate") is None:
        return fmt.UNDEFINED
    value = entry["estimate"]
    text = fmt.signed(f"{value:+.4f}") if signed else fmt.number(value)
    if entry.get("low") is None or entry.get("high") is None:
        return text + " (no CI)"
    return f"{text} ({fmt.bounds(entry['low'], entry['high'])})"


def _shown(entry: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [item for item in entry["populations"] if item["kind"] in SHOWN_KINDS]


def _row(item: Mapping[str, Any]) -> ComparisonRow:
    auc = item["auc"]
    flips = item["flips"]
    test = (
        "no test"
        if auc.get("z") is None
        else f"z = {fmt.number(auc['z'], digits=4)}, p = {fmt.p_value(auc['p_value'])}"
    )
    return ComparisonRow(
        population=item["label"],
        cases=str(item["n"]),
        candidate_auc=fmt.number(auc["auc1"].get("estimate")),
        comparator_auc=fmt.number(auc["auc2"].get("estimate")),
        auc_difference=_interval(auc["difference"], signed=True),
        auc_test=test,
        sensitivity_difference=_interval(item["sensitivity"]["newcombe"], signed=True),
        specificity_difference=_interval(item["specificity"]["newcombe"], signed=True),
        flips=f"+{flips['to_positive']} / −{flips['to_negative']}",
    )


def _flip_row(item: Mapping[str, Any]) -> FlipRow:
    flips = item["flips"]
    fraction = flips["fraction"]
    share = fmt.UNDEFINED
    if fraction.get("estimate") is not None:
        share = (
            f"{fmt.number(fraction['estimate'])} "
            f"({fmt.bounds(fraction.get('low'), fraction.get('high'))})"
        )
    return FlipRow(
        population=item["label"],
        both_positive=str(flips.get("both_positive", fmt.DASH)),
        to_positive=str(flips["to_positive"]),
        to_negative=str(flips["to_negative"]),
        both_negative=str(flips.get("both_negative", fmt.DASH)),
        fraction=share,
    )


def _margins(bundle: BundleData) -> dict[str, list[float]]:
    """Required values of the AUC-difference criteria on a lower bound, by comparator id."""
    margins: dict[str, list[float]] = {}
    for requirement in bundle.criteria.requirements:
        for criterion in requirement.criteria:
            if criterion.metric == "auc_difference" and criterion.against is not None:
                margins.setdefault(criterion.against, []).append(criterion.value)
    return margins


def _forest_figure(
    rows: Sequence[tuple[str, float | None, float | None, float | None]], margins: Sequence[float]
) -> str:
    height = 1.0 + 0.3 * len(rows)
    with _figure(5.2, height) as figure:
        axes = figure.subplots()
        for position, (_, value, low, high) in enumerate(reversed(rows)):
            if value is None:
                continue
            if low is not None and high is not None:
                axes.plot([low, high], [position, position], color=BLUE, linewidth=1.2)
            axes.plot([value], [position], marker="s", color=BLUE, markersize=4)
        axes.axvline(0.0, color=GREY, linestyle="--", linewidth=0.7)
        for margin in sorted(set(margins)):
            axes.axvline(margin, color=RED, linestyle=":", linewidth=1.2)
            axes.text(
                margin,
                1.01,
                f"margin {margin:+g}",
                transform=axes.get_xaxis_transform(),
                color=RED,
                fontsize=7,
                ha="center",
                va="bottom",
            )
        axes.set_yticks(range(len(rows)))
        axes.set_yticklabels([label for label, *_ in reversed(rows)])
        axes.set_ylim(-0.6, len(rows) - 0.1)
        axes.set_xlabel("AUC difference (candidate − comparator)")
        figure.subplots_adjust(
            left=0.34, right=0.97, top=0.88, bottom=0.3 if len(rows) < 5 else 0.14
        )
        return _svg(figure)


def build_comparison(bundle: BundleData, *, figure_number: int) -> ComparisonView | None:
    """The comparison section, or None when the bundle has no ``comparison.json``."""
    document = bundle.comparison
    if document is None:
        return None
    level = fmt.level_text(document["confidence_level"])
    margins = _margins(bundle)
    comparators, forest_rows, drawn = [], [], []
    for entry in document["comparators"]:
        shown = _shown(entry)
        comparators.append(
            ComparatorView(
                id=entry["id"],
                role=ROLE_TEXT.get(entry["role"], entry["role"]),
                source=f"{entry['source']} {entry['path']}, operating point "
                f"{entry['operating_point']:g}",
                rows=tuple(_row(item) for item in shown),
                flips=tuple(_flip_row(item) for item in shown),
            )
        )
        for item in shown:
            difference = item["auc"]["difference"]
            forest_rows.append(
                (
                    f"{entry['id']}: {item['label']}",
                    difference.get("estimate"),
                    difference.get("low"),
                    difference.get("high"),
                )
            )
        drawn += margins.get(entry["id"], [])
    forest = figure_view(
        figure_number,
        "comparison-forest",
        title="AUC differences, candidate − comparator",
        caption=f"AUC difference (candidate − comparator) per population with its {level} "
        "DeLong paired interval (unadjusted; criteria on a family use the multiplicity-"
        "adjusted level in criteria.json). Dotted red lines: the required values of the "
        "protocol's auc_difference criteria (non-inferiority margins).",
        alt="Forest plot of AUC differences candidate minus comparator",
        svg=partial(_forest_figure, forest_rows, drawn),
    )
    pccp = bundle.run.pccp
    decision = None
    if pccp is not None:
        decision = f"{pccp.get('id')}: {pccp.get('decision')}."
    return ComparisonView(
        level=level,
        intro="The candidate was compared with "
        f"{fmt.plural(len(comparators), 'reference model')} on the "
        "same locked cases (differences are candidate − comparator; a case counts when both "
        "scored it). ΔAUC: DeLong's paired test as pROC roc.test(paired = TRUE); Δsensitivity "
        "and Δspecificity: Newcombe's hybrid score interval (method 10), with Tango's score "
        "interval and McNemar's tests in comparison.json. Flips: calls that change, each "
        "model at its own operating point.",
        comparators=tuple(comparators),
        forest=forest,
        decision=decision,
    )


def pccp_fields(bundle: BundleData) -> tuple[Field, ...]:
    """The cover's PCCP block (empty when the run gates no modification)."""
    pccp = bundle.run.pccp
    if pccp is None:
        return ()
    fields = [
        Field("PCCP modification", f"{pccp.get('id')}: {pccp.get('modification')}"),
        Field("Decision", str(pccp.get("decision"))),
    ]
    if pccp.get("description"):
        fields.insert(1, Field("Description", str(pccp["description"])))
    if pccp.get("method_refs"):
        fields.append(Field("Methods (PCCP)", "; ".join(map(str, pccp["method_refs"]))))
    compared = ", ".join(
        f"{item['id']} ({ROLE_TEXT.get(item['role'], item['role'])})"
        for item in pccp.get("comparators", [])
    )
    if compared:
        fields.append(Field("Evaluated against", compared))
    return tuple(fields)


def summary_paragraph(bundle: BundleData) -> str | None:
    """The 510(k) summary's "comparison to the predicate / previous version" paragraph."""
    document = bundle.comparison
    if document is None:
        return None
    level = fmt.level_text(document["confidence_level"])
    parts = []
    for entry in document["comparators"]:
        overall = next(item for item in entry["populations"] if item["kind"] == "all")
        auc = overall["auc"]
        role = ROLE_TEXT.get(entry["role"], entry["role"])
        p_text = "" if auc.get("p_value") is None else f", p = {fmt.p_value(auc['p_value'])}"
        parts.append(
            f"Against the {role} ({entry['id']}), on the same {overall['n']} cases, the AUC "
            f"was {fmt.number(auc['auc1'].get('estimate'))} vs "
            f"{fmt.number(auc['auc2'].get('estimate'))}, a difference of "
            f"{_interval(auc['difference'], signed=True)} (in brackets the {level} CI; DeLong "
            f"paired test{p_text}); "
            f"sensitivity difference {_interval(overall['sensitivity']['newcombe'], signed=True)}"
            f", specificity difference "
            f"{_interval(overall['specificity']['newcombe'], signed=True)}; "
            f"{overall['flips']['total']} of {overall['flips']['n']} calls changed."
        )
    pccp = bundle.run.pccp
    if pccp is not None:
        parts.append(f"PCCP modification {pccp.get('id')}: {pccp.get('decision')}.")
    return " ".join(parts)
