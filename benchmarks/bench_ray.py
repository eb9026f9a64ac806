"""Ray executor overhead: the demo model over 2,000 synthetic cases, local vs Ray on this machine.

Prints the wall time of :func:`dxval.inference.score_cases` (decode, preprocess,
score; no prediction cache) over the same cases with

1. the local executor (decode worker processes on all cores, scoring in the
   calling process): the baseline;
2. ``--executor ray`` on a local Ray that the run starts and stops (what
   ``validate --executor ray`` costs end to end on one machine, Ray start-up
   included);
3. ``--executor ray`` on a local Ray already running (the pipeline's own
   overhead: tasks, actor pool, object store);

and the ratios (2)/(1) and (3)/(1) (goal: Ray overhead at most 15 %, a ratio
of at most 1.15). Local and warm-Ray runs are repeated and the fastest of
each kept. Every run's scores are checked to be identical. The load average
is printed: on a shared machine the figures move with it.

The cases are the demo's synthetic radiographs (``dxval demo generate``):
``--distinct`` files generated once, cycled to ``--cases`` case rows (each
row is decoded and scored; nothing is cached).

Usage: ``python benchmarks/bench_ray.py [--cases 2000] [--distinct 300] [--repeats 2]``.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from dxval.cli import main as dxval_main
from dxval.demo import generate_demo
from dxval.inference import CaseInput, InferenceOptions, score_cases
from dxval.pipeline.cases import case_loader
from dxval.pipeline.plan import plan_run

ROOT = Path(__file__).resolve().parents[1]


def _demo(folder: Path, distinct: int) -> Path:
    """The demo protocol over ``distinct`` generated cases (re-locked); returns the protocol."""
    shutil.copytree(ROOT / "protocols", folder / "protocols", ignore=shutil.ignore_patterns("data"))
    shutil.copytree(ROOT / "models" / "demo", folder / "models" / "demo")
    generate_demo(folder / "demo-data", cases_per_site=max(1, distinct // 3), seed=20260101)
    protocol = folder / "protocols" / "demo.yaml"
    if dxval_main(["lock", str(protocol)]) != 0:
        raise SystemExit("dxval lock failed")
    return protocol


def _timed(
    protocol: Path, cases: list[CaseInput], work: Path, options: InferenceOptions
) -> tuple[float, list[tuple[str, float | None]]]:
    plan = plan_run(protocol)
    assert plan.model is not None
    loader = case_loader(plan)
    start = time.perf_counter()
    result = score_cases(
        plan.model.config,
        loader,
        cases,
        results_path=work / "results.jsonl",
        preprocessing_digest=loader.digest,
        options=options,
    )
    elapsed = time.perf_counter() - start
    assert result.total == len(cases) == result.scored + result.failed
    scores = sorted((row.case_id, row.score) for row in result.iter_results())
    return elapsed, scores


def main() -> int:
    """Run the comparison and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--distinct", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    try:
        import ray
    except ImportError:
        print("ray is not installed (pip install 'dxval[ray]'): nothing to compare")
        return 1
    with tempfile.TemporaryDirectory(prefix="dxval-bench-ray-") as scratch:
        work = Path(scratch)
        protocol = _demo(work / "demo", args.distinct)
        files = sorted((work / "demo" / "demo-data").rglob("*.dcm"))
        cases = [
            CaseInput(f"case{index:06d}", (files[index % len(files)],))
            for index in range(args.cases)
        ]
        local = InferenceOptions(progress=False, use_cache=False)
        on_ray = InferenceOptions(progress=False, use_cache=False, executor="ray")
        cores = len(os.sched_getaffinity(0))
        print(
            f"set: {args.cases} cases over {len(files)} synthetic demo radiographs, demo model "
            f"(onnxruntime, CPU), batch {local.batch_size}; {cores} cores; "
            f"load average {os.getloadavg()[0]:.1f} at start"
        )
        baseline_scores = None
        local_times, warm_times = [], []
        cold, cold_scores = _timed(protocol, cases, work, on_ray)
        for _ in range(args.repeats):
            elapsed, scores = _timed(protocol, cases, work, local)
            local_times.append(elapsed)
            baseline_scores = baseline_scores or scores
        ray.init(
            num_cpus=cores,
            include_dashboard=False,
            logging_level=logging.ERROR,
            log_to_driver=False,
        )
        try:
            for _ in range(args.repeats):
                elapsed, scores = _timed(protocol, cases, work, on_ray)
                warm_times.append(elapsed)
                assert scores == baseline_scores, "Ray scores differ from the local executor's"
        finally:
            ray.shutdown()
        assert cold_scores == baseline_scores, "Ray scores differ from the local executor's"
        best_local, best_warm = min(local_times), min(warm_times)
        rate = args.cases / best_local
        print(f"local executor:            {best_local:7.2f} s  ({rate:6.1f} cases/s)")
        print(f"ray, started by the run:   {cold:7.2f} s  ratio {cold / best_local:.2f}")
        print(f"ray, already running:      {best_warm:7.2f} s  ratio {best_warm / best_local:.2f}")
        load = os.getloadavg()[0]
        print(f"goal: ratio <= 1.15 (Ray overhead <= 15 %); load average {load:.1f} at end")
        print("scores identical across all runs: yes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
