"""Reading test-set manifests: one row per case, every named file present."""

from __future__ import annotations

from pathlib import Path

import pytest

from dxval.data import read_manifest
from dxval.errors import InputError


@pytest.mark.req("DXV-DATA-001")
def test_reads_rows_files_and_folder_series(image_set: Path) -> None:
    manifest = read_manifest(image_set, label="test set a")
    assert manifest.has_paths
    assert manifest.columns == ("case_id", "path", "label", "sex")
    assert [row.case_id for row in manifest.rows] == ["c1", "c2", "c3"]
    assert [row.line for row in manifest.rows] == [2, 3, 4]
    assert manifest.rows[0].names == ("images/case-1.dcm",)
    assert manifest.rows[2].names == ("images/series-3/a.dcm", "images/series-3/b.dcm")
    assert all(file.is_absolute() for row in manifest.rows for file in row.files)
    assert manifest.rows[2].values["sex"] == ""
    assert manifest.location(manifest.rows[1]) == f"{image_set}:3"


def test_predictions_only_manifest_has_no_paths(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("\ufeffcase_id,label\nx,1\n", encoding="utf-8")  # BOM from spreadsheets
    manifest = read_manifest(path, label="test set a")
    assert not manifest.has_paths
    assert manifest.rows[0].files == ()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", r"m\.csv: got an empty file expected a CSV header line"),
        ("label\n1\n", r"m\.csv: got no 'case_id' column among 1 header field"),
        ("case_id,label\n", r"m\.csv: got no case rows expected at least one case in test set a"),
        ("case_id,label\nx,1,extra\n", r"m\.csv:2: got 3 fields expected 2 \(as in the header\)"),
        ("case_id,label\n,1\n", r"m\.csv:2 case_id: got an empty value expected a case ID"),
        (
            "case_id,label\nx,1\ny,0\nx,0\n",
            r"m\.csv:4 case_id: got duplicate 'x' \(first on line 2\) expected unique case IDs",
        ),
        (
            "case_id,label,sha256\nx,1,ABC\n",
            r"m\.csv:2 sha256: got 'ABC' expected 64 lowercase hexadecimal digits",
        ),
        (
            "case_id,path,label\nx,missing.dcm,1\n",
            r"m\.csv:2 path: got 'missing\.dcm' expected an existing file \(not found:"
            r" .*missing\.dcm\)",
        ),
        ("case_id,path,label\nx,,1\n", r"m\.csv:2 path: got an empty value expected a file"),
    ],
)
@pytest.mark.req("DXV-DATA-001")
def test_bad_manifests(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "m.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_manifest(path, label="test set a")


def test_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.csv: manifest of test set b not found"):
        read_manifest(tmp_path / "nope.csv", label="test set b")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(b"case_id,label\n\xe9,1\n")
    with pytest.raises(InputError, match=r"byte 14: got bytes that are not UTF-8"):
        read_manifest(path, label="test set a")


def test_empty_series_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    path = tmp_path / "m.csv"
    path.write_text("case_id,path,label\nx,empty,1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"got 'empty' expected a folder holding files"):
        read_manifest(path, label="test set a")
