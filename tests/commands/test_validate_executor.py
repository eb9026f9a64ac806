"""``validate --executor/--ray-address/--gpus-per-worker/--run-options``, without Ray."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from dxval.cli import build_parser, main
from dxval.commands import validate as validate_command
from dxval.errors import UsageError
from dxval.inference.options import EXECUTORS, InferenceOptions, read_run_options

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "protocols" / "demo.yaml"


def _options(*argv: str) -> InferenceOptions:
    args = build_parser().parse_args(["validate", str(PROTOCOL), *argv])
    return validate_command.inference_options(args)


@pytest.mark.req("DXV-RAY-006")
def test_executor_ray_without_ray_installed_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    out = tmp_path / "evidence"
    assert main(["validate", str(PROTOCOL), "--out", str(out), "--executor", "ray"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "dxval: error: --executor ray: Ray is not installed "
        "(install the extra: pip install 'dxval[ray]')\n"
    )
    assert not out.exists()


def test_the_commands_executor_choices_are_the_inference_options() -> None:
    assert validate_command.EXECUTORS == EXECUTORS


@pytest.mark.req("DXV-RAY-001")
def test_a_run_options_file_sets_the_executor_and_the_command_line_wins(tmp_path: Path) -> None:
    options = tmp_path / "run.yaml"
    options.write_text(
        "executor: ray\nray-address: ray://head:10001\ngpus_per_worker: 1\nbatch_size: 8\n"
    )
    chosen = _options("--run-options", str(options))
    assert (chosen.executor, chosen.ray_address, chosen.gpus_per_worker, chosen.batch_size) == (
        "ray",
        "ray://head:10001",
        1,
        8,
    )
    overridden = _options("--run-options", str(options), "--batch-size", "4")
    assert overridden.batch_size == 4
    with pytest.raises(UsageError, match=r"--ray-address and --gpus-per-worker need --executor"):
        _options("--run-options", str(options), "--executor", "local")
    assert _options().executor == "local"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("executor: ray\nnodes: 4\n", r"run\.yaml: unknown key 'nodes', expected one of executor"),
        ("workers: two\n", r"run\.yaml: workers: got 'two', expected int"),
        ("gpus_per_worker: true\n", r"gpus_per_worker: got True, expected int or float"),
        ("- executor\n", r"run\.yaml: got a list, expected a mapping"),
        ("executor: [\n", r"run\.yaml: not valid YAML"),
    ],
)
def test_a_bad_run_options_file_is_a_usage_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        read_run_options(path)


def test_a_missing_run_options_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"--run-options .*absent\.yaml: cannot read"):
        read_run_options(tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--executor", "dask"), r"invalid choice: 'dask'"),
        (("--gpus-per-worker", "1"), r"--gpus-per-worker need --executor ray"),
        (("--ray-address", "head:6379"), r"--ray-address and --gpus-per-worker need"),
    ],
)
def test_ray_options_without_the_ray_executor_are_refused(
    argv: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(PROTOCOL), *argv]) == 2
    assert re.search(message, capsys.readouterr().err)


def test_a_negative_gpu_count_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dxval.inference.ray_executor.import_ray", lambda: sys)
    with pytest.raises(UsageError, match=r"--gpus-per-worker: got -1.0, expected a number >= 0"):
        _options("--executor", "ray", "--gpus-per-worker", "-1")
