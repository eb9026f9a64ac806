"""The test-set reuse ledger: uses counted by lock digest, capped, tamper-evident."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from dxval.errors import ExitCode, InputError, IntegrityError
from dxval.evidence.ledger import (
    LEDGER_NAME,
    TestSetUse,
    check_test_set_reuse,
    read_ledger,
    record_test_set_uses,
)
from dxval.pipeline import run_validation

EXAMPLE = Path(__file__).parents[2] / "protocols" / "asah-example.yaml"

SITE_A = TestSetUse("site-a", "a" * 64, 120)
SITE_B = TestSetUse("site-b", "b" * 64, 80)


def _record(root: Path, run_id: str, model: str, *uses: TestSetUse) -> None:
    record_test_set_uses(
        root,
        uses,
        protocol_id="VAL-001",
        run_id=run_id,
        model_sha256=model,
        predictions_sha256=None,
        user="alice",
        host="ws-1",
    )


@pytest.mark.req("DXV-LEDGER-001")
def test_each_use_is_recorded_with_run_model_and_case_count(tmp_path: Path) -> None:
    assert check_test_set_reuse(tmp_path, [SITE_A], max_uses=None)[0].prior_uses == 0
    _record(tmp_path, "run-1", "1" * 64, SITE_A, SITE_B)
    _record(tmp_path, "run-2", "2" * 64, SITE_A)
    _record(tmp_path, "run-3", "2" * 64, SITE_A)
    entries = read_ledger(tmp_path)
    assert [(e.sequence, e.run_id, e.test_set, e.cases) for e in entries] == [
        (1, "run-1", "site-a", 120),
        (2, "run-1", "site-b", 80),
        (3, "run-2", "site-a", 120),
        (4, "run-3", "site-a", 120),
    ]
    assert entries[0].model_sha256 == "1" * 64
    assert (entries[0].user, entries[0].host) == ("alice", "ws-1")
    assert entries[0].time_utc.endswith("Z")
    usage_a, usage_b = check_test_set_reuse(tmp_path, [SITE_A, SITE_B], max_uses=None)
    assert (usage_a.prior_uses, usage_a.prior_models) == (3, 2)
    assert usage_a.prior_runs == ("VAL-001/run-1", "VAL-001/run-2", "VAL-001/run-3")
    assert usage_b.to_dict() == {
        "test_set": "site-b",
        "sha256": "b" * 64,
        "cases": 80,
        "prior_uses": 1,
        "prior_runs": ["VAL-001/run-1"],
        "prior_models": 1,
        "max_uses": None,
    }


@pytest.mark.req("DXV-LEDGER-001")
def test_test_sets_are_identified_by_their_lock_digest(tmp_path: Path) -> None:
    _record(tmp_path, "run-1", "1" * 64, SITE_A)
    renamed = TestSetUse("holdout", SITE_A.sha256, 120)
    changed_data = TestSetUse("site-a", "c" * 64, 120)
    renamed_usage, changed_usage = check_test_set_reuse(
        tmp_path, [renamed, changed_data], max_uses=None
    )
    assert renamed_usage.prior_uses == 1
    assert changed_usage.prior_uses == 0


@pytest.mark.req("DXV-LEDGER-002")
def test_a_run_past_the_cap_is_refused_with_exit_2(tmp_path: Path) -> None:
    _record(tmp_path, "run-1", "1" * 64, SITE_A, SITE_B)
    usage = check_test_set_reuse(tmp_path, [SITE_A], max_uses=2)
    assert (usage[0].prior_uses, usage[0].max_uses) == (1, 2)
    _record(tmp_path, "run-2", "2" * 64, SITE_A)
    with pytest.raises(InputError) as raised:
        check_test_set_reuse(tmp_path, [SITE_B, SITE_A], max_uses=2)
    assert raised.value.exit_code == ExitCode.USAGE
    assert raised.value.message.startswith(
        "qc.max_test_set_uses 2: test set site-a (lock sha256 aaaaaaaaaaaa…) was already used "
        "in 2 runs, the last VAL-001/run-2; refusing another use"
    )
    assert "site-b" not in raised.value.message
    assert check_test_set_reuse(tmp_path, [SITE_A], max_uses=None)[0].prior_uses == 2
    with pytest.raises(InputError, match=r"qc\.max_test_set_uses: got 0, expected an integer >= 1"):
        check_test_set_reuse(tmp_path, [SITE_A], max_uses=0)


@pytest.mark.req("DXV-LEDGER-003")
@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("alter", r"line 3: chain broken"),
        ("delete", r"line 1: chain broken"),
        ("insert", r"line 3: chain broken"),
        ("garbage", r"line 2: not a ledger entry"),
        ("truncate", r"last line is not newline-terminated"),
    ],
)
def test_an_altered_ledger_is_refused_with_exit_3(tmp_path: Path, edit: str, message: str) -> None:
    for number in range(1, 4):
        _record(tmp_path, f"run-{number}", "1" * 64, SITE_A)
    path = tmp_path / LEDGER_NAME
    lines = path.read_bytes().split(b"\n")[:-1]
    if edit == "alter":
        lines[1] = lines[1].replace(b'"cases":120', b'"cases":121')
    elif edit == "delete":
        del lines[0]
    elif edit == "insert":
        lines.insert(2, lines[1])
    elif edit == "garbage":
        lines[1] = b"{not json"
    content = b"\n".join(lines) + (b"" if edit == "truncate" else b"\n")
    path.write_bytes(content)
    with pytest.raises(IntegrityError, match=message) as raised:
        check_test_set_reuse(tmp_path, [SITE_A], max_uses=5)
    assert raised.value.exit_code == ExitCode.INTEGRITY
    with pytest.raises(IntegrityError, match=message):
        _record(tmp_path, "run-4", "1" * 64, SITE_A)
    assert path.read_bytes() == content


@pytest.mark.req("DXV-LEDGER-001")
def test_concurrent_runs_never_interleave_lines(tmp_path: Path) -> None:
    def run(worker: int) -> None:
        for number in range(5):
            _record(tmp_path, f"run-{worker}-{number}", "1" * 64, SITE_A, SITE_B)

    threads = [threading.Thread(target=run, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    entries = read_ledger(tmp_path)
    assert [entry.sequence for entry in entries] == list(range(1, 41))
    for first, second in zip(entries[::2], entries[1::2], strict=True):
        assert (first.run_id, first.test_set, second.test_set) == (
            second.run_id,
            "site-a",
            "site-b",
        )


def test_ledger_lines_are_canonical_json(tmp_path: Path) -> None:
    _record(tmp_path, "run-1", "1" * 64, SITE_A)
    line = (tmp_path / LEDGER_NAME).read_text().splitlines()[0]
    event = json.loads(line)
    assert line == json.dumps(event, sort_keys=True, separators=(",", ":"))
    assert event["schema"] == "dxval-test-set-use/1"
    assert event["previous_sha256"] == "0" * 64


def test_unwritable_ledger_is_an_input_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="cannot write the test-set ledger"):
        _record(blocker / "evidence", "run-1", "1" * 64, SITE_A)


@pytest.mark.req("DXV-LEDGER-001", "DXV-LEDGER-002")
def test_validate_counts_uses_and_refuses_past_the_cap(tmp_path: Path) -> None:
    folder = tmp_path / "protocols"
    shutil.copytree(EXAMPLE.parent / "data" / "asah", folder / "data" / "asah")
    protocol = folder / "asah-example.yaml"
    text = EXAMPLE.read_text().replace(
        "qc:\n  max_failed_fraction: 0.0\n",
        "qc:\n  max_failed_fraction: 0.0\n  max_test_set_uses: 1\n",
    )
    protocol.write_text(text)
    first = run_validation(protocol, out=tmp_path / "evidence", reports=False)
    run = json.loads((first.bundle / "run.json").read_text())
    assert [(u["test_set"], u["prior_uses"]) for u in run["test_set_usage"]] == [
        ("site-f", 0),
        ("site-m", 0),
    ]
    assert [entry.cases for entry in read_ledger(tmp_path / "evidence")] == [71, 42]
    with pytest.raises(InputError, match=r"qc\.max_test_set_uses 1: test set site-f"):
        run_validation(protocol, out=tmp_path / "evidence", reports=False)
    assert len(list((tmp_path / "evidence" / "ASAH-EXAMPLE").iterdir())) == 1
