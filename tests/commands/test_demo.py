"""``dxval demo generate``: output, progress on stderr, exit codes of user mistakes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dxval.cli import main


def test_generate_writes_the_demo_and_says_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo-data"
    code = main(["demo", "generate", "--out", str(out), "--cases-per-site", "2", "--seed", "5"])
    captured = capsys.readouterr()
    assert code == 0
    assert json.loads((out / "demo.json").read_text(encoding="utf-8"))["seed"] == 5
    assert "site-a: 2 cases" in captured.out
    assert f"{out / 'site-c' / 'manifest.csv'}" in captured.out
    assert f"wrote {out} (seed 5)" in captured.out


def test_a_bad_count_is_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["demo", "generate", "--out", str(tmp_path / "x"), "--cases-per-site", "0"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == "dxval: error: --cases-per-site: got 0, expected an integer >= 1"


def test_a_non_integer_seed_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "generate", "--seed", "abc"]) == 2
    assert "invalid int value: 'abc'" in capsys.readouterr().err


def test_demo_without_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 2
    assert "demo: missing subcommand; expected one of: generate" in capsys.readouterr().err
