"""Figures: deterministic SVG, text kept as text in the report's font, no dates."""

from __future__ import annotations

import re

from dxval.report import plots

ROC = plots.RocPlot(
    overall=plots.Curve("All cases, AUC 0.800", (0.0, 0.0, 0.5, 1.0), (0.0, 0.5, 0.9, 1.0)),
    band=plots.Band("95% band", (1.0, 0.5, 0.0), (None, 0.7, 0.2), (None, 0.95, 0.6)),
    overall_point=plots.PointMark("Operating point", 0.2, 0.8, 0.1, 0.3, 0.7, 0.9),
    sites=(plots.Curve("Site A", (0.0, 1.0), (0.0, 1.0)),),
    site_points=(plots.PointMark("Site A", 0.3, 0.7, None, None, None, None),),
)


def test_svg_is_deterministic_without_dates() -> None:
    first, second = plots.roc_figure(ROC), plots.roc_figure(ROC)
    assert first == second
    assert "<dc:date>" not in first
    assert "dxval report" in first  # the fixed creator, not the matplotlib version


def test_text_is_text_in_the_report_font() -> None:
    svg = plots.roc_figure(ROC)
    assert re.search(r"<text[^>]*>Sensitivity \(true-positive rate\)</text>", svg)
    assert "font-family: 'dxval DejaVu Sans', 'DejaVu Sans', sans-serif" in svg
    assert "font-family: 'DejaVu Sans'" not in svg


def test_band_is_split_where_a_bound_is_undefined() -> None:
    band = plots.Band("b", (1.0, 0.8, 0.6, 0.4, 0.2), (0.1, None, 0.3, 0.4, 0.5), (1, 1, 1, 1, 1))
    segments = list(plots._band_segments(band))
    assert [segment[0] for segment in segments] == [[1.0], [0.6, 0.4, 0.2]]


def test_forest_reliability_and_score_figures_render() -> None:
    forest = plots.ForestPlot(
        ("Sensitivity", "ROC AUC"),
        (
            plots.ForestRow("Site", (), header=True),
            plots.ForestRow("Site A", (plots.Interval(0.8, 0.7, 0.9), None)),
            plots.ForestRow("Site B †", (plots.Interval(0.6, None, None), None), flagged=True),
        ),
        (0.75, None),
    )
    svg = plots.forest_figure(forest)
    assert ">Site B †</text>" in svg
    assert svg == plots.forest_figure(forest)
    points = [
        plots.ReliabilityPoint(0.0, 0.5, 3, 0.2, 0.3),
        plots.ReliabilityPoint(0.5, 1.0, 0, None, None),
    ]
    assert "Mean predicted probability" in plots.reliability_figure(points, title="All cases")
    panels = [plots.ScorePanel("All cases", (0.9, 0.8), (0.1,)), plots.ScorePanel("A", (), ())]
    svg = plots.score_figure(panels, threshold=0.5)
    assert "Reference positive" in svg
    assert "Score (dashed: operating point)" in svg
