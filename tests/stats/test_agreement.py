"""Known-answer tests of dxval.stats.agreement (ICCs, Bland–Altman, within-subject SD, kappa).

References
----------
* Shrout, P. E. & Fleiss, J. L. (1979). Intraclass correlations: uses in
  assessing rater reliability. Psychol. Bull. 86(2):420-428. Table 2 (6 targets
  × 4 judges), Table 4: ICC(1,1) = .17, ICC(2,1) = .29, ICC(3,1) = .71; the
  ANOVA of Table 2: BMS 11.24, WMS 6.26, JMS 32.49, EMS 1.02.
* R ``psych::ICC(ratings)`` on the same data, as printed in D. Wollschläger's
  R examples (github.com/dwoll/RExRepos, md/interRaterICC.md):
  ICC1 0.17 [-0.133, 0.72], ICC2 0.29 [0.019, 0.76], ICC3 0.71 [0.342, 0.95],
  p(F) 0.16477 (ICC1) and 0.00013 (ICC2/3). Printed to 2-3 digits, so they
  are tested to half a unit of the last printed digit; the 1e-9 check is
  against an independent computation: the mean squares from statsmodels'
  OLS ANOVA (``anova_lm`` of score ~ C(subject) + C(rater)) put into the
  formulas of Shrout & Fleiss (1979) eqs. 6-8 / McGraw & Wong (1996) Table 7,
  written out below.
* Bland, J. M. & Altman, D. G. (1986). Lancet i:307-310, Table 1 (PEFR, Wright
  vs mini Wright meter, first readings, 17 subjects): mean difference −2.1,
  SD 38.8 l/min.
* Fleiss' kappa: statsmodels.stats.inter_rater.fleiss_kappa (Fleiss 1971).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

with warnings.catch_warnings():
    # statsmodels 0.14 decorates with a pandas helper that pandas 3 deprecates at import
    warnings.simplefilter("ignore")
    from statsmodels.formula.api import ols
    from statsmodels.stats.anova import anova_lm
    from statsmodels.stats.inter_rater import aggregate_raters
    from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss_kappa

from dxval.stats.agreement import (
    all_agree_fraction,
    anova_mean_squares,
    bland_altman,
    fleiss_kappa,
    icc,
    within_subject_sd,
)
from dxval.stats.results import Status

pytestmark = pytest.mark.req("DXV-PREC-001")

SHROUT_FLEISS = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
    dtype=float,
)
WRIGHT = [494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427]
MINI_WRIGHT = [512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350, 451]


def _statsmodels_mean_squares(ratings: np.ndarray) -> tuple[float, float, float, float]:
    """BMS, WMS, JMS, EMS from statsmodels' OLS ANOVA tables (independent of dxval)."""
    n, k = ratings.shape
    frame = pd.DataFrame(
        {
            "score": ratings.ravel(),
            "subject": np.repeat(np.arange(n), k),
            "rater": np.tile(np.arange(k), n),
        }
    )
    two_way = anova_lm(ols("score ~ C(subject) + C(rater)", data=frame).fit())
    one_way = anova_lm(ols("score ~ C(subject)", data=frame).fit())
    return (
        float(two_way.loc["C(subject)", "mean_sq"]),
        float(one_way.loc["Residual", "mean_sq"]),
        float(two_way.loc["C(rater)", "mean_sq"]),
        float(two_way.loc["Residual", "mean_sq"]),
    )


def _reference_iccs(ratings: np.ndarray, level: float) -> dict[str, tuple[float, float, float]]:
    """Shrout & Fleiss (1979) eqs. 6-8 written out from statsmodels' mean squares."""
    n, k = ratings.shape
    bms, wms, jms, ems = _statsmodels_mean_squares(ratings)
    alpha = 1 - level

    def fq(d1: float, d2: float) -> float:
        return float(scipy_stats.f.ppf(1 - alpha / 2, d1, d2))

    icc1 = (bms - wms) / (bms + (k - 1) * wms)
    f1 = bms / wms
    fl, fu = f1 / fq(n - 1, n * (k - 1)), f1 * fq(n * (k - 1), n - 1)
    icc3 = (bms - ems) / (bms + (k - 1) * ems)
    f3 = bms / ems
    gl, gu = f3 / fq(n - 1, (n - 1) * (k - 1)), f3 * fq((n - 1) * (k - 1), n - 1)
    icc2 = (bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n)
    a = k * icc2 / (n * (1 - icc2))
    b = 1 + k * icc2 * (n - 1) / (n * (1 - icc2))
    # McGraw & Wong (1996) Table 7, case 2A:
    # v = (a JMS + b EMS)^2 / ((a JMS)^2 / (k-1) + (b EMS)^2 / ((n-1)(k-1)))
    v = (a * jms + b * ems) ** 2 / ((a * jms) ** 2 / (k - 1) + (b * ems) ** 2 / ((n - 1) * (k - 1)))
    fstar_u, fstar_l = fq(n - 1, v), fq(v, n - 1)
    low2 = n * (bms - fstar_u * ems) / (fstar_u * (k * jms + (k * n - k - n) * ems) + n * bms)
    high2 = n * (fstar_l * bms - ems) / (k * jms + (k * n - k - n) * ems + n * fstar_l * bms)
    return {
        "icc1_1": (icc1, (fl - 1) / (fl + k - 1), (fu - 1) / (fu + k - 1)),
        "icc2_1": (icc2, low2, high2),
        "icc3_1": (icc3, (gl - 1) / (gl + k - 1), (gu - 1) / (gu + k - 1)),
    }


def test_mean_squares_match_shrout_fleiss_table_2() -> None:
    squares = anova_mean_squares(SHROUT_FLEISS)
    assert squares.between_subjects == pytest.approx(11.24, abs=0.005)
    assert squares.within_subjects == pytest.approx(6.26, abs=0.005)
    assert squares.between_raters == pytest.approx(32.49, abs=0.005)
    assert squares.residual == pytest.approx(1.02, abs=0.005)
    reference = _statsmodels_mean_squares(SHROUT_FLEISS)
    ours = (
        squares.between_subjects,
        squares.within_subjects,
        squares.between_raters,
        squares.residual,
    )
    assert ours == pytest.approx(reference, rel=1e-9)


@pytest.mark.parametrize(
    ("key", "estimate", "low", "low_digits", "high"),
    [
        ("icc1_1", 0.17, -0.133, 3, 0.72),
        ("icc2_1", 0.29, 0.019, 3, 0.76),
        ("icc3_1", 0.71, 0.342, 3, 0.95),
    ],
)
def test_icc_matches_psych_printed_output(
    key: str, estimate: float, low: float, low_digits: int, high: float
) -> None:
    result = getattr(icc(SHROUT_FLEISS), key)
    assert result.status is Status.OK
    assert result.estimate == pytest.approx(estimate, abs=0.005)
    assert result.low == pytest.approx(low, abs=0.5 * 10**-low_digits)
    assert result.high == pytest.approx(high, abs=0.005)
    assert (result.confidence_level, result.n) == (0.95, 6)


@pytest.mark.parametrize("level", [0.95, 0.90, 0.99])
def test_icc_equals_independent_anova_computation_to_1e_9(level: float) -> None:
    result = icc(SHROUT_FLEISS, confidence_level=level).to_dict()
    for key, expected in _reference_iccs(SHROUT_FLEISS, level).items():
        got = (result[key]["estimate"], result[key]["low"], result[key]["high"])
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-12), key
        assert result[key]["confidence_level"] == level


def test_icc_f_test_p_values_match_psych() -> None:
    squares = anova_mean_squares(SHROUT_FLEISS)
    p1 = scipy_stats.f.sf(squares.between_subjects / squares.within_subjects, 5, 18)
    p2 = scipy_stats.f.sf(squares.between_subjects / squares.residual, 5, 15)
    assert p1 == pytest.approx(0.16477, abs=5e-6)
    assert p2 == pytest.approx(0.00013, abs=5e-6)


def test_icc_random_matrix_equals_independent_computation() -> None:
    rng = np.random.default_rng(7)
    ratings = rng.normal(size=(25, 1)) + rng.normal(scale=0.5, size=(25, 3)) + [0.0, 0.3, -0.2]
    result = icc(ratings).to_dict()
    for key, expected in _reference_iccs(ratings, 0.95).items():
        got = (result[key]["estimate"], result[key]["low"], result[key]["high"])
        assert got == pytest.approx(expected, rel=1e-9), key


def test_icc_is_undefined_not_nan_without_residual_variation() -> None:
    ratings = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])  # rater 2 = rater 1 + 1
    result = icc(ratings)
    assert result.icc3_1.status is Status.UNDEFINED
    assert "residual mean square 0" in (result.icc3_1.reason or "")
    assert result.icc3_1.to_dict()["low"] is None
    assert result.icc1_1.status is Status.OK


@pytest.mark.parametrize(
    ("ratings", "match"),
    [
        ([[1.0, 2.0]], "at least 2"),
        ([[1.0], [2.0]], "at least 2"),
        ([[1.0, math.nan], [2.0, 3.0]], "non-finite"),
        ([1.0, 2.0], "dimensions"),
    ],
)
def test_icc_rejects_bad_matrices(ratings: list, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        icc(ratings)


def test_bland_altman_matches_bland_altman_1986() -> None:
    ratings = np.column_stack([MINI_WRIGHT, WRIGHT]).astype(float)  # Wright − mini Wright
    result = bland_altman(ratings)
    assert result.mean_difference.estimate == pytest.approx(-2.1, abs=0.05)
    assert result.sd_difference == pytest.approx(38.8, abs=0.05)
    differences = ratings[:, 1] - ratings[:, 0]
    mean, sd, n = differences.mean(), differences.std(ddof=1), differences.size
    z, t = scipy_stats.norm.ppf(0.975), scipy_stats.t.ppf(0.975, n - 1)
    assert result.lower_limit.estimate == pytest.approx(mean - z * sd, rel=1e-12)
    assert result.upper_limit.estimate == pytest.approx(mean + z * sd, rel=1e-12)
    half = t * sd / math.sqrt(n)
    assert (result.mean_difference.low, result.mean_difference.high) == pytest.approx(
        (mean - half, mean + half), rel=1e-12
    )
    # Bland & Altman (1999) §4.2: SE of a limit ≈ sqrt(3 s² / n) for z ≈ 2, large n
    limit_error = sd * math.sqrt(1 / n + z**2 / (2 * (n - 1)))
    assert result.upper_limit.high == pytest.approx(mean + z * sd + t * limit_error, rel=1e-12)
    assert limit_error == pytest.approx(math.sqrt(3 * sd**2 / n), rel=0.1)


def test_bland_altman_constant_difference_is_undefined() -> None:
    result = bland_altman([[1.0, 2.0], [2.0, 3.0], [5.0, 6.0]])
    assert result.mean_difference.status is Status.UNDEFINED
    assert result.mean_difference.estimate == pytest.approx(1.0)
    with pytest.raises(ValueError, match="expected"):
        bland_altman(SHROUT_FLEISS)


def test_within_subject_sd_is_root_mean_subject_variance() -> None:
    result = within_subject_sd(SHROUT_FLEISS)
    expected = math.sqrt(np.var(SHROUT_FLEISS, axis=1, ddof=1).mean())
    assert result.estimate == pytest.approx(expected, rel=1e-12)
    degrees = 18
    low = math.sqrt(degrees * expected**2 / scipy_stats.chi2.ppf(0.975, degrees))
    assert result.low == pytest.approx(low, rel=1e-12)
    assert result.low < result.estimate < result.high


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fleiss_kappa_equals_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, size=(40, 1))
    decisions = np.where(rng.random((40, 5)) < 0.7, truth, rng.integers(0, 3, size=(40, 5)))
    table, _ = aggregate_raters(decisions)
    result = fleiss_kappa(decisions)
    assert result.estimate == pytest.approx(statsmodels_fleiss_kappa(table), rel=1e-9)
    assert result.low <= result.estimate <= result.high
    assert fleiss_kappa(decisions).to_dict() == result.to_dict()  # seeded


def test_fleiss_kappa_single_category_is_undefined() -> None:
    result = fleiss_kappa(np.ones((5, 3), dtype=bool))
    assert result.status is Status.UNDEFINED
    assert "one category" in (result.reason or "")
    assert result.to_dict()["estimate"] is None


def test_all_agree_fraction_counts_unanimous_rows() -> None:
    result = all_agree_fraction([[True, True, True], [True, False, True], [False] * 3])
    assert (result.numerator, result.denominator) == (2, 3)
    assert result.estimate == pytest.approx(2 / 3)
    assert "wilson" in result.method.lower()
