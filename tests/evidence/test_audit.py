"""The hash-chained audit log: every edit, removal or reordering breaks the chain."""

from __future__ import annotations

import json

from dxval.evidence import AuditLog, check_chain, read_events
from dxval.evidence.audit import GENESIS, line_sha256


def _log() -> AuditLog:
    times = iter(f"2026-01-01T00:00:0{i}.000000Z" for i in range(10))
    log = AuditLog(user="alice", host="ws-1", clock=lambda: next(times))
    log.record("protocol.loaded", {"sha256": "a" * 64}, "validate")
    log.record("locks.checked", {"test_sets[0].sha256": "b" * 64}, "every pin matches")
    log.record("bundle.sealed", {"files": {}}, "evidence complete")
    return log


def test_events_hold_time_user_host_and_previous_line_digest() -> None:
    content = _log().to_bytes()
    lines = content.split(b"\n")[:-1]
    events = [json.loads(line) for line in lines]
    assert events[0]["previous_sha256"] == GENESIS
    assert events[1]["previous_sha256"] == line_sha256(lines[0])
    assert events[2]["previous_sha256"] == line_sha256(lines[1])
    assert [event["sequence"] for event in events] == [1, 2, 3]
    assert events[1] == {
        "action": "locks.checked",
        "host": "ws-1",
        "object": {"test_sets[0].sha256": "b" * 64},
        "previous_sha256": line_sha256(lines[0]),
        "reason": "every pin matches",
        "sequence": 2,
        "time": "2026-01-01T00:00:01.000000Z",
        "user": "alice",
    }
    assert check_chain(content) == []
    assert read_events(content) == events


def test_edited_line_breaks_the_chain_at_the_next_line() -> None:
    content = _log().to_bytes().replace(b"every pin matches", b"every pin matched")
    assert check_chain(content) == [
        "audit.jsonl line 3: chain broken (previous_sha256 does not match line 2)"
    ]


def test_removed_and_reordered_lines_break_the_chain() -> None:
    lines = _log().to_bytes().split(b"\n")[:-1]
    removed = b"\n".join([lines[0], lines[2]]) + b"\n"
    assert check_chain(removed) == [
        "audit.jsonl line 2: chain broken (previous_sha256 does not match line 1)"
    ]
    first_removed = b"\n".join(lines[1:]) + b"\n"
    assert check_chain(first_removed)[0] == (
        "audit.jsonl line 1: chain broken (previous_sha256 does not match the chain start)"
    )


def test_garbage_and_truncation_are_reported() -> None:
    content = _log().to_bytes()
    assert check_chain(content[:-1]) == ["audit.jsonl: last line is not newline-terminated"]
    garbled = content.replace(b"{", b"[", 1)
    assert check_chain(garbled)[0] == "audit.jsonl line 1: not a valid JSON event"
