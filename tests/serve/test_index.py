"""The SQLite index: incremental refresh, verify cache keyed by the bundle stamp, search."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from tests.serve.conftest import HOSTILE_RUN, RUN_1, RUN_2, EvidenceRoot

from dxval.errors import UsageError
from dxval.serve import INDEX_NAME, EvidenceIndex, bundle_stamp, find_bundle_folders


def _flip_one_byte(path: Path, offset: int = 40) -> None:
    content = bytearray(path.read_bytes())
    content[offset] ^= 0x01
    path.write_bytes(bytes(content))


@pytest.mark.req("DXV-SERVE-003")
def test_refresh_adds_rereads_changed_and_drops_removed_bundles(
    evidence_copy: EvidenceRoot, tmp_path: Path
) -> None:
    index = EvidenceIndex(evidence_copy.root, index_path=tmp_path / "index.sqlite")
    first = index.refresh()
    assert (first.added, first.changed, first.removed, first.unchanged) == (3, 0, 0, 0)
    again = index.refresh()
    assert (again.added, again.changed, again.removed, again.unchanged) == (0, 0, 0, 3)
    _flip_one_byte(evidence_copy.run_2 / "cases.csv")
    shutil.rmtree(evidence_copy.hostile)
    copy = evidence_copy.root / "ASAH-EXAMPLE" / "copied-run"
    shutil.copytree(evidence_copy.run_1, copy)
    third = index.refresh()
    assert (third.added, third.changed, third.removed, third.unchanged) == (1, 1, 1, 1)
    assert index.count() == 3
    # the copy claims the same run ID: the URL resolves to one folder, both are indexed
    assert index.bundle("ASAH-EXAMPLE", RUN_1) is not None
    assert index.bundle("ASAH-HOSTILE", HOSTILE_RUN) is None


@pytest.mark.req("DXV-SERVE-003")
def test_an_unchanged_stamp_reuses_the_verify_result_and_a_changed_byte_fails(
    index: EvidenceIndex, evidence_copy: EvidenceRoot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = index.bundle("ASAH-EXAMPLE", RUN_2)
    assert bundle is not None
    calls = []
    import dxval.serve.scan as module

    real = module.verify_bundle
    monkeypatch.setattr(module, "verify_bundle", lambda path: calls.append(path) or real(path))
    assert index.status(bundle).intact
    assert calls == []  # cached while the stamp holds
    _flip_one_byte(evidence_copy.run_2 / "metrics.json", offset=100)
    status = index.status(bundle)
    assert calls == [bundle.folder]
    assert not status.intact
    assert status.label == "FAILED VERIFY"
    assert any(finding.path == "metrics.json" for finding in status.findings)


@pytest.mark.req("DXV-SERVE-002")
def test_a_byte_changed_and_its_mtime_restored_still_changes_the_stamp(
    evidence_copy: EvidenceRoot,
) -> None:
    path = evidence_copy.run_1 / "criteria.json"
    before = bundle_stamp(evidence_copy.run_1)
    times = os.stat(path)
    _flip_one_byte(path)
    os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))
    assert bundle_stamp(evidence_copy.run_1) != before  # change time cannot be set back


@pytest.mark.req("DXV-SERVE-003")
def test_hidden_and_symlinked_folders_are_not_bundles(
    evidence_copy: EvidenceRoot, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    shutil.copytree(evidence_copy.run_1, outside / "run")
    (evidence_copy.root / "linked").symlink_to(outside, target_is_directory=True)
    shutil.copytree(evidence_copy.run_1, evidence_copy.root / "ASAH-EXAMPLE" / ".x.partial")
    found = [
        p.relative_to(evidence_copy.root).as_posix()
        for p in find_bundle_folders(evidence_copy.root)
    ]
    assert found == [
        f"ASAH-EXAMPLE/{RUN_1}",
        f"ASAH-EXAMPLE/{RUN_2}",
        f"ASAH-HOSTILE/{HOSTILE_RUN}",
    ]


@pytest.mark.req("DXV-SERVE-003")
def test_an_unreadable_run_json_is_indexed_by_its_folder_and_fails_verify(
    index: EvidenceIndex, evidence_copy: EvidenceRoot
) -> None:
    (evidence_copy.run_2 / "run.json").write_text("{not json")
    index.refresh()
    (unreadable,) = index.unreadable()
    assert (unreadable.protocol_id, unreadable.run_id) == ("ASAH-EXAMPLE", RUN_2)
    assert "run.json: unreadable" in (unreadable.problem or "")
    assert not index.status(unreadable).intact


@pytest.mark.req("DXV-SERVE-001")
def test_search_finds_requirements_protocols_runs_and_digests(
    index: EvidenceIndex, evidence_copy: EvidenceRoot
) -> None:
    lock = json.loads((evidence_copy.run_1 / "lock.json").read_text())
    predictions = lock["predictions"]["sha256"]
    test_set = lock["test_sets"][1]["sha256"]
    kinds = {(hit.kind, hit.value) for hit in index.search("perf-00")}
    assert ("requirement", "PERF-001") in kinds
    assert ("requirement", "PERF-006") in kinds
    assert {hit.value for hit in index.search("ASAH-") if hit.kind == "protocol"} == {
        "ASAH-EXAMPLE",
        "ASAH-HOSTILE",
    }
    assert [(h.kind, h.run_id) for h in index.search(RUN_2[:12])] == [("run", RUN_2)]
    by_predictions = index.search(predictions[:10].upper())
    assert {(h.kind, h.run_id) for h in by_predictions} >= {
        ("predictions SHA-256", RUN_1),
        ("predictions SHA-256", RUN_2),
    }
    by_test_set = index.search(test_set)
    assert {h.kind for h in by_test_set} == {f"test set {lock['test_sets'][1]['test_set']} digest"}
    assert {h.run_id for h in by_test_set} == {RUN_1, RUN_2}
    assert index.search("") == []
    assert index.search("%") == []  # LIKE wildcards are matched literally


@pytest.mark.req("DXV-SERVE-003")
def test_index_defaults_to_a_hidden_file_under_the_root_and_refuses_a_missing_root(
    evidence_copy: EvidenceRoot, tmp_path: Path
) -> None:
    index = EvidenceIndex(evidence_copy.root)
    assert index.path == evidence_copy.root.resolve() / INDEX_NAME
    assert index.refresh().added == 3
    with pytest.raises(UsageError, match=r"missing: evidence root not found; expected a folder"):
        EvidenceIndex(tmp_path / "missing")
    with pytest.raises(UsageError, match=r"cannot open the index .*pass --index PATH"):
        EvidenceIndex(evidence_copy.root, index_path=tmp_path / "no" / "such" / "index.sqlite")


@pytest.mark.req("DXV-SERVE-003")
def test_an_index_of_another_root_is_started_afresh(
    evidence_copy: EvidenceRoot, evidence_root: EvidenceRoot, tmp_path: Path
) -> None:
    path = tmp_path / "shared.sqlite"
    EvidenceIndex(evidence_root.root, index_path=path).refresh()
    other = EvidenceIndex(evidence_copy.root, index_path=path)
    assert other.count() == 0
    assert other.refresh().added == 3


@pytest.mark.req("DXV-SERVE-002")
def test_a_changed_evidence_ledger_is_seen_although_no_bundle_file_changed(
    index: EvidenceIndex, evidence_copy: EvidenceRoot
) -> None:
    ledger = evidence_copy.root / "evidence-ledger.jsonl"
    assert ledger.is_file()  # validate anchors each bundle there; verify checks it
    bundle = index.bundle("ASAH-EXAMPLE", RUN_1)
    assert bundle is not None
    assert index.status(bundle).intact
    _flip_one_byte(ledger, offset=60)
    status = index.status(bundle)
    assert not status.intact
    assert any(finding.kind == "anchor" for finding in status.findings)
