"""The ROC band's points from one bootstrap equal one bootstrap per point (issue 18)."""

from __future__ import annotations

import numpy as np
import pytest

from dxval.stats import sensitivity_at_specificity, sensitivity_band

SPECIFICITIES = tuple(round(0.1 * step, 1) for step in range(11))


@pytest.mark.req("DXV-SPEED-007")
def test_band_equals_a_bootstrap_per_specificity() -> None:
    rng = np.random.default_rng(12)
    truth = rng.random(3_000) < 0.3
    scores = np.round(rng.normal(size=3_000) + truth, 2)
    sites = rng.choice(np.array(["x", "y"]), size=3_000)
    band = sensitivity_band(
        truth, scores, SPECIFICITIES, seed=8, replicates=300, strata=sites, confidence_level=0.9
    )
    assert len(band) == len(SPECIFICITIES)
    for specificity, point in zip(SPECIFICITIES, band, strict=True):
        single = sensitivity_at_specificity(
            truth, scores, specificity, seed=8, replicates=300, strata=sites, confidence_level=0.9
        )
        assert point == single  # estimate, bounds, method text, n, variance


def test_band_refuses_a_rate_outside_0_1() -> None:
    with pytest.raises(ValueError, match="specificity"):
        sensitivity_band([True, False, True, False], [0.1, 0.2, 0.3, 0.4], [1.5], seed=1)
