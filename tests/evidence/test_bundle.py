"""Writing bundles: atomic, complete layout, writable output checked before any work."""

from __future__ import annotations

import errno
import json
import subprocess
import tempfile
from pathlib import Path

import pytest

from dxval.errors import InputError
from dxval.evidence import (
    CONTENT_FILES,
    AuditLog,
    BundleWriter,
    check_chain,
    check_writable,
    json_bytes,
    new_run_id,
    read_events,
)
from dxval.evidence.manifest import parse_manifest

LAYOUT = sorted(
    [*CONTENT_FILES, "audit.jsonl", "run.json", "MANIFEST.sha256"],
)


@pytest.mark.req("DXV-EVID-001")
def test_layout_of_a_sealed_bundle(sealed_bundle: Path) -> None:
    assert sorted(path.name for path in sealed_bundle.iterdir()) == LAYOUT
    assert sealed_bundle.parent.name == "ASAH-EXAMPLE"
    assert sealed_bundle.name == "20260101T000000Z-abcdef"
    assert [p.name for p in sealed_bundle.parent.iterdir()] == [sealed_bundle.name]


@pytest.mark.req("DXV-EVID-001")
def test_sha256sum_checks_an_intact_bundle(sealed_bundle: Path) -> None:
    completed = subprocess.run(
        ["sha256sum", "-c", "--strict", "MANIFEST.sha256"],
        cwd=sealed_bundle,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.count(": OK") == len(LAYOUT) - 1


def test_sealing_records_second_digests(sealed_bundle: Path) -> None:
    audit = (sealed_bundle / "audit.jsonl").read_bytes()
    assert check_chain(audit) == []
    events = read_events(audit)
    assert [event["action"] for event in events] == [
        "protocol.loaded",
        "locks.checked",
        "test_sets.reuse_checked",
        "cases.read",
        "cases.scored",
        "analysis.completed",
        "bundle.sealed",
    ]
    manifest = parse_manifest((sealed_bundle / "MANIFEST.sha256").read_bytes()).entries
    sealed = events[-1]["object"]["files"]
    assert sorted(sealed) == sorted(CONTENT_FILES)
    assert all(manifest[name] == digest for name, digest in sealed.items())
    run = json.loads((sealed_bundle / "run.json").read_text())
    assert run["audit_sha256"] == manifest["audit.jsonl"]
    assert run["status"] == "complete"
    assert run["exit_code"] == 1


def _write_then_fail(root: Path) -> None:
    with BundleWriter(root, "P", "run-1") as writer:
        writer.write_json("metrics.json", {"a": 1})
        raise RuntimeError("boom")


@pytest.mark.req("DXV-EVID-002")
def test_failure_inside_the_writer_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        _write_then_fail(tmp_path)
    assert list((tmp_path / "P").iterdir()) == []


@pytest.mark.req("DXV-EVID-002")
def test_unsealed_writer_is_a_hidden_partial_folder(tmp_path: Path) -> None:
    with BundleWriter(tmp_path, "P", "run-1") as writer:
        writer.write_bytes("cases.csv", b"case_id\n")
        assert [p.name for p in (tmp_path / "P").iterdir()] == [".run-1.partial"]
        bundle = writer.seal(AuditLog(user="u", host="h"), {"run_id": "run-1"})
    assert bundle == tmp_path / "P" / "run-1"
    assert sorted(p.name for p in bundle.iterdir()) == [
        "MANIFEST.sha256",
        "audit.jsonl",
        "cases.csv",
        "run.json",
    ]


def test_json_bytes_is_deterministic_and_refuses_nan() -> None:
    assert (
        json_bytes({"b": 1, "a": [0.1, None]})
        == b'{\n  "b": 1,\n  "a": [\n    0.1,\n    null\n  ]\n}\n'
    )
    with pytest.raises(ValueError, match="Out of range float"):
        json_bytes({"a": float("nan")})


def test_run_ids_are_time_ordered_and_unique() -> None:
    first, second = new_run_id(), new_run_id()
    assert first != second
    assert len(first) == len("20261126T181500Z-3fa9c1")


@pytest.mark.req("DXV-VAL-004")
def test_output_under_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match=r"output folder .*file/evidence: .*file is not a folder"):
        check_writable(blocker / "evidence")


def test_output_folder_that_refuses_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(**_: object) -> str:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    with pytest.raises(InputError, match=r"output folder .* is not writable \(Permission denied\)"):
        check_writable(tmp_path / "new" / "evidence")


def test_writable_check_leaves_nothing_behind(tmp_path: Path) -> None:
    check_writable(tmp_path / "new" / "evidence")
    assert list(tmp_path.iterdir()) == []
