"""Read DICOM Part 10 files into :class:`Image`: single files, multi-frame files, series.

Everything that can go wrong with a file becomes a :class:`CaseFailure` with
a reason code (never a crash): the header is checked against the Image Pixel
Module (PS3.3 C.7.6.3) before decoding, so a short native Pixel Data is
``truncated_pixel_data``, not an exception deep in a decoder.

Only Part 10 files (128-byte preamble + ``DICM``, PS3.10 7.1) are accepted;
anything else is ``not_dicom``. Only grey-scale images (Samples per Pixel 1,
MONOCHROME1/MONOCHROME2) are in scope.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from dxval.dicom.decoders import DecoderInfo, select_decoder
from dxval.dicom.failures import CaseFailure, ReasonCode
from dxval.dicom.notes import captured
from dxval.stats.wording import plural

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

__all__ = ["MAX_PIXELS", "Image", "read_case", "read_file", "read_header"]

#: Largest number of pixels (rows × columns × frames) dxval decodes (a guard
#: against corrupt headers that would allocate tens of gigabytes).
MAX_PIXELS = 2**30

_MONOCHROME = ("MONOCHROME1", "MONOCHROME2")


@dataclass(frozen=True, slots=True)
class Image:
    """Stored pixel values and the headers that say how to interpret them.

    Attributes
    ----------
    pixels:
        Stored values, (rows, columns) for one frame or (frames, rows, columns)
        for a multi-frame file or a stacked series (slices sorted along the
        slice normal).
    headers:
        Data sets without Pixel Data: one for a file, one per slice for a series.
    decoders:
        The distinct decoders that produced the pixels.
    sources:
        The files read, in ``pixels`` order for a series.
    spacing:
        (slice, row, column) spacing in mm for a series; None otherwise.
    """

    pixels: NDArray[np.generic]
    headers: tuple[Dataset, ...]
    decoders: tuple[DecoderInfo, ...]
    sources: tuple[Path, ...]
    spacing: tuple[float, float, float] | None = None

    @property
    def header(self) -> Dataset:
        """The first (or only) header."""
        return self.headers[0]


def read_header(path: Path) -> Dataset:
    """Read a Part 10 file's meta and data set up to (not including) Pixel Data.

    Raises
    ------
    CaseFailure
        ``unreadable`` (I/O), ``not_dicom`` (no ``DICM`` preamble),
        ``invalid_header`` (unparseable or no Transfer Syntax UID).
    """
    return _read(path, stop_before_pixels=True)


def _read(path: Path, *, stop_before_pixels: bool) -> Dataset:
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        with captured() as caught:
            dataset = pydicom.dcmread(path, stop_before_pixels=stop_before_pixels)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as error:
        raise CaseFailure(ReasonCode.UNREADABLE, f"{path.name}: {error.strerror}") from None
    except InvalidDicomError:
        raise CaseFailure(
            ReasonCode.NOT_DICOM, f"{path.name}: not a DICOM Part 10 file (no 'DICM' preamble)"
        ) from None
    except Exception as error:  # pydicom raises many types on corrupt headers; all mean the same
        raise CaseFailure(
            ReasonCode.INVALID_HEADER, f"{path.name}: unreadable data set ({type(error).__name__})"
        ) from None
    cut_short = any("End of file reached" in str(warning.message) for warning in caught)
    if cut_short and not stop_before_pixels and "PixelData" not in dataset:
        raise CaseFailure(
            ReasonCode.TRUNCATED_PIXEL_DATA,
            f"{path.name}: file ends inside the encapsulated Pixel Data",
        )
    if "TransferSyntaxUID" not in dataset.file_meta:
        raise CaseFailure(
            ReasonCode.INVALID_HEADER,
            f"{path.name}: File Meta lacks Transfer Syntax UID (0002,0010)",
        )
    return dataset


def _integer(dataset: Dataset, keyword: str, path: Path, *, default: int | None = None) -> int:
    value = dataset.get(keyword, default)
    if value is None or value == "":
        raise CaseFailure(ReasonCode.INVALID_HEADER, f"{path.name}: {keyword} missing")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise CaseFailure(
            ReasonCode.INVALID_HEADER, f"{path.name}: {keyword} is not an integer"
        ) from None


def _check_image_pixel_module(dataset: Dataset, path: Path) -> tuple[int, int, int, int]:
    """Validate PS3.3 C.7.6.3 attributes; return (rows, columns, frames, bits allocated)."""
    if "PixelData" not in dataset:
        found = [k for k in ("FloatPixelData", "DoubleFloatPixelData") if k in dataset]
        extra = f" (only integer Pixel Data is supported; found {found[0]})" if found else ""
        raise CaseFailure(
            ReasonCode.NO_PIXEL_DATA, f"{path.name}: no Pixel Data (7FE0,0010){extra}"
        )
    rows, columns = _integer(dataset, "Rows", path), _integer(dataset, "Columns", path)
    frames = _integer(dataset, "NumberOfFrames", path, default=1)
    allocated = _integer(dataset, "BitsAllocated", path)
    stored = _integer(dataset, "BitsStored", path, default=allocated)
    representation = _integer(dataset, "PixelRepresentation", path, default=0)
    samples = _integer(dataset, "SamplesPerPixel", path, default=1)
    problems = [
        (min(rows, columns, frames) < 1, "Rows, Columns and NumberOfFrames must be >= 1"),
        (allocated not in (1, 8, 16, 32), f"BitsAllocated {allocated} not in 1, 8, 16, 32"),
        (not 1 <= stored <= allocated, f"BitsStored {stored} outside 1..BitsAllocated"),
        (representation not in (0, 1), f"PixelRepresentation {representation} not 0 or 1"),
        (rows * columns * frames > MAX_PIXELS, f"{rows}x{columns}x{frames} pixels is too large"),
    ]
    for failed, message in problems:
        if failed:
            raise CaseFailure(ReasonCode.INVALID_HEADER, f"{path.name}: {message}")
    photometric = str(dataset.get("PhotometricInterpretation", "")).strip()
    if samples != 1 or photometric not in _MONOCHROME:
        raise CaseFailure(
            ReasonCode.UNSUPPORTED_PHOTOMETRIC_INTERPRETATION,
            f"{path.name}: PhotometricInterpretation {photometric or '(missing)'} with "
            f"{plural(samples, 'sample')} per pixel; expected MONOCHROME1 or MONOCHROME2",
        )
    return rows, columns, frames, allocated


def _check_length(dataset: Dataset, path: Path, shape: tuple[int, int, int, int]) -> None:
    """Native Pixel Data must hold every frame; encapsulated data one fragment per frame."""
    rows, columns, frames, allocated = shape
    raw = dataset.get_item("PixelData")
    value = raw.value if raw is not None else None
    if not isinstance(value, bytes | bytearray):
        return
    if dataset.file_meta.TransferSyntaxUID.is_encapsulated:
        from pydicom.encaps import parse_basic_offsets, parse_fragments

        try:
            buffer = BytesIO(value)
            parse_basic_offsets(buffer)
            fragments, _ = parse_fragments(buffer)
        except Exception:  # any parse failure of the encapsulation means the same
            raise CaseFailure(
                ReasonCode.TRUNCATED_PIXEL_DATA,
                f"{path.name}: encapsulated Pixel Data is malformed or cut short",
            ) from None
        if fragments == 0:
            raise CaseFailure(
                ReasonCode.TRUNCATED_PIXEL_DATA, f"{path.name}: encapsulated Pixel Data is empty"
            )
        return
    expected = math.ceil(rows * columns * frames * allocated / 8)
    if len(value) < expected:
        raise CaseFailure(
            ReasonCode.TRUNCATED_PIXEL_DATA,
            f"{path.name}: Pixel Data holds {len(value)} bytes, {expected} expected "
            f"for {rows}x{columns}x{frames} at {allocated} bits",
        )


def read_file(path: Path | str) -> Image:
    """Read and decode one DICOM file (single- or multi-frame).

    Returns
    -------
    Image
        ``pixels`` of shape (rows, columns) or (frames, rows, columns), stored values.

    Raises
    ------
    CaseFailure
        With the reason codes of :class:`~dxval.dicom.failures.ReasonCode`.
    """
    with captured():  # pydicom's warnings quote raw values: never shown (dxval.dicom.notes)
        return _read_file(Path(path))


def _read_file(path: Path) -> Image:
    dataset = _read(path, stop_before_pixels=False)
    try:
        shape = _check_image_pixel_module(dataset, path)
        decoder = select_decoder(
            str(dataset.file_meta.TransferSyntaxUID), bits_stored=int(dataset.BitsStored)
        )
        _check_length(dataset, path, shape)
    except CaseFailure:
        raise
    except Exception as error:  # a corrupt element that pydicom fails to convert
        raise CaseFailure(
            ReasonCode.INVALID_HEADER, f"{path.name}: unreadable attribute ({type(error).__name__})"
        ) from None
    pixels = _decode(dataset, decoder, path, shape)
    del dataset.PixelData
    return Image(pixels=pixels, headers=(dataset,), decoders=(decoder,), sources=(path,))


def _decode(
    dataset: Dataset, decoder: DecoderInfo, path: Path, shape: tuple[int, int, int, int]
) -> NDArray[np.generic]:
    from pydicom.pixels import pixel_array

    plugin = "" if decoder.plugin == "native" else decoder.plugin
    try:
        pixels = pixel_array(dataset, decoding_plugin=plugin)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # decoders raise assorted types on corrupt streams, and
        # pylibjpeg-rle's Rust code raises pyo3's PanicException, a BaseException
        raise CaseFailure(
            ReasonCode.DECODE_ERROR,
            f"{path.name}: {decoder.library} could not decode the pixel data "
            f"({type(error).__name__})",
        ) from None
    rows, columns, frames, _ = shape
    expected = (rows, columns) if frames == 1 else (frames, rows, columns)
    if pixels.shape != expected:
        raise CaseFailure(
            ReasonCode.DECODE_ERROR,
            f"{path.name}: decoded shape {pixels.shape} differs from the header's {expected}",
        )
    return np.asarray(pixels)


def read_case(paths: Sequence[Path | str]) -> Image:
    """Read one case: a file, a folder holding a series, or several files of a series.

    Raises
    ------
    CaseFailure
        From :func:`read_file`, or ``inconsistent_series`` from the series checks.
    """
    with captured():  # pydicom's warnings quote raw values: never shown (dxval.dicom.notes)
        return _read_case([Path(path) for path in paths])


def _read_case(resolved: list[Path]) -> Image:
    from dxval.dicom.series import read_series

    if not resolved:
        raise CaseFailure(ReasonCode.UNREADABLE, "the case lists no files")
    if len(resolved) == 1 and resolved[0].is_dir():
        files = sorted(child for child in resolved[0].iterdir() if child.is_file())
        if not files:
            raise CaseFailure(ReasonCode.UNREADABLE, f"{resolved[0].name}: folder holds no files")
        return read_series(files)
    if len(resolved) == 1:
        return read_file(resolved[0])
    return read_series(resolved)
