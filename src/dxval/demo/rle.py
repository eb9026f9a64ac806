"""DICOM RLE Lossless encoding (PS3.5 Annex G), vectorised with NumPy.

The demo encodes its compressed site with this encoder rather than a
third-party plugin so that the bytes depend only on dxval's code: an encoder
upgrade elsewhere could change the encoding (still lossless, but with other
bytes) and break the digests pinned in the demo protocol.

The frame is split into byte planes (most significant byte first, G.2), each
plane becomes one RLE segment, and each row of a plane is PackBits-encoded on
its own (G.3.1: a run never crosses a row). Runs of three or more equal bytes
become replicate runs (header ``257 − n``); everything else becomes literal
runs (header ``n − 1``); both are at most 128 bytes long. Segments are padded to
even length with a zero byte, and a 64-byte header gives the segment count and
offsets (G.5).
"""

from __future__ import annotations

import numpy as np

MAXIMUM_RUN = 128
MINIMUM_REPLICATE = 3
HEADER_BYTES = 64
MAXIMUM_SEGMENTS = 15


def _chunks(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split (start, length) pieces into chunks of at most ``MAXIMUM_RUN`` bytes."""
    counts = -(-lengths // MAXIMUM_RUN)
    piece = np.repeat(np.arange(lengths.size), counts)
    first_chunk = np.cumsum(counts) - counts
    within = np.arange(piece.size) - first_chunk[piece]
    chunk_starts = starts[piece] + within * MAXIMUM_RUN
    chunk_lengths = np.minimum(lengths[piece] - within * MAXIMUM_RUN, MAXIMUM_RUN)
    return chunk_starts, chunk_lengths


def _runs(plane: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (start, length, row start flag) of maximal equal-byte runs, row by row."""
    columns = plane.shape[1]
    flat = plane.reshape(-1)
    boundary = np.ones(flat.size, dtype=bool)
    boundary[1:] = flat[1:] != flat[:-1]
    boundary[::columns] = True
    starts = np.flatnonzero(boundary)
    lengths = np.diff(np.append(starts, flat.size))
    return starts, lengths, starts % columns == 0


def encode_segment(plane: np.ndarray) -> bytes:
    """PackBits-encode one byte plane (uint8, shape (rows, columns)) row by row.

    Returns the segment bytes, padded to even length (PS3.5 G.3.1).
    """
    flat = plane.reshape(-1)
    starts, lengths, row_start = _runs(plane)
    replicate = lengths >= MINIMUM_REPLICATE
    # consecutive short runs in the same row merge into one literal stretch
    opens_literal = ~replicate & (row_start | np.roll(replicate, 1))
    opens_literal[0] = not replicate[0]
    literal_id = np.cumsum(opens_literal) - 1
    short = ~replicate
    literal_starts = starts[opens_literal]
    literal_lengths = np.bincount(literal_id[short], weights=lengths[short]).astype(np.int64)
    rep_starts, rep_lengths = _chunks(starts[replicate], lengths[replicate])
    lit_starts, lit_lengths = _chunks(literal_starts, literal_lengths)
    # a replicate chunk of length 1 (a remainder) is written as a literal of one byte
    single = rep_lengths == 1
    chunk_starts = np.concatenate([rep_starts, lit_starts])
    chunk_lengths = np.concatenate([rep_lengths, lit_lengths])
    is_replicate = np.concatenate([~single, np.zeros(lit_starts.size, dtype=bool)])
    order = np.argsort(chunk_starts, kind="stable")
    chunk_starts, chunk_lengths, is_replicate = (
        chunk_starts[order],
        chunk_lengths[order],
        is_replicate[order],
    )
    encoded_sizes = np.where(is_replicate, 2, chunk_lengths + 1)
    offsets = np.cumsum(encoded_sizes) - encoded_sizes
    total = int(encoded_sizes.sum())
    output = np.zeros(total + (total % 2), dtype=np.uint8)
    output[offsets] = np.where(is_replicate, 257 - chunk_lengths, chunk_lengths - 1).astype(
        np.uint8
    )
    output[offsets[is_replicate] + 1] = flat[chunk_starts[is_replicate]]
    literal = ~is_replicate
    literal_total = int(chunk_lengths[literal].sum())
    if literal_total:
        source_first = np.repeat(chunk_starts[literal], chunk_lengths[literal])
        target_first = np.repeat(offsets[literal] + 1, chunk_lengths[literal])
        chunk_begin = np.repeat(
            np.cumsum(chunk_lengths[literal]) - chunk_lengths[literal], chunk_lengths[literal]
        )
        within = np.arange(literal_total) - chunk_begin
        output[target_first + within] = flat[source_first + within]
    return output.tobytes()


def encode_frame(pixels: np.ndarray) -> bytes:
    """Encode one frame of unsigned integers (uint8 or uint16, shape (rows, columns)).

    Returns the RLE frame: the 64-byte header (number of segments and their
    offsets, little-endian uint32, PS3.5 G.5) followed by one segment per byte
    plane, most significant byte first (G.2).

    Raises ValueError for a frame that is not 2-D uint8/uint16.
    """
    if pixels.ndim != 2 or pixels.dtype not in (np.dtype(np.uint8), np.dtype(np.uint16)):
        raise ValueError(
            f"RLE frame: got {pixels.dtype} shape {pixels.shape}, expected 2-D uint8/16"
        )
    planes = [pixels.astype(np.uint8)]
    if pixels.dtype == np.uint16:
        planes = [(pixels >> 8).astype(np.uint8), (pixels & 0xFF).astype(np.uint8)]
    segments = [encode_segment(plane) for plane in planes]
    offsets = np.zeros(1 + MAXIMUM_SEGMENTS, dtype="<u4")
    offsets[0] = len(segments)
    position = HEADER_BYTES
    for index, segment in enumerate(segments):
        offsets[1 + index] = position
        position += len(segment)
    return offsets.tobytes() + b"".join(segments)
