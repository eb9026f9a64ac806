"""Report figures as deterministic SVG text: ROC, forest plots, reliability diagram, scores.

Each function takes plot data already taken from the bundle (the views build
it) and returns SVG text; nothing here estimates anything. Determinism: the
Agg-free SVG backend with ``svg.hashsalt`` fixed (stable element IDs), no
date and a fixed creator in the metadata; ``svg.fonttype: none`` keeps text
as text (searchable in the PDF, rendered with the report's bundled DejaVu
Sans). Colours are the Okabe–Ito palette, distinguishable with the common
colour-vision deficiencies.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

BLUE, VERMILLION, GREEN, ORANGE = "#0072B2", "#D55E00", "#009E73", "#E69F00"
PURPLE, SKY, GREY = "#CC79A7", "#56B4E9", "#7f7f7f"
REPORT_FONT = "dxval DejaVu Sans"
SERIES_COLOURS = (BLUE, VERMILLION, GREEN, ORANGE, PURPLE, SKY, "#000000")
_RC: dict[str, Any] = {
    "svg.hashsalt": "dxval-report",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 8.0,
    "axes.titlesize": 8.5,
    "axes.labelsize": 8.0,
    "legend.fontsize": 7.0,
    "xtick.labelsize": 7.0,
    "ytick.labelsize": 7.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e3e3e3",
    "grid.linewidth": 0.5,
    "lines.linewidth": 1.2,
    "path.simplify": False,
}


@dataclass(frozen=True, slots=True)
class Curve:
    """An empirical ROC curve: FPR and TPR per threshold, shape (K,) each."""

    label: str
    false_positive_rate: tuple[float, ...]
    true_positive_rate: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Band:
    """Pointwise band of sensitivity at fixed false-positive rates; None where undefined."""

    label: str
    false_positive_rate: tuple[float, ...]
    low: tuple[float | None, ...]
    high: tuple[float | None, ...]


@dataclass(frozen=True, slots=True)
class PointMark:
    """An operating point with its sensitivity and specificity intervals (FPR = 1 − spec)."""

    label: str
    false_positive_rate: float
    true_positive_rate: float
    fpr_low: float | None
    fpr_high: float | None
    tpr_low: float | None
    tpr_high: float | None


@dataclass(frozen=True, slots=True)
class RocPlot:
    """Left panel: all cases with band and operating point; right panel: each site."""

    overall: Curve | None
    band: Band | None
    overall_point: PointMark | None
    sites: tuple[Curve, ...]
    site_points: tuple[PointMark, ...]


@dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate with its interval (any part may be undefined)."""

    estimate: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True, slots=True)
class ForestRow:
    """One row of a forest plot; a header row has no values.

    ``flags`` (per panel) marks estimates below the minimum cell size (hollow
    grey marker; ``flagged`` marks every panel); ``thresholds`` (per panel)
    are acceptance thresholds of criteria judged on this row, drawn as a
    vermilion mark across the row.
    """

    label: str
    values: tuple[Interval | None, ...]
    header: bool = False
    flagged: bool = False
    flags: tuple[bool, ...] = ()
    thresholds: tuple[float | None, ...] = ()

    def flagged_in(self, panel: int) -> bool:
        """Whether the estimate of ``panel`` is drawn as flagged."""
        return self.flags[panel] if self.flags else self.flagged

    def threshold(self, panel: int) -> float | None:
        """The acceptance threshold judged on this row in ``panel``, if any."""
        return self.thresholds[panel] if self.thresholds else None


@dataclass(frozen=True, slots=True)
class ForestPlot:
    """Panels (one per metric) sharing the rows; ``references`` are the all-cases estimates."""

    titles: tuple[str, ...]
    rows: tuple[ForestRow, ...]
    references: tuple[float | None, ...]


@dataclass(frozen=True, slots=True)
class ReliabilityPoint:
    """One bin of a reliability diagram."""

    lower: float
    upper: float
    count: int
    mean_predicted: float | None
    observed_fraction: float | None


@dataclass(frozen=True, slots=True)
class ScorePanel:
    """Scores of the evaluable positive and negative cases of one population."""

    title: str
    positives: Sequence[float] | npt.NDArray[np.float64]  # arrays at scale: no float objects
    negatives: Sequence[float] | npt.NDArray[np.float64]


@contextmanager
def _figure(width: float, height: float) -> Iterator[Figure]:
    # matplotlib is imported when the first figure is drawn: a report's figures are drawn
    # after its HTML went to the typesetter (issue 18), so the import is off that path
    import matplotlib as mpl
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    with mpl.rc_context(_RC):  # type: ignore[arg-type]  # keys are valid rcParams
        figure = Figure(figsize=(width, height))
        FigureCanvasSVG(figure)
        yield figure


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "dxval report"})
    # the report embeds DejaVu Sans under its own family name, so that a system copy of
    # DejaVu (another version, other glyph IDs) is never picked; viewers without it fall back
    return flatten_groups(buffer.getvalue()).replace(
        "font-family: 'DejaVu Sans'", f"font-family: '{REPORT_FONT}', 'DejaVu Sans', sans-serif"
    )


_SVG_NAMESPACES = {
    "": "http://www.w3.org/2000/svg",
    "xlink": "http://www.w3.org/1999/xlink",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "cc": "http://creativecommons.org/ns#",
}
_GROUP = "{http://www.w3.org/2000/svg}g"
_REFERENCE = re.compile(r"#([^\s\"')]+)")  # href="#id", url(#id)


def flatten_groups(svg: str) -> str:
    """``svg`` without the groups that carry nothing but an ``id`` (their children in place).

    matplotlib wraps every artist in ``<g id="...">`` (a ROC figure has ~230
    of them); such a group draws nothing itself and has no transform, style
    or clip, so its children drawn in its place give the same picture (a
    group whose ID something refers to is kept). WeasyPrint cascades and
    draws every SVG node in Python, so the figures cost a fifth less to
    paint (issue 18). Comments and the document type declaration are dropped.
    """
    from xml.etree import ElementTree

    for prefix, uri in _SVG_NAMESPACES.items():
        ElementTree.register_namespace(prefix, uri)
    root = ElementTree.fromstring(svg)  # noqa: S314  # matplotlib's own output, not input
    _flatten(root, referenced=frozenset(_REFERENCE.findall(svg)))
    return '<?xml version="1.0" encoding="utf-8" standalone="no"?>\n' + ElementTree.tostring(
        root, encoding="unicode"
    )


def _flatten(element: Any, referenced: frozenset[str]) -> None:
    children: list[Any] = []
    for child in element:
        _flatten(child, referenced)
        if (
            child.tag == _GROUP
            and set(child.attrib) <= {"id"}
            and child.attrib.get("id") not in referenced
        ):
            children.extend(child)
        else:
            children.append(child)
    element[:] = children


def _roc_axes(axes: Axes, title: str) -> None:
    axes.plot([0, 1], [0, 1], color=GREY, linestyle=":", linewidth=0.8, label="Chance")
    axes.set_xlim(-0.01, 1.01)
    axes.set_ylim(-0.01, 1.01)
    axes.set_aspect("equal")
    axes.set_xlabel("1 − specificity (false-positive rate)")
    axes.set_ylabel("Sensitivity (true-positive rate)")
    axes.set_title(title, loc="left")


def _point(axes: Axes, mark: PointMark, colour: str, *, label: str | None) -> None:
    def error(value: float, low: float | None, high: float | None) -> list[list[float]] | None:
        if low is None or high is None:
            return None
        return [[max(value - low, 0.0)], [max(high - value, 0.0)]]

    axes.errorbar(
        [mark.false_positive_rate],
        [mark.true_positive_rate],
        xerr=error(mark.false_positive_rate, mark.fpr_low, mark.fpr_high),
        yerr=error(mark.true_positive_rate, mark.tpr_low, mark.tpr_high),
        fmt="o",
        markersize=4.5,
        markerfacecolor="white",
        markeredgecolor=colour,
        color=colour,
        elinewidth=0.9,
        capsize=2,
        zorder=5,
        label=label,
    )


def _band_segments(band: Band) -> Iterator[tuple[list[float], list[float], list[float]]]:
    """Runs of consecutive points where both bounds are defined."""
    run: tuple[list[float], list[float], list[float]] = ([], [], [])
    for x, low, high in zip(band.false_positive_rate, band.low, band.high, strict=True):
        if low is None or high is None:
            if run[0]:
                yield run
            run = ([], [], [])
            continue
        run[0].append(x)
        run[1].append(low)
        run[2].append(high)
    if run[0]:
        yield run


def roc_figure(plot: RocPlot) -> str:
    """Two ROC panels: all cases (band, operating point) and one curve per site; SVG text."""
    with _figure(7.0, 3.55) as figure:
        left, right = figure.subplots(1, 2)
        _roc_axes(left, "All cases")
        if plot.band is not None:
            for index, (x, low, high) in enumerate(_band_segments(plot.band)):
                left.fill_between(
                    x,
                    low,
                    high,
                    step=None,
                    color=SKY,
                    alpha=0.35,
                    linewidth=0,
                    label=plot.band.label if index == 0 else None,
                )
        if plot.overall is not None:
            left.plot(
                plot.overall.false_positive_rate,
                plot.overall.true_positive_rate,
                color=BLUE,
                label=plot.overall.label,
            )
        if plot.overall_point is not None:
            _point(left, plot.overall_point, VERMILLION, label=plot.overall_point.label)
        left.legend(loc="lower right", frameon=True, framealpha=0.9)
        _roc_axes(right, "By site")
        for index, curve in enumerate(plot.sites):
            colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
            right.plot(
                curve.false_positive_rate, curve.true_positive_rate, color=colour, label=curve.label
            )
        for index, mark in enumerate(plot.site_points):
            _point(right, mark, SERIES_COLOURS[index % len(SERIES_COLOURS)], label=None)
        right.legend(loc="lower right", frameon=True, framealpha=0.9)
        figure.subplots_adjust(left=0.08, right=0.99, bottom=0.13, top=0.93, wspace=0.28)
        return _svg(figure)


_TICK_STEPS = (0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0)


def forest_limits(plot: ForestPlot, panel: int) -> tuple[float, float, float]:
    """Axis limits and tick step of one forest panel: every interval end, threshold and
    reference inside, with a margin, so no interval is clipped at the plot edge.

    The step is the smallest of 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1 giving at
    most five ticks; ticks are its multiples, so they read as round numbers.
    """
    values: list[float] = []
    for row in plot.rows:
        value = row.values[panel] if row.values else None
        if value is not None and value.estimate is not None:
            values += [v for v in (value.estimate, value.low, value.high) if v is not None]
        if (threshold := row.threshold(panel)) is not None:
            values.append(threshold)
    if plot.references[panel] is not None:
        values.append(plot.references[panel])  # type: ignore[arg-type]  # checked just above
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high - low < 0.05:
        low, high = low - 0.025, high + 0.025
    step = next((s for s in _TICK_STEPS if (high - low) / s <= 4.0), 1.0)
    margin = 0.06 * (high - low)
    return low - margin, high + margin, step


def _forest_axis(axes: Axes, plot: ForestPlot, panel: int) -> None:
    low, high, step = forest_limits(plot, panel)
    axes.set_xlim(low, high)
    first = math.ceil(round(low / step, 9)) * step
    ticks = [first + index * step for index in range(int((high - first) / step + 1e-9) + 1)]
    axes.set_xticks(ticks)
    axes.set_xticklabels([f"{tick:.10g}" if abs(tick) > 1e-12 else "0" for tick in ticks])


def forest_figure(plot: ForestPlot) -> str:
    """Forest plot: a panel per metric, a row per population, intervals as lines; SVG text.

    Flagged estimates (insufficient N) are drawn with hollow grey markers; the
    dashed grey line in each panel is the all-cases estimate; a vermilion mark
    across a row is the acceptance threshold of a criterion judged on it.
    """
    count = len(plot.rows)
    height = 0.62 + 0.19 * count
    with _figure(7.0, height) as figure:
        panels = figure.subplots(1, len(plot.titles), sharey=True, squeeze=False)[0]
        positions = list(range(count))[::-1]
        for index, (axes, title) in enumerate(zip(panels, plot.titles, strict=True)):
            axes.set_title(title, loc="left")
            _forest_axis(axes, plot, index)
            axes.set_ylim(-0.7, count - 0.3)
            axes.grid(axis="y", visible=False)
            reference = plot.references[index]
            if reference is not None:
                axes.axvline(reference, color=GREY, linestyle="--", linewidth=0.7)
            for row, y in zip(plot.rows, positions, strict=True):
                threshold = row.threshold(index)
                if threshold is not None:
                    axes.plot(
                        [threshold, threshold],
                        [y - 0.45, y + 0.45],
                        color=VERMILLION,
                        linewidth=1.3,
                    )
                value = row.values[index] if row.values else None
                if row.header or value is None or value.estimate is None:
                    continue
                flagged = row.flagged_in(index)
                colour = GREY if flagged else BLUE
                if value.low is not None and value.high is not None:
                    axes.plot([value.low, value.high], [y, y], color=colour, linewidth=1.1)
                axes.plot(
                    [value.estimate],
                    [y],
                    marker="s",
                    markersize=3.6,
                    color=colour,
                    markerfacecolor="white" if flagged else colour,
                    linestyle="none",
                )
        first = panels[0]
        first.set_yticks(positions)
        first.set_yticklabels([row.label for row in plot.rows])
        for tick, row in zip(first.get_yticklabels(), plot.rows, strict=True):
            if row.header:
                tick.set_fontweight("bold")
            elif row.flagged or any(row.flags):
                tick.set_color("#555555")
        first.tick_params(axis="y", length=0)
        figure.subplots_adjust(
            left=0.25, right=0.985, bottom=0.42 / height, top=1 - 0.3 / height, wspace=0.12
        )
        return _svg(figure)


def reliability_figure(points: Sequence[ReliabilityPoint], *, title: str) -> str:
    """Reliability diagram (observed fraction against mean predicted probability per bin).

    The lower panel shows the number of cases per bin, printed on each bar;
    empty bins have no point.
    """
    with _figure(3.3, 3.3) as figure:
        top, bottom = figure.subplots(
            2, 1, sharex=True, gridspec_kw={"height_ratios": [3.2, 1.0], "hspace": 0.08}
        )
        top.plot([0, 1], [0, 1], color=GREY, linestyle=":", linewidth=0.8, label="Perfect")
        shown = [
            p for p in points if p.mean_predicted is not None and p.observed_fraction is not None
        ]
        top.plot(
            [p.mean_predicted for p in shown],
            [p.observed_fraction for p in shown],
            marker="o",
            markersize=3.5,
            color=BLUE,
            label="Observed",
        )
        top.set_xlim(0, 1)
        top.set_ylim(0, 1)
        top.set_ylabel("Observed fraction positive")
        top.set_title(title, loc="left")
        top.legend(loc="upper left")
        centres = [(p.lower + p.upper) / 2 for p in points]
        widths = [(p.upper - p.lower) * 0.9 for p in points]
        bars = bottom.bar(
            centres, [p.count for p in points], width=widths, color=SKY, edgecolor=BLUE
        )
        bottom.bar_label(bars, fontsize=5.5, padding=1)
        bottom.set_ylim(0, max([p.count for p in points], default=0) * 1.3 + 1)
        bottom.set_xlabel("Mean predicted probability")
        bottom.set_ylabel("Cases")
        figure.subplots_adjust(left=0.19, right=0.97, bottom=0.12, top=0.93)
        return _svg(figure)


def _bin_edges(panels: Sequence[ScorePanel], threshold: float) -> list[float]:
    sides = [
        array
        for panel in panels
        for side in (panel.positives, panel.negatives)
        if (array := np.asarray(side, dtype=np.float64)).size
    ]
    low = min([threshold, *(float(side.min()) for side in sides)])
    high = max([threshold, *(float(side.max()) for side in sides)])
    if low == high:
        low, high = low - 0.5, high + 0.5
    step = (high - low) / 30
    return [low + step * index for index in range(31)]


def score_figure(panels: Sequence[ScorePanel], *, threshold: float) -> str:
    """Histograms of the scores of positive and negative cases per population; SVG text.

    The dashed line is the operating point (positive call ⇔ score ≥ threshold).
    """
    from matplotlib import ticker

    columns = 2 if len(panels) > 1 else 1
    rows = math.ceil(len(panels) / columns)
    edges = _bin_edges(panels, threshold)
    height = 0.75 + 1.85 * rows
    with _figure(7.0, height) as figure:
        grid = figure.subplots(rows, columns, squeeze=False, sharex=True)
        for index, axes in enumerate(grid.flat):
            if index >= len(panels):
                axes.set_visible(False)
                continue
            panel = panels[index]
            # arrays: matplotlib walks a tuple element by element (minutes at 1e6 cases)
            negatives = np.asarray(panel.negatives, dtype=np.float64)
            positives = np.asarray(panel.positives, dtype=np.float64)
            axes.hist(negatives, bins=edges, histtype="stepfilled", alpha=0.35, color=BLUE)
            axes.hist(negatives, bins=edges, histtype="step", color=BLUE, label="Negative")
            axes.hist(positives, bins=edges, histtype="stepfilled", alpha=0.3, color=ORANGE)
            axes.hist(positives, bins=edges, histtype="step", color=VERMILLION, label="Positive")
            axes.axvline(threshold, color="#000000", linestyle="--", linewidth=0.8)
            axes.set_title(panel.title, loc="left")
            axes.set_ylabel("Cases")
            axes.xaxis.set_major_locator(ticker.MaxNLocator(nbins=6))
            if index >= len(panels) - columns:
                axes.set_xlabel("Score (dashed: operating point)")
                axes.xaxis.set_tick_params(labelbottom=True)
        handles, labels = grid.flat[0].get_legend_handles_labels()
        figure.legend(
            handles,
            [f"Reference {label.lower()}" for label in labels],
            loc="upper right",
            ncols=2,
            frameon=False,
        )
        figure.subplots_adjust(
            left=0.08, right=0.99, bottom=0.5 / height, top=1 - 0.42 / height, hspace=0.5
        )
        figure.subplots_adjust(wspace=0.18)
        return _svg(figure)
