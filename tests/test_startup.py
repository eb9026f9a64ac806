"""Start-up cost: ``--version`` and ``--help`` import no heavy library (issue 18).

Each case runs a fresh interpreter (the only honest way to see what an import
pulls in) and lists the heavy modules left in ``sys.modules``; the parser's
choices and defaults, spelt out in the command modules so that building the
parser needs no library, are checked against the libraries' own values.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import dxval

HEAVY = (
    "numpy",
    "pandas",
    "scipy",
    "onnxruntime",
    "torch",
    "weasyprint",
    "matplotlib",
    "pydicom",
    "pydantic",
    "jinja2",
    "cryptography",
    "yaml",
)
PROBE = """\
import json, sys
from dxval.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit_request:
    code = exit_request.code
heavy = sorted(name for name in {heavy!r} if name in sys.modules)
print("\\n" + json.dumps({{"code": code, "heavy": heavy}}))
"""


def _imported(*arguments: str) -> dict[str, object]:
    source = str(Path(dxval.__file__).resolve().parents[1])
    environment = {**os.environ, "PYTHONPATH": source}
    completed = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *arguments],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
        timeout=120,
    )
    result: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.req("DXV-SPEED-003")
@pytest.mark.parametrize(
    "arguments",
    [["--version"], ["--help"], ["metrics", "--help"], ["validate", "--help"]],
)
def test_version_and_help_import_no_heavy_library(arguments: list[str]) -> None:
    result = _imported(*arguments)
    assert result == {"code": 0, "heavy": []}


def test_the_probe_sees_a_heavy_import(tmp_path: Path) -> None:
    # The same probe on a command that computes does see numpy and pandas: the
    # test above can fail.
    data = tmp_path / "cases.csv"
    data.write_text("label,score\n1,0.9\n0,0.1\n1,0.7\n0,0.3\n", encoding="utf-8")
    result = _imported(
        "metrics", str(data), "--truth", "label", "--positive", "1", "--score", "score"
    )
    assert result["code"] == 0
    assert {"numpy", "pandas"} <= set(result["heavy"])  # type: ignore[call-overload]


@pytest.mark.req("DXV-SPEED-003")
def test_parser_constants_match_the_libraries() -> None:
    from dxval import commands
    from dxval.commands import demo, keygen, metrics, self_validate, sign, trace
    from dxval.data.limits import MAX_BOOTSTRAP_REPLICATES
    from dxval.demo import DEFAULT_CASES_PER_SITE, DEFAULT_SEED
    from dxval.evidence.signatures import PASSPHRASE_VARIABLE, Meaning
    from dxval.pipeline.metrics import DEFAULT_SEED as METRICS_SEED
    from dxval.selfval.run import DEFAULT_CASES_PER_SITE as SELF_VALIDATE_CASES
    from dxval.stats import BootstrapInterval, ProportionMethod
    from dxval.trace import Format

    assert tuple(method.value for method in ProportionMethod) == metrics.PROPORTION_METHODS
    assert tuple(kind.value for kind in BootstrapInterval) == metrics.BOOTSTRAP_INTERVALS
    assert metrics.DEFAULT_SEED == METRICS_SEED
    # The replicate limit is the library's own constant, checked through the argument type.
    assert commands.bootstrap_replicates(str(MAX_BOOTSTRAP_REPLICATES)) == MAX_BOOTSTRAP_REPLICATES
    with pytest.raises(argparse.ArgumentTypeError):
        commands.bootstrap_replicates(str(MAX_BOOTSTRAP_REPLICATES + 1))
    assert (demo.DEFAULT_CASES_PER_SITE, demo.DEFAULT_SEED) == (
        DEFAULT_CASES_PER_SITE,
        DEFAULT_SEED,
    )
    assert self_validate.DEFAULT_CASES_PER_SITE == SELF_VALIDATE_CASES
    from dxval.demo import tasks as task_demo

    assert demo.TASKS == task_demo.TASKS
    assert demo.DEFAULT_TASK_CASES_PER_SITE == task_demo.DEFAULT_TASK_CASES_PER_SITE
    assert sign.PASSPHRASE_VARIABLE == keygen.PASSPHRASE_VARIABLE == PASSPHRASE_VARIABLE
    assert tuple(meaning.value for meaning in Meaning) == sign.MEANINGS
    assert tuple(item.value for item in Format) == trace.FORMATS
