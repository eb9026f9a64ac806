"""``dxval preview``: contact sheet of original vs preprocessed, failures named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as matplotlib_image
from tests.dicom.conftest import real_file, write_model_protocol

from dxval.cli import main
from dxval.dicom.preview import original_view
from dxval.dicom.reader import read_file


@pytest.mark.req("DXV-DICOM-010")
def test_preview_writes_a_png_and_names_failed_cases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = write_model_protocol(tmp_path)
    out = tmp_path / "sheet" / "preview.png"
    assert main(["preview", str(protocol), "--cases", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"{out}: 2 cases shown" in printed
    assert "B2: not_dicom" in printed
    picture = matplotlib_image.imread(out)
    assert picture.ndim == 3
    assert picture.shape[0] > picture.shape[1]  # three rows of two panels


def test_preview_cases_limit_per_test_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = write_model_protocol(tmp_path)
    assert main(["preview", str(protocol), "--cases", "1", "--out", str(tmp_path / "p.png")]) == 0
    assert "2 cases shown" in capsys.readouterr().out
    assert main(["preview", str(protocol), "--cases", "0", "--out", str(tmp_path / "p.png")]) == 2
    assert "got '0', expected a positive integer" in capsys.readouterr().err
    assert main(["preview", str(protocol), "--out", str(tmp_path / "p.jpg")]) == 2
    assert "expected a name ending in .png" in capsys.readouterr().err


def test_original_view_uses_the_files_own_window_and_shows_monochrome1_inverted() -> None:
    image = read_file(real_file("RG1_UNCR.dcm"))
    view = original_view(image)
    center, width = 15000.0, 30000.0
    expected = 1 - np.clip((image.pixels - (center - 0.5 - (width - 1) / 2)) / (width - 1), 0, 1)
    assert np.allclose(view, expected)
    ct = original_view(read_file(real_file("CT_small.dcm")))  # no window: min-max
    assert ct.min() == 0.0
    assert ct.max() == 1.0
