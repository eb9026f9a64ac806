"""Geometry of the requirement page's trend chart."""

from __future__ import annotations

import pytest

from dxval.serve.trend import HEIGHT, TrendPoint, build_trend


@pytest.mark.req("DXV-SERVE-007")
def test_points_are_placed_in_order_and_the_criterion_line_steps_with_the_required_value() -> None:
    trend = build_trend(
        "auc, point estimate, all cases",
        [
            TrendPoint("run-1", 0.80, 0.70, True),
            TrendPoint("run-2", None, 0.70, False),
            TrendPoint("run-3", 0.60, 0.75, False),
        ],
    )
    first, undefined, last = trend.points
    assert first.x < undefined.x < last.x
    assert first.y < last.y  # higher value, higher on the canvas (smaller y)
    assert undefined.observed is None
    assert undefined.y == trend.plot_bottom  # marked on the axis, never drawn as a value
    assert trend.observed_line == f"{first.x},{first.y} {last.x},{last.y}"
    heights = [float(pair.split(",")[1]) for pair in trend.criterion_line.split()]
    assert heights[0] == heights[1] == heights[2] == heights[3]  # 0.70 for runs 1 and 2
    assert heights[4] == heights[5] < heights[0]  # 0.75 for run 3: a step up
    assert [label for _, label in trend.x_labels] == ["run-1", "run-3"]
    assert all(0 <= y <= HEIGHT for y, _ in trend.y_ticks)


@pytest.mark.req("DXV-SERVE-007")
def test_one_run_and_equal_values_still_give_a_readable_chart() -> None:
    (point,) = build_trend("x", [TrendPoint("only", 0.5, 0.5, True)]).points
    trend = build_trend("x", [TrendPoint("only", 0.5, 0.5, True)])
    assert trend.plot_left < point.x < trend.plot_right
    assert 0 < point.y < trend.plot_bottom
    assert len(trend.criterion_line.split()) == 2
