"""The keyword table of the identifying-attribute check equals pydicom's dictionary (issue 18).

``dxval.dicom.phi_keywords`` replaces a lookup in pydicom's data dictionary so
that commands reading no DICOM do not import pydicom; the table must give every
keyword the same Table E.1-1 row as the lookup did.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from pydicom.datadict import keyword_dict, tag_for_keyword

from dxval.dicom.phi_keywords import KEYWORD_TAGS
from dxval.dicom.phi_table import identifying_row_name, match_row


@pytest.mark.req("DXV-RENDER3-005")
def test_the_table_is_every_keyword_of_pydicoms_dictionary_that_a_row_covers() -> None:
    expected = {keyword: int(tag) for keyword, tag in keyword_dict.items() if match_row(int(tag))}
    assert expected == KEYWORD_TAGS
    assert len(KEYWORD_TAGS) > 400


@pytest.mark.req("DXV-RENDER3-005")
def test_every_keyword_gets_the_row_of_pydicoms_lookup() -> None:
    for keyword in [*keyword_dict, "NotAKeyword", "patientname", ""]:
        tag = tag_for_keyword(keyword)
        row = match_row(int(tag)) if tag is not None else None
        assert identifying_row_name(keyword) == (row.name if row is not None else None)
    assert identifying_row_name("PatientName") == "Patient's Name"
    assert identifying_row_name("PatientSex") == "Patient's Sex"
    assert identifying_row_name("Rows") is None


@pytest.mark.req("DXV-RENDER3-005")
def test_the_check_imports_no_pydicom() -> None:
    probe = (
        "import json, sys; from dxval.dicom.phi_table import identifying_row_name; "
        "identifying_row_name('PatientAge'); print(json.dumps('pydicom' in sys.modules))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert json.loads(completed.stdout) is False
