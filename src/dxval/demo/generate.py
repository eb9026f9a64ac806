"""Write the demo test sets: DICOM files, one manifest per site, and a summary.

Layout of the output folder::

    <out>/demo.json                 what was generated (seed, sites, counts, damaged files)
    <out>/site-a/manifest.csv       one row per case (see MANIFEST_COLUMNS)
    <out>/site-a/dicom/<case>.dcm   one CR image per case

The whole folder is written beside the target under a temporary name and
renamed into place, so an interrupted run never leaves a half-written demo;
an existing demo folder (one holding ``demo.json``) is replaced, anything else
is refused.

Files are byte-identical for the same seed on any machine: every case draws
from its own PCG64 stream, values are quantised to integers before encoding,
nothing depends on time, locale or file-system order, and the RLE encoder is
dxval's own (:mod:`dxval.demo.rle`). The one outside dependency is NumPy's
distribution algorithms, which NumPy does not promise to keep across feature
releases (NEP 19); ``tests/demo/test_reproducibility.py`` pins the digests of
the default demo's first files so that any such change fails loudly.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from dxval.demo.cases import DemoCase, sample_case
from dxval.demo.radiograph import StoredImage, render_case
from dxval.demo.sites import DEMO_SITES, Encoding, SiteProfile
from dxval.demo.writer import encode_case
from dxval.errors import UsageError

DEFAULT_SEED = 20260101
DEFAULT_CASES_PER_SITE = 200
GENERATOR_VERSION = 1
SUMMARY_NAME = "demo.json"
MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = (
    "case_id",
    "path",
    "label",
    "sex",
    "age",
    "lesion_size_mm",
    "lesion_size_class",
    "site",
    "manufacturer",
)
#: a damaged file keeps this fraction of its bytes (the pixel data is cut short)
TRUNCATED_KEEP_FRACTION = 0.6

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class GeneratedCase:
    """One case with its rendered pixels and the bytes of its DICOM file."""

    case: DemoCase
    image: StoredImage
    file_bytes: bytes


@dataclass(frozen=True, slots=True)
class SiteResult:
    """What was written for one site."""

    site_id: str
    manifest: Path
    cases: int
    positives: int
    truncated_case_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What :func:`generate_demo` wrote."""

    out_dir: Path
    seed: int
    cases_per_site: int
    sites: tuple[SiteResult, ...]


def generate_cases(
    seed: int, site: SiteProfile, indices: Sequence[int] | range
) -> Iterator[GeneratedCase]:
    """Yield the cases with the given indices at one site, rendered and encoded.

    Parameters: the generation ``seed``, the ``site`` profile and the case
    ``indices`` (case *i* is the same whatever else is generated). Used both
    to write the test sets and, with another seed, to build the model's
    training set in memory.
    """
    for index in indices:
        case, generator = sample_case(seed, site, index)
        image = render_case(case, site, generator)
        yield GeneratedCase(case, image, encode_case(case, site, image, seed=seed))


def truncated_indices(site: SiteProfile, count: int) -> frozenset[int]:
    """Return the indices of the cases whose files are damaged on purpose.

    ``max(1, round(count × site.truncated_fraction))`` cases, evenly spread,
    at a site with a non-zero fraction; none elsewhere. With fewer than 100
    cases this is one file, so the fraction is then 1/count.
    """
    if site.truncated_fraction <= 0.0 or count == 0:
        return frozenset()
    damaged = max(1, round(count * site.truncated_fraction))
    return frozenset(int((position + 0.5) * count / damaged) for position in range(damaged))


def _manifest_row(case: DemoCase, site: SiteProfile, relative_path: str) -> list[str]:
    size = case.lesion_size_mm
    return [
        case.case_id,
        relative_path,
        str(case.label),
        case.sex.value,
        str(case.age_years),
        "" if size is None else f"{size:.1f}",
        case.lesion_size_class,
        site.site_id,
        site.manufacturer,
    ]


def _write_site(
    folder: Path, site: SiteProfile, *, seed: int, count: int, progress: Progress | None
) -> SiteResult:
    (folder / "dicom").mkdir(parents=True)
    damaged = truncated_indices(site, count)
    rows: list[list[str]] = []
    truncated: list[str] = []
    positives = 0
    for generated in generate_cases(seed, site, range(count)):
        case = generated.case
        relative = f"dicom/{case.case_id}.dcm"
        data = generated.file_bytes
        if case.index in damaged:
            data = data[: int(len(data) * TRUNCATED_KEEP_FRACTION)]
            truncated.append(case.case_id)
        (folder / relative).write_bytes(data)
        rows.append(_manifest_row(case, site, relative))
        positives += case.label
        if progress is not None and (case.index + 1) % 50 == 0:
            progress(f"{site.site_id}: {case.index + 1}/{count} cases")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(MANIFEST_COLUMNS)
    writer.writerows(rows)
    (folder / MANIFEST_NAME).write_bytes(buffer.getvalue().encode("utf-8"))
    return SiteResult(site.site_id, folder / MANIFEST_NAME, count, positives, tuple(truncated))


def _site_summary(site: SiteProfile, result: SiteResult) -> dict[str, object]:
    return {
        "site_id": site.site_id,
        "site_name": site.site_name,
        "manifest": f"{site.site_id}/{MANIFEST_NAME}",
        "manufacturer": site.manufacturer,
        "model_name": site.model_name,
        "rows": site.rows,
        "columns": site.columns,
        "pixel_spacing_mm": list(site.pixel_spacing_mm),
        "bits_stored": site.bits_stored,
        "photometric_interpretation": site.photometric.value,
        "transfer_syntax": "RLE Lossless"
        if site.encoding is Encoding.RLE_LOSSLESS
        else "Explicit VR Little Endian",
        "rescale_slope": site.rescale_slope,
        "rescale_intercept": site.rescale_intercept,
        "lesion_contrast_factor": site.lesion_contrast_factor,
        "cases": result.cases,
        "positives": result.positives,
        "truncated_case_ids": list(result.truncated_case_ids),
    }


def _summary_bytes(seed: int, count: int, pairs: list[tuple[SiteProfile, SiteResult]]) -> bytes:
    summary = {
        "generator": "dxval demo generate",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "cases_per_site": count,
        "synthetic": True,
        "note": "Synthetic images for demonstration; no patient data. Not for clinical use.",
        "sites": [_site_summary(site, result) for site, result in pairs],
    }
    return (json.dumps(summary, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _check_target(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"demo output {out_dir}: is a file, expected a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / SUMMARY_NAME).is_file():
        raise UsageError(
            f"demo output {out_dir}: folder exists and is not a demo folder "
            f"(no {SUMMARY_NAME}); expected a new or empty folder or a previous demo"
        )


def generate_demo(
    out_dir: Path,
    *,
    cases_per_site: int = DEFAULT_CASES_PER_SITE,
    seed: int = DEFAULT_SEED,
    sites: Sequence[SiteProfile] = DEMO_SITES,
    progress: Progress | None = None,
) -> DemoResult:
    """Generate the multi-site demo test sets into ``out_dir``.

    Parameters: the output folder; ``cases_per_site`` (≥ 1), the ``seed``
    (≥ 0) and the ``sites`` to generate. Writes the folder atomically (see
    the module docstring) and returns what was written.

    Raises UsageError for a count below 1, a negative seed, or an output path
    that is a file or a non-empty folder that is not a previous demo.
    """
    if cases_per_site < 1:
        raise UsageError(f"--cases-per-site: got {cases_per_site}, expected an integer >= 1")
    if seed < 0:
        raise UsageError(f"--seed: got {seed}, expected an integer >= 0")
    out_dir = Path(out_dir)
    _check_target(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        pairs = []
        for site in sites:
            result = _write_site(
                staging / site.site_id, site, seed=seed, count=cases_per_site, progress=progress
            )
            pairs.append((site, result))
        (staging / SUMMARY_NAME).write_bytes(_summary_bytes(seed, cases_per_site, pairs))
        staging.chmod(0o755)
        _replace_folder(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    final = tuple(
        SiteResult(
            result.site_id,
            out_dir / result.site_id / MANIFEST_NAME,
            result.cases,
            result.positives,
            result.truncated_case_ids,
        )
        for _, result in pairs
    )
    return DemoResult(out_dir, seed, cases_per_site, final)


def _replace_folder(staging: Path, out_dir: Path) -> None:
    """Move ``staging`` to ``out_dir``, replacing a previous demo folder there."""
    if not out_dir.exists():
        os.replace(staging, out_dir)
        return
    retired = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
    os.replace(out_dir, retired)
    os.replace(staging, out_dir)
    shutil.rmtree(retired, ignore_errors=True)
