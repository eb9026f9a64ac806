"""Test-set lock digests and pin checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from dxval.data import (
    Pin,
    case_input_digest,
    check_pins,
    digest_listing,
    file_pin,
    lock_test_set,
    read_manifest,
    sha256_bytes,
)
from dxval.errors import InputError, IntegrityError


@pytest.mark.req("DXV-LOCK-001")
def test_lock_digest_covers_manifest_bytes_and_every_file(image_set: Path) -> None:
    lock = lock_test_set(read_manifest(image_set, label="a"), test_set="a")
    folder = image_set.parent / "images"
    files = {
        "images/case-1.dcm": sha256_bytes(b"first file"),
        "images/case-2.dcm": sha256_bytes(b"second file"),
        "images/series-3/a.dcm": sha256_bytes(b"slice a"),
        "images/series-3/b.dcm": sha256_bytes(b"slice b"),
    }
    listing = "".join(f"{files[name]}  {name}\n" for name in sorted(files))
    manifest_sha256 = sha256_bytes(image_set.read_bytes())
    text = f"dxval-test-set-lock 1\nmanifest {manifest_sha256}\nfiles 4\n{listing}"
    assert lock.digest == sha256_bytes(text.encode())
    assert lock.file_sha256() == files
    assert lock.to_dict()["files"] == 4
    (folder / "series-3" / "b.dcm").write_bytes(b"slice B")
    changed = lock_test_set(read_manifest(image_set, label="a"), test_set="a")
    assert changed.digest != lock.digest
    assert changed.manifest_sha256 == lock.manifest_sha256


def test_lock_digest_changes_with_one_manifest_byte(image_set: Path) -> None:
    before = lock_test_set(read_manifest(image_set, label="a"), test_set="a").digest
    image_set.write_bytes(image_set.read_bytes().replace(b",F\n", b",f\n"))
    assert lock_test_set(read_manifest(image_set, label="a"), test_set="a").digest != before


def test_predictions_only_lock_covers_the_manifest_alone(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(b"case_id,label\nx,1\n")
    lock = lock_test_set(read_manifest(path, label="a"), test_set="a")
    text = f"dxval-test-set-lock 1\nmanifest {sha256_bytes(path.read_bytes())}\nfiles 0\n"
    assert lock.digest == sha256_bytes(text.encode())


def test_declared_file_digest_mismatch_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "x.dcm").write_bytes(b"pixels")
    wrong = "0" * 64
    path = tmp_path / "m.csv"
    path.write_text(f"case_id,path,sha256,label\nx,x.dcm,{wrong},1\n", encoding="utf-8")
    actual = sha256_bytes(b"pixels")
    with pytest.raises(
        IntegrityError,
        match=rf"lock mismatch: .*x\.dcm \(listed in .*m\.csv:2\): "
        rf"expected sha256 {wrong} got {actual}",
    ):
        lock_test_set(read_manifest(path, label="a"), test_set="a")


def test_declared_series_digest_is_the_listing_digest(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "1.dcm").write_bytes(b"one")
    (tmp_path / "s" / "2.dcm").write_bytes(b"two")
    declared = digest_listing(
        [("s/1.dcm", sha256_bytes(b"one")), ("s/2.dcm", sha256_bytes(b"two"))]
    )
    path = tmp_path / "m.csv"
    path.write_text(f"case_id,path,sha256,label\nx,s,{declared},1\n", encoding="utf-8")
    lock_test_set(read_manifest(path, label="a"), test_set="a")  # no mismatch


def test_case_input_digest() -> None:
    assert case_input_digest([("a", "1" * 64)]) == "1" * 64
    two = [("b", "2" * 64), ("a", "1" * 64)]
    assert case_input_digest(two) == digest_listing(two)


@pytest.mark.req("DXV-LOCK-002")
def test_check_pins_reports_every_mismatch_with_expected_and_actual(tmp_path: Path) -> None:
    pins = [
        Pin("predictions file", tmp_path / "p.csv", "predictions.sha256", "a" * 64, "b" * 64),
        Pin("model", tmp_path / "m.onnx", "model.sha256", "c" * 64, "c" * 64),
        Pin("test set x", tmp_path / "x.csv", "test_sets[0].sha256", "d" * 64, "e" * 64),
    ]
    with pytest.raises(IntegrityError) as raised:
        check_pins(pins)
    message = raised.value.message
    assert message.startswith("lock mismatch: predictions file (")
    assert f"p.csv): expected sha256 {'a' * 64} got {'b' * 64}" in message
    assert f"x.csv): expected sha256 {'d' * 64} got {'e' * 64}" in message
    assert "model" not in message


@pytest.mark.req("DXV-LOCK-003")
def test_check_pins_refuses_an_unlocked_protocol(tmp_path: Path) -> None:
    pins = [Pin("model", tmp_path / "m", "model.sha256", None, "a" * 64)]
    with pytest.raises(InputError, match=r"not locked: model\.sha256 not set; run `dxval lock"):
        check_pins(pins)


def test_file_pin(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(b"case_id,score\n")
    assert file_pin(path, what="predictions file") == sha256_bytes(b"case_id,score\n")
    with pytest.raises(InputError, match=r"q\.csv: predictions file not found"):
        file_pin(tmp_path / "q.csv", what="predictions file")
