"""Speed of ``dxval monitor`` on 1,000,000 production rows (``python benchmarks/bench_monitor.py``).

Goal: the whole run — verify the baseline bundle, read and reason-code
1,000,000 rows, 52 weekly windows of score drift, positive rate, input drift
and performance on a 1% adjudicated sample (the protocol's criteria
evaluated on each window), write the monitoring bundle — in under 20 s
(report rendering excluded: it does not depend on the number of rows).

Named baseline, same process, same file: ``pandas.read_csv`` of the log plus
one ``scipy.stats.ks_2samp`` of all its scores against the baseline scores
(the least any drift check has to do). The ratio says what the rest costs.

Setup (not timed): a small demo validation bundle (``dxval demo generate``
with 20 cases per site, ``protocols/demo.yaml`` re-locked and validated
without reports) and a synthetic log (scores from a beta distribution, the
demo sites and manufacturers, 0.1% malformed rows).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

from dxval.cli import main as dxval_main
from dxval.demo import generate_demo
from dxval.demo.production import DEMO_MODEL_SHA256
from dxval.pipeline.monitor import run_monitoring

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 20.0


def baseline_bundle(folder: Path) -> Path:
    """A demo validation bundle on 3 × 20 generated cases (protocol re-locked for them)."""
    shutil.copytree(ROOT / "protocols", folder / "protocols", ignore=shutil.ignore_patterns("data"))
    shutil.copytree(ROOT / "models" / "demo", folder / "models" / "demo")
    generate_demo(folder / "demo-data", cases_per_site=20)
    protocol = folder / "protocols" / "demo.yaml"
    assert dxval_main(["lock", str(protocol)]) == 0
    code = dxval_main(["validate", str(protocol), "--out", str(folder / "evidence"), "--no-report"])
    assert code in (0, 1, 4), code
    (bundle,) = (folder / "evidence" / "DEMO-NODULE-001").iterdir()
    return bundle


def production_log(path: Path, rows: int, seed: int = 1) -> None:
    """``rows`` synthetic production rows over 52 weeks from 2027-01-04, 0.1% malformed."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2027-01-04T00:00:00")
    seconds = np.sort(rng.integers(0, 52 * 7 * 86_400, rows))
    stamps = (start + seconds.astype("timedelta64[s]")).astype(str)
    stamps = np.char.add(stamps, "Z")
    sites = rng.choice(["Site A", "Site B", "Site C"], rows)
    manufacturer = np.where(
        sites == "Site A",
        "Aurora Synthetic Imaging",
        np.where(sites == "Site B", "Borealis Demo Medical", "Cobalt Virtual Radiology"),
    )
    truth = (rng.random(rows) < 0.3).astype(int)
    scores = np.where(truth == 1, rng.beta(5, 2, rows), rng.beta(1, 12, rows))
    adjudicated = rng.random(rows) < 0.01
    frame = pd.DataFrame(
        {
            "timestamp": stamps,
            "score": np.round(scores, 6),
            "model_sha256": DEMO_MODEL_SHA256,
            "site": sites,
            "manufacturer": manufacturer,
            "sex": rng.choice(["F", "M"], rows),
            "age": rng.integers(18, 100, rows),
            "truth": np.where(adjudicated, truth.astype(str), ""),
        }
    )
    bad = rng.choice(rows, rows // 1000, replace=False)
    frame.loc[bad, "timestamp"] = "not a time"
    frame.to_csv(path, index=False)


def main() -> int:
    """Time the monitor run and the named baseline; print the ratio and the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dxval-bench-monitor-") as temporary:
        folder = Path(temporary)
        print("setup: demo baseline bundle and production log (not timed)", flush=True)
        bundle = baseline_bundle(folder)
        log = folder / "prod.csv"
        production_log(log, args.rows)
        size = log.stat().st_size / 1e6
        baseline_scores = pd.read_csv(bundle / "cases.csv")["score"].dropna().to_numpy()

        wall, cpu = time.perf_counter(), time.process_time()
        frame = pd.read_csv(log)
        ks_2samp(baseline_scores, frame["score"].to_numpy())
        reference = (time.perf_counter() - wall, time.process_time() - cpu)

        wall, cpu = time.perf_counter(), time.process_time()
        result = run_monitoring(bundle, log, out=folder / "out", reports=False)
        monitor = (time.perf_counter() - wall, time.process_time() - cpu)

        windows = len(result.document["windows"])
        excluded = result.document["production"]["excluded_total"]
        print(f"  production log: {args.rows} rows, {size:.0f} MB, {windows} weekly windows, "
              f"{excluded} rows excluded (reason-coded)")  # fmt: skip
        print(f"  baseline  pandas.read_csv + scipy ks_2samp   wall {reference[0]:7.2f} s  "
              f"cpu {reference[1]:7.2f} s")  # fmt: skip
        print(f"  dxval monitor (no report)                    wall {monitor[0]:7.2f} s  "
              f"cpu {monitor[1]:7.2f} s")  # fmt: skip
        print(f"  ratio monitor / baseline: wall {monitor[0] / reference[0]:.1f}x, "
              f"cpu {monitor[1] / reference[1]:.1f}x")  # fmt: skip
        met = monitor[0] < GOAL_SECONDS
        print(f"  goal: under {GOAL_SECONDS:.0f} s wall for 1,000,000 rows: "
              f"{'MET' if met else 'NOT MET'}")  # fmt: skip
        return 0 if met or args.rows != 1_000_000 else 1


if __name__ == "__main__":
    raise SystemExit(main())
