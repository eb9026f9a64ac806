"""SIGINT and SIGKILL during inference and during report rendering (issue 11, process faults).

A bundle is built in a hidden ``.<run-id>.partial`` folder and published by
one rename after its manifest is written; an interrupted run must leave no
folder that looks like a bundle, nothing that ``find_bundles`` (trace,
ledger tools) would take for one, and the next run must start clean.

The run is a real ``dxval validate`` in a subprocess; a driver makes the
chosen phase slow (the first case decode, or the report rendering) and says
when it is there, so the signal lands inside that phase.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.e2e.test_validate_model import _make_protocol

from dxval.cli import main
from dxval.trace.runs import find_bundles

SOURCE = Path(__file__).parents[2] / "src"
_DRIVER = """
import sys, time
from pathlib import Path
import dxval.report
from dxval.cli import main
from dxval.dicom.loader import CaseLoader

phase, marker, protocol, out = sys.argv[1:5]


def stall(*args, **kwargs):
    Path(marker).write_text(phase)
    time.sleep(120)


if phase == "inference":
    CaseLoader.load = stall
else:
    dxval.report.render_bundle_reports = stall  # what validate's render callback calls
sys.exit(main(["validate", protocol, "--out", out, "--workers", "0", "--no-cache"]))
"""


def _interrupt(protocol: Path, out: Path, phase: str, signal_number: int) -> int:
    marker = out.parent / f"{phase}.marker"
    environment = {**os.environ, "PYTHONPATH": str(SOURCE)}
    process = subprocess.Popen(
        [sys.executable, "-c", _DRIVER, phase, str(marker), str(protocol), str(out)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, f"never reached {phase}"
            time.sleep(0.05)
        process.send_signal(signal_number)
        return process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _visible(out: Path) -> list[Path]:
    folder = out / "MODEL-E2E"
    return [p for p in folder.iterdir() if not p.name.startswith(".")] if folder.is_dir() else []


def _next_run_starts_clean(protocol: Path, out: Path) -> None:
    code = main(["validate", str(protocol), "--out", str(out), "--workers", "0", "--no-report"])
    assert code == 0
    (bundle,) = _visible(out)
    assert list(find_bundles(out)) == [bundle]
    assert main(["verify", str(bundle)]) == 0


@pytest.mark.req("DXV-INPUT-009")
@pytest.mark.parametrize("phase", ["inference", "render"])
def test_sigint_leaves_no_bundle_and_no_partial(
    tmp_path: Path, phase: str, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = _make_protocol(tmp_path)
    out = tmp_path / "out"
    assert _interrupt(protocol, out, phase, signal.SIGINT) == 2  # "interrupted", exit 2
    assert _visible(out) == []
    assert (
        not list((out / "MODEL-E2E").glob(".*.partial")) if (out / "MODEL-E2E").exists() else True
    )
    assert list(find_bundles(out)) == []
    _next_run_starts_clean(protocol, out)


@pytest.mark.req("DXV-INPUT-009")
@pytest.mark.parametrize("phase", ["inference", "render"])
def test_sigkill_leaves_nothing_taken_for_a_bundle(
    tmp_path: Path, phase: str, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = _make_protocol(tmp_path)
    out = tmp_path / "out"
    assert _interrupt(protocol, out, phase, signal.SIGKILL) == -signal.SIGKILL
    assert _visible(out) == []
    assert list(find_bundles(out)) == []
    if phase == "render":  # killed after run.json, before the manifest and the rename
        (partial,) = (out / "MODEL-E2E").glob(".*.partial")
        assert (partial / "run.json").is_file()
        assert not (partial / "MANIFEST.sha256").exists()
        assert main(["verify", str(partial)]) != 0
        _next_run_starts_clean(protocol, out)
