"""Case failures: a file that cannot become a model input, with a closed reason code.

A bad file is never a crash and never silently dropped: the reader, the
decoders and the preprocessing raise :class:`CaseFailure`, the inference
harness records ``reason_code`` and ``message`` for the case, and the counts
reconcile (cases in = scored + failed).
"""

from __future__ import annotations

from enum import Enum

__all__ = ["CaseFailure", "ReasonCode"]


class ReasonCode(str, Enum):
    """Why a case could not be turned into a model input (closed vocabulary)."""

    NOT_DICOM = "not_dicom"
    """No DICOM preamble/meta or no parseable data set."""
    UNREADABLE = "unreadable"
    """The file cannot be opened or read (missing, permission, I/O error)."""
    INVALID_HEADER = "invalid_header"
    """Image pixel attributes missing or contradictory (Rows, BitsStored, ...)."""
    NO_PIXEL_DATA = "no_pixel_data"
    """No Pixel Data (7FE0,0010) element."""
    TRUNCATED_PIXEL_DATA = "truncated_pixel_data"
    """Pixel Data shorter than Rows × Columns × Frames × samples × bits needs."""
    UNSUPPORTED_TRANSFER_SYNTAX = "unsupported_transfer_syntax"
    """No permissively licensed decoder is available for the transfer syntax."""
    DECODE_ERROR = "decode_error"
    """The decoder rejected the compressed pixel data."""
    UNSUPPORTED_PHOTOMETRIC_INTERPRETATION = "unsupported_photometric_interpretation"
    """Not MONOCHROME1/MONOCHROME2 (colour images are outside dxval's scope)."""
    NO_VOI = "no_voi"
    """``voi_lut`` asked for but the file holds neither a VOI LUT nor a window."""
    INCONSISTENT_SERIES = "inconsistent_series"
    """Series slices differ in orientation, size or spacing, or lack a position."""
    SHAPE_MISMATCH = "shape_mismatch"
    """Frame count or shape does not fit the preprocessing (e.g. frame index out of range)."""
    PERTURBATION_FAILED = "perturbation_failed"
    """A robustness perturbation cannot be applied (no pixel spacing for mm, constant image)."""


class CaseFailure(Exception):  # noqa: N818  (name fixed by the cross-team contract)
    """One case cannot be read or preprocessed; recorded with its reason, never dropped.

    Parameters
    ----------
    reason_code:
        A :class:`ReasonCode` (or its string value).
    message:
        What went wrong and where (file name, attribute), never a patient value.
    """

    def __init__(self, reason_code: ReasonCode | str, message: str) -> None:
        self.reason_code = ReasonCode(reason_code)
        self.message = message
        super().__init__(reason_code, message)

    def __str__(self) -> str:
        return f"{self.reason_code.value}: {self.message}"

    def __reduce__(self) -> tuple[type[CaseFailure], tuple[str, str]]:
        # Keep the failure picklable across worker processes.
        return (type(self), (self.reason_code.value, self.message))
