"""The aSAH data set (tests/data/aSAH.csv) as arrays, for the reference-value tests.

Positive class outcome == "Poor"; wfns is stored as a quoted string and read
as a number (1-5), as the reference values in this package assume.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ASAH_CSV = Path(__file__).resolve().parents[1] / "data" / "aSAH.csv"
PREDICTORS = ("s100b", "ndka", "wfns")


@dataclass(frozen=True)
class Asah:
    """Truth (outcome == "Poor") and the three predictors as float arrays."""

    truth: np.ndarray
    scores: dict[str, np.ndarray]


def load_asah() -> Asah:
    """Read tests/data/aSAH.csv with the standard library."""
    with ASAH_CSV.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    truth = np.array([row["outcome"] == "Poor" for row in rows])
    scores = {name: np.array([float(row[name]) for row in rows]) for name in PREDICTORS}
    return Asah(truth=truth, scores=scores)
