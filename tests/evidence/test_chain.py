"""The one hash-chained JSONL implementation behind the evidence and test-set ledgers."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from dxval.errors import InputError, IntegrityError
from dxval.evidence import anchor, chain, ledger
from dxval.evidence.anchor import ANCHOR_LEDGER_NAME, AuditHead, read_anchors, record_anchor
from dxval.evidence.ledger import LEDGER_NAME, TestSetUse, read_ledger, record_test_set_uses


def _names(event: Any) -> str:
    return str(event["name"])


def _append(path: Path, *names: str) -> tuple[str, ...]:
    return chain.append_chain(path, [{"name": name} for name in names], _names, what="test chain")


@pytest.mark.req("DXV-INTEG-011")
def test_lines_are_sequenced_linked_and_canonical(tmp_path: Path) -> None:
    path = tmp_path / "root" / "chain.jsonl"
    assert chain.read_chain(path, _names) is None
    assert _append(path, "a", "b") == ("a", "b")
    assert _append(path, "c") == ("c",)
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    previous = "0" * 64
    for number, line in enumerate(lines[:-1], start=1):
        event = json.loads(line)
        assert (event["sequence"], event["previous_sha256"]) == (number, previous)
        assert line == json.dumps(event, sort_keys=True, separators=(",", ":")).encode()
        previous = hashlib.sha256(line).hexdigest()
    assert chain.read_chain(path, _names) == ["a", "b", "c"]


@pytest.mark.req("DXV-INTEG-011")
@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda lines: lines.__setitem__(1, lines[1].replace(b'"b"', b'"x"')), "line 3: chain"),
        (lambda lines: lines.pop(0), "line 1: chain broken"),
        (lambda lines: lines.insert(1, lines[0]), "line 2: chain broken"),
        (lambda lines: lines.__setitem__(1, b"[" * 100_000 + b"]" * 100_000), "line 2: not a"),
        (lambda lines: lines.__setitem__(1, b"[1, 2]"), "line 2: not a ledger entry"),
        (lambda lines: lines.__setitem__(1, b"\xff\xfe"), "line 2: not a ledger entry"),
    ],
    ids=["edit", "delete", "duplicate", "deep-json", "not-an-object", "not-utf8"],
)
def test_any_break_is_an_integrity_error_and_blocks_appends(
    tmp_path: Path, edit: Any, message: str
) -> None:
    path = tmp_path / "chain.jsonl"
    _append(path, "a", "b", "c")
    lines = path.read_bytes().split(b"\n")[:-1]
    edit(lines)
    content = b"".join(line + b"\n" for line in lines)
    path.write_bytes(content)
    with pytest.raises(IntegrityError, match=message):
        chain.read_chain(path, _names)
    with pytest.raises(IntegrityError, match=message):
        _append(path, "d")
    assert path.read_bytes() == content


@pytest.mark.req("DXV-INTEG-011")
def test_truncated_file_and_unwritable_folder(tmp_path: Path) -> None:
    path = tmp_path / "chain.jsonl"
    _append(path, "a")
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(IntegrityError, match="last line is not newline-terminated"):
        chain.read_chain(path, _names)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="cannot write the test chain"):
        _append(blocker / "root" / "chain.jsonl", "a")


@pytest.mark.req("DXV-INTEG-011")
def test_both_ledgers_use_the_shared_chain(tmp_path: Path) -> None:
    """One implementation: neither ledger module keeps a parser or writer of its own,
    and a ledger entry that is valid JSON but breaks the chain reads the same in both."""
    for module in (anchor, ledger):
        assert not hasattr(module, "_parse")
        assert "fsync" not in Path(module.__file__ or "").read_text(encoding="utf-8")
    record_anchor(
        tmp_path,
        event="sealed",
        protocol_id="P",
        run_id="r1",
        evidence_digest="d" * 64,
        audit=AuditHead(1, "e" * 64),
    )
    record_test_set_uses(
        tmp_path,
        [TestSetUse("site-a", "a" * 64, 10)],
        protocol_id="P",
        run_id="r1",
        model_sha256=None,
        predictions_sha256=None,
    )
    assert read_anchors(tmp_path) == tuple(
        chain.read_chain(tmp_path / ANCHOR_LEDGER_NAME, anchor._anchor) or ()
    )
    assert read_ledger(tmp_path)[0].run_id == "r1"
    for name in (ANCHOR_LEDGER_NAME, LEDGER_NAME):
        path = tmp_path / name
        event = json.loads(path.read_bytes())
        event["sequence"] = 2
        path.write_bytes(chain.encode(event) + b"\n")
    with pytest.raises(IntegrityError, match=f"{ANCHOR_LEDGER_NAME} line 1: chain broken"):
        read_anchors(tmp_path)
    with pytest.raises(IntegrityError, match=f"{LEDGER_NAME} line 1: chain broken"):
        read_ledger(tmp_path)
