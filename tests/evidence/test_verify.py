"""verify: every changed, missing or extra file of a bundle is named; the chain is checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from dxval.cli import main
from dxval.errors import UsageError
from dxval.evidence import verify_bundle

FILES = [
    "MANIFEST.sha256",
    "audit.jsonl",
    "cases.csv",
    "criteria.json",
    "environment.json",
    "lock.json",
    "metrics.json",
    "protocol.yaml",
    "run.json",
]


def _flip(path: Path, offset: int) -> None:
    content = bytearray(path.read_bytes())
    content[offset] ^= 0x01
    path.write_bytes(bytes(content))


@pytest.mark.req("DXV-EVID-003")
def test_intact_bundle(bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = verify_bundle(bundle)
    assert report.intact
    assert report.files_checked == len(FILES) - 1
    assert main(["verify", str(bundle)]) == 0
    assert "intact (8 files, audit chain unbroken)" in capsys.readouterr().out


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("where", ["first", "middle"])
@pytest.mark.req("DXV-EXIT-004", "DXV-EVID-003")
def test_one_flipped_byte_in_any_file_is_named(
    bundle: Path, name: str, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bundle / name
    _flip(path, 0 if where == "first" else path.stat().st_size // 2)
    assert main(["verify", str(bundle)]) == 3
    captured = capsys.readouterr()
    assert f"dxval: error: {bundle}: " in captured.err
    assert name in captured.err
    assert name in captured.out


def test_changed_file_is_told_apart_from_a_changed_manifest_entry(bundle: Path) -> None:
    _flip(bundle / "cases.csv", 10)
    problems = [str(problem) for problem in verify_bundle(bundle).problems]
    assert len(problems) == 1
    assert problems[0].startswith("changed: cases.csv (audit.jsonl's sealing records ")
    assert "MANIFEST.sha256 lists " in problems[0]


def test_altered_manifest_entry_is_named(bundle: Path) -> None:
    manifest = bundle / "MANIFEST.sha256"
    lines = manifest.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.endswith("  metrics.json\n"))
    lines[index] = ("0" if lines[index][0] != "0" else "1") + lines[index][1:]
    manifest.write_text("".join(lines))
    problems = [str(problem) for problem in verify_bundle(bundle).problems]
    assert problems == [
        "changed: MANIFEST.sha256 (entry for metrics.json altered; the file matches the digest"
        " in audit.jsonl's sealing)"
    ]


def test_run_json_has_no_second_record(bundle: Path) -> None:
    _flip(bundle / "run.json", 5)
    (problem,) = verify_bundle(bundle).problems
    assert problem.path == "run.json or its entry in MANIFEST.sha256"


@pytest.mark.parametrize("name", FILES[1:])
@pytest.mark.req("DXV-EVID-003")
def test_removed_file_is_missing(
    bundle: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (bundle / name).unlink()
    assert main(["verify", str(bundle)]) == 3
    assert f"missing: {name} (required in every bundle)" in capsys.readouterr().out


def test_removed_manifest(bundle: Path) -> None:
    (bundle / "MANIFEST.sha256").unlink()
    (problem,) = verify_bundle(bundle).problems
    assert str(problem) == "missing: MANIFEST.sha256 (required in every bundle)"


@pytest.mark.req("DXV-EVID-003")
def test_added_files_are_extra(bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (bundle / "notes.txt").write_text("added later")
    (bundle / "figures").mkdir()
    (bundle / "figures" / "roc.svg").write_text("<svg/>")
    assert main(["verify", str(bundle)]) == 3
    out = capsys.readouterr().out
    assert "extra: figures/roc.svg (not listed in MANIFEST.sha256)" in out
    assert "extra: notes.txt (not listed in MANIFEST.sha256)" in out


@pytest.mark.req("DXV-AUDIT-002")
def test_audit_chain_break_is_reported(bundle: Path) -> None:
    audit = bundle / "audit.jsonl"
    lines = audit.read_bytes().split(b"\n")
    audit.write_bytes(b"\n".join([lines[0], *lines[2:]]))
    problems = [str(problem) for problem in verify_bundle(bundle).problems]
    assert problems[0].startswith("changed: audit.jsonl (run.json's audit_sha256 records ")
    assert (
        "audit: audit.jsonl (audit.jsonl line 2: chain broken (previous_sha256 does not match "
        "line 1))" in problems
    )


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"nothing: not a bundle folder"):
        verify_bundle(tmp_path / "nothing")
