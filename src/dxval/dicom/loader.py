"""The case loader: one case's DICOM files → the exact float32 tensor fed to the model.

:class:`CaseLoader` is what the inference harness ships to its worker
processes: it holds only the plain steps (picklable), reads and
decodes the files, applies the ops and checks the result against the model's
input shape. Every problem is a :class:`~dxval.dicom.failures.CaseFailure`
with a reason code; the harness records it and moves on.
"""

from __future__ import annotations

import time
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
    """A model input, the decoders that produced its pixels, and the wall time of each part.

    ``decode_ns`` (reading and decoding the files) and ``preprocess_ns`` (the
    steps and the shape check) are :func:`time.perf_counter_ns` differences,
    recorded for the latency study (:mod:`dxval.inference.timing`).
    """

    tensor: NDArray[np.float32]
    decoders: tuple[DecoderInfo, ...]
    decode_ns: int | None = None
    preprocess_ns: int | None = None


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
            Any reason code of :class:`~dxval.dicom.failures.ReasonCode`; its
            ``stage`` attribute says where it happened (``decode`` or ``preprocess``).
        """
        stage = "decode"
        try:
            started = time.perf_counter_ns()
            with captured():  # pydicom's warnings quote raw values: never shown
                image = read_case(paths)
                decoded = time.perf_counter_ns()
                stage = "preprocess"
                tensor = apply_steps(image, self.steps)
            self._check_shape(tensor, image.sources[0].name)
        except Exception as error:
            error.stage = stage  # type: ignore[attr-defined]  # read by the harness's timing
            raise
        return LoadedCase(
            tensor=tensor,
            decoders=image.decoders,
            decode_ns=decoded - started,
            preprocess_ns=time.perf_counter_ns() - decoded,
        )

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
