"""Decoder selection, licence policy, pins, and lossless/uncompressed equality."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.uid import UID
from tests.dicom.conftest import real_file

from dxval.dicom.decoders import (
    NATIVE,
    PREFERRED_PLUGINS,
    DecoderInfo,
    check_decoder_pin,
    decoder_for,
    select_decoder,
    supported_transfer_syntaxes,
)
from dxval.dicom.failures import CaseFailure
from dxval.dicom.loader import CaseLoader
from dxval.errors import IntegrityError
from dxval.protocol.preprocessing import plain_steps


@pytest.mark.parametrize(
    ("uid", "plugin", "library", "lossy"),
    [
        ("1.2.840.10008.1.2.1", NATIVE, "pydicom", False),
        ("1.2.840.10008.1.2.1.99", NATIVE, "pydicom", False),
        ("1.2.840.10008.1.2.5", "pylibjpeg", "pylibjpeg-rle", False),
        ("1.2.840.10008.1.2.4.90", "pylibjpeg", "pylibjpeg-openjpeg", False),
        ("1.2.840.10008.1.2.4.91", "pylibjpeg", "pylibjpeg-openjpeg", True),
        ("1.2.840.10008.1.2.4.50", "pillow", "pillow", True),
        ("1.2.840.10008.1.2.4.70", "gdcm", "python-gdcm", False),
        ("1.2.840.10008.1.2.4.80", "gdcm", "python-gdcm", False),
    ],
)
@pytest.mark.req("DXV-DICOM-002")
def test_select_decoder(uid: str, plugin: str, library: str, lossy: bool) -> None:
    decoder = select_decoder(uid)
    assert (decoder.plugin, decoder.library, decoder.lossy) == (plugin, library, lossy)
    assert decoder.version not in ("", "unknown")
    assert decoder.spec == f"{library}=={decoder.version}"
    assert decoder.to_dict()["transfer_syntax_name"] == UID(uid).name


@pytest.mark.req("DXV-DICOM-002")
def test_gpl_decoder_is_never_chosen() -> None:
    for plugins in PREFERRED_PLUGINS.values():
        assert "pyjpegls" not in plugins
    jpeg = (
        "1.2.840.10008.1.2.4.50",
        "1.2.840.10008.1.2.4.51",
        "1.2.840.10008.1.2.4.57",
        "1.2.840.10008.1.2.4.70",
    )
    for uid in jpeg:
        assert "pylibjpeg" not in PREFERRED_PLUGINS[uid]  # pylibjpeg-libjpeg is GPL-3.0


def test_twelve_bit_jpeg_extended_is_unsupported() -> None:
    with pytest.raises(
        CaseFailure, match="12-bit samples: pillow and python-gdcm decode 8-bit JPEG only"
    ) as caught:
        select_decoder("1.2.840.10008.1.2.4.51", bits_stored=12)
    assert caught.value.reason_code.value == "unsupported_transfer_syntax"
    with pytest.raises(CaseFailure, match="unsupported_transfer_syntax"):
        CaseLoader([]).load([real_file("JPGExtended.dcm")])


@pytest.mark.parametrize("uid", ["1.2.840.10008.1.2.4.110", "1.2.840.10008.1.2.4.100", "1.2.3.4"])
def test_unknown_or_video_syntaxes_are_unsupported(uid: str) -> None:
    with pytest.raises(CaseFailure, match="has no allowed decoder in dxval"):
        select_decoder(uid)


def test_supported_table_lists_every_known_syntax() -> None:
    table = supported_transfer_syntaxes()
    assert set(table) == set(PREFERRED_PLUGINS)
    assert isinstance(table["1.2.840.10008.1.2.4.90"], DecoderInfo)


def test_decoder_for_reads_only_the_header() -> None:
    assert decoder_for(real_file("RG1_J2KR.dcm")).library == "pylibjpeg-openjpeg"
    assert decoder_for(real_file("JPEG-LL.dcm")).library == "python-gdcm"
    assert CaseLoader([]).decoder_for(real_file("MR_small_RLE.dcm")).library == "pylibjpeg-rle"


def test_decoder_pin() -> None:
    decoder = select_decoder("1.2.840.10008.1.2.4.90")
    check_decoder_pin(decoder, {"pylibjpeg-openjpeg": decoder.version}, where="case 1")
    check_decoder_pin(decoder, ["pillow", "pylibjpeg-openjpeg"], where="case 1")
    check_decoder_pin(select_decoder("1.2.840.10008.1.2.1"), {}, where="native always passes")
    with pytest.raises(
        IntegrityError,
        match=r"case 7: decoder mismatch: .* pylibjpeg-openjpeg==.*expected one of pillow==11.0.0",
    ):
        check_decoder_pin(decoder, {"pillow": "11.0.0"}, where="case 7")
    with pytest.raises(IntegrityError, match=r"expected one of pylibjpeg-openjpeg==0\.0\.1"):
        check_decoder_pin(decoder, "pylibjpeg-openjpeg==0.0.1", where="case 7")


@pytest.mark.parametrize("stem", ["RG1", "693", "MR2"])
@pytest.mark.req("DXV-DICOM-001")
def test_lossless_jpeg2000_and_uncompressed_give_identical_tensors(stem: str) -> None:
    loader = CaseLoader(
        plain_steps(
            [
                {"op": "modality_lut"},
                {"op": "window", "center": 1000, "width": 4000},
                {"op": "monochrome2"},
                {"op": "resize", "size": [64, 64]},
            ]
        )
    )
    uncompressed = loader.load([real_file(f"{stem}_UNCR.dcm")])
    compressed = loader.load([real_file(f"{stem}_J2KR.dcm")])
    assert np.array_equal(uncompressed.tensor, compressed.tensor)
    assert [d.library for d in compressed.decoders] == ["pylibjpeg-openjpeg"]
    assert [d.plugin for d in uncompressed.decoders] == [NATIVE]


@pytest.mark.req("DXV-DICOM-001")
def test_lossless_codecs_decode_the_same_pixels() -> None:
    loader = CaseLoader([])
    reference = loader([real_file("MR_small.dcm")])
    for name in ("MR_small_RLE.dcm", "MR_small_jp2klossless.dcm", "MR_small_jpeg_ls_lossless.dcm"):
        assert np.array_equal(loader([real_file(name)]), reference), name
