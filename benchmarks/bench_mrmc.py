"""Speed of ``dxval mrmc`` (run: python benchmarks/bench_mrmc.py).

Study: 10 readers × 2 modalities × 2,000 cases (40,000 reads, 40 % positive,
5-point-like ratings with ties), jackknife covariance, RRRC.

1. The whole ``dxval mrmc READS.csv --json`` process, wall-clock (goal: under
   5 s, issue 15), next to the start-up of ``dxval --version`` in the same run
   (what the interpreter and imports alone cost on this machine).
2. In process: dxval's jackknife covariance of the 20 reader × modality AUCs
   vs the straightforward baseline, a loop that recomputes each AUC with
   scikit-learn's ``roc_auc_score`` for every left-out case, timed on a few
   cases and scaled to 2,000 (goal: at least 100× faster).

Wall-clock and CPU time of this process are both shown: on a machine shared
with other work the wall-clock figures swing with the load.
"""

from __future__ import annotations

import csv
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from dxval.stats.mrmc import CovarianceMethod, auc_covariance

READERS, MODALITIES, CASES = 10, 2, 2000


def synthetic(seed: int = 20261205) -> tuple[np.ndarray, np.ndarray]:
    """Scores (2, 10, 2000) on a 1-100 scale (ties present) and truth (2000,)."""
    rng = np.random.default_rng(seed)
    truth = rng.random(CASES) < 0.4
    case_effect = rng.normal(size=CASES) + 1.2 * truth
    reader_effect = rng.normal(scale=0.3, size=(1, READERS, 1))
    modality_effect = np.array([0.0, 0.25])[:, None, None] * truth
    noise = rng.normal(scale=0.8, size=(MODALITIES, READERS, CASES))
    latent = case_effect + reader_effect + modality_effect + noise
    return np.clip(np.round(20 * latent + 50), 1, 100), truth


def write_reads(path: Path, scores: np.ndarray, truth: np.ndarray) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["reader", "case", "modality", "truth", "score"])
        for modality, name in enumerate(("unaided", "aided")):
            for reader in range(READERS):
                for case in range(CASES):
                    writer.writerow(
                        [
                            f"R{reader + 1}",
                            f"C{case + 1}",
                            name,
                            int(truth[case]),
                            int(scores[modality, reader, case]),
                        ]
                    )


def process_seconds(arguments: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) seconds of one ``dxval`` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "dxval", *arguments], capture_output=True, check=False
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise SystemExit(completed.stderr.decode())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def naive_jackknife_seconds(scores: np.ndarray, truth: np.ndarray, cases: int) -> float:
    """Seconds of the per-reader leave-one-out loop over ``cases`` left-out cases."""
    flat = scores.reshape(-1, CASES)
    start = time.perf_counter()
    for left_out in range(cases):
        keep = np.arange(CASES) != left_out
        for row in flat:
            roc_auc_score(truth[keep], row[keep])
    return time.perf_counter() - start


def main() -> None:
    scores, truth = synthetic()
    with tempfile.TemporaryDirectory() as folder:
        reads = Path(folder) / "reads.csv"
        write_reads(reads, scores, truth)
        startup = [process_seconds(["--version"]) for _ in range(3)]
        whole = [process_seconds(["mrmc", str(reads), "--json"]) for _ in range(3)]
    best_wall = min(wall for wall, _ in whole)
    best_cpu = min(cpu for _, cpu in whole)
    print(f"1. dxval mrmc, {READERS} readers x {MODALITIES} modalities x {CASES} cases, jackknife")
    print(
        f"    whole process (best of 3)   wall {best_wall:7.3f} s   cpu {best_cpu:7.3f} s   "
        "(wall: " + ", ".join(f"{wall:.2f}" for wall, _ in whole) + ")"
    )
    print(
        f"    dxval --version start-up    wall {min(w for w, _ in startup):7.3f} s   "
        f"cpu {min(c for _, c in startup):7.3f} s"
    )
    print(f"    goal < 5 s wall: {'MET' if best_wall < 5.0 else 'NOT MET'}")

    cpu, wall = time.process_time(), time.perf_counter()
    auc_covariance(scores, truth, method=CovarianceMethod.JACKKNIFE)
    ours_wall, ours_cpu = time.perf_counter() - wall, time.process_time() - cpu
    sampled = 20
    naive = naive_jackknife_seconds(scores, truth, sampled) * CASES / sampled
    print("2. jackknife covariance of the 20 reader x modality AUCs")
    print(f"    dxval (O(n) leave-one-out)  wall {ours_wall:7.3f} s   cpu {ours_cpu:.3f} s")
    print(
        f"    roc_auc_score loop          wall {naive:7.1f} s   (timed on {sampled} "
        f"left-out cases, scaled to {CASES})"
    )
    ratio = naive / ours_wall
    print(f"    speed-up {ratio:,.0f}x   goal >= 100x: {'MET' if ratio >= 100 else 'NOT MET'}")


if __name__ == "__main__":
    main()
