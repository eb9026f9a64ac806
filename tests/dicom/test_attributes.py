"""Subgroup attributes: PatientAge in years, JSON-safe values, any keyword."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset
from tests.dicom.conftest import real_file

from dxval.dicom.attributes import (
    DEFAULT_KEYWORDS,
    attribute_value,
    extract_attributes,
    parse_age,
    read_attribute_texts,
)


@pytest.mark.parametrize(
    ("text", "years"),
    [("045Y", 45.0), ("006M", 0.5), ("002W", 14 / 365.25), ("010D", 10 / 365.25), ("7Y", 7.0)],
)
def test_parse_age(text: str, years: float) -> None:
    assert parse_age(text) == pytest.approx(years)


@pytest.mark.parametrize("text", ["", "45", "045X", "1234Y", "Y045"])
def test_parse_age_rejects_malformed(text: str) -> None:
    with pytest.raises(ValueError, match="is not nnnD, nnnW, nnnM or nnnY"):
        parse_age(text)


def test_extract_default_attributes_from_a_real_ct() -> None:
    from pydicom import dcmread

    dataset = dcmread(real_file("CT_small.dcm"), stop_before_pixels=True)
    values = extract_attributes(dataset)
    assert set(values) == set(DEFAULT_KEYWORDS)
    assert values["Manufacturer"] == "GE MEDICAL SYSTEMS"
    assert values["KVP"] == 120.0
    assert values["SliceThickness"] == 5.0
    assert values["PixelSpacing"] == [0.661468, 0.661468]
    assert values["ViewPosition"] is None


def test_any_keyword_and_enhanced_functional_groups() -> None:
    dataset = Dataset()
    dataset.PatientAge = "003M"
    dataset.PatientSex = "F"
    dataset.Rows = 512
    macro = Dataset()
    measures = Dataset()
    measures.PixelSpacing = [0.5, 0.6]
    macro.PixelMeasuresSequence = [measures]
    dataset.SharedFunctionalGroupsSequence = [macro]
    assert attribute_value(dataset, "PatientAge") == pytest.approx(0.25)
    assert attribute_value(dataset, "Rows") == 512
    assert attribute_value(dataset, "PixelSpacing") == [0.5, 0.6]
    with pytest.warns(UserWarning, match="Invalid value for VR AS"):
        dataset.PatientAge = "unknown"
    assert attribute_value(dataset, "PatientAge") is None
    with pytest.raises(ValueError, match="'PatientShoeSize' is not a DICOM keyword"):
        attribute_value(dataset, "PatientShoeSize")
    with pytest.raises(ValueError, match="SharedFunctionalGroupsSequence is a sequence"):
        attribute_value(dataset, "SharedFunctionalGroupsSequence")


def test_attribute_texts_for_the_case_builder() -> None:
    texts = read_attribute_texts(
        real_file("CT_small.dcm"), ["PatientSex", "PixelSpacing", "ViewPosition", "KVP"]
    )
    assert texts == {
        "PatientSex": "O",
        "PixelSpacing": "0.661468\\0.661468",
        "ViewPosition": "",
        "KVP": "120",
    }
