"""Speed of dxval.stats against named baselines (run: python benchmarks/bench_stats.py).

1. AUC with its DeLong CI on 1,000,000 cases vs scikit-learn's
   ``roc_auc_score`` alone on the same data (goal: at most 1.5× sklearn).
2. 2,000 stratified bootstrap replicates of the AUC on 100,000 cases (goal:
   at most 10 s) vs a Python loop of ``roc_auc_score`` over stratified
   resamples, timed on fewer replicates and scaled to 2,000 (goal: at least
   20× faster).

Each timing is reported as wall-clock time and as CPU time of this process
(``time.process_time``): on a machine shared with other work the wall-clock
ratios swing with the load, the CPU-time ratios much less. Memory: the
vectorised bootstrap draws its replicates in chunks whose working arrays fit
``dxval.stats._resampling.MEMORY_BUDGET`` (64 MiB).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from sklearn.metrics import roc_auc_score

from dxval.stats import auc_delong, bootstrap_auc

Timing = tuple[float, float]  # (wall-clock seconds, CPU seconds)


def timed(function: Callable[[], object]) -> Timing:
    """Wall-clock and CPU time of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def best_time(function: Callable[[], object], *, repeats: int) -> Timing:
    """Shortest wall and CPU times over ``repeats`` calls (the least disturbed by other load)."""
    timings = [timed(function) for _ in range(repeats)]
    return min(wall for wall, _ in timings), min(cpu for _, cpu in timings)


def line(label: str, timing: Timing, suffix: str = "") -> None:
    """Print one aligned row: label, wall-clock and CPU seconds."""
    print(f"    {label:<52} wall {timing[0]:8.3f} s   cpu {timing[1]:8.3f} s  {suffix}")


def verdict(value: float, goal: float, *, at_most: bool) -> str:
    """MET / NOT MET for a ratio against its goal."""
    met = value <= goal if at_most else value >= goal
    return "MET" if met else "NOT MET"


def synthetic(cases: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Binormal scores (AUC ≈ 0.76), 30% positives, rounded to 4 decimals (ties present)."""
    rng = np.random.default_rng(seed)
    truth = rng.random(cases) < 0.3
    scores = np.round(rng.normal(size=cases) + truth.astype(float), 4)
    return truth, scores


def bench_delong(cases: int, repeats: int) -> None:
    truth, scores = synthetic(cases, seed=1)
    ours = best_time(lambda: auc_delong(truth, scores), repeats=repeats)
    baseline = best_time(lambda: roc_auc_score(truth, scores), repeats=repeats)
    result = auc_delong(truth, scores)
    assert abs((result.estimate or 0.0) - roc_auc_score(truth, scores)) < 1e-12
    print(f"[1] AUC + DeLong CI, {cases:,} cases (best of {repeats})")
    line("dxval.stats.auc_delong (AUC, DeLong variance, CI)", ours)
    line("baseline: sklearn roc_auc_score (AUC only)", baseline)
    for index, kind in enumerate(("wall", "cpu")):
        ratio = ours[index] / baseline[index]
        print(
            f"    ratio dxval / sklearn ({kind}){'':<32}{ratio:8.2f}x   goal <= 1.5x  "
            f"{verdict(ratio, 1.5, at_most=True)}"
        )


def loop_bootstrap(truth: np.ndarray, scores: np.ndarray, replicates: int, seed: int) -> None:
    """The baseline: one roc_auc_score call per stratified resample."""
    rng = np.random.default_rng(seed)
    positives, negatives = np.flatnonzero(truth), np.flatnonzero(~truth)
    for _ in range(replicates):
        sample = np.concatenate(
            [
                rng.choice(positives, positives.size, replace=True),
                rng.choice(negatives, negatives.size, replace=True),
            ]
        )
        roc_auc_score(truth[sample], scores[sample])


def bench_bootstrap(cases: int, replicates: int, loop_replicates: int) -> None:
    truth, scores = synthetic(cases, seed=2)
    results = []
    ours = timed(
        lambda: results.append(bootstrap_auc(truth, scores, seed=3, replicates=replicates))
    )
    measured = timed(lambda: loop_bootstrap(truth, scores, loop_replicates, seed=3))
    loop = (measured[0] * replicates / loop_replicates, measured[1] * replicates / loop_replicates)
    print(f"[2] stratified bootstrap of the AUC, {replicates:,} replicates, {cases:,} cases")
    line(
        "dxval.stats.bootstrap_auc (vectorised)",
        ours,
        f"goal <= 10 s  {verdict(ours[0], 10.0, at_most=True)} (wall)",
    )
    line(f"baseline: loop of roc_auc_score, {loop_replicates} reps scaled", loop)
    for index, kind in enumerate(("wall", "cpu")):
        speedup = loop[index] / ours[index]
        print(
            f"    speed-up over the loop ({kind}){'':<31}{speedup:8.1f}x   goal >= 20x  "
            f"{verdict(speedup, 20.0, at_most=False)}"
        )
    result = results[0]
    print(f"    interval [{result.low:.4f}, {result.high:.4f}] around {result.estimate:.4f}")


def main() -> None:
    """Run both benchmarks and print the ratios against their baselines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases for [1]")
    parser.add_argument("--bootstrap-cases", type=int, default=100_000, help="cases for [2]")
    parser.add_argument("--replicates", type=int, default=2000, help="replicates for [2]")
    parser.add_argument("--loop-replicates", type=int, default=40, help="baseline replicates")
    parser.add_argument("--repeats", type=int, default=5, help="timing repeats for [1]")
    args = parser.parse_args()
    bench_delong(args.cases, args.repeats)
    bench_bootstrap(args.bootstrap_cases, args.replicates, args.loop_replicates)


if __name__ == "__main__":
    main()
