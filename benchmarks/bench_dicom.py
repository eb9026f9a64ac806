"""Decode + preprocess throughput and memory of dxval's DICOM loader.

Prints images/s on one core (the loader is single-threaded; the harness runs
one loader per worker process) for:

* RG1-sized chest CR (1955 × 1841, MONOCHROME1, 15-bit) → 256 × 256, read
  uncompressed and as lossless JPEG 2000;
* a 512 × 512 head CT slice (693) → 256 × 256 lung window, uncompressed and
  lossless JPEG 2000;

and the peak resident memory while loading 1,000 files (copies of the CT
slice, so the count is real files on disk), reported after 100 and after
1,000 files: constant memory means no per-file growth.

Run: ``.venv/bin/python benchmarks/bench_dicom.py [--files 1000]``.
Real files come from the pydicom-data package.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from pydicom.data import get_testdata_file

from dxval.dicom.loader import CaseLoader
from dxval.protocol.preprocessing import plain_steps

CR_STEPS = [
    {"op": "modality_lut"},
    {"op": "window", "center": 15000, "width": 30000},
    {"op": "monochrome2"},
    {"op": "resize", "size": [256, 256], "method": "area"},
    {"op": "to_channels", "channels": 1},
]
CT_STEPS = [
    {"op": "modality_lut"},
    {"op": "window", "center": -600, "width": 1500},
    {"op": "resize", "size": [256, 256], "method": "area"},
    {"op": "to_channels", "channels": 1},
]


def _file(name: str) -> Path:
    found = get_testdata_file(name, download=False)
    if found is None:
        raise SystemExit(f"{name} not found: pip install pydicom-data")
    return Path(str(found))


def _rss_mib() -> float:
    """Current resident set size (MiB) from /proc, peak from getrusage as fallback."""
    try:
        with open(f"/proc/{os.getpid()}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _throughput(loader: CaseLoader, path: Path, *, seconds: float) -> tuple[float, int]:
    loader([path])  # warm-up: imports, plugin selection
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or count < 3:
        loader([path])
        count += 1
    return count / (time.perf_counter() - start), count


def _memory(loader: CaseLoader, source: Path, files: int) -> list[tuple[int, float, float]]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for index in range(files):
            target = Path(folder) / f"slice{index:05d}.dcm"
            shutil.copyfile(source, target)
            paths.append(target)
        for index, path in enumerate(paths, start=1):
            loader([path])
            if index in (10, 100, files) or index % 250 == 0:
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                rows.append((index, _rss_mib(), peak))
    return rows


def main() -> None:
    """Print throughput per core and memory over many files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="files for the memory run")
    parser.add_argument("--seconds", type=float, default=5.0, help="time per throughput case")
    options = parser.parse_args()
    cases = [
        ("CR RG1 1955x1841 uncompressed -> 256x256", CR_STEPS, "RG1_UNCR.dcm"),
        ("CR RG1 1955x1841 JPEG 2000 lossless -> 256x256", CR_STEPS, "RG1_J2KR.dcm"),
        ("CT 693 512x512 uncompressed -> 256x256", CT_STEPS, "693_UNCR.dcm"),
        ("CT 693 512x512 JPEG 2000 lossless -> 256x256", CT_STEPS, "693_J2KR.dcm"),
    ]
    print(f"dxval DICOM loader benchmark (one process, one core; pid {os.getpid()})")
    for label, steps, name in cases:
        rate, count = _throughput(
            CaseLoader(plain_steps(steps)), _file(name), seconds=options.seconds
        )
        print(f"  {label:<48} {rate:8.1f} images/s per core  ({count} images)")
    print(f"memory while loading {options.files} CT files (uncompressed 512x512 -> 256x256):")
    for index, rss, peak in _memory(
        CaseLoader(plain_steps(CT_STEPS)), _file("693_UNCR.dcm"), options.files
    ):
        print(f"  after {index:>5} files: RSS {rss:7.1f} MiB, peak RSS {peak:7.1f} MiB")


if __name__ == "__main__":
    main()
