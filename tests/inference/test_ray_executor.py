"""The Ray executor on a local Ray with 2 CPUs (one session shared by the module's tests).

Ray starts once per module (it takes seconds); every test here needs it. The
demo-like protocol is a small generated demo (10 cases per site), re-locked.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import ray

from dxval.cli import main
from dxval.demo import generate_demo
from dxval.errors import UsageError
from dxval.inference import (
    CaseStatus,
    HarnessOptions,
    InlineExecutor,
    Progress,
    load_runner,
    ray_executor,
    run_harness,
)
from dxval.inference.ray_executor import RayExecutor

from .conftest import make_cases, make_config
from .models import make_weights, write_onnx
from .npy_loader import NpyLoader

ROOT = Path(__file__).resolve().parents[2]
EVIDENCE_FILES = ("cases.csv", "metrics.json", "criteria.json")


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    """One local Ray (2 CPUs) for the module; workers import this checkout and its tests."""
    search_path = [str(ROOT / "tests"), str(ROOT), os.environ.get("PYTHONPATH", "")]
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(entry for entry in search_path if entry)
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


@pytest.fixture(scope="module")
def onnx_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny network of the inference tests, as ONNX only (no torch import)."""
    return write_onnx(make_weights(), tmp_path_factory.mktemp("ray-model") / "tiny.onnx")


@pytest.fixture(scope="module")
def demo_protocol(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """protocols/demo.yaml over a 24-case generated demo, re-locked to it."""
    root = tmp_path_factory.mktemp("ray-demo")
    shutil.copytree(ROOT / "protocols", root / "protocols", ignore=shutil.ignore_patterns("data"))
    shutil.copytree(ROOT / "models" / "demo", root / "models" / "demo")
    generate_demo(root / "demo-data", cases_per_site=8, seed=7)
    protocol = root / "protocols" / "demo.yaml"
    assert main(["lock", str(protocol)]) == 0
    return protocol


def _validate(protocol: Path, out: Path, *extra: str) -> tuple[int, Path | None]:
    folder = out / "DEMO-NODULE-001"
    before = set(folder.iterdir()) if folder.exists() else set()
    code = main(["validate", str(protocol), "--out", str(out), "--no-report", *extra])
    # the run's bundle by difference: run IDs in the same second carry random hex, not order
    new = (set(folder.iterdir()) if folder.exists() else set()) - before
    return code, new.pop() if len(new) == 1 else None


@pytest.mark.req("DXV-RAY-001", "DXV-RAY-002", "DXV-RAY-003")
def test_ray_run_writes_the_same_evidence_as_the_local_executor(
    demo_protocol: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "evidence"
    local_code, local = _validate(demo_protocol, out, "--workers", "0")
    assert local is not None, capsys.readouterr().err
    capsys.readouterr()

    options = tmp_path / "run-options.yaml"
    options.write_text("executor: ray\n")
    ray_code, remote = _validate(
        demo_protocol, tmp_path / "ray", "--run-options", str(options), "--no-cache"
    )
    err = capsys.readouterr().err
    assert remote is not None, err
    assert ray_code == local_code
    for name in EVIDENCE_FILES:
        assert (remote / name).read_bytes() == (local / name).read_bytes(), name
    run = json.loads((remote / "run.json").read_text())
    assert run["cases"]["total"] == 24
    assert run["cases"]["scored"] + run["cases"]["failed"] == 24
    assert run["cases"]["failed"] >= 1  # the demo's unreadable case fails with its reason
    # Progress came from the cluster's results, on stderr; Ray's own notices did not.
    assert "inference 24/24" in err
    assert "from cache" in err
    assert "Token authentication" not in err
    assert "RayDeprecationWarning" not in err
    # Timings come back from the actors; end to end spans two clocks (issue 19, latency).
    latency = json.loads((remote / "latency.json").read_text())
    stages = {item["stage"]: item for item in latency["stages"]}
    assert stages["inference"]["n"] == stages["decode"]["n"] == run["cases"]["scored"]
    assert stages["end_to_end"]["n"] == 0
    assert stages["end_to_end"]["not_timed"] == {"not timed (ray executor)": stages["decode"]["n"]}
    assert latency["hardware"]["name"] is None  # scored on cluster nodes: not identified

    executor = json.loads((remote / "environment.json").read_text())["runtime"]["executor"]
    assert executor["name"] == "ray"
    assert executor["ray_version"] == ray.__version__
    (node,) = executor["nodes"]
    assert node["cpus"] == 2.0
    assert node["gpus"] == 0.0
    assert node["python"]
    assert node["versions"]["dxval"] == ray_executor.software_versions("onnxruntime")["dxval"]
    assert node["versions"]["onnxruntime"]

    # The prediction cache written by the local run serves the Ray run the same way.
    cached_code, cached = _validate(demo_protocol, out, "--executor", "ray")
    assert cached is not None
    assert cached_code == local_code
    for name in EVIDENCE_FILES:
        assert (cached / name).read_bytes() == (local / name).read_bytes(), name
    audit = [json.loads(line) for line in (cached / "audit.jsonl").read_text().splitlines()]
    assert any("cache" in json.dumps(event) for event in audit)
    scored_before = run["cases"]["scored"]
    assert f"{scored_before} from cache" in capsys.readouterr().err


@pytest.mark.req("DXV-RAY-004")
def test_a_version_mismatch_on_a_worker_is_refused_naming_the_node(
    demo_protocol: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    real = ray_executor.software_versions

    def driver_versions(runtime: str) -> dict[str, str | None]:
        # Only the driver's view changes: the probe tasks report the workers' real ones.
        return {**real(runtime), "dxval": "0.0.0+driver"}

    monkeypatch.setattr(ray_executor, "software_versions", driver_versions)
    out = tmp_path / "evidence"
    code = main(
        ["validate", str(demo_protocol), "--out", str(out), "--no-report", "--executor", "ray"]
    )
    err = capsys.readouterr().err
    assert code == 2
    (line,) = [line for line in err.splitlines() if line.startswith("dxval: error:")]
    hostname = ray.nodes()[0]["NodeManagerHostname"]
    assert f"node {hostname} (" in line
    assert "has dxval 0.1.0, the driver has 0.0.0+driver" in line
    assert not (out / "DEMO-NODULE-001").exists()  # nothing half-written


def _actor_pids() -> list[int]:
    """PIDs of this machine's Ray scoring actors (Ray names the process after the class)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"_ScoringActor" in command:
            pids.append(int(entry.name))
    return pids


class _KillOnce(Progress):
    """After the first result arrives, kills one scoring actor process (SIGKILL).

    Actors of earlier runs in this module (``ignore``) are left alone: Ray may not
    have reaped them yet.
    """

    def __init__(self, total: int, *, ignore: set[int]) -> None:
        super().__init__(total, enabled=False)
        self.ignore = ignore
        self.killed: list[int] = []

    def update(self, *, done: int = 0, failed: int = 0, cached: int = 0) -> None:
        super().update(done=done, failed=failed, cached=cached)
        deadline = time.monotonic() + 10.0
        while not self.killed and time.monotonic() < deadline:
            current = sorted(set(_actor_pids()) - self.ignore)
            if current:
                os.kill(current[0], signal.SIGKILL)
                self.killed.append(current[0])
            else:
                time.sleep(0.05)


class SlowNpyLoader(NpyLoader):
    """The npy loader, 20 ms per case, so that the run is still going when the actor dies."""

    def __call__(self, paths: tuple[Path, ...]) -> np.ndarray:
        time.sleep(0.02)
        return super().__call__(paths)


@pytest.mark.req("DXV-RAY-005")
def test_a_killed_scoring_actor_is_replaced_and_every_case_ends_scored_or_failed(
    onnx_model: Path, case_paths: list[Path], tmp_path: Path
) -> None:
    config = make_config(onnx_model)
    runner = load_runner(config, threads=1)
    broken = tmp_path / "bad-0.npy"
    broken.write_bytes(b"not an array")
    cases = make_cases([*case_paths, broken])

    def run(executor: object, progress: Progress | None, name: str) -> list[tuple[str, object]]:
        options = HarnessOptions(
            results_path=tmp_path / f"{name}.jsonl",
            input_spec=config.input,
            output_spec=config.output,
            batch_size=4,
            executor=executor,  # type: ignore[arg-type]
            progress=progress,
        )
        result = run_harness(cases, SlowNpyLoader(), runner, options)
        assert result.total == len(cases) == result.scored + result.failed
        return sorted(
            (row.case_id, row.score if row.status is CaseStatus.SCORED else row.reason_code)
            for row in result.iter_results()
        )

    progress = _KillOnce(len(cases), ignore=set(_actor_pids()))
    killed = run(RayExecutor(config, block_size=2), progress, "ray")
    assert len(progress.killed) == 1, "no scoring actor was found to kill"
    assert killed == run(InlineExecutor(), None, "inline")
    assert dict(killed)["bad-0"] == "not_dicom"


def test_cases_a_pipeline_never_returned_are_handed_back_not_dropped() -> None:
    cases = make_cases([Path(__file__)])
    stream = ray_executor._collect(_NoBatches(), cases, [0])
    with pytest.raises(StopIteration) as stopped:
        next(stream)
    assert stopped.value.value == [0]


@pytest.mark.req("DXV-RAY-005")
def test_a_case_that_crashes_its_decoder_fails_alone_as_worker_crashed(
    onnx_model: Path, case_paths: list[Path], tmp_path: Path
) -> None:
    crash = tmp_path / "crash-0.npy"
    shutil.copyfile(case_paths[0], crash)
    cases = make_cases([*case_paths[:5], crash, *case_paths[5:8]])
    config = make_config(onnx_model)
    executor = RayExecutor(config, block_size=4)
    scored = executor.score(NpyLoader(), cases, batch_size=4)
    results = {case.case_id: result for case, result in scored}
    assert sorted(results) == sorted(case.case_id for case in cases)
    crashed = results.pop("crash-0")
    assert crashed.status is CaseStatus.FAILED
    assert crashed.reason_code == "worker_crashed"
    assert all(result.status is CaseStatus.SCORED for result in results.values())


class _NoBatches:
    """A dataset whose blocks were all given up."""

    def iter_batches(self, **_: object) -> Iterator[dict[str, np.ndarray]]:
        return iter(())


def test_joining_an_unreachable_cluster_is_a_usage_error(onnx_model: Path) -> None:
    executor = RayExecutor(make_config(onnx_model), address="127.0.0.1:1")
    with pytest.raises(UsageError, match=r"--ray-address 127\.0\.0\.1:1: cannot join"):
        executor._connect(_Uninitialised())


class _Uninitialised:
    """Ray as seen before ``ray.init``: joining the address fails."""

    @staticmethod
    def is_initialized() -> bool:
        return False

    @staticmethod
    def init(**_: object) -> None:
        raise ConnectionError("could not reach 127.0.0.1:1")
