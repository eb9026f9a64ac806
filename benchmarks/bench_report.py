"""Whole-process ``dxval report BUNDLE`` (re-render) against WeasyPrint alone (issue 18 item 4).

Re-renders a copy of a bundle (the newest demo bundle under
``evidence/DEMO-NODULE-001`` when ``make demo`` has run, else a 2,000-case
predictions bundle that ``validate`` writes here) and prints wall and CPU
seconds (user + system of the process and its children) of each run. The
named baseline, measured in the same run on the same machine: the
``weasyprint`` command typesetting the bundle's own ``report.html`` into one
PDF, whole process — what the typesetter alone costs for these pages, where
``dxval report`` also verifies the bundle, builds the views and figures and
writes two PDFs, the HTML and the manifest. Issue 18's figure is absolute:
≤ 6 s wall on a quiet 2-core machine for the demo bundle.

``--before SRC`` also times another source tree (e.g. a checkout's ``src``)
on the same bundle, runs alternating, for a before/after in the same minutes.

Usage: ``python benchmarks/bench_report.py [--bundle DIR] [--repeats N] [--before SRC]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PYTHON = sys.executable
ROOT = Path(__file__).resolve().parents[1]


def demo_bundle() -> Path | None:
    """The newest demo bundle of ``make demo``, if any."""
    bundles = sorted((ROOT / "evidence" / "DEMO-NODULE-001").glob("*/MANIFEST.sha256"))
    return bundles[-1].parent if bundles else None


def small_bundle(folder: Path) -> Path:
    """A 2,000-case predictions bundle (bench_validate's protocol), without renderings."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_validate import write_protocol

    protocol = write_protocol(folder / "data", 2_000)
    subprocess.run([PYTHON, "-m", "dxval", "lock", str(protocol)], check=True, capture_output=True)
    subprocess.run(
        [PYTHON, "-m", "dxval", "validate", str(protocol), "--out", str(folder / "out")],
        check=False,
        capture_output=True,
    )
    manifests = sorted((folder / "out").glob("*/*/MANIFEST.sha256"))
    if not manifests:
        raise SystemExit("could not write the benchmark bundle")
    return manifests[-1].parent


def timed(command: list[str], environment: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, children included) of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(
        command, capture_output=True, text=True, check=False, env=environment
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)}: exit {completed.returncode}\n{completed.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def report_run(bundle: Path, work: Path, source: str | None) -> tuple[float, float]:
    """``dxval report`` on a fresh copy of ``bundle`` (with ``source`` on PYTHONPATH if given)."""
    copy = work / "copy"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(bundle, copy)
    environment = dict(os.environ)
    if source is not None:
        environment["PYTHONPATH"] = source
    return timed([PYTHON, "-m", "dxval", "report", str(copy)], environment)


def show(label: str, runs: list[tuple[float, float]]) -> tuple[float, float]:
    wall = statistics.median(run[0] for run in runs)
    cpu = statistics.median(run[1] for run in runs)
    each = ", ".join(f"{w:.2f}/{c:.2f}" for w, c in runs)
    print(f"    {label:44s} median wall {wall:6.2f} s  CPU {cpu:6.2f} s   (wall/CPU: {each})")
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, help="bundle to re-render (a copy is used)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each command (median)")
    parser.add_argument("--before", metavar="SRC", help="source tree to compare with (PYTHONPATH)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        work = Path(name)
        bundle = args.bundle or demo_bundle() or small_bundle(work)
        load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
        print(f"dxval report {bundle} (load average {load})")
        now: list[tuple[float, float]] = []
        before: list[tuple[float, float]] = []
        for _ in range(args.repeats):
            if args.before:
                before.append(report_run(bundle, work, args.before))
            now.append(report_run(bundle, work, None))
        typesetter = [
            timed([PYTHON, "-m", "weasyprint", str(bundle / "report.html"), str(work / "w.pdf")])
            for _ in range(args.repeats)
        ]
        wall, cpu = show("dxval report (this tree)", now)
        if args.before:
            old_wall, old_cpu = show(f"dxval report ({args.before})", before)
            print(f"    this / before: wall {wall / old_wall:5.2f}×  CPU {cpu / old_cpu:5.2f}×")
        base_wall, base_cpu = show("baseline: weasyprint report.html (one PDF)", typesetter)
        print(
            f"    dxval report / weasyprint: wall {wall / base_wall:5.2f}×  CPU "
            f"{cpu / base_cpu:5.2f}×; issue 18 goal for the demo bundle: ≤ 6 s wall, quiet"
        )
        load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
        print(f"    (load average at the end {load})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
