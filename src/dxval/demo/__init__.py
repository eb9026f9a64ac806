"""Deterministic synthetic multi-site chest radiographs for dxval's out-of-the-box demo.

``dxval demo generate`` writes three fictional hospitals' test sets of
Computed Radiography DICOM files with nodule-like lesions in about 30% of
cases, a manifest per site, and a summary. See :mod:`dxval.demo.phantom` for
the image model, :mod:`dxval.demo.sites` for how the sites differ,
:mod:`dxval.demo.writer` for the DICOM encoding and
:mod:`dxval.demo.generate` for the folder layout. All data are synthetic: no
patient, device or institution is real, and nothing here is for clinical use.
"""

from __future__ import annotations

from dxval.demo.cases import DemoCase, Sex, derived_uid, sample_case
from dxval.demo.generate import (
    DEFAULT_CASES_PER_SITE,
    DEFAULT_SEED,
    MANIFEST_COLUMNS,
    DemoResult,
    GeneratedCase,
    SiteResult,
    generate_cases,
    generate_demo,
    truncated_indices,
)
from dxval.demo.sites import DEMO_SITES, Encoding, Photometric, SiteProfile

__all__ = [
    "DEFAULT_CASES_PER_SITE",
    "DEFAULT_SEED",
    "DEMO_SITES",
    "MANIFEST_COLUMNS",
    "DemoCase",
    "DemoResult",
    "Encoding",
    "GeneratedCase",
    "Photometric",
    "Sex",
    "SiteProfile",
    "SiteResult",
    "derived_uid",
    "generate_cases",
    "generate_demo",
    "sample_case",
    "truncated_indices",
]
