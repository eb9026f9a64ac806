"""Run every benchmark script in this folder, one after another (``make bench``).

Each ``bench_*.py`` prints its own figures as ratios against a named baseline
measured in the same run; this runner only sequences them and fails if one
fails. Speed goals live here, never in timed tests.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    """Run each ``bench_*.py`` beside this file with the current interpreter."""
    folder = Path(__file__).resolve().parent
    failures = 0
    for script in sorted(folder.glob("bench_*.py")):
        print(f"== {script.name}", flush=True)
        completed = subprocess.run([sys.executable, str(script)], check=False)
        if completed.returncode != 0:
            print(f"!! {script.name} exited {completed.returncode}", flush=True)
            failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
