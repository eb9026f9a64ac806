"""The command-line shell: help, version, usage errors and the exit-code contract."""

from __future__ import annotations

import pytest

from dxval import __version__
from dxval.cli import main, validate_main


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


def test_unknown_command_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no-such-command"]) == 2
    err = capsys.readouterr().err
    assert "dxval: error:" in err
    assert "Traceback" not in err


def test_validate_script_forwards_to_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    assert validate_main(["--no-such-option"]) == 2
    assert "Traceback" not in capsys.readouterr().err
