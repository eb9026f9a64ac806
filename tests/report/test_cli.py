"""The dxval report and dxval summary commands: output lines and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from dxval.cli import main


@pytest.mark.req("DXV-REPORT-003")
def test_report_command_refuses_altered_evidence_with_exit_3(
    bundle_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (bundle_copy / "criteria.json").write_text("{}\n")
    assert main(["report", str(bundle_copy)]) == 3
    error = capsys.readouterr().err
    assert error.startswith("dxval: error: ")
    assert "changed: criteria.json" in error


def test_report_command_needs_a_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert "not a bundle folder" in capsys.readouterr().err


@pytest.mark.req("DXV-REPORT-004")
def test_summary_command_writes_both_files(
    sealed_bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "summary.md"
    assert main(["summary", str(sealed_bundle), "--out", str(out)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"wrote {out}",
        f"wrote {out.with_suffix('.pdf')}",
    ]
    assert out.is_file()


def test_summary_command_bad_out_is_a_usage_error(
    sealed_bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["summary", str(sealed_bundle), "--out", str(tmp_path / "x.pdf")]) == 2
    assert "expected a Markdown file name ending in .md" in capsys.readouterr().err
