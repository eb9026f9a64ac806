"""The analysis stage of ``validate`` alone, on synthetic arrays (issue 18, scalestats).

Builds the case table of ``bench_validate.py``'s protocol (one site, an
age-band and a grade attribute, default statistics, the same two
requirements) directly as numpy arrays — no CSV reading, no report — and
times :func:`dxval.pipeline.validate._analyse` plus the JSON encoding of
``metrics.json``; prints seconds, CPU seconds, peak RSS and the size of
``metrics.json``. ``--profile FILE`` writes a cProfile dump.

Usage: ``python benchmarks/bench_analysis.py [--cases N] [--profile FILE]``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_validate import write_protocol

from dxval.analysis.populations import band_labels
from dxval.analysis.table import CaseTable
from dxval.pipeline.plan import plan_run
from dxval.pipeline.validate import _analyse


def table_of(cases: int, seed: int = 4) -> CaseTable:
    """The cases of ``bench_validate.write_protocol`` as a case table (same draws)."""
    rng = np.random.default_rng(seed)
    truth = rng.random(cases) < 0.3
    scores = np.round(1 / (1 + np.exp(-(rng.normal(size=cases) + 1.2 * truth - 0.8))), 4)
    ages = rng.integers(18, 95, cases)
    grades = rng.integers(1, 6, cases)
    labels = np.array(band_labels([0, 50, 70, 120]))
    age_levels = labels[np.searchsorted([0, 50, 70, 120], ages, side="right") - 1]
    return CaseTable(
        case_ids=np.char.add("c", np.arange(cases).astype(str)),
        sites=np.full(cases, "Site A"),
        test_sets=np.full(cases, "site-a"),
        truth=truth,
        scores=scores,
        evaluable=np.ones(cases, dtype=bool),
        levels={"age": age_levels, "grade": grades.astype(str)},
        operating_point=0.5,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--profile", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        plan = plan_run(write_protocol(Path(name), 200))
    table = table_of(args.cases)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"case table of {args.cases:,} cases built: peak RSS so far {before:.2f} GiB")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    cpu0, wall0 = time.process_time(), time.perf_counter()
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    result = _analyse(plan, table)
    text = json.dumps(result.metrics_document, sort_keys=True)
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(
        f"analysis of {args.cases:,} cases: {wall:.2f} s wall, {cpu:.2f} s CPU, peak RSS "
        f"{peak:.2f} GiB, metrics.json {len(text) / 2**20:.2f} MiB, criteria "
        f"{result.summary.passed}/{result.summary.total} (load average {load})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
