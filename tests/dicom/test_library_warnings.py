"""No DICOM value reaches stderr through library warnings (issue 11, finding 4).

pydicom's ``UserWarning``s quote raw element values (``Invalid value for VR
UI: '<the UID>'``). The commands run in a subprocess here so that pytest's
own warning capture cannot hide a leak: stderr must hold reason codes and
tags only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from dxval.cli import main
from dxval.dicom.inspection import WITHHELD, inspect_file
from dxval.dicom.notes import note_code

SOURCE = Path(__file__).parents[2] / "src"
NOISY = ("bad_sequence.dcm", "rtdose.dcm", "badVR.dcm")


def _values(path: Path) -> list[str]:
    """Every text value in the file (UIDs, names, IDs) that a warning might quote."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = pydicom.dcmread(path)
        found = []
        for element in [*dataset.file_meta.iterall(), *dataset.iterall()]:
            if element.VR in {"UI", "PN", "LO", "SH", "DA", "IS", "DS"} and element.value:
                found.append(str(element.value).strip())
    return [value for value in found if len(value) >= 4]


def _noisy_file(name: str) -> Path:
    path = get_testdata_file(name)
    if path is None:  # bad_sequence.dcm comes with pydicom-data
        pytest.fail(f"{name}: pydicom test file missing (pydicom-data is a test dependency)")
    return Path(str(path))


_DRIVER = """
import sys
from dxval.cli import main
for arguments in sys.argv[1:]:
    print(f"exit {main(arguments.split(chr(31)))}", flush=True)
"""


def _dxval_calls(*calls: list[str]) -> subprocess.CompletedProcess[str]:
    """Several ``dxval`` command lines in one fresh interpreter (imports paid once)."""
    environment = {**os.environ, "PYTHONPATH": str(SOURCE), "PYTHONWARNINGS": "default"}
    return subprocess.run(
        [sys.executable, "-c", _DRIVER, *(chr(31).join(call) for call in calls)],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
        timeout=300,
    )


def test_bad_sequence_notes_name_the_tags() -> None:
    report = inspect_file(_noisy_file("bad_sequence.dcm"))
    assert "(0008,0018) SOPInstanceUID: invalid_value_vr_UI" in report["reader_notes"]
    assert note_code("Invalid value for VR UI: '1.2.3'") == "invalid_value_vr_UI"
    assert note_code("something new: 'SMITH'") == "library_warning"


@pytest.mark.req("DXV-INPUT-002")
def test_inspect_and_validate_print_reason_codes_never_values(tmp_path: Path) -> None:
    from tests.e2e.test_validate_model import PROTOCOL, _write_onnx

    data = tmp_path / "data"
    data.mkdir()
    rows = ["case_id,path,label"]
    for index, name in enumerate((*NOISY, "CT_small.dcm")):
        shutil.copyfile(_noisy_file(name), data / name)
        rows.append(f"c{index},{name},{index % 2}")
    (data / "manifest.csv").write_text("\n".join(rows) + "\n")
    _write_onnx(tmp_path / "model.onnx")
    protocol = tmp_path / "protocol.yaml"
    protocol.write_text(PROTOCOL.format(phi="refuse", tolerance=1.0, decoders=""))
    assert main(["lock", str(protocol)]) == 0
    completed = _dxval_calls(
        *(["dicom", "inspect", str(data / name)] for name in NOISY),
        ["validate", str(protocol), "--out", str(tmp_path / "out"), "--workers", "0"],
    )
    assert completed.stdout.count("exit 0") == len(NOISY), completed.stderr
    assert completed.stdout.rstrip().endswith("exit 2"), completed.stderr  # PHI refused
    assert "qc.phi is 'refuse'" in completed.stderr
    assert "DICOM reader notes (values not shown)" in completed.stderr
    assert "invalid_value_vr_UI" in completed.stdout  # inspect: tag and reason code
    assert "Invalid value" not in completed.stderr
    for name in NOISY:
        values = _values(data / name)
        assert values
        for value in values:
            assert value not in completed.stderr, (name, value)


@pytest.mark.req("DXV-INPUT-002")
def test_inspect_withholds_sex_and_age_unless_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = pydicom.dcmread(_noisy_file("CT_small.dcm"))
    dataset.PatientSex = "F"
    dataset.PatientAge = "047Y"
    path = tmp_path / "ct.dcm"
    dataset.save_as(path)
    report = inspect_file(path)
    assert report["attributes"]["PatientSex"] == WITHHELD
    assert report["attributes"]["PatientAge"] == WITHHELD
    assert report["attributes"]["Manufacturer"] is not None  # not identifying: shown
    assert main(["dicom", "inspect", str(path)]) == 0
    plain = capsys.readouterr().out
    assert "PatientSex                 (withheld" in plain
    assert "47" not in plain.split("attributes:")[1].split("de-identification")[0]
    assert main(["dicom", "inspect", str(path), "--show-values"]) == 0
    shown = capsys.readouterr().out
    assert "PatientSex                 F" in shown
    assert "PatientAge                 47" in shown
