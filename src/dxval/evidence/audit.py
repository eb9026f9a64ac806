"""The hash-chained audit log ``audit.jsonl``.

One JSON object per line (keys sorted, no spaces), one line per step of a
run. Each line holds ``previous_sha256``, the SHA-256 of the previous line's
bytes (without its newline; 64 zeros for the first line), so removing,
reordering or editing a line breaks the chain at the line after it. Each
event records UTC time, user, host, action, object and reason, the
attributes an audit trail needs under 21 CFR 11.10(e).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

GENESIS = "0" * 64


def utc_now() -> str:
    """Current UTC time as ISO 8601 with a ``Z`` suffix and microseconds."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def current_user() -> str:
    """Login name of the user running dxval (``"unknown"`` when it cannot be found)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (some containers)
        return "unknown"


def current_host() -> str:
    """Host name of the machine running dxval."""
    return socket.gethostname() or "unknown"


#: Longest audit line dxval reads (1 MiB): dxval's own events are a few KiB; a longer line
#: is reported as malformed instead of being parsed.
MAX_LINE_BYTES = 1 << 20


def parse_event(line: bytes) -> Any:
    """One audit line parsed as JSON, or ``None`` when it is not valid JSON.

    Pathological lines (longer than :data:`MAX_LINE_BYTES`, or nested deeper
    than the parser's recursion limit) are ``None`` too, never an exception:
    ``verify`` must report a malformed log as an integrity problem, not crash.
    """
    if len(line) > MAX_LINE_BYTES:
        return None
    try:
        return json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def line_sha256(line: bytes) -> str:
    """SHA-256 of one audit line's bytes, without its newline."""
    return hashlib.sha256(line).hexdigest()


@dataclass
class AuditLog:
    """Events recorded in memory as a run proceeds, written into the bundle when sealed."""

    user: str = field(default_factory=current_user)
    host: str = field(default_factory=current_host)
    clock: Callable[[], str] = utc_now
    lines: list[bytes] = field(default_factory=list)

    def record(self, action: str, object_: Any, reason: str) -> None:
        """Append one event: ``action`` (e.g. ``locks.checked``), what it is about, and why."""
        event = {
            "action": action,
            "host": self.host,
            "object": object_,
            "previous_sha256": line_sha256(self.lines[-1]) if self.lines else GENESIS,
            "reason": reason,
            "sequence": len(self.lines) + 1,
            "time": self.clock(),
            "user": self.user,
        }
        text = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        self.lines.append(text.encode("utf-8"))

    def to_bytes(self) -> bytes:
        """The log as ``audit.jsonl`` bytes (one line per event, newline-terminated)."""
        return b"".join(line + b"\n" for line in self.lines)


def check_chain(content: bytes) -> list[str]:
    """Problems of an ``audit.jsonl`` chain: unparsable lines and broken links (empty if intact).

    Each problem names the 1-based line, e.g. ``audit.jsonl line 4: chain broken
    (previous_sha256 does not match line 3)``.
    """
    problems: list[str] = []
    previous = GENESIS
    lines = content.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    else:
        problems.append("audit.jsonl: last line is not newline-terminated")
    for number, line in enumerate(lines, start=1):
        event = parse_event(line)
        if event is None:
            problems.append(f"audit.jsonl line {number}: not a valid JSON event")
            previous = line_sha256(line)
            continue
        claimed = event.get("previous_sha256") if isinstance(event, dict) else None
        if claimed != previous:
            link = "the chain start" if number == 1 else f"line {number - 1}"
            problems.append(
                f"audit.jsonl line {number}: chain broken (previous_sha256 does not match {link})"
            )
        previous = line_sha256(line)
    return problems


def read_events(content: bytes) -> list[dict[str, Any]]:
    """Parse the events of an ``audit.jsonl`` (lines that are not JSON objects are skipped)."""
    events: list[dict[str, Any]] = []
    for line in content.splitlines():
        event = parse_event(line)
        if isinstance(event, dict):
            events.append(event)
    return events
