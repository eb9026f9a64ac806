"""Synthetic detection and segmentation demo sets (``dxval demo generate --task ...``).

Three sites, a handful of cases each, with truth and bundled predictions
("the device's output", simulated): for segmentation, label maps of a large
organ-like ellipsoid (``liver``, label 1) and a small ``lesion`` (label 2)
as ``.npz`` with the voxel spacing of the site's scanner, and a prediction
that is the truth shifted and dilated or eroded by a voxel; for detection,
a lesion truth CSV (boxes on 512 × 512 images, 0.5 mm pixels) and a marks
CSV with hits, misses and false positives. One case of each set has no
prediction at all, to show it counted as missed. Everything comes from
``numpy.random.default_rng(seed)`` and the ``.npz`` archives carry a fixed
timestamp, so the same seed gives byte-identical files (the demo protocols
pin them). ``segmentation-model`` writes, instead of predictions, each case's
CT series and a tiny frozen ONNX segmentation model with its golden-check
input (:mod:`dxval.demo.segmentation_model`), for a model run through the
harness. Synthetic, for demonstration only: not patient data.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from dxval.errors import UsageError

__all__ = ["TASKS", "TaskDemoResult", "generate_task_demo"]

TASKS = ("detection", "segmentation", "segmentation-model")
DEFAULT_TASK_CASES_PER_SITE = 10


@dataclass(frozen=True, slots=True)
class _Site:
    test_set: str
    name: str
    spacing: tuple[float, float, float]
    quality: float  # 0 good … 1 poor: how far predictions stray


SITES = (
    _Site("site-a", "Site A", (0.8, 0.8, 2.5), 0.2),
    _Site("site-b", "Site B", (0.7, 0.7, 3.0), 0.4),
    _Site("site-c", "Site C", (1.0, 1.0, 2.0), 0.6),
)


@dataclass(frozen=True, slots=True)
class TaskDemoResult:
    """What was written: the folder, the task and the cases per site."""

    out_dir: Path
    task: str
    cases: dict[str, int]


def _npz_bytes(mask: NDArray[np.uint8], spacing: Sequence[float]) -> bytes:
    """An ``.npz`` archive (arrays ``mask``, ``spacing``) with fixed member timestamps."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in (("mask", mask), ("spacing", np.asarray(spacing, dtype=np.float64))):
            member = io.BytesIO()
            np.save(member, array, allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, member.getvalue())
    return buffer.getvalue()


def _ellipsoid(
    shape: tuple[int, int, int], centre: NDArray[np.float64], radii: NDArray[np.float64]
) -> NDArray[np.bool_]:
    grid = np.indices(shape, dtype=np.float64)
    distance = sum(((grid[axis] - centre[axis]) / radii[axis]) ** 2 for axis in range(3))
    return np.asarray(distance <= 1.0)


def _label_maps(
    rng: np.random.Generator, site: _Site
) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """Truth and predicted label maps (0 background, 1 liver, 2 lesion) of one case."""
    shape = (48, 48, 16)
    centre = np.array([24.0, 24.0, 8.0]) + rng.uniform(-2, 2, 3)
    radii = np.array([15.0, 12.0, 5.5]) * rng.uniform(0.85, 1.1, 3)
    truth = np.zeros(shape, dtype=np.uint8)
    truth[_ellipsoid(shape, centre, radii)] = 1
    lesion_centre = centre + rng.uniform(-5, 5, 3) * np.array([1.0, 1.0, 0.4])
    lesion_radii = np.array([3.5, 3.5, 1.6]) * rng.uniform(0.8, 1.3)
    truth[_ellipsoid(shape, lesion_centre, lesion_radii)] = 2
    shift = np.round(rng.normal(0.0, 0.2 + 0.6 * site.quality, 3)).astype(int)
    shift[2] = int(np.clip(shift[2], -1, 1))
    scale = 1.0 + rng.normal(0.0, 0.04 + 0.04 * site.quality)
    predicted = np.zeros(shape, dtype=np.uint8)
    predicted[_ellipsoid(shape, centre + shift, radii * scale)] = 1
    found = rng.uniform() > 0.15 * site.quality
    if found:
        jitter = rng.normal(0.0, 0.5 + site.quality, 3) * np.array([1.0, 1.0, 0.3])
        predicted[_ellipsoid(shape, lesion_centre + jitter, lesion_radii * scale)] = 2
    return truth, predicted


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8"))


def _segmentation_site(
    folder: Path, site: _Site, rng: np.random.Generator, count: int, *, omit: int | None
) -> None:
    rows = []
    for index in range(count):
        case_id = f"{site.test_set[-1].upper()}S{index + 1:03d}"
        truth, predicted = _label_maps(rng, site)
        case_folder = folder / "cases" / case_id
        case_folder.mkdir(parents=True)
        (case_folder / "truth.npz").write_bytes(_npz_bytes(truth, site.spacing))
        prediction = ""
        if index != omit:
            (case_folder / "prediction.npz").write_bytes(_npz_bytes(predicted, site.spacing))
            prediction = f"cases/{case_id}/prediction.npz"
        sex = "F" if rng.uniform() < 0.5 else "M"
        rows.append([case_id, f"cases/{case_id}", f"cases/{case_id}/truth.npz", prediction, sex])
    _write_csv(
        folder / "manifest.csv",
        ["case_id", "path", "truth_mask", "prediction_mask", "sex"],
        rows,
    )


def _segmentation_model_site(
    folder: Path, site: _Site, rng: np.random.Generator, count: int, *, seed: int
) -> None:
    """Truth masks and the CT series the demo segmentation model reads (no predictions)."""
    from dxval.demo.segmentation_model import phantom_hu, series_bytes

    rows = []
    for index in range(count):
        case_id = f"{site.test_set[-1].upper()}M{index + 1:03d}"
        truth, _ = _label_maps(rng, site)
        hu = phantom_hu(truth, rng, noise_sd=6.0 + 8.0 * site.quality)
        case_folder = folder / "cases" / case_id
        (case_folder / "series").mkdir(parents=True)
        (case_folder / "truth.npz").write_bytes(_npz_bytes(truth, site.spacing))
        for number, data in enumerate(series_bytes(hu, site.spacing, seed=seed, case_id=case_id)):
            (case_folder / "series" / f"{number + 1:03d}.dcm").write_bytes(data)
        sex = "F" if rng.uniform() < 0.5 else "M"
        rows.append([case_id, f"cases/{case_id}", f"cases/{case_id}/truth.npz", sex])
    _write_csv(folder / "manifest.csv", ["case_id", "path", "truth_mask", "sex"], rows)


def _write_segmentation_model(out_dir: Path) -> None:
    from dxval.demo.segmentation_model import model_bytes, reference_input_bytes

    folder = out_dir / "model"
    folder.mkdir()
    (folder / "demo-liver-threshold.onnx").write_bytes(model_bytes())
    (folder / "reference-input.npy").write_bytes(reference_input_bytes())


def _box(rng: np.random.Generator, size: float) -> list[float]:
    x0, y0 = rng.uniform(40, 512 - 40 - size, 2)
    return [round(float(x0), 1), round(float(y0), 1), round(float(x0 + size), 1),
            round(float(y0 + size), 1)]  # fmt: skip


def _detection_site(
    folder: Path,
    site: _Site,
    rng: np.random.Generator,
    count: int,
    *,
    omit: int | None,
    truth_rows: list[list[object]],
    mark_rows: list[list[object]],
) -> None:
    rows = []
    for index in range(count):
        case_id = f"{site.test_set[-1].upper()}D{index + 1:03d}"
        lesions = 1 if index in (0, omit) else int(rng.choice([0, 1, 1, 2]))
        common = [512, 512, 0.5, 0.5]
        if lesions == 0:
            truth_rows.append([case_id, "", "", "", "", "", *common])
        marks = []
        for number in range(lesions):
            box = _box(rng, float(rng.uniform(18, 40)))
            truth_rows.append([case_id, f"L{number + 1}", *box, *common])
            if rng.uniform() < 0.92 - 0.2 * site.quality:
                jitter = rng.normal(0.0, 1.5 + 3 * site.quality, 4)
                mark = [round(float(v + d), 1) for v, d in zip(box, jitter, strict=True)]
                mark[2], mark[3] = max(mark[2], mark[0] + 1), max(mark[3], mark[1] + 1)
                marks.append((mark, float(rng.beta(6, 2))))
        for _ in range(int(rng.poisson(0.3 + 0.4 * site.quality))):
            marks.append((_box(rng, float(rng.uniform(15, 30))), float(rng.beta(2, 5))))
        if index != omit:
            for number, (mark, score) in enumerate(marks, 1):
                mark_rows.append([case_id, f"M{number}", *mark, round(score, 4)])
        rows.append([case_id, "F" if rng.uniform() < 0.5 else "M"])
    _write_csv(folder / "manifest.csv", ["case_id", "sex"], rows)


def _generate(out_dir: Path, task: str, count: int, seed: int) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    truth_rows: list[list[object]] = []
    mark_rows: list[list[object]] = []
    for number, site in enumerate(SITES):
        folder = out_dir / site.test_set
        folder.mkdir(parents=True)
        omit = count - 1 if number == len(SITES) - 1 else None
        if task == "segmentation":
            _segmentation_site(folder, site, rng, count, omit=omit)
        elif task == "segmentation-model":
            _segmentation_model_site(folder, site, rng, count, seed=seed)
        else:
            _detection_site(
                folder, site, rng, count, omit=omit, truth_rows=truth_rows, mark_rows=mark_rows
            )
    if task == "segmentation-model":
        _write_segmentation_model(out_dir)
    if task == "detection":
        geometry = ["width", "height", "spacing_x", "spacing_y"]
        _write_csv(
            out_dir / "lesions.csv",
            ["case_id", "lesion_id", "x0", "y0", "x1", "y1", *geometry],
            truth_rows,
        )
        _write_csv(
            out_dir / "marks.csv",
            ["case_id", "mark_id", "x0", "y0", "x1", "y1", "score"],
            mark_rows,
        )
    return {site.test_set: count for site in SITES}


def generate_task_demo(
    out_dir: Path, *, task: str, cases_per_site: int = DEFAULT_TASK_CASES_PER_SITE, seed: int
) -> TaskDemoResult:
    """Write the synthetic ``task`` demo set into ``out_dir`` (replaced atomically).

    Raises
    ------
    UsageError
        Unknown task, fewer than 2 cases per site, or ``out_dir`` is a file.
    """
    if task not in TASKS:
        raise UsageError(f"--task: got {task!r}, expected one of {', '.join(TASKS)}")
    if cases_per_site < 2:
        raise UsageError(f"--cases-per-site: got {cases_per_site}, expected at least 2")
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out: {out_dir} is a file; expected a folder")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".dxval-demo-", dir=out_dir.parent))
    try:
        cases = _generate(staging, task, cases_per_site, seed)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.rename(out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return TaskDemoResult(out_dir, task, cases)
