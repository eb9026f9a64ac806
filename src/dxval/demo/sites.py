"""The three fictional hospitals of the demo and how their radiographs differ.

Each :class:`SiteProfile` fixes what differs between hospitals in practice:
the vendor and model, the detector matrix and pixel spacing, the stored bit
depth, the photometric interpretation (MONOCHROME1 at one site), a
non-identity Modality LUT (rescale slope/intercept, PS3.3 C.11.1) at one site,
a lossless compressed transfer syntax (RLE Lossless, PS3.5 Annex G) at one
site, and the physics: detector blur, quantum and electronic noise, and how
conspicuous a nodule is. Site C is the *shifted* site: a portable unit without
an anti-scatter grid, so lesions have lower contrast and images more noise, and
a model's sensitivity there is visibly lower.

All names are invented; no real manufacturer, product or institution is meant.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Photometric(str, Enum):
    """Photometric Interpretation (0028,0004) values used by the demo (PS3.3 C.7.6.3.1.2)."""

    MONOCHROME1 = "MONOCHROME1"
    MONOCHROME2 = "MONOCHROME2"


class Encoding(str, Enum):
    """How a site stores Pixel Data (7FE0,0010)."""

    EXPLICIT_LITTLE = "explicit-little"
    RLE_LOSSLESS = "rle-lossless"


@dataclass(frozen=True, slots=True)
class SiteProfile:
    """Acquisition and storage settings of one fictional hospital.

    ``rows``/``columns`` is the stored matrix and ``pixel_spacing_mm`` the
    (row, column) spacing at the detector. ``rescale_slope`` and
    ``rescale_intercept`` define the Modality LUT: modality value =
    slope × stored value + intercept; the stored value is chosen so that the
    modality values span ``modality_low``..``modality_high``.
    ``photons_per_pixel`` sets quantum noise (fewer photons, more noise),
    ``electronic_noise`` adds a constant noise floor (in attenuation units),
    ``blur_mm`` is the detector's Gaussian point-spread σ, and
    ``lesion_contrast_factor`` scales every nodule's attenuation contrast.
    ``truncated_fraction`` of the site's files are cut short on purpose.
    ``case_id_letter`` starts the site's case IDs (``DEMO-A-…``).
    """

    site_id: str
    site_name: str
    manufacturer: str
    model_name: str
    software_version: str
    case_id_letter: str
    rows: int
    columns: int
    pixel_spacing_mm: tuple[float, float]
    bits_stored: int
    photometric: Photometric
    encoding: Encoding
    rescale_slope: float
    rescale_intercept: float
    modality_low: float
    modality_high: float
    photons_per_pixel: float
    electronic_noise: float
    blur_mm: float
    lesion_contrast_factor: float
    female_fraction: float
    truncated_fraction: float
    kvp: int

    @property
    def has_rescale(self) -> bool:
        """True when the Modality LUT is not the identity (slope ≠ 1 or intercept ≠ 0)."""
        return self.rescale_slope != 1.0 or self.rescale_intercept != 0.0


SITE_A = SiteProfile(
    site_id="site-a",
    site_name="Site A",
    manufacturer="Aurora Synthetic Imaging",
    model_name="AX-500 Demo",
    software_version="AX 4.2.1",
    case_id_letter="A",
    rows=320,
    columns=320,
    pixel_spacing_mm=(1.2, 1.2),
    bits_stored=12,
    photometric=Photometric.MONOCHROME2,
    encoding=Encoding.EXPLICIT_LITTLE,
    rescale_slope=1.0,
    rescale_intercept=0.0,
    modality_low=200.0,
    modality_high=3900.0,
    photons_per_pixel=9000.0,
    electronic_noise=0.004,
    blur_mm=1.2,
    lesion_contrast_factor=1.0,
    female_fraction=0.52,
    truncated_fraction=0.01,
    kvp=120,
)

SITE_B = SiteProfile(
    site_id="site-b",
    site_name="Site B",
    manufacturer="Borealis Demo Medical",
    model_name="BR-12 CR Reader",
    software_version="BR 2.0.7",
    case_id_letter="B",
    rows=288,
    columns=256,
    pixel_spacing_mm=(1.4, 1.4),
    bits_stored=15,
    photometric=Photometric.MONOCHROME1,
    encoding=Encoding.RLE_LOSSLESS,
    rescale_slope=1.0,
    rescale_intercept=0.0,
    modality_low=1500.0,
    modality_high=31000.0,
    photons_per_pixel=7000.0,
    electronic_noise=0.005,
    blur_mm=1.5,
    lesion_contrast_factor=0.95,
    female_fraction=0.48,
    truncated_fraction=0.0,
    kvp=110,
)

SITE_C = SiteProfile(
    site_id="site-c",
    site_name="Site C",
    manufacturer="Cobalt Virtual Radiology",
    model_name="CV-3 Portable",
    software_version="CV 1.3.0",
    case_id_letter="C",
    rows=256,
    columns=256,
    pixel_spacing_mm=(1.6, 1.6),
    bits_stored=16,
    photometric=Photometric.MONOCHROME2,
    encoding=Encoding.EXPLICIT_LITTLE,
    rescale_slope=0.5,
    rescale_intercept=-1024.0,
    modality_low=-500.0,
    modality_high=30000.0,
    photons_per_pixel=2500.0,
    electronic_noise=0.008,
    blur_mm=1.8,
    lesion_contrast_factor=0.6,
    female_fraction=0.55,
    truncated_fraction=0.0,
    kvp=90,
)

DEMO_SITES: tuple[SiteProfile, ...] = (SITE_A, SITE_B, SITE_C)
