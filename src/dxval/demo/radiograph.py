"""From a sampled case to stored pixel values, the way each site's detector stores them.

The phantom's attenuation map is exposed (blur and noise), mapped linearly to
the site's modality values (inverted at a MONOCHROME1 site, where a high
stored value is displayed dark), converted to stored values through the
inverse of the site's Modality LUT (PS3.3 C.11.1.1: modality value =
slope × stored value + intercept) and rounded to the site's bit depth. The
window (PS3.3 C.11.2.1.2) is chosen the way devices do it automatically, from
percentiles of the modality values inside the body.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dxval.demo.cases import DemoCase
from dxval.demo.phantom import attenuation, expose, make_grid, nodule_thickness
from dxval.demo.sites import Photometric, SiteProfile

#: attenuation values mapped to the ends of a site's modality range
ATTENUATION_LOW = -0.15
ATTENUATION_HIGH = 1.65


@dataclass(frozen=True, slots=True)
class StoredImage:
    """Stored pixel values (uint16, shape (rows, columns)) and their automatic window."""

    pixels: np.ndarray
    window_center: int
    window_width: int


def _to_modality(signal: np.ndarray, site: SiteProfile) -> np.ndarray:
    fraction = (signal - ATTENUATION_LOW) / (ATTENUATION_HIGH - ATTENUATION_LOW)
    if site.photometric is Photometric.MONOCHROME1:
        fraction = 1.0 - fraction
    return site.modality_low + fraction * (site.modality_high - site.modality_low)


def _auto_window(modality: np.ndarray, body: np.ndarray) -> tuple[int, int]:
    """Window centre and width covering the 0.5th–99.5th percentiles inside the body."""
    values = modality[body] if np.count_nonzero(body) > 100 else modality.reshape(-1)
    low, high = np.percentile(values, [0.5, 99.5])
    width = max(round(float(high - low)), 2)
    center = round(float(high + low) / 2.0)
    return center, width


def render_case(
    case: DemoCase,
    site: SiteProfile,
    generator: np.random.Generator,
    *,
    exposure_generator: np.random.Generator | None = None,
) -> StoredImage:
    """Render one case at one site and return its stored pixels and window.

    Parameters: the sampled ``case``, the ``site`` profile and the case's
    random ``generator`` as :func:`dxval.demo.cases.sample_case` left it (the
    phantom's texture and the detector noise are drawn from it, in that order).
    A repeat acquisition (:mod:`dxval.demo.repeats`) passes its own
    ``exposure_generator`` for the detector noise, so the phantom is the same
    and the noise is new. Stored values are clipped to ``0 … 2**bits_stored − 1``.
    """
    grid = make_grid(site.rows, site.columns, site.pixel_spacing_mm, case.anatomy)
    clean = attenuation(grid, case.anatomy, case.lesion, generator)
    signal = expose(
        clean,
        spacing_mm=site.pixel_spacing_mm,
        blur_mm=site.blur_mm,
        photons_per_pixel=site.photons_per_pixel,
        electronic_noise=site.electronic_noise,
        generator=generator if exposure_generator is None else exposure_generator,
    )
    modality = _to_modality(signal, site)
    stored = np.rint((modality - site.rescale_intercept) / site.rescale_slope)
    stored = np.clip(stored, 0, 2**site.bits_stored - 1).astype(np.uint16)
    actual = stored.astype(np.float64) * site.rescale_slope + site.rescale_intercept
    center, width = _auto_window(actual, clean > 0.25)
    return StoredImage(pixels=stored, window_center=center, window_width=width)


def lesion_footprint(case: DemoCase, site: SiteProfile) -> np.ndarray:
    """Return where the case's nodule lies in the stored image (bool, shape (rows, columns)).

    All False for a negative case. The footprint is the nodule's outline as
    rendered, before blur; it is the ground truth for training a localiser.
    """
    if case.lesion is None:
        return np.zeros((site.rows, site.columns), dtype=bool)
    grid = make_grid(site.rows, site.columns, site.pixel_spacing_mm, case.anatomy)
    return nodule_thickness(grid, case.anatomy, case.lesion) > 0.0
