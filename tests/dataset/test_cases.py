"""Building cases: truth labels in the declared classes, attributes, unique IDs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from dxval.data import (
    AttributeSources,
    TestSetSource,
    TruthRule,
    build_cases,
    lock_test_set,
    read_manifest,
    sha256_bytes,
)
from dxval.errors import InputError

RULE = TruthRule("label", frozenset({"1"}), frozenset({"0"}))


def _source(path: Path, test_set: str = "a", site: str = "Site A") -> TestSetSource:
    manifest = read_manifest(path, label=test_set)
    return TestSetSource(test_set, site, manifest, lock_test_set(manifest, test_set=test_set))


def _csv(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_builds_cases_with_truth_attributes_and_input_digest(image_set: Path) -> None:
    cases = build_cases(
        [_source(image_set)], RULE, attributes=AttributeSources(columns={"sex": "sex"})
    )
    assert [case.truth for case in cases] == [True, False, True]
    assert cases[0].attributes == {"sex": "F"}
    assert cases[0].input_sha256 == sha256_bytes(b"first file")
    assert cases[2].files[0].name == "a.dcm"
    assert cases[0].source == f"{image_set}:2"
    assert (cases[0].test_set, cases[0].site) == ("a", "Site A")


@pytest.mark.req("DXV-DATA-003")
def test_truth_outside_declared_classes(tmp_path: Path) -> None:
    path = _csv(tmp_path, "m.csv", "case_id,label\nx,1\ny,maybe\n")
    with pytest.raises(
        InputError, match=r"m\.csv:3 label: got 'maybe' expected one of '0', '1' \(truth\.positive"
    ):
        build_cases([_source(path)], RULE)


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({}, r"expected a 'label' column \(truth\.column\)"),
        ({"sex": "gender"}, r"expected a 'gender' column \(attributes\.sex\.column\)"),
    ],
)
def test_missing_columns(tmp_path: Path, columns: dict[str, str], message: str) -> None:
    header = "case_id,label" if columns else "case_id,outcome"
    path = _csv(tmp_path, "m.csv", f"{header}\nx,1\n")
    with pytest.raises(InputError, match=message):
        build_cases([_source(path)], RULE, attributes=AttributeSources(columns=columns))


@pytest.mark.req("DXV-DATA-001")
def test_case_ids_unique_across_test_sets(tmp_path: Path) -> None:
    first = _csv(tmp_path, "a.csv", "case_id,label\nx,1\n")
    second = _csv(tmp_path, "b.csv", "case_id,label\ny,0\nx,0\n")
    with pytest.raises(
        InputError,
        match=r"b\.csv:3 case_id: got 'x', already in .*a\.csv:2, expected case IDs"
        r" unique",
    ):
        build_cases([_source(first), _source(second, "b", "Site B")], RULE)


def test_dicom_attributes_need_files(tmp_path: Path) -> None:
    path = _csv(tmp_path, "m.csv", "case_id,label\nx,1\n")
    with pytest.raises(
        InputError,
        match=r"got no 'path' column expected DICOM files to read"
        r" attribute 'age'",
    ):
        build_cases([_source(path)], RULE, attributes=AttributeSources(dicom={"age": "PatientAge"}))


def test_dicom_attributes_come_from_the_reader(image_set: Path) -> None:
    calls: list[tuple[str, tuple[str, ...]]] = []

    def reader(path: Path, keywords: Sequence[str]) -> dict[str, str]:
        calls.append((path.name, tuple(keywords)))
        return {"PatientAge": "045Y"}

    cases = build_cases(
        [_source(image_set)],
        RULE,
        attributes=AttributeSources(dicom={"age": "PatientAge", "sex": "PatientSex"}),
        dicom_reader=reader,
    )
    assert cases[0].attributes == {"age": "045Y", "sex": ""}
    assert calls[2] == ("a.dcm", ("PatientAge", "PatientSex"))
