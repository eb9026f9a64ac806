"""Peak memory of ``dxval segmentation`` against the number of cases (streaming check).

Writes three synthetic truth/prediction pairs of 512x512x300 masks
(spacing 0.7x0.7x2.5 mm; a 40-voxel-radius ellipsoid and a shifted,
slightly larger one) as compressed ``.npz``, then runs the command in a
fresh process on manifests of N cases cycling through the pairs (every
case is read from disk again) and prints the peak resident set size of each
run. Streaming means the peak does not grow with N: the figure printed is
the ratio peak(N) / peak(smallest N), expected ~1.0, against the size of
one case's two masks for scale.

    python benchmarks/bench_segmentation.py [N ...]   (default 10 20 40)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SHAPE = (512, 512, 300)
SPACING = (0.7, 0.7, 2.5)
CHILD = """
import resource, sys
from dxval.cli import main
code = main(["segmentation", sys.argv[1], "--json", "--bootstrap-replicates", "200"])
print("maxrss_kib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def _ellipsoid(centre: tuple[int, int, int], radius_mm: float) -> np.ndarray:
    axes = [np.arange(n, dtype=np.float32) * s for n, s in zip(SHAPE, SPACING, strict=True)]
    inside = np.zeros(SHAPE, dtype=bool)
    zs = slice(max(0, centre[2] - 20), min(SHAPE[2], centre[2] + 21))
    xs, ys, z = np.meshgrid(axes[0], axes[1], axes[2][zs], indexing="ij", sparse=True)
    cx, cy, cz = (c * s for c, s in zip(centre, SPACING, strict=True))
    inside[:, :, zs] = (xs - cx) ** 2 + (ys - cy) ** 2 + (z - cz) ** 2 <= radius_mm**2
    return inside


def _write_pairs(folder: Path) -> list[tuple[str, str]]:
    pairs = []
    for index, shift in enumerate((0, 2, 5)):
        truth = _ellipsoid((256, 256, 150), 28.0)
        prediction = _ellipsoid((256 + shift, 250, 150 + index), 28.0 + index)
        for name, mask in (("truth", truth), ("prediction", prediction)):
            np.savez_compressed(
                folder / f"{name}{index}.npz", mask=mask.astype(np.uint8), spacing=SPACING
            )
        pairs.append((f"truth{index}.npz", f"prediction{index}.npz"))
    return pairs


def _run(folder: Path, pairs: list[tuple[str, str]], cases: int) -> tuple[int, float]:
    manifest = folder / f"manifest{cases}.csv"
    rows = [f"case{i:04d},{pairs[i % 3][0]},{pairs[i % 3][1]}" for i in range(cases)]
    manifest.write_text("case_id,truth,prediction\n" + "\n".join(rows) + "\n")
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, str(manifest)], capture_output=True, text=True, check=True
    )
    elapsed = time.perf_counter() - start
    line = [text for text in completed.stderr.splitlines() if text.startswith("maxrss_kib")][-1]
    return int(line.split()[1]), elapsed


def main(counts: list[int]) -> None:
    """Print peak RSS per case count and the ratio to the smallest count."""
    one_case_mib = 2 * np.prod(SHAPE) / 2**20
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        pairs = _write_pairs(folder)
        first = None
        for cases in counts:
            rss_kib, seconds = _run(folder, pairs, cases)
            first = first or rss_kib
            print(
                f"segmentation {cases:4d} cases of {SHAPE}: peak RSS {rss_kib / 1024:7.1f} MiB "
                f"(ratio to {counts[0]} cases {rss_kib / first:.3f}; one case's two uint8 "
                f"masks {one_case_mib:.0f} MiB), {seconds:.1f} s, {seconds / cases:.2f} s/case",
                flush=True,
            )


if __name__ == "__main__":
    main([int(value) for value in sys.argv[1:]] or [10, 20, 40])
