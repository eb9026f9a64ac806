"""Geometry of the trend chart on the requirement page: observed value per run, criterion line.

Presentation only: the numbers come from each run's ``criteria.json``
(observed value and required value of the criterion) and are placed on an
inline SVG canvas here, so the template only draws. Runs are spaced evenly
in start-time order; a run whose observed value is undefined is marked on
the axis, never drawn as a number. The criterion line steps from run to run,
so a changed required value shows where it changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 220
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 16, 40


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One run's value of one criterion (``observed`` None when undefined)."""

    label: str
    observed: float | None
    required: float
    passed: bool


@dataclass(frozen=True, slots=True)
class PlottedPoint:
    """A point on the canvas with what it shows."""

    x: float
    y: float
    label: str
    observed: float | None
    required: float
    passed: bool


@dataclass(frozen=True, slots=True)
class Trend:
    """An SVG-ready chart: polylines as ``points`` attribute text, ticks and points."""

    title: str
    width: int
    height: int
    observed_line: str
    criterion_line: str
    points: tuple[PlottedPoint, ...]
    y_ticks: tuple[tuple[float, str], ...]
    x_labels: tuple[tuple[float, str], ...]
    plot_left: int
    plot_right: int
    plot_bottom: int


def _range(values: Sequence[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    pad = (high - low) * 0.08 if high > low else max(abs(high) * 0.05, 0.01)
    return low - pad, high + pad


def build_trend(title: str, points: Sequence[TrendPoint]) -> Trend:
    """Place ``points`` (oldest first) on the canvas with the criterion line."""
    values = [p.observed for p in points if p.observed is not None] + [p.required for p in points]
    low, high = _range(values) if values else (0.0, 1.0)
    right, bottom = WIDTH - _RIGHT, HEIGHT - _BOTTOM

    def y_of(value: float) -> float:
        return round(bottom - (value - low) / (high - low) * (bottom - _TOP), 2)

    step = (right - _LEFT) / max(len(points) - 1, 1)
    xs = [
        round(_LEFT + index * step if len(points) > 1 else (_LEFT + right) / 2, 2)
        for index in range(len(points))
    ]
    plotted = tuple(
        PlottedPoint(
            x,
            bottom if p.observed is None else y_of(p.observed),
            p.label,
            p.observed,
            p.required,
            p.passed,
        )
        for x, p in zip(xs, points, strict=True)
    )
    observed_line = " ".join(f"{p.x},{p.y}" for p in plotted if p.observed is not None)
    criterion: list[str] = []
    half = step / 2 if len(points) > 1 else (right - _LEFT) / 2
    for x, p in zip(xs, points, strict=True):
        y = y_of(p.required)
        criterion.append(f"{round(max(x - half, _LEFT), 2)},{y}")
        criterion.append(f"{round(min(x + half, right), 2)},{y}")
    ticks = tuple((y_of(v), f"{v:.3f}") for v in (low, (low + high) / 2, high))
    labels: tuple[tuple[float, str], ...] = ()
    if plotted:
        labels = ((plotted[0].x, plotted[0].label),)
        if len(plotted) > 1:
            labels += ((plotted[-1].x, plotted[-1].label),)
    return Trend(
        title=title,
        width=WIDTH,
        height=HEIGHT,
        observed_line=observed_line,
        criterion_line=" ".join(criterion),
        points=plotted,
        y_ticks=ticks,
        x_labels=labels,
        plot_left=_LEFT,
        plot_right=right,
        plot_bottom=bottom,
    )
