"""Deterministic sampling of demo cases: identifiers, UIDs, demographics, truth and lesions.

Every case draws from its own random stream, seeded from the SHA-256 of
(seed, site, case index), so a case never depends on how many cases are
generated or in which order: a reduced demo of N cases is exactly the first N
cases of the full one. Streams are NumPy ``Generator`` objects over ``PCG64``.

Identifiers are pseudonymous and derived the same way: case IDs are
``DEMO-<site letter>-<10 hex digits>``; DICOM UIDs use the ``2.25`` root
followed by the decimal value of a version-8 (RFC 9562 custom) UUID made from
a SHA-256 digest, as PS3.5 B.2 allows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum

import numpy as np

from dxval.demo.phantom import Anatomy, Lesion
from dxval.demo.sites import SiteProfile

#: fraction of positive cases at the mean age; prevalence rises with age
BASE_PREVALENCE = 0.30

#: lesion-size classes (diameter in mm): small < 10 ≤ medium < 20 ≤ large
SMALL_LESION_MM = 10.0
LARGE_LESION_MM = 20.0


class Sex(str, Enum):
    """Patient's Sex (0010,0040) values used by the demo (PS3.3 C.7.1.1)."""

    FEMALE = "F"
    MALE = "M"


@dataclass(frozen=True, slots=True)
class DemoCase:
    """One generated case: identity, demographics, truth and the phantom parameters."""

    site_id: str
    index: int
    case_id: str
    sex: Sex
    age_years: int
    label: int
    anatomy: Anatomy
    lesion: Lesion | None

    @property
    def lesion_size_mm(self) -> float | None:
        """Nodule diameter in millimetres, or None for a negative case."""
        return None if self.lesion is None else self.lesion.diameter_mm

    @property
    def lesion_size_class(self) -> str:
        """``none``, ``small`` (< 10 mm), ``medium`` (10–20 mm) or ``large`` (≥ 20 mm)."""
        size = self.lesion_size_mm
        if size is None:
            return "none"
        if size < SMALL_LESION_MM:
            return "small"
        return "medium" if size < LARGE_LESION_MM else "large"


def digest_int(*parts: object) -> int:
    """Return the SHA-256 of the parts (joined by ``|``) as an unsigned integer."""
    text = "|".join(str(part) for part in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest(), "big")


def derived_uid(*parts: object) -> str:
    """Return a ``2.25.<decimal>`` UID from a version-8 UUID built from SHA-256 of the parts.

    The top 128 bits of the digest become the UUID; its version nibble is set
    to 8 and its variant bits to ``10`` (RFC 9562 §5.8), so the value is a
    valid UUID and the UID is at most 44 characters (PS3.5 B.2, 9.1).
    """
    value = digest_int("dxval-demo-uid", *parts) >> 128
    value &= ~(0xF << 76)
    value |= 0x8 << 76
    value &= ~(0x3 << 62)
    value |= 0x2 << 62
    return f"2.25.{value}"


def case_generator(seed: int, site_id: str, index: int) -> np.random.Generator:
    """Return the independent random stream of one case (PCG64 seeded from SHA-256)."""
    return np.random.Generator(np.random.PCG64(digest_int("dxval-demo-case", seed, site_id, index)))


def case_identifier(seed: int, site: SiteProfile, index: int) -> str:
    """Return the pseudonymous case ID, e.g. ``DEMO-A-3f09c2e1b4``."""
    token = digest_int("dxval-demo-case-id", seed, site.site_id, index) >> 216
    return f"DEMO-{site.case_id_letter}-{token:010x}"


def _sample_anatomy(sex: Sex, generator: np.random.Generator) -> Anatomy:
    scale_mean = 1.0 if sex is Sex.MALE else 0.93
    breast = float(np.clip(generator.normal(0.8, 0.35), 0.1, 1.6)) if sex is Sex.FEMALE else 0.0
    return Anatomy(
        scale=float(np.clip(generator.normal(scale_mean, 0.05), 0.82, 1.12)),
        shift_x_mm=float(generator.normal(0.0, 8.0)),
        shift_y_mm=float(generator.normal(0.0, 10.0)),
        rotation_rad=float(generator.normal(0.0, 0.03)),
        lung_height_factor=float(np.clip(generator.normal(1.0, 0.08), 0.8, 1.2)),
        heart_width_factor=float(np.clip(generator.normal(1.0, 0.1), 0.75, 1.35)),
        rib_spacing_mm=float(generator.uniform(21.0, 25.0)),
        rib_phase_mm=float(generator.uniform(0.0, 12.0)),
        vessel_density=float(np.clip(generator.normal(1.0, 0.2), 0.5, 1.6)),
        breast_size=breast,
        end_on_vessels=int(generator.integers(1, 6)),
    )


def _sample_lesion(site: SiteProfile, generator: np.random.Generator) -> Lesion:
    # log-uniform diameters between 6 and 32 mm: many small nodules, few large ones
    diameter = float(np.exp(generator.uniform(np.log(6.0), np.log(32.0))))
    # a thicker sphere attenuates more: contrast grows with the square root of the diameter
    contrast = float(generator.uniform(0.25, 0.5)) * np.sqrt(diameter / 20.0)
    contrast *= site.lesion_contrast_factor
    return Lesion(
        side=-1 if generator.random() < 0.5 else 1,
        lateral_fraction=float(generator.uniform(0.05, 0.95)),
        vertical_fraction=float(generator.uniform(0.08, 0.92)),
        diameter_mm=round(diameter, 1),
        contrast=contrast,
        lobulation=float(generator.uniform(0.0, 0.2)),
        lobulation_phase=float(generator.uniform(0.0, 2.0 * np.pi)),
    )


def sample_case(seed: int, site: SiteProfile, index: int) -> tuple[DemoCase, np.random.Generator]:
    """Draw one case and return it with its random stream, positioned for rendering.

    Ages follow 18 + 74 × Beta(2.4, 2.0) years (median ≈ 59); sex is female
    with the site's ``female_fraction``; the probability of a nodule is
    ``BASE_PREVALENCE`` at age 58, rising 0.5 percentage points per year.
    The draws happen in a fixed order so the stream is reproducible.
    """
    generator = case_generator(seed, site.site_id, index)
    sex = Sex.FEMALE if generator.random() < site.female_fraction else Sex.MALE
    age = int(18 + np.floor(74.0 * generator.beta(2.4, 2.0)))
    prevalence = float(np.clip(BASE_PREVALENCE + 0.005 * (age - 58), 0.08, 0.6))
    label = int(generator.random() < prevalence)
    anatomy = _sample_anatomy(sex, generator)
    lesion = _sample_lesion(site, generator) if label else None
    case = DemoCase(
        site_id=site.site_id,
        index=index,
        case_id=case_identifier(seed, site, index),
        sex=sex,
        age_years=age,
        label=label,
        anatomy=anatomy,
        lesion=lesion,
    )
    return case, generator
