"""The case loader: one case's DICOM files → the exact float32 tensor fed to the model.

:class:`CaseLoader` is what the inference harness ships to its worker
processes: it holds only the plain steps (picklable), reads and
decodes the files, applies the ops and checks the result against the model's
input shape. Every problem is a :class:`~dxval.dicom.failures.CaseFailure`
with a reason code; the harness records it and moves on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from dxval.dicom.decoders import DecoderInfo, decoder_for
from dxval.dicom.failures import CaseFailure, ReasonCode
from dxval.dicom.notes import captured
from dxval.dicom.pipeline import apply_steps
from dxval.dicom.reader import read_case
from dxval.dicom.steps import Step, check_pipeline, preprocessing_digest

__all__ = ["CaseLoader", "LoadedCase"]


@dataclass(frozen=True, slots=True)
class LoadedCase:
    """A model input and the decoders that produced its pixels."""

    tensor: NDArray[np.float32]
    decoders: tuple[DecoderInfo, ...]


class CaseLoader:
    """Picklable callable ``loader(paths) -> float32 array`` (one case, no batch axis).

    Parameters
    ----------
    steps:
        Plain preprocessing steps (:mod:`dxval.dicom.steps`; the protocol's
        :func:`~dxval.protocol.preprocessing.plain_steps` makes them).
    expected_shape:
        The model input shape without the batch axis; ``None`` entries are
        dynamic. A tensor that does not fit is ``shape_mismatch``.

    Raises
    ------
    ValueError
        (At construction) a step order that :func:`~dxval.dicom.steps.check_pipeline` rejects.
    """

    def __init__(
        self,
        steps: Sequence[Step],
        *,
        expected_shape: Sequence[int | None] | None = None,
    ) -> None:
        check_pipeline(steps)
        self.steps = tuple(steps)
        self.expected_shape = None if expected_shape is None else tuple(expected_shape)

    def __repr__(self) -> str:
        names = ", ".join(str(getattr(step, "op", "?")) for step in self.steps)
        return f"CaseLoader([{names}], expected_shape={self.expected_shape})"

    @property
    def digest(self) -> str:
        """The preprocessing digest of the steps in this environment."""
        return preprocessing_digest(self.steps)

    def load(self, paths: Sequence[Path | str]) -> LoadedCase:
        """Read, decode and preprocess one case; return the tensor and its decoders.

        Raises
        ------
        CaseFailure
            Any reason code of :class:`~dxval.dicom.failures.ReasonCode`.
        """
        with captured():  # pydicom's warnings quote raw values: never shown
            image = read_case(paths)
            tensor = apply_steps(image, self.steps)
        self._check_shape(tensor, image.sources[0].name)
        return LoadedCase(tensor=tensor, decoders=image.decoders)

    def __call__(self, paths: Sequence[Path | str]) -> NDArray[np.float32]:
        """The model input for the case stored in ``paths`` (see :meth:`load`)."""
        return self.load(paths).tensor

    def decoder_for(self, path: Path | str) -> DecoderInfo:
        """The decoder that would decode the file at ``path`` (header read only)."""
        return decoder_for(path)

    def _check_shape(self, tensor: NDArray[np.float32], source: str) -> None:
        expected = self.expected_shape
        if expected is None:
            return
        fits = len(expected) == tensor.ndim and all(
            want is None or want == have for want, have in zip(expected, tensor.shape, strict=True)
        )
        if not fits:
            shown = tuple("any" if want is None else want for want in expected)
            raise CaseFailure(
                ReasonCode.SHAPE_MISMATCH,
                f"{source}: preprocessed shape {tensor.shape} does not fit the model input "
                f"{shown} (without the batch axis)",
            )
