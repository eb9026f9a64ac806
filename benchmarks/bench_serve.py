"""Index build and page render times of ``dxval serve`` over 1,000 generated bundles.

One real bundle of the aSAH example (with its rendered reports, 1.3 MB) is
written by ``run_validation`` and copied 1,000 times with distinct run IDs
(``run.json`` and its ``MANIFEST.sha256`` line rewritten, so every copy still
verifies; the other files are hard links, as cheap as a copy to read). Prints:

* the time to build the index from nothing (every bundle read and verified),
  against the baseline of ``dxval verify`` run on each bundle in a loop
  (what the build cannot go below, since it verifies every bundle);
* the time of a refresh that finds nothing changed;
* the median time (5 requests, after one warm-up) of each page through the
  application (Starlette test client, no network).

Goals (issue 20): build under 30 s, every page under 200 ms.
Run: ``.venv/bin/python benchmarks/bench_serve.py [--bundles 1000]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from starlette.testclient import TestClient

from dxval.evidence import verify_bundle
from dxval.pipeline import run_validation
from dxval.serve import EvidenceIndex
from dxval.serve.app import create_app

ROOT = Path(__file__).resolve().parents[1]


def _copy_bundle(source: Path, target: Path, run_id: str) -> None:
    for path in source.rglob("*"):
        destination = target / path.relative_to(source)
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
        elif path.name not in {"run.json", "MANIFEST.sha256"}:
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, destination)
    run = json.loads((source / "run.json").read_text())
    run["run_id"] = run_id
    run_bytes = (json.dumps(run, indent=2) + "\n").encode()
    (target / "run.json").write_bytes(run_bytes)
    manifest = (source / "MANIFEST.sha256").read_text()
    digest = hashlib.sha256(run_bytes).hexdigest()
    manifest = re.sub(r"^[0-9a-f]{64}  run\.json$", f"{digest}  run.json", manifest, flags=re.M)
    (target / "MANIFEST.sha256").write_text(manifest)


def _median_ms(client: TestClient, path: str) -> float:
    assert client.get(path).status_code == 200, path
    times = []
    for _ in range(5):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, path
    return statistics.median(times)


def main() -> None:
    """Build the bundles, time the index and the pages, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundles", type=int, default=1000)
    count = parser.parse_args().bundles
    with tempfile.TemporaryDirectory(prefix="dxval-bench-serve-") as folder:
        base = Path(folder)
        protocols = base / "protocols"
        shutil.copytree(ROOT / "protocols" / "data" / "asah", protocols / "data" / "asah")
        shutil.copy2(ROOT / "protocols" / "asah-example.yaml", protocols / "asah-example.yaml")
        seed = run_validation(
            protocols / "asah-example.yaml", out=base / "seed", run_id="20260101T000000Z-seed00"
        ).bundle
        evidence = base / "evidence" / "ASAH-EXAMPLE"
        run_ids = [
            f"20260101T{index // 60 % 24:02d}{index % 60:02d}00Z-{index:06d}"
            for index in range(count)
        ]
        for run_id in run_ids:
            _copy_bundle(seed, evidence / run_id, run_id)
        print(f"{count} bundles of {sum(f.stat().st_size for f in seed.rglob('*')) / 1e6:.1f} MB")

        started = time.perf_counter()
        intact = sum(verify_bundle(evidence / run_id).intact for run_id in run_ids)
        baseline = time.perf_counter() - started
        assert intact == count, f"only {intact} of {count} copies verify"

        index = EvidenceIndex(base / "evidence", index_path=base / "index.sqlite")
        result = index.refresh()
        again = index.refresh()
        print(
            f"index build: {result.seconds:.1f} s for {result.added} bundles "
            f"({result.seconds / baseline:.2f}x a verify loop over them, {baseline:.1f} s); "
            f"goal < 30 s"
        )
        print(f"refresh with nothing changed: {again.seconds * 1000:.0f} ms")

        client = TestClient(create_app(index, rescan_seconds=None))
        pages = {
            "/ (protocols)": "/",
            "/protocols/ASAH-EXAMPLE (50 of 1000 runs)": "/protocols/ASAH-EXAMPLE",
            "/runs/ASAH-EXAMPLE/<run>": f"/runs/ASAH-EXAMPLE/{run_ids[-1]}",
            "/requirements/PERF-001 (50 runs + trend)": "/requirements/PERF-001",
            "/matrix (25 latest runs)": "/matrix",
            "/search?q=PERF-001": "/search?q=PERF-001",
            "/files/.../criteria.json": f"/files/ASAH-EXAMPLE/{run_ids[0]}/criteria.json",
        }
        for name, path in pages.items():
            print(f"page {name}: {_median_ms(client, path):.0f} ms (goal < 200 ms)")


if __name__ == "__main__":
    main()
