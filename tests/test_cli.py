"""The command-line shell: help, version, usage errors and the exit-code contract."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from dxval import __version__, cli
from dxval.cli import main, validate_main


@pytest.mark.req("DXV-CLI-001")
def test_help_lists_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for code in ("0 ", "1 ", "2 ", "3 ", "4 ", "70 "):
        assert f"  {code}" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: dxval" in capsys.readouterr().err


@pytest.mark.req("DXV-EXIT-003")
def test_unknown_command_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no-such-command"]) == 2
    err = capsys.readouterr().err
    assert "dxval: error:" in err
    assert "Traceback" not in err


@pytest.mark.req("DXV-CLI-002")
def test_validate_script_forwards_to_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    assert validate_main(["--no-such-option"]) == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.req("DXV-EXIT-006")
def test_bug_is_exit_70_with_traceback_saved(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken_handler(args: argparse.Namespace) -> int:
        raise RuntimeError("boom")

    parser = argparse.ArgumentParser()
    parser.set_defaults(handler=broken_handler)
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    monkeypatch.setenv("DXVAL_CRASH_DIR", str(tmp_path))
    assert main([]) == 70
    err = capsys.readouterr().err
    assert "internal error (RuntimeError: boom)" in err
    saved = list(tmp_path.glob("dxval-crash-*.txt"))
    assert len(saved) == 1
    assert "RuntimeError: boom" in saved[0].read_text()


def test_closed_stdout_pipe_is_not_a_crash() -> None:
    dxval = Path(sys.executable).with_name("dxval")
    data = Path(__file__).parent / "data" / "aSAH.csv"
    command = f"'{dxval}' metrics '{data}' --truth outcome --positive Poor --score s100b --json"
    completed = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command} | head -c 10"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "internal error" not in completed.stderr
    assert completed.returncode == 0
