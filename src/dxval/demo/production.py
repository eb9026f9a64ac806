"""Simulated production log of the demo model: 12 weeks at the three demo sites, a scanner change.

``dxval demo production --out prod.csv`` writes the log ``dxval monitor``
reads. Scores are *not* produced by running the model on new images (that
would take minutes on a small machine); they are drawn from the demo
model's validated score distributions: for each site and truth class, the
piecewise-linear inverse CDF through the 5%-spaced quantiles of the logit of
the scores in the demo evidence bundle (``validate protocols/demo.yaml`` on
``dxval demo generate`` seed 20260101; the table is below). So weeks without
a change look like the validation, as a stable deployment should.

The scanner change: from week ``change_week`` (default 8) Site A replaces
its Aurora unit by a "Zenith Synthetic Imaging ZX-9" (a manufacturer the
test set never had) whose images are brighter and flatter. The model's
response to that is simulated as a shift on the logit scale: positives
−3.0 (fainter lesions: many fall below the operating point, lowering
sensitivity) and negatives +0.6 (more texture noise reads as slightly
suspicious). Everything is synthetic and seeded: the same seed gives the
same bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from dxval.errors import InputError

#: SHA-256 of models/demo/demo-nodule.onnx, as pinned in protocols/demo.yaml.
DEMO_MODEL_SHA256 = "e14422d3c544a14587b430210b19597ea7306181ebec0cb540f861965e48b100"
DEFAULT_PRODUCTION_SEED = 20270104
#: Monday of ISO week 2027-W01: weeks of the log start on Mondays.
START = datetime(2027, 1, 4, tzinfo=timezone.utc)
NEW_MANUFACTURER = "Zenith Synthetic Imaging"

#: Logit of the demo bundle's scores at quantiles 0, 0.05, …, 1 per (site, truth).
LOGIT_QUANTILES: dict[tuple[str, int], tuple[float, ...]] = {
    ("Site A", 0): (-4.179, -3.749, -3.634, -3.498, -3.379, -3.347, -3.283, -3.208, -3.162,
                    -3.098, -3.044, -2.947, -2.834, -2.778, -2.688, -2.498, -2.366, -2.230,
                    -2.043, -1.682, 2.826),
    ("Site A", 1): (-3.931, -3.327, -2.534, -1.699, 1.525, 2.287, 2.680, 3.253, 3.831, 4.193,
                    4.557, 4.998, 5.473, 5.877, 6.333, 6.843, 7.200, 7.597, 7.866, 8.990,
                    10.061),
    ("Site B", 0): (-3.985, -3.727, -3.655, -3.589, -3.554, -3.480, -3.444, -3.415, -3.350,
                    -3.297, -3.247, -3.188, -3.104, -3.017, -2.940, -2.865, -2.677, -2.575,
                    -2.154, -1.531, -0.188),
    ("Site B", 1): (-3.536, -3.070, -0.566, 1.616, 2.178, 3.199, 3.579, 3.831, 3.996, 4.238,
                    4.586, 4.805, 5.361, 5.616, 5.934, 6.131, 6.472, 6.697, 7.202, 8.405,
                    9.442),
    ("Site C", 0): (-3.971, -3.596, -3.540, -3.403, -3.262, -3.196, -3.129, -3.066, -2.981,
                    -2.894, -2.826, -2.752, -2.682, -2.607, -2.445, -2.296, -2.142, -2.023,
                    -1.842, -1.564, -0.666),
    ("Site C", 1): (-3.952, -3.246, -2.666, -2.451, -2.335, -2.086, -1.421, -1.037, 0.234,
                    0.544, 1.358, 1.690, 2.161, 2.639, 3.057, 3.324, 3.928, 4.333, 4.773,
                    5.420, 6.965),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ProductionSite:
    """A demo site in production: volume per week, prevalence, sex mix, manufacturer."""

    site: str
    manufacturer: str
    per_week: int
    prevalence: float
    female_fraction: float


SITES = (
    ProductionSite("Site A", "Aurora Synthetic Imaging", 110, 0.31, 0.52),
    ProductionSite("Site B", "Borealis Demo Medical", 110, 0.26, 0.48),
    ProductionSite("Site C", "Cobalt Virtual Radiology", 110, 0.30, 0.55),
)
#: Age bands of the demo protocol and their share in the validation set.
AGE_BANDS = ((18, 40, 0.13), (40, 65, 0.46), (65, 100, 0.41))
POSITIVE_SHIFT, NEGATIVE_SHIFT = -4.0, -0.8
ADJUDICATED_FRACTION = 0.3
COLUMNS = ("timestamp", "score", "model_sha256", "site", "manufacturer", "sex", "age", "truth")


@dataclass(frozen=True, slots=True)
class ProductionDemo:
    """What was written: rows, weeks, the change week and the path."""

    path: Path
    rows: int
    weeks: int
    change_week: int
    seed: int


def _scores(
    rng: np.random.Generator, site: str, truth: np.ndarray, shift: tuple[float, float]
) -> np.ndarray:
    grid = np.linspace(0.0, 1.0, 21)
    logits = np.empty(truth.size)
    for label in (0, 1):
        members = truth == label
        quantiles = np.asarray(LOGIT_QUANTILES[(site, label)])
        logits[members] = np.interp(rng.random(int(members.sum())), grid, quantiles)
        logits[members] += shift[label]
    return 1.0 / (1.0 + np.exp(-logits))


def _week_rows(rng: np.random.Generator, week: int, change_week: int) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    monday = START + timedelta(weeks=week - 1)
    for profile in SITES:
        count = profile.per_week
        changed = week >= change_week and profile.site == "Site A"
        truth = (rng.random(count) < profile.prevalence).astype(int)
        shift = (NEGATIVE_SHIFT, POSITIVE_SHIFT) if changed else (0.0, 0.0)
        scores = _scores(rng, profile.site, truth, shift)
        seconds = rng.integers(0, 7 * 86_400, count)
        female = rng.random(count) < profile.female_fraction
        band = rng.choice(len(AGE_BANDS), size=count, p=[b[2] for b in AGE_BANDS])
        adjudicated = rng.random(count) < ADJUDICATED_FRACTION
        manufacturer = NEW_MANUFACTURER if changed else profile.manufacturer
        for i in range(count):
            low, high, _ = AGE_BANDS[band[i]]
            age = int(rng.integers(low, high))
            stamp = (monday + timedelta(seconds=int(seconds[i]))).strftime("%Y-%m-%dT%H:%M:%SZ")
            rows.append(
                (
                    stamp,
                    f"{scores[i]:.6f}",
                    DEMO_MODEL_SHA256,
                    profile.site,
                    manufacturer,
                    "F" if female[i] else "M",
                    str(age),
                    str(truth[i]) if adjudicated[i] else "",
                )
            )
    return sorted(rows, key=lambda row: str(row[0]))


def simulate_production(
    out: str | Path,
    *,
    weeks: int = 12,
    change_week: int = 8,
    seed: int = DEFAULT_PRODUCTION_SEED,
) -> ProductionDemo:
    """Write the simulated production log to ``out`` (CSV); same seed, same bytes.

    Three malformed rows are added in week 3 on purpose (an unparsable
    timestamp, a score out of range, another model's digest) so the
    reason-coded exclusions appear in the monitoring report.

    Raises
    ------
    InputError
        ``weeks`` < 1, ``change_week`` outside 1 … weeks + 1, or ``out`` not writable.
    """
    if weeks < 1 or not 1 <= change_week <= weeks + 1:
        raise InputError(
            f"demo production: got weeks {weeks}, change week {change_week}; expected "
            "weeks >= 1 and 1 <= change week <= weeks + 1"
        )
    rng = np.random.default_rng(seed)
    rows: list[tuple[object, ...]] = []
    for week in range(1, weeks + 1):
        rows += _week_rows(rng, week, change_week)
    if weeks >= 3:
        stamp = (START + timedelta(weeks=2, hours=12)).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows += [
            ("2027-02-30T25:00:00Z", "0.5", DEMO_MODEL_SHA256, "Site B", "", "F", "50", ""),
            (stamp, "1.7", DEMO_MODEL_SHA256, "Site B", "Borealis Demo Medical", "M", "50", ""),
            (stamp, "0.2", "0" * 64, "Site C", "Cobalt Virtual Radiology", "F", "61", ""),
        ]
    buffer = io.StringIO()
    buffer.write(",".join(COLUMNS) + "\n")
    for row in rows:
        buffer.write(",".join(str(value) for value in row) + "\n")
    path = Path(out)
    try:
        path.write_text(buffer.getvalue(), encoding="utf-8")
    except OSError as error:
        raise InputError(f"{path}: cannot write ({error.strerror})") from error
    return ProductionDemo(path, len(rows), weeks, change_week, seed)
