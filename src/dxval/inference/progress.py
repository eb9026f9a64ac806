"""Progress of a long run on stderr: a live bar on a terminal, plain periodic lines in CI logs."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["Progress", "format_duration"]


def format_duration(seconds: float) -> str:
    """``h:mm:ss`` or ``m:ss`` for a non-negative duration."""
    whole = round(max(seconds, 0.0))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Counts finished cases and reports rate and ETA.

    Parameters
    ----------
    total:
        Number of cases, when known (no ETA otherwise).
    label:
        What is being counted, e.g. ``"inference"``.
    stream:
        Where to write (default stderr).
    enabled:
        False silences it.
    interactive:
        Redraw one line in place; default: whether ``stream`` is a terminal.
    interval:
        Seconds between plain lines when not interactive (bar redraws are 0.2 s apart).
    clock:
        Monotonic clock (tests pass a fake one).
    """

    def __init__(
        self,
        total: int | None,
        *,
        label: str = "inference",
        stream: TextIO | None = None,
        enabled: bool = True,
        interactive: bool | None = None,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        is_terminal = getattr(self.stream, "isatty", lambda: False)()
        self.interactive = is_terminal if interactive is None else interactive
        self.interval = 0.2 if self.interactive else interval
        self._clock = clock
        self._start = clock()
        self._last = self._start
        self.done = 0
        self.failed = 0
        self.cached = 0

    def update(self, *, done: int = 0, failed: int = 0, cached: int = 0) -> None:
        """Add finished cases (``done`` counts all of them, failed and cached included)."""
        self.done += done
        self.failed += failed
        self.cached += cached
        now = self._clock()
        if self.enabled and now - self._last >= self.interval:
            self._last = now
            self._emit(now, final=False)

    def close(self) -> None:
        """Write the final line."""
        if self.enabled:
            self._emit(self._clock(), final=True)

    def line(self, now: float) -> str:
        """The status text at time ``now``."""
        elapsed = max(now - self._start, 1e-9)
        rate = self.done / elapsed
        parts = [f"{self.done}/{self.total}" if self.total is not None else f"{self.done}"]
        if self.total:
            parts[0] += f" ({100.0 * self.done / self.total:.0f}%)"
        parts.append(f"{rate:.1f} cases/s")
        if self.total is not None and rate > 0 and self.done < self.total:
            parts.append(f"ETA {format_duration((self.total - self.done) / rate)}")
        parts.append(f"elapsed {format_duration(elapsed)}")
        parts.append(f"{self.failed} failed, {self.cached} from cache")
        return f"dxval: {self.label} " + ", ".join(parts)

    def _bar(self) -> str:
        if not self.total:
            return ""
        width = 24
        filled = min(width, int(width * self.done / self.total))
        return "[" + "#" * filled + "." * (width - filled) + "] "

    def _emit(self, now: float, *, final: bool) -> None:
        if self.interactive:
            end = "\n" if final else ""
            self.stream.write("\r\x1b[2K" + self._bar() + self.line(now) + end)
        else:
            self.stream.write(self.line(now) + "\n")
        self.stream.flush()
