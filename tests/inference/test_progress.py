"""Progress on stderr: plain periodic lines without a terminal, a redrawn bar with one."""

from __future__ import annotations

import io

from dxval.inference import Progress
from dxval.inference.progress import format_duration


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_every_interval_with_rate_and_eta() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress(100, stream=stream, interactive=False, interval=10.0, clock=clock)
    clock.now = 5.0
    progress.update(done=10)
    assert stream.getvalue() == ""  # not yet 10 s
    clock.now = 10.0
    progress.update(done=10, failed=1, cached=3)
    assert stream.getvalue() == (
        "dxval: inference 20/100 (20%), 2.0 cases/s, ETA 0:40, elapsed 0:10, "
        "1 failed, 3 from cache\n"
    )
    clock.now = 50.0
    progress.update(done=80)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[-1].startswith("dxval: inference 100/100 (100%), 2.0 cases/s, elapsed 0:50")
    assert "\r" not in stream.getvalue()


def test_terminal_redraws_one_line_with_a_bar() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress(8, stream=stream, interactive=True, clock=clock)
    clock.now = 1.0
    progress.update(done=4)
    assert stream.getvalue().startswith("\r\x1b[2K[############............] dxval: inference 4/8")
    progress.close()
    assert stream.getvalue().endswith("\n")


def test_unknown_total_has_no_eta_and_disabled_is_silent() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress(None, stream=stream, interactive=False, interval=0.0, clock=clock)
    clock.now = 2.0
    progress.update(done=3)
    assert "ETA" not in stream.getvalue()
    assert stream.getvalue().startswith("dxval: inference 3, 1.5 cases/s")
    quiet = io.StringIO()
    silent = Progress(3, stream=quiet, enabled=False, clock=clock)
    silent.update(done=3)
    silent.close()
    assert quiet.getvalue() == ""


def test_format_duration() -> None:
    assert format_duration(0) == "0:00"
    assert format_duration(59.6) == "1:00"
    assert format_duration(3725) == "1:02:05"
