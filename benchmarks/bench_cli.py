"""Whole-process speed of the commands a user times (issue 18), as ratios in the same run.

1. ``dxval metrics`` on 1,000,000 cases, default flags (closed-form intervals),
   vs R/pROC ``roc`` + ``ci.auc(method="delong")`` in a whole Rscript process
   (goal ≤ 0.8×) and vs pandas ``read_csv`` + scikit-learn ``roc_auc_score``
   in a whole Python process (goal ≤ 1.0×), on the same CSV.
2. 2,000 stratified bootstrap replicates of the AUC on 100,000 cases
   (``dxval metrics --auc-ci bootstrap``) vs pROC ``ci.auc(method="bootstrap",
   boot.n=2000, boot.stratified=TRUE)`` (goal ≤ 0.05×).
3. ``dxval --version`` and ``dxval metrics --help`` vs a bare ``python -c
   "import argparse, json, pathlib"`` in the same interpreter (goal ≤ 8×).

Every figure is the best wall-clock time of a few runs of a whole process
(start-up and file reading included), so a shared, loaded machine inflates
both sides of a ratio. R and pROC come from Debian (``make bench`` runs
``.ci/debian-deps r-base-core r-cran-proc`` first); without Rscript the R
rows say so and the script exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PYTHON = sys.executable


OUTPUT: dict[str, str] = {}
CPU: dict[str, float] = {}


def best_wall(command: list[str], *, repeats: int) -> float:
    """Shortest wall-clock time of ``repeats`` runs of ``command`` (must exit 0).

    The last run's stdout is kept in OUTPUT under the command's text, and the
    CPU seconds (user + system) of the fastest run in CPU under the same key:
    on a shared, loaded machine the CPU time moves less than the wall time.
    """
    times, cpus = [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        completed = subprocess.run(command, check=True, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        OUTPUT[" ".join(command)] = completed.stdout
    CPU[" ".join(command)] = min(cpus)
    return min(times)


def cpu_seconds(command: list[str]) -> float:
    """CPU seconds (user + system) of the least CPU-hungry run of ``command``."""
    return CPU[" ".join(command)]


def write_cases(path: Path, cases: int, seed: int) -> None:
    """Binormal scores (AUC ≈ 0.76), 30% positives, 4 decimals (ties present)."""
    rng = np.random.default_rng(seed)
    truth = rng.random(cases) < 0.3
    scores = np.round(rng.normal(size=cases) + truth.astype(float), 4)
    with path.open("w", encoding="utf-8") as handle:
        handle.write("y,s\n")
        np.savetxt(handle, np.column_stack([truth, scores]), fmt=["%d", "%.4f"], delimiter=",")


def r_script(path: Path, ci: str) -> list[str]:
    """Rscript reading ``path`` and printing pROC's AUC interval ``ci``."""
    code = (
        "suppressMessages(library(pROC)); "
        f"d <- read.csv('{path}'); "
        "r <- roc(d$y, d$s, levels=c(0, 1), direction='<', quiet=TRUE); "
        f"x <- ci.auc(r, {ci}); cat(sprintf('%.10f %.10f %.10f', x[1], x[2], x[3]))"
    )
    return ["Rscript", "-e", code]


def load_average() -> str:
    """The 1-minute load average now (the machine may be shared: it inflates both sides)."""
    return f"load {os.getloadavg()[0]:.2f}"


def row(label: str, seconds: float) -> None:
    print(f"    {label:<64} {seconds:8.3f} s   ({load_average()})")


def ratio(label: str, value: float, goal: float) -> bool:
    met = value <= goal
    verdict = "MET" if met else "NOT MET"
    print(f"    {label:<64} {value:8.3f}×  goal ≤ {goal}×  {verdict}  ({load_average()})")
    return met


def bootstrap_step(
    dxval: list[str], small: Path, columns: list[str], args: argparse.Namespace, *, have_r: bool
) -> list[bool]:
    """Step 2: 2,000 stratified bootstrap replicates, time and agreement with pROC."""
    met: list[bool] = []
    print(f"2. 2,000 stratified bootstrap replicates of AUC, {args.bootstrap_cases:,} cases")
    command = [
        *dxval,
        "metrics",
        str(small),
        *columns,
        "--auc-ci",
        "bootstrap",
        "--bootstrap-replicates",
        "2000",
    ]
    boot = best_wall(command, repeats=args.repeats)
    auc = json.loads(OUTPUT[" ".join(command)])["auc"]
    row("dxval metrics --auc-ci bootstrap --bootstrap-replicates 2000", boot)
    print(f"      dxval AUC {auc['estimate']:.6f} [{auc['low']:.6f}, {auc['high']:.6f}]")
    if have_r:
        r_command = r_script(small, "method='bootstrap', boot.n=2000, boot.stratified=TRUE")
        proc_boot = best_wall(r_command, repeats=1)  # tens of seconds: one run
        low, middle, high = (float(x) for x in OUTPUT[" ".join(r_command)].split())
        row("Rscript: pROC ci.auc(bootstrap, boot.n=2000, stratified)", proc_boot)
        print(f"      pROC  [{low:.6f}, {high:.6f}] (bootstrap median {middle:.6f})")
        met.append(ratio("dxval / pROC bootstrap", boot / proc_boot, 0.05))
        cpu, proc_cpu = cpu_seconds(command), cpu_seconds(r_command)
        label = f"CPU seconds (user + system): dxval {cpu:.2f}, pROC {proc_cpu:.2f}"
        print(f"    {label:<64} {cpu / proc_cpu:8.3f}×  (same goal by CPU time: less load-bound)")
        # Different random draws: the bounds differ by Monte-Carlo error alone.
        # A 2.5% percentile bound of B = 2,000 replicates has standard error about
        # σ·sqrt(0.025·0.975/B)/φ(1.96) ≈ 0.06·σ (σ the AUC's standard error),
        # so two independent runs differ by about 0.085·σ; here σ ≈ 0.0017.
        gap = max(abs(auc["low"] - low), abs(auc["high"] - high))
        agrees = gap <= 0.002
        print(
            f"    {'largest |dxval − pROC| bound difference':<64} {gap:8.5f}   "
            f"tolerance 0.002  {'MET' if agrees else 'NOT MET'}"
        )
        met.append(agrees)
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per command (best kept)")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--bootstrap-cases", type=int, default=100_000)
    args = parser.parse_args()
    have_r = shutil.which("Rscript") is not None
    dxval = [PYTHON, "-m", "dxval"]
    with tempfile.TemporaryDirectory() as folder:
        big, small = Path(folder) / "big.csv", Path(folder) / "small.csv"
        write_cases(big, args.cases, seed=1)
        write_cases(small, args.bootstrap_cases, seed=2)
        columns = ["--truth", "y", "--positive", "1", "--score", "s", "--json"]

        print(f"1. metrics on {args.cases:,} cases, default flags, whole process")
        metrics = best_wall([*dxval, "metrics", str(big), *columns], repeats=args.repeats)
        row("dxval metrics (DeLong AUC, logit AP interval)", metrics)
        sklearn_code = (
            "import sys, pandas as pd; from sklearn.metrics import roc_auc_score; "
            "d = pd.read_csv(sys.argv[1]); print(roc_auc_score(d.y, d.s))"
        )
        sklearn = best_wall([PYTHON, "-c", sklearn_code, str(big)], repeats=args.repeats)
        row("python: pandas read_csv + sklearn roc_auc_score", sklearn)
        met = [ratio("dxval / (pandas + sklearn)", metrics / sklearn, 1.0)]
        if have_r:
            delong = best_wall(r_script(big, "method='delong'"), repeats=args.repeats)
            row("Rscript: pROC roc + ci.auc(method='delong')", delong)
            met.append(ratio("dxval / pROC DeLong", metrics / delong, 0.8))
            dxval_cpu = cpu_seconds([*dxval, "metrics", str(big), *columns])
            r_cpu = cpu_seconds(r_script(big, "method='delong'"))
            label = f"CPU seconds (user + system): dxval {dxval_cpu:.2f}, pROC {r_cpu:.2f}"
            print(f"    {label:<64} {dxval_cpu / r_cpu:8.3f}×  (by CPU time)")

        met += bootstrap_step(dxval, small, columns, args, have_r=have_r)

        print("3. start-up")
        repeats = max(args.repeats, 5)
        bare = best_wall([PYTHON, "-c", "import argparse, json, pathlib"], repeats=repeats)
        row('python -c "import argparse, json, pathlib"', bare)
        version = best_wall([*dxval, "--version"], repeats=repeats)
        row("dxval --version", version)
        helped = best_wall([*dxval, "metrics", "--help"], repeats=repeats)
        row("dxval metrics --help", helped)
        met.append(ratio("dxval --version / bare python", version / bare, 8.0))
        met.append(ratio("dxval metrics --help / bare python", helped / bare, 8.0))
    if not have_r:
        print("!! Rscript not found: the pROC baselines were not measured")
        print("   (make bench installs them: .ci/debian-deps r-base-core r-cran-proc)")
        return 1
    print(f"{sum(met)} of {len(met)} goals met (wall-clock; the machine may be loaded)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
