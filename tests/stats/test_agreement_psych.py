"""ICC(1,1), ICC(2,1), ICC(3,1) equal R psych::ICC on Shrout & Fleiss Table 2 to 1e-9.

Reference values and the R call that produced them: tests/reference/shrout_fleiss_psych.py
(R 4.2.2, psych 2.2.9, full 17-digit output). The F statistics and p-values of
psych are recomputed here from dxval's mean squares with scipy's F distribution.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats
from tests.reference.shrout_fleiss_psych import PSYCH_ICC, SHROUT_FLEISS_TABLE_2

from dxval.stats.agreement import anova_mean_squares, icc
from dxval.stats.results import Status

pytestmark = pytest.mark.req("DXV-PREC-001")

RATINGS = np.array(SHROUT_FLEISS_TABLE_2, dtype=float)


@pytest.mark.parametrize("level", sorted(PSYCH_ICC))
@pytest.mark.parametrize("key", ["icc1_1", "icc2_1", "icc3_1"])
def test_icc_equals_psych_to_1e_9(level: float, key: str) -> None:
    estimate, _, _, low, high = PSYCH_ICC[level][key]
    result = getattr(icc(RATINGS, confidence_level=level), key)
    assert result.status is Status.OK
    assert (result.estimate, result.low, result.high) == pytest.approx(
        (estimate, low, high), rel=1e-9, abs=1e-12
    )
    assert (result.confidence_level, result.n) == (level, 6)


def test_icc_f_statistics_and_p_values_equal_psych_to_1e_9() -> None:
    squares = anova_mean_squares(RATINGS)
    n, k = squares.n_subjects, squares.n_raters
    f_one_way = squares.between_subjects / squares.within_subjects
    f_two_way = squares.between_subjects / squares.residual
    p_one_way = scipy_stats.f.sf(f_one_way, n - 1, n * (k - 1))
    p_two_way = scipy_stats.f.sf(f_two_way, n - 1, (n - 1) * (k - 1))
    reference = PSYCH_ICC[0.95]
    assert (f_one_way, p_one_way) == pytest.approx(reference["icc1_1"][1:3], rel=1e-9)
    for key in ("icc2_1", "icc3_1"):
        assert (f_two_way, p_two_way) == pytest.approx(reference[key][1:3], rel=1e-9)
