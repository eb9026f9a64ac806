"""``dxval dicom inspect`` and ``dxval dicom preprocess`` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tests.dicom.conftest import MODEL_PROTOCOL, real_file, write_model_protocol

from dxval.cli import main
from dxval.dicom.loader import CaseLoader
from dxval.protocol.preprocessing import plain_steps


@pytest.mark.req("DXV-DICOM-006")
def test_inspect_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dicom", "inspect", str(real_file("RG1_J2KR.dcm"))]) == 0
    out = capsys.readouterr().out
    assert "1.2.840.10008.1.2.4.90 (JPEG 2000 Image Compression (Lossless Only))" in out
    assert "decoder            pylibjpeg-openjpeg==" in out
    assert "MONOCHROME1" in out
    assert "WindowCenter               15000.0" in out
    assert "PHI findings:" in out


@pytest.mark.req("DXV-DICOM-005")
def test_inspect_json_never_shows_phi_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dicom", "inspect", "--json", str(real_file("CT_small.dcm"))]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["decoder"]["library"] == "pydicom"
    assert report["pixels"]["Rows"] == 128
    assert report["grey_scale"]["RescaleIntercept"] == -1024.0
    findings = {finding["attribute"] for finding in report["phi_findings"]}
    assert "PatientName" in findings
    from pydicom import dcmread

    name = str(dcmread(real_file("CT_small.dcm")).PatientName)
    assert name not in json.dumps(report["phi_findings"])


def test_inspect_unsupported_and_bad_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dicom", "inspect", "--json", str(real_file("JPGExtended.dcm"))]) == 0
    assert (
        "pylibjpeg-libjpeg is GPL-3.0"
        in json.loads(capsys.readouterr().out)["decoder"]["unsupported"]
    )
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert main(["dicom", "inspect", str(text)]) == 2
    assert "notes.txt: not_dicom: notes.txt: not a DICOM Part 10 file" in capsys.readouterr().err


@pytest.mark.req("DXV-DICOM-007")
def test_preprocess_writes_the_harness_tensor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = write_model_protocol(tmp_path)
    out = tmp_path / "out" / "ct.npy"
    source = tmp_path / "a" / "ct.dcm"
    assert (
        main(["dicom", "preprocess", str(source), "--protocol", str(protocol), "--out", str(out)])
        == 0
    )
    saved = np.load(out)
    assert saved.dtype == np.float32
    assert saved.shape == (1, 32, 32)
    from dxval.protocol import load_protocol

    expected = CaseLoader(plain_steps(load_protocol(protocol).protocol.preprocessing))([source])
    assert np.array_equal(saved, expected)
    assert "float32 (1, 32, 32)" in capsys.readouterr().out


def test_preprocess_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    protocol = write_model_protocol(tmp_path)
    bad = tmp_path / "b" / "bad.dcm"
    assert (
        main(
            [
                "dicom",
                "preprocess",
                str(bad),
                "--protocol",
                str(protocol),
                "--out",
                str(tmp_path / "x.npy"),
            ]
        )
        == 2
    )
    assert "bad.dcm: not_dicom" in capsys.readouterr().err
    assert (
        main(
            [
                "dicom",
                "preprocess",
                str(bad),
                "--protocol",
                str(protocol),
                "--out",
                str(tmp_path / "x.txt"),
            ]
        )
        == 2
    )
    assert "expected a name ending in .npy" in capsys.readouterr().err
    wrong_shape = tmp_path / "wrong.yaml"
    wrong_shape.write_text(
        MODEL_PROTOCOL.replace("shape: [null, 1, 32, 32]", "shape: [null, 3, 32, 32]")
    )
    mr = tmp_path / "b" / "mr.dcm"
    assert (
        main(
            [
                "dicom",
                "preprocess",
                str(mr),
                "--protocol",
                str(wrong_shape),
                "--out",
                str(tmp_path / "y.npy"),
            ]
        )
        == 2
    )
    assert "shape_mismatch" in capsys.readouterr().err
    predictions = tmp_path / "predictions.yaml"
    model_part = MODEL_PROTOCOL[MODEL_PROTOCOL.index("model:") : MODEL_PROTOCOL.index("test_sets:")]
    predictions.write_text(
        MODEL_PROTOCOL.replace(
            model_part, "predictions: {path: p.csv, score: score, operating_point: 0.5}\n"
        )
    )
    assert (
        main(
            [
                "dicom",
                "preprocess",
                str(mr),
                "--protocol",
                str(predictions),
                "--out",
                str(tmp_path / "z.npy"),
            ]
        )
        == 2
    )
    assert (
        "got a predictions protocol, expected one with a model: section" in capsys.readouterr().err
    )
