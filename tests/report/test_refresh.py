"""dxval report on a sealed bundle: re-render, rewrite the manifest, never re-seal tampering."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from dxval.errors import IntegrityError
from dxval.evidence import verify_bundle
from dxval.evidence.signatures import Meaning, generate_key, load_signing_key, sign_bundle
from dxval.report.refresh import is_rendering, refresh_reports


def test_rendering_names() -> None:
    assert is_rendering("report.pdf")
    assert is_rendering("figures/roc.svg")
    assert not is_rendering("metrics.json")


@pytest.mark.slow
@pytest.mark.req("DXV-REPORT-003")
def test_refresh_after_signing_shows_the_valid_signature_and_verifies(
    bundle_copy: Path, tmp_path: Path
) -> None:
    passphrase = "a long secret"  # noqa: S105  (a throwaway test key)
    key_path, _ = generate_key("Grace Hopper", tmp_path / "grace.key", passphrase=passphrase)
    key = load_signing_key(key_path, passphrase=passphrase)
    sign_bundle(bundle_copy, key, meaning=Meaning.APPROVED, reason="release 1.2.3", render=False)
    result = refresh_reports(bundle_copy)
    assert {path.name for path in result.written} >= {
        "report.pdf",
        "report-submission.pdf",
        "report.html",
        "roc.svg",
    }
    assert verify_bundle(bundle_copy).intact
    manifest = (bundle_copy / "MANIFEST.sha256").read_text()
    assert "  signatures/01-approved.json\n" in manifest
    assert "  report.pdf\n" in manifest
    check = subprocess.run(
        ["sha256sum", "--quiet", "-c", "MANIFEST.sha256"], cwd=bundle_copy, check=False
    )
    assert check.returncode == 0
    text = subprocess.run(
        ["pdftotext", "-l", "1", str(bundle_copy / "report.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Grace Hopper" in text
    assert "Approved (release 1.2.3)" in text
    assert "VALID" in text
    assert "NOT VALID" not in text


def test_refuses_a_forged_signature(bundle_copy: Path) -> None:
    folder = bundle_copy / "signatures"
    folder.mkdir()
    record = {"name": "Mallory", "meaning": "approved", "signed_utc": "2026-01-03T10:00:00Z"}
    (folder / "01-approved.json").write_text(json.dumps(record))
    with pytest.raises(IntegrityError, match=r"signature: signatures/01-approved.json"):
        refresh_reports(bundle_copy)


@pytest.mark.req("DXV-REPORT-003")
def test_refuses_changed_evidence(bundle_copy: Path) -> None:
    with (bundle_copy / "cases.csv").open("a") as handle:
        handle.write("extra\n")
    with pytest.raises(IntegrityError, match=r"changed: cases.csv .*refusing to re-render"):
        refresh_reports(bundle_copy)
    assert not (bundle_copy / "report.pdf").exists() or verify_bundle(bundle_copy).problems


def test_refuses_an_extra_evidence_file_and_a_missing_manifest(bundle_copy: Path) -> None:
    (bundle_copy / "notes.txt").write_text("added later")
    with pytest.raises(IntegrityError, match=r"extra: notes.txt"):
        refresh_reports(bundle_copy)
    (bundle_copy / "notes.txt").unlink()
    shutil.move(bundle_copy / "MANIFEST.sha256", bundle_copy / "..")
    with pytest.raises(IntegrityError, match=r"missing: MANIFEST.sha256"):
        refresh_reports(bundle_copy)
