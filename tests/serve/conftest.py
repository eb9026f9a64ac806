"""Fixtures for the auditor's web view: a small evidence root with real bundles, and a server.

The session's evidence root (never modified; tests that alter bundles copy
it) holds:

- ``ASAH-EXAMPLE`` run 1, the example as shipped, with its rendered reports;
- ``ASAH-EXAMPLE`` run 2, after PERF-001's text was reworded (so run 1's
  link to PERF-001 is SUSPECT), without reports;
- ``ASAH-HOSTILE``: the same data with markup everywhere a user can put
  text: the protocol title, a requirement's text and every case ID carry
  ``<script>`` or an ``onerror`` handler (user data must come out escaped).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dxval.pipeline import lock_protocol, run_validation
from dxval.serve import EvidenceIndex

ROOT = Path(__file__).resolve().parents[2]
PROTOCOLS = ROOT / "protocols"
RUN_1 = "20260301T090000Z-aaaaa1"
RUN_2 = "20260302T090000Z-aaaaa2"
HOSTILE_RUN = "20260303T090000Z-bbbbb1"
CASE_PREFIX = "<script>alert('case')</script>"
HOSTILE_TITLE = "Hostile <script>alert('title')</script> protocol"
HOSTILE_TEXT = 'ROC AUC at least 0.70 <img src=x onerror="alert(1)">.'


@dataclass(frozen=True, slots=True)
class EvidenceRoot:
    """The fixture root and where its bundles are."""

    root: Path
    run_1: Path
    run_2: Path
    hostile: Path


def _hostile_protocol(folder: Path) -> Path:
    shutil.copytree(PROTOCOLS / "data" / "asah", folder / "data" / "asah")
    for csv in (folder / "data" / "asah").rglob("*.csv"):
        lines = csv.read_text().splitlines()
        renamed = [lines[0]] + [
            f'"{CASE_PREFIX}{line.split(",", 1)[0]}",' + line.split(",", 1)[1] for line in lines[1:]
        ]
        csv.write_text("\n".join(renamed) + "\n")
    text = (PROTOCOLS / "asah-example.yaml").read_text()
    text = re.sub(r"^id: ASAH-EXAMPLE$", "id: ASAH-HOSTILE", text, count=1, flags=re.MULTILINE)
    text = re.sub(r"^title: .*$", f'title: "{HOSTILE_TITLE}"', text, count=1, flags=re.MULTILINE)
    text = text.replace("text: ROC AUC over all sites at least 0.70.", f"text: '{HOSTILE_TEXT}'")
    path = folder / "hostile.yaml"
    path.write_text(text)
    lock_protocol(path)
    return path


@pytest.fixture(scope="session")
def evidence_root(tmp_path_factory: pytest.TempPathFactory) -> EvidenceRoot:
    """The session's evidence root (do not modify: use ``evidence_copy``)."""
    base = tmp_path_factory.mktemp("serve")
    folder = base / "protocols"
    shutil.copytree(PROTOCOLS / "data" / "asah", folder / "data" / "asah")
    protocol = folder / "asah-example.yaml"
    text = (PROTOCOLS / "asah-example.yaml").read_text()
    protocol.write_text(text)
    evidence = base / "evidence"
    run_1 = run_validation(protocol, out=evidence, run_id=RUN_1).bundle
    protocol.write_text(
        text.replace(
            "text: ROC AUC over all sites at least 0.70.",
            "text: ROC AUC, pooled over all sites, at least 0.70.",
        )
    )
    run_2 = run_validation(protocol, out=evidence, run_id=RUN_2, reports=False).bundle
    hostile = run_validation(
        _hostile_protocol(base / "hostile"), out=evidence, run_id=HOSTILE_RUN, reports=False
    ).bundle
    return EvidenceRoot(evidence, run_1, run_2, hostile)


@pytest.fixture
def evidence_copy(evidence_root: EvidenceRoot, tmp_path: Path) -> EvidenceRoot:
    """A private copy of the evidence root that a test may alter."""
    root = tmp_path / "evidence"
    shutil.copytree(evidence_root.root, root, symlinks=True)

    def moved(bundle: Path) -> Path:
        return root / bundle.relative_to(evidence_root.root)

    return EvidenceRoot(
        root, moved(evidence_root.run_1), moved(evidence_root.run_2), moved(evidence_root.hostile)
    )


@pytest.fixture
def index(evidence_copy: EvidenceRoot, tmp_path: Path) -> EvidenceIndex:
    """An index over the private copy, built, kept outside the root."""
    built = EvidenceIndex(evidence_copy.root, index_path=tmp_path / "index.sqlite")
    built.refresh()
    return built


@dataclass(frozen=True, slots=True)
class Server:
    """A ``dxval serve`` process on a free loopback port."""

    url: str
    port: int
    process: subprocess.Popen[str]


def start_server(root: Path, index_path: Path) -> Server:
    """Start ``python -m dxval serve ROOT --port 0`` and wait for the address it prints."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dxval",
            "serve",
            str(root),
            "--port",
            "0",
            "--index",
            str(index_path),
            "--rescan",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    assert process.stdout is not None
    for line in process.stdout:
        found = re.search(r"read-only view at (http://127\.0\.0\.1:(\d+)/)", line)
        if found:
            return Server(found.group(1), int(found.group(2)), process)
    process.wait(timeout=10)
    message = process.stderr.read() if process.stderr else ""
    raise AssertionError(f"dxval serve did not start (exit {process.returncode}): {message}")


def stop_server(server: Server) -> None:
    """Interrupt the server as Ctrl-C would and wait for it to end."""
    server.process.send_signal(signal.SIGINT)
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    for stream in (server.process.stdout, server.process.stderr):
        if stream is not None:
            stream.close()


@pytest.fixture(scope="session")
def served(
    evidence_root: EvidenceRoot, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, EvidenceRoot]]:
    """A server over a copy of the evidence root, shared by the session's tests.

    Tests may alter the copy, each in its own way: the browser test changes a
    byte of run 1, the attack test puts a symlink into run 2.
    """
    base = tmp_path_factory.mktemp("served")
    root = base / "evidence"
    shutil.copytree(evidence_root.root, root, symlinks=True)

    def moved(bundle: Path) -> Path:
        return root / bundle.relative_to(evidence_root.root)

    copy = EvidenceRoot(
        root, moved(evidence_root.run_1), moved(evidence_root.run_2), moved(evidence_root.hostile)
    )
    server = start_server(root, base / "index.sqlite")
    try:
        yield server, copy
    finally:
        stop_server(server)
