"""A case loader that perturbs the decoded pixels before the model's preprocessing (issue 19).

:class:`PerturbedCaseLoader` is a :class:`~dxval.dicom.loader.CaseLoader`
whose every case is decoded as usual, changed by one robustness perturbation
(:mod:`dxval.dicom.perturbations`) and then preprocessed by the same steps.
Its :attr:`~PerturbedCaseLoader.digest` combines the preprocessing digest with
the perturbation's cache component, so the prediction cache, keyed by that
digest, never serves or stores a perturbed case as the original (or as
another level).

The random draws of a level (noise) are seeded per case from the level's
seed and the SHA-256 of the case's decoded pixels: reruns are identical, and
two cases do not share one noise field.

A ``ct_window`` level changes no pixel: the loader's preprocessing is the
model's own with its CT window moved (:func:`~dxval.dicom.perturbations.window_steps`),
and a case whose Modality is not CT fails with ``perturbation_failed``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from dxval.dicom.failures import CaseFailure, ReasonCode
from dxval.dicom.loader import CaseLoader, LoadedCase
from dxval.dicom.notes import captured
from dxval.dicom.perturbations import (
    CT_MODALITY,
    Perturbation,
    apply_perturbation,
    window_steps,
)
from dxval.dicom.pipeline import apply_steps
from dxval.dicom.reader import Image, read_case
from dxval.dicom.steps import Step
from dxval.errors import InputError

__all__ = ["PerturbedCaseLoader", "perturb_image"]


def _in_plane_spacing(image: Image) -> tuple[float, float] | None:
    """(row, column) spacing in mm: the series spacing, else (Imager) Pixel Spacing."""
    if image.spacing is not None:
        return (float(image.spacing[1]), float(image.spacing[2]))
    header = image.header
    in_plane = header.get("PixelSpacing") or header.get("ImagerPixelSpacing")
    if not in_plane or len(in_plane) != 2:
        return None
    return (float(in_plane[0]), float(in_plane[1]))


def _case_seed(perturbation: Perturbation, pixels: NDArray[np.generic]) -> int:
    digest = hashlib.sha256(f"{perturbation.seed}:{pixels.dtype.str}:".encode())
    digest.update(np.ascontiguousarray(pixels).tobytes())
    return int.from_bytes(digest.digest()[:8], "big") >> 1


def perturb_image(image: Image, perturbation: Perturbation) -> Image:
    """``image`` with its stored pixels perturbed (every frame of a 3-D image alike).

    Raises
    ------
    CaseFailure
        ``perturbation_failed``: the perturbation cannot be applied to this
        image (no pixel spacing for a mm parameter, a constant image for an
        intensity-relative one).
    """
    if perturbation.acts_on_window:  # the window moves in the steps, not here
        modality = str(image.header.get("Modality") or "").strip()
        if modality != CT_MODALITY:
            raise CaseFailure(
                ReasonCode.PERTURBATION_FAILED,
                f"{image.sources[0].name}: perturbation {perturbation.label!r}: got Modality "
                f"{modality!r}, expected {CT_MODALITY!r} (it moves the model's CT window)",
            )
        return image
    if perturbation.is_identity:
        return image
    seeded = replace(perturbation, seed=_case_seed(perturbation, image.pixels))
    spacing = _in_plane_spacing(image)
    try:
        if image.pixels.ndim == 3:
            frames = [apply_perturbation(frame, spacing, seeded) for frame in image.pixels]
            pixels: NDArray[np.generic] = np.stack(frames)
        else:
            pixels = apply_perturbation(image.pixels, spacing, seeded)
    except InputError as error:
        raise CaseFailure(
            ReasonCode.PERTURBATION_FAILED, f"{image.sources[0].name}: {error}"
        ) from None
    return replace(image, pixels=pixels)


class PerturbedCaseLoader(CaseLoader):
    """Picklable loader: read, decode, perturb, then preprocess one case.

    Parameters
    ----------
    steps, expected_shape:
        As for :class:`~dxval.dicom.loader.CaseLoader` (the model's own steps;
        a ``ct_window`` level moves their window step).
    perturbation:
        One validated level (:func:`~dxval.dicom.perturbations.make_perturbation`).
    """

    def __init__(
        self,
        steps: Sequence[Step],
        *,
        perturbation: Perturbation,
        expected_shape: Sequence[int | None] | None = None,
    ) -> None:
        super().__init__(window_steps(steps, perturbation), expected_shape=expected_shape)
        self.perturbation = perturbation

    def __repr__(self) -> str:
        return f"PerturbedCaseLoader({self.perturbation.label}, {super().__repr__()})"

    @property
    def digest(self) -> str:
        """SHA-256 of the preprocessing digest together with the perturbation's cache component."""
        component = {
            "preprocessing": super().digest,
            "perturbation": self.perturbation.cache_component(),
        }
        text = json.dumps(component, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def load(self, paths: Sequence[Path | str]) -> LoadedCase:
        """Read, decode, perturb and preprocess one case (see :func:`perturb_image`).

        Raises
        ------
        CaseFailure
            Any reason code of :class:`~dxval.dicom.failures.ReasonCode`.
        """
        with captured():
            image = perturb_image(read_case(paths), self.perturbation)
            tensor = apply_steps(image, self.steps)
        self._check_shape(tensor, image.sources[0].name)
        return LoadedCase(tensor=tensor, decoders=image.decoders)
