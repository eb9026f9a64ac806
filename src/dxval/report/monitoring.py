"""The monitoring report: time series per metric and the alerts, from ``monitoring.json``.

Reads a monitoring bundle (written by :mod:`dxval.pipeline.monitor`) and computes no
statistic: every number shown is a field of ``monitoring.json``. Renders
``report.html`` (self-contained) and ``report.pdf`` (PDF/A-2b, the bundled
fonts) with the same machinery as the validation report (jinja2 with
StrictUndefined and autoescape, WeasyPrint, deterministic SVG figures), from
a company's own template folder over the shipped ``templates/`` when one is given.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2

from dxval.errors import InputError
from dxval.evidence.format import MONITORING_NAME, RUN_NAME
from dxval.report.elements import FigureView, figure_view
from dxval.report.pdf import layout, write_pdf
from dxval.report.plots import BLUE, GREY, VERMILLION, _figure, _svg
from dxval.report.render import PRINT, SCREEN
from dxval.report.template_set import MONITORING_ROOTS, template_environment, template_error

MONITORING_TEMPLATE = MONITORING_ROOTS[0]
REPORT_NAME = "report.pdf"
HTML_NAME = "report.html"


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One window's value with its interval (any part may be missing)."""

    label: str
    estimate: float | None
    low: float | None = None
    high: float | None = None
    alert: bool = False


@dataclass(frozen=True, slots=True)
class TimeSeries:
    """One metric over the windows, with the baseline value/band and the alert threshold."""

    key: str
    title: str
    unit: str
    points: tuple[SeriesPoint, ...]
    reference: float | None = None
    reference_low: float | None = None
    reference_high: float | None = None
    threshold: float | None = None


def timeseries_figure(series: TimeSeries) -> str:
    """SVG of ``series``: points with intervals, baseline band, threshold, alerts in vermillion."""
    with _figure(6.6, 2.0) as figure:
        axes = figure.add_subplot(1, 1, 1)
        positions = list(range(len(series.points)))
        if series.reference_low is not None and series.reference_high is not None:
            axes.axhspan(series.reference_low, series.reference_high, color=GREY, alpha=0.15,
                         label="validated interval")  # fmt: skip
        if series.reference is not None:
            axes.axhline(series.reference, color=GREY, linewidth=0.9, label="validation")
        if series.threshold is not None:
            axes.axhline(series.threshold, color=VERMILLION, linestyle="--", linewidth=0.9,
                         label="alert threshold")  # fmt: skip
        for position, point in zip(positions, series.points, strict=True):
            if point.estimate is None:
                continue
            colour = VERMILLION if point.alert else BLUE
            error = None
            if point.low is not None and point.high is not None:
                error = [[point.estimate - point.low], [point.high - point.estimate]]
            axes.errorbar([position], [point.estimate], yerr=error, fmt="o", markersize=3.5,
                          color=colour, elinewidth=0.9, capsize=2)  # fmt: skip
        axes.set_xticks(positions)
        axes.set_xticklabels([point.label for point in series.points], rotation=45, ha="right")
        axes.set_title(series.title, loc="left")
        axes.set_ylabel(series.unit)
        if axes.get_legend_handles_labels()[0]:
            axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        figure.subplots_adjust(left=0.09, right=0.78, bottom=0.32, top=0.86)
        return _svg(figure)


def _alerted(window: dict[str, Any], *kinds: str, subject: str | None = None) -> bool:
    return any(
        alert["kind"] in kinds and (subject is None or alert["subject"] == subject)
        for alert in window["alerts"]
    )


def _series(document: dict[str, Any]) -> list[TimeSeries]:
    windows = document["windows"]
    thresholds = document["config"]["thresholds"]
    baseline = document["baseline"]
    labels = [window["label"] for window in windows]
    series = [
        TimeSeries(
            "psi",
            "Score drift: population stability index (baseline deciles)",
            "PSI",
            tuple(
                SeriesPoint(label, w["score_drift"]["psi"], alert=_alerted(w, "score_drift"))
                for label, w in zip(labels, windows, strict=True)
            ),
            threshold=thresholds["psi_max"],
        ),
        TimeSeries(
            "ks",
            "Score drift: two-sample Kolmogorov-Smirnov D",
            "D",
            tuple(
                SeriesPoint(
                    label, w["score_drift"]["ks"]["statistic"], alert=_alerted(w, "score_drift")
                )
                for label, w in zip(labels, windows, strict=True)
            ),
            threshold=thresholds["ks_min_statistic"],
        ),
        TimeSeries(
            "wasserstein",
            "Score drift: Wasserstein distance (score units)",
            "W1",
            tuple(
                SeriesPoint(label, w["score_drift"]["wasserstein"])
                for label, w in zip(labels, windows, strict=True)
            ),
            threshold=thresholds["wasserstein_max"],
        ),
    ]
    rate = baseline["positive_rate"]
    series.append(
        TimeSeries(
            "positive-rate",
            f"Positive rate at the operating point {baseline['operating_point']:g}",
            "fraction",
            tuple(
                SeriesPoint(
                    label,
                    w["positive_rate"]["estimate"],
                    w["positive_rate"]["low"],
                    w["positive_rate"]["high"],
                    _alerted(w, "positive_rate"),
                )
                for label, w in zip(labels, windows, strict=True)
            ),
            rate["estimate"],
            rate["low"],
            rate["high"],
        )
    )
    for metric, validated in baseline["validated"].items():
        points = []
        for label, w in zip(labels, windows, strict=True):
            value = w["performance"]["metrics"].get(metric)
            points.append(
                SeriesPoint(label, None)
                if value is None
                else SeriesPoint(
                    label,
                    value["estimate"],
                    value["low"],
                    value["high"],
                    _alerted(w, "performance", subject=metric),
                )
            )
        series.append(
            TimeSeries(
                metric,
                f"{metric.capitalize() if metric != 'auc' else 'AUC'} on the adjudicated rows",
                metric,
                tuple(points),
                validated["estimate"],
                validated["low"],
                validated["high"],
            )
        )
    return series


@dataclass(frozen=True, slots=True)
class MonitoringView:
    """What the monitoring template shows."""

    document: dict[str, Any]
    run: dict[str, Any]
    figures: tuple[FigureView, ...]
    attributes: tuple[str, ...]
    pdf: bool


def _read_json(folder: Path, name: str) -> Any:
    path = folder / name
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError as error:
        raise InputError(f"{path}: missing; expected a monitoring bundle") from error
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{path}: not readable JSON ({error})") from error


def build_view(folder: Path, *, pdf: bool) -> MonitoringView:
    """The view of the monitoring bundle at ``folder``."""
    document = _read_json(folder, MONITORING_NAME)
    run = _read_json(folder, RUN_NAME)
    figures = tuple(
        figure_view(
            number,
            f"monitoring-{series.key}",
            title=series.title,
            caption=f"{series.title} per {document['window']} window; vermillion points "
            "raised an alert; grey line and band: the validation baseline.",
            alt=f"Time series of {series.title}",
            svg=timeseries_figure(series),
        )
        for number, series in enumerate(_series(document), start=1)
    )
    names = sorted({name for w in document["windows"] for name in w["attributes"]})
    return MonitoringView(document, run, figures, tuple(names), pdf)


def _moment(run: dict[str, Any]) -> datetime:
    stamp = str(run["started_utc"]).removesuffix("Z").split(".")[0]
    return datetime.fromisoformat(stamp).replace(tzinfo=timezone.utc)


def render_monitoring_reports(
    folder: str | Path, *, templates: Path | None = None
) -> Sequence[Path]:
    """Write ``report.html``, ``report.pdf`` and ``figures/*.svg`` into the monitoring bundle.

    ``templates``: a folder of templates used over the shipped ones (a file
    it lacks falls back to the shipped one; fonts and images likewise).

    Raises
    ------
    InputError
        ``monitoring.json`` or ``run.json`` is missing or malformed.
    TemplateError
        A custom template fails (syntax error, a name the view does not have):
        file and line named (exit 2).
    """
    folder = Path(folder)
    screen = build_view(folder, pdf=False)
    printed = build_view(folder, pdf=True)
    moment = _moment(printed.run)
    environment = template_environment(templates)
    try:
        template = environment.get_template(MONITORING_TEMPLATE)
        html = template.render(view=screen, target=SCREEN)
        printed_html = template.render(view=printed, target=PRINT)
    except jinja2.TemplateError as error:
        raise template_error(error, templates) or error from None
    document = layout(printed_html, moment, templates)
    outputs = {
        HTML_NAME: html.encode("utf-8"),
        REPORT_NAME: write_pdf(document, variant="pdf/a-2b", attachments=[], moment=moment),
        **{figure.filename: figure.svg.encode("utf-8") for figure in screen.figures},
    }
    written = []
    for name, content in outputs.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_bytes(content)
        os.replace(temporary, path)
        written.append(path)
    return sorted(written)
