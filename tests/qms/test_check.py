"""dxval qms check: the records agree with each other, the tests and pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dxval.cli import main
from dxval.qms.check import qms_problems


@pytest.mark.req("DXV-QMS-001", "DXV-QMS-002", "DXV-QMS-003")
def test_repository_records_are_consistent(
    repository: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problems = qms_problems(
        repository / "qms", tests=repository / "tests", pyproject=repository / "pyproject.toml"
    )
    assert problems == [], "\n".join(problems)
    arguments = [
        "qms",
        "check",
        "--qms",
        str(repository / "qms"),
        "--tests",
        str(repository / "tests"),
        "--pyproject",
        str(repository / "pyproject.toml"),
    ]
    assert main(arguments) == 0
    assert capsys.readouterr().out.endswith(": consistent\n")


@pytest.mark.req("DXV-QMS-001")
def test_check_command_lists_problems_and_exits_1(
    repository: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(repository / "qms", tmp_path / "qms", ignore=shutil.ignore_patterns("notes"))
    (tmp_path / "tests").mkdir()
    arguments = ["qms", "check", "--qms", str(tmp_path / "qms"), "--tests", str(tmp_path / "tests")]
    assert main([*arguments, "--pyproject", str(repository / "pyproject.toml")]) == 1
    out = capsys.readouterr().out
    assert "DXV-EXIT-001 (Exit 0 when every criterion is met): no test carries" in out
    assert out.splitlines()[-1].endswith(" problems")
