"""Issue 11: evidence that cannot be quietly edited (findings 1, 7, 10, 12, 13).

Each test alters a bundle as a writer with full access would and checks
that ``dxval verify`` (or the command that renders from the bundle) exits 3
naming what changed, or, where a bundle alone cannot tell, that the anchor
outside it (the evidence ledger, ``--expect-digest``) does.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from dxval.cli import main
from dxval.errors import ExitCode, InputError
from dxval.evidence import verify_bundle
from dxval.evidence.anchor import ANCHOR_LEDGER_NAME, read_anchors
from dxval.evidence.ledger import read_ledger
from dxval.evidence.signatures import evidence_digest
from dxval.pipeline import run_validation

from .integrity_helpers import events, fail_to_pass, rewrite_manifest, write_chain

EXAMPLE = Path(__file__).parents[2] / "protocols" / "asah-example.yaml"
CONTENT = ["protocol.yaml", "lock.json", "environment.json", "cases.csv", "metrics.json",
           "criteria.json"]  # fmt: skip


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A private copy of the aSAH example protocol with its data; returns the protocol."""
    folder = tmp_path / "protocols"
    shutil.copytree(EXAMPLE.parent / "data" / "asah", folder / "data" / "asah")
    shutil.copy2(EXAMPLE, folder / EXAMPLE.name)
    return folder / EXAMPLE.name


@pytest.fixture
def rooted(sealed_bundle: Path, tmp_path: Path) -> Path:
    """A private copy of the whole evidence root (ledgers included); returns the bundle."""
    root = tmp_path / "evidence"
    shutil.copytree(sealed_bundle.parent.parent, root)
    return root / sealed_bundle.parent.name / sealed_bundle.name


def _verify(bundle: Path, *extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["verify", str(bundle), *extra])
    return code, out.getvalue(), err.getvalue()


# --- finding 1: the manifest is not the only record ------------------------------------------


@pytest.mark.parametrize("name", CONTENT)
@pytest.mark.req("DXV-INTEG-001")
def test_a_regenerated_manifest_does_not_hide_an_edited_file(bundle: Path, name: str) -> None:
    path = bundle / name
    path.write_bytes(path.read_bytes() + b"\n")
    rewrite_manifest(bundle)  # sha256sum * > MANIFEST.sha256
    code, out, err = _verify(bundle)
    assert code == 3
    assert f"changed: {name} (audit.jsonl's sealing records " in out
    assert "(the manifest was regenerated)" in out
    assert err.count("\n") == 1
    assert err.startswith("dxval: error: ")


@pytest.mark.req("DXV-INTEG-001")
def test_a_rewritten_audit_log_is_detected_against_run_json(bundle: Path) -> None:
    edited = events(bundle)
    edited[1]["reason"] = "nothing to see"
    write_chain(bundle, edited)  # the chain is consistent again
    rewrite_manifest(bundle)
    code, out, _ = _verify(bundle)
    assert code == 3
    assert "differ from run.json's audit_sha256" in out


@pytest.mark.req("DXV-INTEG-004")
def test_an_unsigned_intact_bundle_says_what_it_proves(bundle: Path) -> None:
    code, out, _ = _verify(bundle)
    assert code == 0
    assert "unsigned: integrity only against accidental change" in out
    assert "run: complete (exit 1)" in out
    assert f"evidence digest: {evidence_digest(bundle)}" in out
    assert "anchored: no" in out


# --- finding 7: required files, non-regular files, incomplete runs ------------------------------


@pytest.mark.parametrize("name", ["run.json", "audit.jsonl"])
@pytest.mark.req("DXV-INTEG-002")
def test_deleted_run_or_audit_with_a_regenerated_manifest_is_exit_3(
    bundle: Path, name: str
) -> None:
    (bundle / name).unlink()
    rewrite_manifest(bundle)
    code, out, _ = _verify(bundle)
    assert code == 3
    assert f"missing: {name} (required in every bundle)" in out


@pytest.mark.req("DXV-INTEG-002")
def test_an_empty_folder_with_an_empty_manifest_is_not_a_bundle(tmp_path: Path) -> None:
    (tmp_path / "MANIFEST.sha256").write_bytes(b"")
    code, out, _ = _verify(tmp_path)
    assert code == 3
    assert "missing: run.json (required in every bundle)" in out
    assert "missing: metrics.json (required in every bundle)" in out


@pytest.mark.parametrize("kind", ["fifo", "symlink", "symlink-out"])
@pytest.mark.req("DXV-INTEG-002")
def test_a_non_regular_file_in_the_bundle_is_exit_3(bundle: Path, kind: str) -> None:
    target = bundle / "figures" / "extra"
    target.parent.mkdir()
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "symlink":
        target.symlink_to(bundle / "metrics.json")
    else:
        target.symlink_to("/etc/hostname")
    rewrite_manifest(bundle)
    code, out, _ = _verify(bundle)  # never blocks on the FIFO
    assert code == 3
    assert "irregular: figures/extra (not a regular file" in out


@pytest.mark.req("DXV-INTEG-004")
def test_verify_says_plainly_when_the_run_is_incomplete(example: Path, tmp_path: Path) -> None:
    predictions = example.parent / "data" / "asah" / "predictions.csv"
    lines = predictions.read_text().splitlines()
    lines[0] += ",failure"
    lines[1] = lines[1].split(",")[0] + ",,image unreadable"
    lines[2:] = [line + "," for line in lines[2:]]
    predictions.write_text("\n".join(lines) + "\n")
    example.write_text(
        example.read_text().replace(
            "  score: s100b\n", "  score: s100b\n  failure_reason: failure\n"
        )
    )
    assert main(["lock", str(example)]) == 0
    result = run_validation(example, out=tmp_path / "evidence", reports=False)
    assert result.exit_code == ExitCode.INCOMPLETE
    code, out, _ = _verify(result.bundle)
    assert code == 0
    assert "run: INCOMPLETE (exit 4)" in out


@pytest.mark.req("DXV-INTEG-002")
def test_relabelling_an_incomplete_run_complete_is_detected(bundle: Path) -> None:
    run = json.loads((bundle / "run.json").read_text())
    run["status"] = "incomplete"
    (bundle / "run.json").write_text(json.dumps(run, indent=2) + "\n")
    rewrite_manifest(bundle)
    code, out, _ = _verify(bundle)
    assert code == 3
    assert "changed: run.json (status 'incomplete' differs from 'complete' sealed" in out


# --- finding 7: an anchor outside the bundle ---------------------------------------------------


@pytest.mark.req("DXV-INTEG-003")
def test_validate_anchors_the_evidence_digest_outside_the_bundle(
    example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    junit = tmp_path / "junit.xml"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["validate", str(example), "--out", str(tmp_path / "ev"), "--no-report",
                     "--junit", str(junit)])  # fmt: skip
    assert code == 1
    (bundle,) = (tmp_path / "ev" / "ASAH-EXAMPLE").iterdir()
    digest = evidence_digest(bundle)
    assert f"evidence digest: {digest}" in out.getvalue()
    assert f'<property name="evidence_digest" value="{digest}"' in junit.read_text()
    assert f"--expect-digest {digest}" in summary.read_text()
    (anchor,) = read_anchors(tmp_path / "ev") or ()
    assert (anchor.event, anchor.evidence_digest, anchor.run_id) == ("sealed", digest, bundle.name)
    assert _verify(bundle)[1].count(f"matches the ledger {tmp_path / 'ev' / ANCHOR_LEDGER_NAME}")


@pytest.mark.req("DXV-INTEG-003")
def test_a_consistent_fail_to_pass_rewrite_is_caught_by_the_anchors(rooted: Path) -> None:
    digest = evidence_digest(rooted)
    fail_to_pass(rooted)
    standalone = rooted.parent.parent.parent / "copy"
    shutil.copytree(rooted, standalone)
    # Alone, the bundle cannot tell (the documented limit of an unsigned bundle) ...
    assert verify_bundle(standalone).intact
    # ... the digest printed by validate and the evidence ledger can.
    code, out, _ = _verify(standalone, "--expect-digest", digest)
    assert code == 3
    assert f"anchor: evidence digest (is {evidence_digest(standalone)}, expected {digest})" in out
    code, out, _ = _verify(rooted)
    assert code == 3
    assert "recorded when the run was sealed (the evidence was rewritten)" in out


@pytest.mark.req("DXV-INTEG-003")
def test_a_bundle_missing_from_its_ledger_or_an_edited_ledger_is_exit_3(rooted: Path) -> None:
    ledger = rooted.parent.parent / ANCHOR_LEDGER_NAME
    content = ledger.read_bytes()
    digest = evidence_digest(rooted).encode()
    ledger.write_bytes(content.replace(digest, b"0" * 64))
    code, out, _ = _verify(rooted)
    assert code == 3
    assert "differs from " + "0" * 64 in out
    other = rooted.parent / "20990101T000000Z-000000"
    ledger.write_bytes(content)
    shutil.copytree(rooted, other)
    run = json.loads((other / "run.json").read_text())
    (other / "run.json").write_text(json.dumps({**run, "run_id": other.name}, indent=2) + "\n")
    rewrite_manifest(other)
    code, out, _ = _verify(other)
    assert code == 3
    assert "is not recorded in the evidence ledger" in out


# --- finding 10: commands that render verify first ---------------------------------------------


@pytest.mark.req("DXV-INTEG-008")
def test_summary_refuses_an_edited_bundle_and_writes_nothing(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    metrics = bundle / "metrics.json"
    metrics.write_bytes(metrics.read_bytes().replace(b"0.", b"0.9", 1))
    out = tmp_path / "summary" / "s.md"
    out.parent.mkdir()
    assert main(["summary", str(bundle), "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert "refusing to write a summary from evidence that does not verify" in err
    assert err.count("\n") == 1
    assert list(out.parent.iterdir()) == []


# --- finding 12 (verify side): pathological audit lines -----------------------------------------


@pytest.mark.parametrize("line", ["deep", "huge"])
@pytest.mark.req("DXV-INTEG-009")
def test_a_pathological_audit_line_is_exit_3_not_70(bundle: Path, line: str) -> None:
    payload = b"[" * 200_000 + b"]" * 200_000 if line == "deep" else b'"' + b"x" * (2 << 20) + b'"'
    audit = bundle / "audit.jsonl"
    audit.write_bytes(audit.read_bytes() + payload + b"\n")
    rewrite_manifest(bundle)
    code, out, err = _verify(bundle)
    assert code == 3
    assert "audit.jsonl line 8: not a valid JSON event" in out
    assert err.count("\n") == 1
    assert "Traceback" not in err


# --- finding 13: the reuse cap under concurrent runs --------------------------------------------


@pytest.mark.req("DXV-INTEG-010")
def test_two_simultaneous_runs_with_a_cap_of_one_run_exactly_once(
    example: Path, tmp_path: Path
) -> None:
    example.write_text(
        example.read_text().replace(
            "qc:\n  max_failed_fraction: 0.0\n",
            "qc:\n  max_failed_fraction: 0.0\n  max_test_set_uses: 1\n",
        )
    )
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def run() -> None:
        start.wait()
        try:
            outcomes.append(run_validation(example, out=tmp_path / "ev", reports=False))
        except InputError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    refused = [o for o in outcomes if isinstance(o, InputError)]
    assert len(outcomes) == 2
    assert len(refused) == 1
    assert "qc.max_test_set_uses 1" in str(refused[0])
    assert len(list((tmp_path / "ev" / "ASAH-EXAMPLE").iterdir())) == 1
    assert [entry.test_set for entry in read_ledger(tmp_path / "ev")] == ["site-f", "site-m"]
