"""environment.json: machine, software, runtimes, threads and determinism flags."""

from __future__ import annotations

import json
from pathlib import Path

from dxval.inference import capture_environment, load_runner
from dxval.inference.environment import cpu_description, installed_distributions

from .conftest import Artifacts, make_config


def test_environment_lists_software_cpu_and_runners(artifacts: Artifacts) -> None:
    runner = load_runner(make_config(artifacts.torchscript), threads=1)
    environment = capture_environment(runners=[runner.info], executor={"name": "inline"})
    json.dumps(environment, allow_nan=False)
    assert environment["python"]["version"].count(".") == 2
    assert "numpy" in environment["distributions"]
    assert "onnxruntime" in environment["distributions"]
    assert environment["onnxruntime"]["providers"][-1] == "CPUExecutionProvider"
    assert environment["torch"]["loaded"] is True
    assert environment["torch"]["num_threads"] == 1
    assert environment["runners"][0]["determinism"]["cudnn.allow_tf32"] is False
    assert environment["executor"] == {"name": "inline"}
    assert isinstance(environment["cpu"]["flags"], list)
    assert set(environment["gpus"]) == {"devices", "driver_cuda_version"}
    assert "OMP_NUM_THREADS" in environment["threads"]


def test_cpu_model_and_flags_come_from_cpuinfo(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Test CPU @ 2GHz\n"
        "flags\t\t: sse2 avx2 fma\n\nprocessor\t: 1\nmodel name\t: Other\n"
    )
    described = cpu_description(cpuinfo)
    assert described["model"] == "Test CPU @ 2GHz"
    assert described["vendor"] == "GenuineIntel"
    assert described["flags"] == ["avx2", "fma", "sse2"]


def test_distributions_are_sorted_by_name() -> None:
    names = list(installed_distributions())
    assert names == sorted(names, key=str.lower)
    assert "dxval" in names
