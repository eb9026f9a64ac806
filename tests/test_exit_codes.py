"""One exit-code table (errors.EXIT_CODE_MEANINGS): --help prints it, the README shows it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dxval.cli import main, validate_main
from dxval.errors import EXIT_CODE_MEANINGS, ExitCode

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_table() -> dict[int, str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Exit codes\n", 1)[1].lstrip("\n").split("\n\n", 1)[0]
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", section, flags=re.MULTILINE)
    return {int(code): meaning for code, meaning in rows}


@pytest.mark.req("DXV-CLI-001")
def test_readme_table_is_the_exit_code_table() -> None:
    assert _readme_table() == {int(code): text for code, text in EXIT_CODE_MEANINGS.items()}
    assert set(EXIT_CODE_MEANINGS) == set(ExitCode)


@pytest.mark.req("DXV-CLI-001")
@pytest.mark.parametrize("entry", [main, validate_main])
def test_help_prints_the_table(entry: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert callable(entry)
    assert entry(["--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for code, meaning in EXIT_CODE_MEANINGS.items():
        assert f"{int(code)} {meaning.replace('`', '')}" in out
