"""Issue 20's acceptance check against a real evidence root, through a running ``dxval serve``.

    python -m tests.serve.acceptance EVIDENCE_ROOT

Starts the server on a free loopback port (index in a temporary folder),
loads every page (root, each protocol, each run, each requirement ID, the
matrix, a search by each run's model or predictions digest), checks that the
PERF-001 page shows each run's observed values exactly as its
``criteria.json`` holds them, then changes one byte of one bundle and checks
that its run, protocol and requirement pages say FAILED VERIFY, and that
restoring the byte makes it VERIFIED again. Prints one line per check.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

from tests.serve.conftest import start_server, stop_server

from dxval.serve import EvidenceIndex


def _get(url: str) -> tuple[int, str, float]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (loopback only)
        body = response.read().decode("utf-8")
        return response.status, body, (time.perf_counter() - started) * 1000


def main(root: Path) -> int:
    """Run the checks; return 0 when all pass."""
    failures = 0

    def check(condition: bool, text: str) -> None:
        nonlocal failures
        failures += not condition
        print(f"{'ok  ' if condition else 'FAIL'} {text}")

    with tempfile.TemporaryDirectory() as folder:
        index = EvidenceIndex(root, index_path=Path(folder) / "probe.sqlite")
        index.refresh()
        bundles = [b for entry in index.protocols() for b in index.runs(entry.protocol_id)]
        for bundle in bundles:
            label = index.status(bundle).label
            check(label == "VERIFIED", f"{bundle.relative}: {label} before any change")
        server = start_server(root, Path(folder) / "index.sqlite")
        try:
            base = server.url.rstrip("/")
            pages = ["/", "/matrix"]
            pages += [f"/protocols/{quote(e.protocol_id)}" for e in index.protocols()]
            pages += [f"/runs/{quote(b.protocol_id)}/{quote(b.run_id)}" for b in bundles]
            requirements = sorted({r for b in bundles for r in index.requirements_of(b)})
            pages += [f"/requirements/{quote(r)}" for r in requirements]
            for bundle in bundles:
                lock = json.loads((bundle.folder / "lock.json").read_text())
                source = lock.get("model") or lock.get("predictions")
                pages.append(f"/search?q={source['sha256']}")
            for page in pages:
                status, body, ms = _get(base + page)
                check(status == 200 and "<h1>" in body, f"GET {page}: {status} in {ms:.0f} ms")

            _, body, _ = _get(base + "/requirements/PERF-001")
            shown = [float(v) for v in re.findall(r'<data value="([^"]+)">', body)]
            expected = []
            for bundle in bundles:
                document = json.loads((bundle.folder / "criteria.json").read_text())
                for requirement in document["requirements"]:
                    if requirement["id"] == "PERF-001":
                        expected += [c["observed"] for c in requirement["criteria"]]
            check(
                sorted(shown) == sorted(expected),
                f"PERF-001 page: observed {shown} == criteria.json {sorted(expected)}",
            )

            target = bundles[-1]
            path = target.folder / "cases.csv"
            original = path.read_bytes()
            changed = bytearray(original)
            changed[len(changed) // 2] ^= 0x01
            path.write_bytes(bytes(changed))
            try:
                run_url = f"/runs/{quote(target.protocol_id)}/{quote(target.run_id)}"
                first = quote(next(iter(index.requirements_of(target))))
                protocol_url = f"/protocols/{quote(target.protocol_id)}"
                for page in (run_url, protocol_url, f"/requirements/{first}", "/matrix"):
                    _, body, _ = _get(base + page)
                    check("FAILED VERIFY" in body, f"one changed byte: {page} says FAILED VERIFY")
                _, body, _ = _get(base + run_url)
                check("changed: cases.csv" in body, f"{run_url} names cases.csv as changed")
            finally:
                path.write_bytes(original)
            _, body, _ = _get(base + run_url)
            check(
                "FAILED VERIFY" not in body and "VERIFIED" in body,
                f"byte restored: {run_url} VERIFIED again",
            )
        finally:
            stop_server(server)
    print(f"{failures} check(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
