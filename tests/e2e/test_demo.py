"""The out-of-the-box demo end to end: generated data, the bundled model, both protocols.

Generates the full demo (the same seed as ``make demo``) in a temporary
folder and runs the committed, locked protocols against it without
re-locking: the pinned digests must hold (the generator is bit-reproducible),
``protocols/demo.yaml`` must pass (exit 0) and the release gate must block
the release at the shifted site (exit 1).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dxval.cli import main
from dxval.demo import DEFAULT_SEED, generate_demo

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    shutil.copytree(ROOT / "protocols", root / "protocols", ignore=shutil.ignore_patterns("data"))
    shutil.copytree(ROOT / "models" / "demo", root / "models" / "demo")
    generate_demo(root / "demo-data", seed=DEFAULT_SEED)
    return root


def _run(protocol: Path, out: Path) -> int:
    return main(["validate", str(protocol), "--out", str(out), "--workers", "2", "--no-report"])


def _failed_sites(bundle: Path) -> dict[str, list[str]]:
    document = json.loads((bundle / "criteria.json").read_text())
    return {
        requirement["id"]: [
            outcome["label"]
            for criterion in requirement["criteria"]
            for outcome in criterion["populations"]
            if outcome["verdict"] == "fail"
        ]
        for requirement in document["requirements"]
        if requirement["verdict"] != "pass"
    }


@pytest.mark.req("DXV-DEMO-003", "DXV-SETUP-003")
def test_demo_protocol_passes_and_the_release_gate_blocks_at_the_shifted_site(
    demo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = demo_root / "evidence"
    assert _run(demo_root / "protocols" / "demo.yaml", out) == 0, capsys.readouterr().err
    (bundle,) = (out / "DEMO-NODULE-001").iterdir()
    run = json.loads((bundle / "run.json").read_text())
    assert run["cases"] == {"total": 600, "scored": 598, "failed": 2}
    lock = json.loads((bundle / "lock.json").read_text())
    assert lock["runner"]["name"] == "onnxruntime"
    assert any(decoder.startswith("pylibjpeg-rle") for decoder in lock["decoders"])
    # The recorded environment is the run's, not the test runner's (DXV-SETUP-003).
    environment = json.loads((bundle / "environment.json").read_text())
    for distributions in (environment["distributions"], environment["runtime"]["distributions"]):
        listed = {name.lower() for name in distributions}
        assert {"dxval", "onnxruntime", "pydicom"} <= listed
        assert not listed & {"pytest", "hypothesis", "mypy", "ruff", "scikit-learn", "onnx"}
    assert "pytest" in environment["loaded_outside_dependencies"]

    assert _run(demo_root / "protocols" / "demo-release-gate.yaml", out) == 1
    (gate,) = (out / "DEMO-NODULE-GATE").iterdir()
    assert _failed_sites(gate) == {"GATE-001": ["Site C"], "GATE-002": ["Site C"]}
    capsys.readouterr()


@pytest.mark.req("DXV-PCCP-004", "DXV-PCCP-005")
def test_demo_pccp_blocks_the_modification_at_site_c_only(
    demo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``make demo-pccp``: the fine-tuned model against the shipped one (issue 13)."""
    out = demo_root / "evidence"
    assert _run(demo_root / "protocols" / "demo-pccp.yaml", out) == 1, capsys.readouterr().err
    (bundle,) = (out / "DEMO-NODULE-PCCP").iterdir()
    assert _failed_sites(bundle) == {"PCCP-001": ["Site C"]}
    run = json.loads((bundle / "run.json").read_text())
    assert run["pccp"]["decision"] == "modification not to be implemented"
    lock = json.loads((bundle / "lock.json").read_text())
    devices = {item["id"]: item["runner"]["device"] for item in lock["comparators"]}
    assert devices == {"original": lock["runner"]["device"], "released": lock["runner"]["device"]}
    scored = [
        json.loads(line)["object"]
        for line in (bundle / "audit.jsonl").read_text().splitlines()
        if json.loads(line)["action"] == "comparator.scored"
    ]
    assert [item["id"] for item in scored] == ["original", "released"]
    assert len(scored[1]["cache"]["hit_case_ids"]) == 598  # the same artifact: from the cache
    capsys.readouterr()


@pytest.mark.req("DXV-MON-007")
def test_demo_scanner_change_in_week_8_alerts_and_weeks_1_to_7_stay_quiet(
    demo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = demo_root / "evidence-monitoring"
    assert _run(demo_root / "protocols" / "demo.yaml", out / "baseline") == 0
    (bundle,) = (out / "baseline" / "DEMO-NODULE-001").iterdir()
    production = demo_root / "prod.csv"
    assert main(["demo", "production", "--out", str(production)]) == 0
    capsys.readouterr()
    arguments = ["monitor", str(bundle), str(production), "--out", str(out), "--json"]
    assert main([*arguments, "--no-report"]) == 1
    document = json.loads(capsys.readouterr().out)
    windows = {window["label"]: window for window in document["windows"]}
    assert list(windows) == [f"2027-W{week:02d}" for week in range(1, 13)]
    for week in range(1, 8):  # before the change: no false alarm
        assert windows[f"2027-W{week:02d}"]["alerts"] == [], week
    for week in range(8, 13):
        window = windows[f"2027-W{week:02d}"]
        found = {(alert["kind"], alert["subject"]) for alert in window["alerts"]}
        assert ("new_level", "manufacturer") in found, week
        assert window["attributes"]["manufacturer"]["new_levels"] == ["Zenith Synthetic Imaging"]
        assert any(kind == "score_drift" for kind, _ in found), week
    # the three malformed rows of week 3 are counted, below the 1% data-quality limit
    assert document["production"]["excluded_total"] == 3
