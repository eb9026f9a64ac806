"""Fixtures for trace tests: an evidence root with three runs of one protocol that changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dxval.pipeline import run_validation

PROTOCOLS = Path(__file__).parents[2] / "protocols"
RUN_IDS = ("20260101T000000Z-000001", "20260102T000000Z-000002", "20260103T000000Z-000003")


def _remove_requirement(text: str, identifier: str) -> str:
    start = text.index(f"  - id: {identifier}")
    end = text.find("  - id: ", start + 1)
    return text[:start] + (text[end:] if end != -1 else "")


@pytest.fixture(scope="session")
def changing_protocol(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An evidence root with three runs of the aSAH example (do not modify).

    Run 1 is the example as shipped; before run 2 the text of PERF-001 is
    reworded; before run 3 PERF-003's required value drops to 0.75 and QC-001
    is removed. Returns the evidence root; the final protocol is
    ``<root>/../protocols/asah-example.yaml``.
    """
    base = tmp_path_factory.mktemp("trace")
    folder = base / "protocols"
    shutil.copytree(PROTOCOLS / "data" / "asah", folder / "data" / "asah")
    protocol = folder / "asah-example.yaml"
    text = (PROTOCOLS / "asah-example.yaml").read_text()
    evidence = base / "evidence"
    protocol.write_text(text)
    run_validation(protocol, out=evidence, run_id=RUN_IDS[0], reports=False)
    text = text.replace(
        "text: ROC AUC over all sites at least 0.70.",
        "text: ROC AUC, pooled over all sites, at least 0.70.",
    )
    protocol.write_text(text)
    run_validation(protocol, out=evidence, run_id=RUN_IDS[1], reports=False)
    text = text.replace(
        '{metric: specificity, population: all, bound: point, op: ">=", value: 0.80}',
        '{metric: specificity, population: all, bound: point, op: ">=", value: 0.75}',
    )
    protocol.write_text(_remove_requirement(text, "QC-001"))
    run_validation(protocol, out=evidence, run_id=RUN_IDS[2], reports=False)
    (evidence / "ASAH-EXAMPLE" / ".20260104T000000Z-000004.partial").mkdir()
    return evidence


@pytest.fixture
def evidence(changing_protocol: Path, tmp_path: Path) -> Path:
    """A private copy of the three-run evidence root that a test may alter."""
    copy = tmp_path / "evidence"
    shutil.copytree(changing_protocol, copy)
    return copy
