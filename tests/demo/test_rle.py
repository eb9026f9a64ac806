"""dxval.demo.rle: PS3.5 Annex G encoding that independent decoders read back exactly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pydicom.pixels.decoders.rle import _rle_decode_frame
from rle.utils import decode_frame

from dxval.demo.rle import encode_frame, encode_segment


def _decode_with_pydicom(encoded: bytes, pixels: np.ndarray) -> np.ndarray:
    rows, columns = pixels.shape
    bits = pixels.dtype.itemsize * 8
    decoded = _rle_decode_frame(encoded, rows, columns, 1, bits)
    return np.frombuffer(bytes(decoded), dtype=pixels.dtype.newbyteorder("<")).reshape(
        rows, columns
    )


def _decode_with_pylibjpeg_rle(encoded: bytes, pixels: np.ndarray) -> np.ndarray:
    bits = pixels.dtype.itemsize * 8
    decoded = decode_frame(encoded, pixels.size, bits, "<")
    return np.frombuffer(decoded, dtype=pixels.dtype.newbyteorder("<")).reshape(pixels.shape)


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        dtype=st.sampled_from([np.uint8, np.uint16]),
        shape=st.tuples(st.integers(1, 12), st.integers(1, 300)),
        elements=st.integers(0, 3),
    ),
    st.integers(0, 255),
)
def test_round_trip_through_two_independent_decoders(pixels: np.ndarray, offset: int) -> None:
    # few distinct values give long runs (replicate chunks over 128 bytes) mixed with literals
    pixels = (pixels * 97 + offset).astype(pixels.dtype)
    encoded = encode_frame(pixels)
    assert np.array_equal(_decode_with_pydicom(encoded, pixels), pixels)
    assert np.array_equal(_decode_with_pylibjpeg_rle(encoded, pixels), pixels)


def test_header_counts_segments_and_points_at_them() -> None:
    pixels = np.arange(40, dtype=np.uint16).reshape(4, 10) * 300
    encoded = encode_frame(pixels)
    header = np.frombuffer(encoded[:64], dtype="<u4")
    assert header[0] == 2
    assert header[1] == 64
    assert 64 < header[2] < len(encoded)
    assert not header[3:].any()


def test_runs_never_cross_a_row_and_segments_have_even_length() -> None:
    # one row of 3 equal bytes and one of 3 others: two replicate runs, not one run of 6
    plane = np.array([[5, 5, 5], [5, 5, 5]], dtype=np.uint8)
    assert encode_segment(plane) == bytes([254, 5, 254, 5])
    # a literal of two bytes (3 bytes encoded) is padded with one zero byte
    assert encode_segment(np.array([[1, 2]], dtype=np.uint8)) == bytes([1, 1, 2, 0])


def test_long_runs_are_split_at_128_bytes() -> None:
    plane = np.full((1, 300), 9, dtype=np.uint8)
    assert encode_segment(plane) == bytes([129, 9, 129, 9, 213, 9])


@pytest.mark.parametrize(
    ("pixels", "message"),
    [
        (np.zeros((2, 2), dtype=np.int16), r"got int16 shape \(2, 2\), expected 2-D uint8/16"),
        (np.zeros((2, 2, 2), dtype=np.uint16), r"got uint16 shape \(2, 2, 2\)"),
    ],
)
def test_unsupported_frames_are_refused(pixels: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_frame(pixels)
