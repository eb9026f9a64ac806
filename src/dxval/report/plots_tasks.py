"""Figures of the detection and segmentation report sections (SVG text, from bundle values).

No statistic is computed here: the FROC points and band come from
``detection.json``, the per-case values from ``segmentation.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dxval.report.plots import (
    _figure,
    _svg,
)

BLUE = "#1f3a5f"
SITE_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")


@dataclass(frozen=True, slots=True)
class FrocLine:
    """One FROC curve: FP per image (x) and lesion sensitivity (y) at each threshold."""

    label: str
    fp_per_image: tuple[float, ...]
    sensitivity: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class FrocPlot:
    """All-cases curve with its pointwise band, the sites' curves and the operating point."""

    overall: FrocLine
    band_rates: tuple[float, ...]
    band_low: tuple[float | None, ...]
    band_high: tuple[float | None, ...]
    sites: tuple[FrocLine, ...]
    operating: tuple[float, float] | None
    level: str


def _steps(line: FrocLine) -> tuple[list[float], list[float]]:
    return list(line.fp_per_image), list(line.sensitivity)


def froc_figure(plot: FrocPlot) -> str:
    """Two panels: all cases with band and operating point; one curve per site. SVG text."""
    with _figure(7.0, 3.2) as figure:
        left, right = figure.subplots(1, 2, sharey=True)
        x, y = _steps(plot.overall)
        band = [
            (rate, low, high)
            for rate, low, high in zip(plot.band_rates, plot.band_low, plot.band_high, strict=True)
            if low is not None and high is not None
        ]
        if band:
            left.fill_between(
                [b[0] for b in band], [b[1] for b in band], [b[2] for b in band],
                step="post", color=BLUE, alpha=0.15, linewidth=0,
                label=f"{plot.level} pointwise band",
            )  # fmt: skip
        left.step(x, y, where="post", color=BLUE, linewidth=1.3, label="All cases")
        if plot.operating is not None:
            left.plot(
                *plot.operating, "o", color=BLUE, markerfacecolor="white", label="Operating point"
            )
        left.set_title("All cases", loc="left")
        for index, line in enumerate(plot.sites):
            x, y = _steps(line)
            colour = SITE_COLOURS[index % len(SITE_COLOURS)]
            right.step(x, y, where="post", color=colour, linewidth=1.1, label=line.label)
        right.set_title("By site", loc="left")
        limit = max([*plot.overall.fp_per_image, 1.0]) * 1.05
        for axes in (left, right):
            axes.set_xlim(0, limit)
            axes.set_ylim(-0.01, 1.01)
            axes.set_xlabel("False positives per image")
            axes.legend(loc="lower right", fontsize=6.5, frameon=False)
        left.set_ylabel("Lesion-level sensitivity")
        figure.tight_layout()
        return _svg(figure)


@dataclass(frozen=True, slots=True)
class DistributionPanel:
    """Per-case values of one metric of one structure, grouped by site."""

    title: str
    groups: tuple[tuple[str, tuple[float, ...]], ...]


def distribution_figure(panels: Sequence[DistributionPanel]) -> str:
    """Box plots with the individual cases over them, one panel per metric. SVG text."""
    with _figure(7.0, 2.6 * ((len(panels) + 1) // 2)) as figure:
        grid = figure.subplots((len(panels) + 1) // 2, 2, squeeze=False)
        for axes, panel in zip(grid.flat, panels, strict=False):
            labels = [label for label, _ in panel.groups]
            values = [list(group) for _, group in panel.groups]
            positions = list(range(1, len(values) + 1))
            shown = [(p, v) for p, v in zip(positions, values, strict=True) if v]
            if shown:
                axes.boxplot(
                    [v for _, v in shown], positions=[p for p, _ in shown], widths=0.5,
                    showfliers=False, medianprops={"color": BLUE},
                )  # fmt: skip
            for position, group in zip(positions, values, strict=True):
                offsets = [position + 0.18 * ((i % 5) - 2) / 2 for i in range(len(group))]
                axes.plot(offsets, group, ".", color="#57606a", markersize=3, alpha=0.8)
            axes.set_xticks(positions, labels)
            axes.set_title(panel.title, loc="left")
        for axes in list(grid.flat)[len(panels) :]:
            axes.set_visible(False)
        figure.tight_layout()
        return _svg(figure)
