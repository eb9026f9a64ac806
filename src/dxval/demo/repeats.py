"""Repeat acquisitions of demo patients: the data of the demo precision study (issue 19).

``dxval demo generate --repeats N`` writes, for the first ``N`` patients of
each demo site, ``ACQUISITIONS`` new acquisitions of the same phantom: the
same anatomy, texture and nodule (case *i* of a site is the same patient as
case *i* of the main demo, with the same Patient ID), positioned again
(a shift of N(0, 3 mm) per axis and a rotation of N(0, 0.02 rad ≈ 1.1°)) and
exposed again (new detector noise at the site's own level). Every file has
Study, Series and SOP Instance UIDs of its own; the manifest's
``repeat_group`` column names the patient, so a protocol's ``precision:
{repeat_group: repeat_group}`` study measures the model's repeatability.

Layout (like :mod:`dxval.demo.generate`, written atomically)::

    <out>/demo.json                 what was generated (seed, patients, acquisitions)
    <out>/site-a/manifest.csv       MANIFEST_COLUMNS + repeat_group, acquisition
    <out>/site-a/dicom/<case>-R<k>.dcm

The main demo (``make demo``) is not touched: its files, pins and bytes are
those of :func:`dxval.demo.generate.generate_demo`. The same seed gives the
same bytes here too (every acquisition draws from its own PCG64 stream).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from dxval.demo.cases import DemoCase, digest_int, sample_case
from dxval.demo.generate import (
    DEFAULT_SEED,
    GENERATOR_VERSION,
    MANIFEST_COLUMNS,
    MANIFEST_NAME,
    SUMMARY_NAME,
    GeneratedCase,
    Progress,
    _check_target,
    _manifest_row,
    _replace_folder,
)
from dxval.demo.phantom import Anatomy
from dxval.demo.radiograph import render_case
from dxval.demo.sites import DEMO_SITES, SiteProfile
from dxval.demo.writer import encode_case
from dxval.errors import UsageError

__all__ = [
    "ACQUISITIONS",
    "REPEAT_COLUMNS",
    "RepeatResult",
    "acquire",
    "generate_repeats",
]

#: acquisitions per patient (two: Bland–Altman limits apply)
ACQUISITIONS = 2
#: SD of the re-positioning shift per axis (mm) and of the in-plane rotation (rad)
POSITION_SD_MM = 3.0
ROTATION_SD_RAD = 0.02
REPEAT_COLUMNS = (*MANIFEST_COLUMNS, "repeat_group", "acquisition")


@dataclass(frozen=True, slots=True)
class RepeatSite:
    """What was written for one site."""

    site_id: str
    manifest: Path
    patients: int
    cases: int
    positives: int


@dataclass(frozen=True, slots=True)
class RepeatResult:
    """What :func:`generate_repeats` wrote."""

    out_dir: Path
    seed: int
    patients_per_site: int
    acquisitions: int
    sites: tuple[RepeatSite, ...]


def _acquisition_generator(
    seed: int, site_id: str, index: int, acquisition: int
) -> np.random.Generator:
    return np.random.Generator(
        np.random.PCG64(digest_int("dxval-demo-repeat", seed, site_id, index, acquisition))
    )


def _reposition(anatomy: Anatomy, generator: np.random.Generator) -> Anatomy:
    """The same patient placed again on the detector: small shift and rotation."""
    return replace(
        anatomy,
        shift_x_mm=anatomy.shift_x_mm + float(generator.normal(0.0, POSITION_SD_MM)),
        shift_y_mm=anatomy.shift_y_mm + float(generator.normal(0.0, POSITION_SD_MM)),
        rotation_rad=anatomy.rotation_rad + float(generator.normal(0.0, ROTATION_SD_RAD)),
    )


def acquire(seed: int, site: SiteProfile, index: int, acquisition: int) -> GeneratedCase:
    """Acquisition ``acquisition`` (1, 2, …) of patient ``index`` at ``site``.

    The phantom (anatomy, texture, nodule) is drawn from the patient's own
    stream exactly as for the main demo; the positioning change and the
    detector noise come from the acquisition's stream. The returned case is
    the patient as sampled (its ID is the repeat group).
    """
    case, generator = sample_case(seed, site, index)
    stream = _acquisition_generator(seed, site.site_id, index, acquisition)
    placed = replace(case, anatomy=_reposition(case.anatomy, stream))
    image = render_case(placed, site, generator, exposure_generator=stream)
    data = encode_case(case, site, image, seed=seed, acquisition=acquisition)
    return GeneratedCase(case, image, data)


def _case_id(case: DemoCase, acquisition: int) -> str:
    return f"{case.case_id}-R{acquisition}"


def _write_site(
    folder: Path, site: SiteProfile, *, seed: int, patients: int, progress: Progress | None
) -> RepeatSite:
    (folder / "dicom").mkdir(parents=True)
    rows: list[list[str]] = []
    positives = 0
    for index in range(patients):
        for acquisition in range(1, ACQUISITIONS + 1):
            generated = acquire(seed, site, index, acquisition)
            case = generated.case
            case_id = _case_id(case, acquisition)
            relative = f"dicom/{case_id}.dcm"
            (folder / relative).write_bytes(generated.file_bytes)
            row = _manifest_row(replace(case, case_id=case_id), site, relative)
            rows.append([*row, case.case_id, str(acquisition)])
            positives += case.label
        if progress is not None and (index + 1) % 10 == 0:
            progress(f"{site.site_id}: {index + 1}/{patients} patients re-acquired")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(REPEAT_COLUMNS)
    writer.writerows(rows)
    (folder / MANIFEST_NAME).write_bytes(buffer.getvalue().encode("utf-8"))
    return RepeatSite(site.site_id, folder / MANIFEST_NAME, patients, len(rows), positives)


def _summary_bytes(seed: int, patients: int, sites: Sequence[RepeatSite]) -> bytes:
    summary = {
        "generator": "dxval demo generate --repeats",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "patients_per_site": patients,
        "acquisitions": ACQUISITIONS,
        "repositioning": {"shift_sd_mm": POSITION_SD_MM, "rotation_sd_rad": ROTATION_SD_RAD},
        "synthetic": True,
        "note": "Synthetic repeat acquisitions for demonstration; no patient data. Not for "
        "clinical use.",
        "sites": [
            {
                "site_id": site.site_id,
                "manifest": f"{site.site_id}/{MANIFEST_NAME}",
                "patients": site.patients,
                "cases": site.cases,
                "positives": site.positives,
            }
            for site in sites
        ],
    }
    return (json.dumps(summary, indent=2, sort_keys=True) + "\n").encode("utf-8")


def generate_repeats(
    out_dir: Path,
    *,
    patients_per_site: int,
    seed: int = DEFAULT_SEED,
    sites: Sequence[SiteProfile] = DEMO_SITES,
    progress: Progress | None = None,
) -> RepeatResult:
    """Write ``ACQUISITIONS`` acquisitions of the first ``patients_per_site`` patients per site.

    Raises
    ------
    UsageError
        A count below 2 (a precision study needs at least two groups), a
        negative seed, or an output path that is a file or a non-empty folder
        that is not a previous demo.
    """
    if patients_per_site < 2:
        raise UsageError(f"--repeats: got {patients_per_site}, expected an integer >= 2")
    if seed < 0:
        raise UsageError(f"--seed: got {seed}, expected an integer >= 0")
    out_dir = Path(out_dir)
    _check_target(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        written = [
            _write_site(
                staging / site.site_id,
                site,
                seed=seed,
                patients=patients_per_site,
                progress=progress,
            )
            for site in sites
        ]
        (staging / SUMMARY_NAME).write_bytes(_summary_bytes(seed, patients_per_site, written))
        staging.chmod(0o755)
        _replace_folder(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    final = tuple(
        replace(site, manifest=out_dir / site.site_id / MANIFEST_NAME) for site in written
    )
    return RepeatResult(out_dir, seed, patients_per_site, ACQUISITIONS, final)
