"""monitor.yaml: defaults, overrides, errors naming the file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from dxval.analysis.monitoring import AlertThresholds
from dxval.errors import DxvalError
from dxval.monitor import Window
from dxval.pipeline.monitor import alert_thresholds
from dxval.protocol.monitoring import load_config


def test_defaults_are_the_documented_ones() -> None:
    loaded = load_config(None)
    assert loaded.raw_bytes is None
    assert loaded.config.window is Window.WEEK
    assert loaded.config.score_range == (0.0, 1.0)
    assert alert_thresholds(loaded.config) == AlertThresholds()


def test_overrides_and_switching_rules_off(tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text(
        "monitor: 1\nwindow: month\nscore_range: [0, 100]\nmin_window_n: 50\n"
        "score_drift: {psi_max: null, ks_alpha: 0.01, wasserstein_max: 0.05}\n"
        "performance: {criteria: true}\n"
    )
    loaded = load_config(path)
    assert loaded.raw_bytes == path.read_bytes()
    thresholds = alert_thresholds(loaded.config)
    assert loaded.config.window is Window.MONTH
    assert loaded.config.score_range == (0.0, 100.0)
    assert thresholds.psi_max is None
    assert thresholds.ks_alpha == 0.01
    assert thresholds.wasserstein_max == 0.05
    assert thresholds.criteria is True
    assert thresholds.min_window_n == 50


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("monitor: 2\n", "expected 1"),
        ("window: fortnight\n", "window: got 'fortnight' expected day, week, month or all"),
        ("score_drift: {psi_max: -1}\n", r"score_drift\.psi_max"),
        ("score_drift: {psi_bins: '10'}\n", r"score_drift\.psi_bins"),
        ("alerts: {}\n", "alerts"),
        ("score_range: [1, 0]\n", "expected low < high"),
        ("- a list\n", "expected a mapping"),
        ("a: [\n", "YAML syntax error"),
        ("a: &x [1, 2]\nb: *x\nwindow: week\nmonitor: 1.5\n", "monitor"),
    ],
)
@pytest.mark.req("DXV-MON-005")
def test_invalid_configuration_names_file_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text(text)
    with pytest.raises(DxvalError, match=message) as caught:
        load_config(path)
    assert str(path) in str(caught.value)
    assert caught.value.exit_code == 2
