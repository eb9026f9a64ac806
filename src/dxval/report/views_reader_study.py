"""The report's reader-study section, read from ``mrmc.json`` (issue 15).

Per-reader AUC table, reader-averaged ROC curve of each modality, a forest
plot of each reader's difference (test − reference) with the reader-averaged
difference, the variance components and the test. Nothing is recomputed:
every number is read from the bundle's ``mrmc.json``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from dxval.report import formatting as fmt
from dxval.report.elements import FigureView, figure_view
from dxval.report.plots import (  # the report's shared figure style
    BLUE,
    GREY,
    SERIES_COLOURS,
    _figure,
    _roc_axes,
    _svg,
)

AVERAGE_LABEL = "Reader average"
COMPONENT_LABELS = {
    "reader": "σ²_R (readers)",
    "modality_reader": "σ²_TR (modality × reader)",
    "error": "σ²_ε (error variance of a reader's AUC)",
    "cov1": "Cov1 (same reader, other modality)",
    "cov2": "Cov2 (other reader, same modality)",
    "cov3": "Cov3 (other reader, other modality)",
    "var_first": "Var of the test modality's reader-averaged AUC",
    "var_second": "Var of the reference modality's reader-averaged AUC",
    "cov_first_second": "Cov of the two reader-averaged AUCs",
}


@dataclass(frozen=True, slots=True)
class ReaderRow:
    """One reader: AUC in each modality (with CI where given) and the difference."""

    reader: str
    values: tuple[str, ...]
    difference: str


@dataclass(frozen=True, slots=True)
class ReaderStudyView:
    """Everything the reader-study section shows."""

    summary: str
    analysis: str
    level: str
    modalities: tuple[str, ...]
    readers: tuple[ReaderRow, ...]
    averages: tuple[tuple[str, str], ...]
    difference: str
    test: str
    components: tuple[tuple[str, str], ...]
    binary: tuple[tuple[str, str], ...]
    sample_size: str | None
    roc: FigureView
    forest: FigureView

    @property
    def last_number(self) -> int:
        """The number of its last figure."""
        return self.forest.number

    @property
    def figures(self) -> tuple[FigureView, ...]:
        """Its figures, in order."""
        return (self.roc, self.forest)


def _interval(entry: Mapping[str, Any]) -> str:
    value = fmt.number(entry.get("estimate"))
    if entry.get("low") is None or entry.get("high") is None:
        return value
    return f"{value} ({fmt.bounds(entry['low'], entry['high'])})"


def _roc_figure(document: Mapping[str, Any]) -> str:
    with _figure(3.4, 3.6) as figure:
        axes = figure.subplots()
        _roc_axes(axes, "Reader-averaged ROC")
        for index, modality in enumerate(document["modalities"]):
            curve = document["roc"][modality]
            auc = document["auc"][modality]["estimate"]
            label = f"{modality} (AUC {fmt.number(auc, digits=3)})"
            axes.step(
                curve["fpr"], curve["tpr"], where="post", color=SERIES_COLOURS[index], label=label
            )
        axes.legend(loc="lower right")
        figure.subplots_adjust(left=0.17, right=0.97, bottom=0.12, top=0.92)
        return _svg(figure)


def _forest_figure(rows: Sequence[tuple[str, float | None, float | None, float | None]]) -> str:
    height = 1.0 + 0.28 * len(rows)
    with _figure(4.6, height) as figure:
        axes = figure.subplots()
        for position, (label, value, low, high) in enumerate(reversed(rows)):
            if value is None:
                continue
            average = label == AVERAGE_LABEL
            colour = BLUE if average else GREY
            if low is not None and high is not None:
                axes.plot([low, high], [position, position], color=colour, linewidth=1.2)
            marker = "D" if average else "s"
            axes.plot([value], [position], marker=marker, color=colour, markersize=4)
        axes.axvline(0.0, color=GREY, linestyle="--", linewidth=0.7)
        axes.set_yticks(range(len(rows)))
        axes.set_yticklabels([label for label, *_ in reversed(rows)])
        axes.set_xlabel("AUC difference (test − reference)")
        figure.subplots_adjust(left=0.28, right=0.97, bottom=0.25 if len(rows) < 5 else 0.14)
        return _svg(figure)


def _test_text(document: Mapping[str, Any]) -> str:
    if document.get("f") is None:
        if document.get("z") is None:
            return "No test: " + (document.get("test_reason") or "the variance is not positive")
        statistic = "z"
        if document.get("test_distribution") == "t":
            statistic = f"t({document['df2']}; BDG df {document['df_bdg']:.2f})"
        p_value = fmt.p_value(document["p_value"])
        return f"{statistic} = {fmt.number(document['z'])}, two-sided p = {p_value}"
    name = "F" if document.get("test_distribution") == "F" else "χ²"
    df2 = "" if document.get("df2") is None else f", {document['df2']:.2f}"
    return (
        f"{name}({document['df1']}{df2}) = {fmt.number(document['f'])}, "
        f"p = {fmt.p_value(document['p_value'])}"
    )


def build_reader_study(document: Mapping[str, Any], *, figure_number: int) -> ReaderStudyView:
    """The reader-study section from ``mrmc.json``; figures numbered from ``figure_number``."""
    modalities = tuple(document["modalities"])
    test, reference = document["test"], document["reference"]
    by_reader: dict[str, dict[str, Mapping[str, Any]]] = {}
    for row in document["readers"]:
        by_reader.setdefault(row["reader"], {})[row["modality"]] = row
    differences = {row["reader"]: row for row in document.get("reader_differences", [])}
    readers = tuple(
        ReaderRow(
            reader=reader,
            values=tuple(_interval(values[name]) for name in modalities),
            difference=_interval(differences[reader]) if reader in differences else "—",
        )
        for reader, values in by_reader.items()
    )
    difference = document["difference"]
    level = fmt.level_text(document["confidence_level"])
    forest_rows = [
        (f"Reader {reader}", row.get("estimate"), row.get("low"), row.get("high"))
        for reader, row in differences.items()
    ]
    if not forest_rows:  # the U-statistic analysis gives no per-reader intervals
        forest_rows = [
            (
                f"Reader {reader}",
                values[test]["estimate"] - values[reference]["estimate"],
                None,
                None,
            )
            for reader, values in by_reader.items()
        ]
    forest_rows.insert(
        0, (AVERAGE_LABEL, difference["estimate"], difference["low"], difference["high"])
    )
    roc = figure_view(
        figure_number,
        "reader-study-roc",
        title="Reader-averaged ROC curves",
        caption=f"Empirical ROC curve of each modality averaged over the {document['n_readers']} "
        "readers (mean sensitivity at each false-positive rate); AUCs are the reader-averaged "
        "empirical AUCs.",
        alt="Reader-averaged ROC curves of " + " and ".join(modalities),
        svg=partial(_roc_figure, document),
    )
    forest = figure_view(
        figure_number + 1,
        "reader-study-forest",
        title="Per-reader AUC differences",
        caption=f"AUC difference {test} − {reference} of each reader with its {level} interval "
        "(the reader's own paired comparison) and the reader-averaged difference with the "
        f"{level} interval of the pre-specified analysis.",
        alt=f"Forest plot of the AUC difference {test} minus {reference} per reader",
        svg=partial(_forest_figure, forest_rows),
    )
    components = tuple(
        (COMPONENT_LABELS.get(name, name), f"{value:.6g}")
        for name, value in document["variance_components"].items()
        if isinstance(value, float)
    )
    binary = tuple(
        (
            f"{name.capitalize()} difference {test} − {reference} "
            f"(score ≥ {document['threshold']:g})",
            f"{_interval(document[name]['difference'])}, "
            f"p = {fmt.p_value(document[name]['difference'].get('p_value'))}",
        )
        for name in ("sensitivity", "specificity")
        if name in document
    )
    # imported here: the reader-study analysis pulls in pandas, which a report
    # without a reader study never needs (report start-up, issue 18)
    from dxval.analysis.reader_study import sample_size_text

    return ReaderStudyView(
        summary=f"{document['n_readers']} readers read {document['n_cases']} cases "
        f"({document['n_positive']} positive) in {len(modalities)} modalities "
        f"({', '.join(modalities)}); reads file {document['reads']['path']} "
        f"(SHA-256 {fmt.short_digest(document['reads']['sha256'])}).",
        analysis=document["analysis"],
        level=level,
        modalities=modalities,
        readers=readers,
        averages=tuple((name, _interval(document["auc"][name])) for name in modalities),
        difference=f"{_interval(difference)}, p = {fmt.p_value(difference.get('p_value'))}",
        test=_test_text(document),
        components=components,
        binary=binary,
        sample_size=None
        if document.get("sample_size") is None
        else sample_size_text(document["sample_size"]),
        roc=roc,
        forest=forest,
    )


def summary_paragraph(document: Mapping[str, Any]) -> str:
    """The 510(k) summary's reader-study paragraph (plain text)."""
    test, reference = document["test"], document["reference"]
    difference = document["difference"]
    level = fmt.level_text(document["confidence_level"])
    averages = "; ".join(
        f"{name} {_interval(document['auc'][name])}" for name in document["modalities"]
    )
    return (
        f"A multi-reader multi-case study compared reading {test} with reading {reference}: "
        f"{document['n_readers']} readers each read the same {document['n_cases']} cases "
        f"({document['n_positive']} positive) in both conditions. Analysis: "
        f"{document['analysis']}. Reader-averaged AUC ({level} CI): {averages}. The "
        f"difference {test} − {reference} was {_interval(difference)} "
        f"(p = {fmt.p_value(difference.get('p_value'))})."
    )
