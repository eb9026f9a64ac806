"""MRMC statistics: published MRMCaov / RJafroc / OR-DBM MRMC values, independent checks.

Reference values and their sources are in ``tests/reference/mrmc_published.py``.
Some quantities are also computed by an independent route written here (the
test says so). The iMRMC U-statistic analysis of dfMRMC_example is checked
against FDA iMRMC's own output in tests/stats/test_mrmc_imrmc.py.
"""

from __future__ import annotations

import csv
import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats
from sklearn.metrics import roc_auc_score
from tests.reference import mrmc_published as published

from dxval.stats import Status
from dxval.stats.mrmc import (
    CovarianceMethod,
    Factors,
    ReaderStudyAnalysis,
    UStatisticTest,
    VarianceComponents,
    auc_covariance,
    cases_for_power,
    reader_study_auc,
    reader_study_binary,
    reader_study_power,
    u_statistic_analysis,
    unbiased_moments,
)

DATA = Path(__file__).resolve().parents[1] / "data"
RELATIVE = 1e-6  # the tolerance; published values carry 7-8 significant digits


def load_long(
    path: Path, reader: str, case: str, modality: str, score: str
) -> tuple[np.ndarray, np.ndarray]:
    """(t, r, n) scores and (n,) truth from a long CSV (truth column or iMRMC truth rows)."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    truth_rows = {row[case]: row[score] for row in rows if row[reader] == "truth"}
    reads = [row for row in rows if row[reader] != "truth"]
    modalities = list(dict.fromkeys(row[modality] for row in reads))
    readers = list(dict.fromkeys(row[reader] for row in reads))
    cases = list(dict.fromkeys(row[case] for row in reads))
    scores = np.full((len(modalities), len(readers), len(cases)), np.nan)
    truth = np.zeros(len(cases), dtype=bool)
    for row in reads:
        index = cases.index(row[case])
        scores[modalities.index(row[modality]), readers.index(row[reader]), index] = float(
            row[score]
        )
        label = row["truth"] if "truth" in row else truth_rows[row[case]]
        truth[index] = float(label) == 1.0
    assert not np.isnan(scores).any()
    return scores, truth


@pytest.fixture(scope="module")
def van_dyke() -> tuple[np.ndarray, np.ndarray]:
    return load_long(DATA / "VanDyke.csv", "reader", "case", "treatment", "rating")


@pytest.fixture(scope="module")
def imrmc_example() -> tuple[np.ndarray, np.ndarray]:
    return load_long(DATA / "dfMRMC_example.csv", "readerID", "caseID", "modalityID", "score")


def close(value: float | None, expected: float, relative: float = RELATIVE) -> bool:
    assert value is not None
    return math.isclose(value, expected, rel_tol=relative)


def check_rrrc(result: ReaderStudyAnalysis, reference: dict[str, object]) -> None:
    difference = result.differences[0]
    assert close(result.test.statistic, reference["f"])  # type: ignore[arg-type]
    assert close(result.test.df2, reference["df2"])  # type: ignore[arg-type]
    assert close(result.test.p_value, reference["p_value"])  # type: ignore[arg-type]
    assert close(difference.estimate.low, reference["low"])  # type: ignore[arg-type]
    assert close(difference.estimate.high, reference["high"])  # type: ignore[arg-type]
    assert close(math.sqrt(difference.estimate.variance or 0.0), reference["standard_error"])  # type: ignore[arg-type]
    for name in ("reader", "modality_reader", "error", "cov1", "cov2", "cov3"):
        assert close(getattr(result.components, name), reference[name]), name  # type: ignore[arg-type]
    for index, estimate in enumerate(result.modality_estimates):
        assert close(estimate.low, reference["modality_low"][index])  # type: ignore[index]
        assert close(estimate.high, reference["modality_high"][index])  # type: ignore[index]


# --- published values -------------------------------------------------------


@pytest.mark.req("DXV-MRMC-001")
def test_jackknife_rrrc_matches_rjafroc_and_hillis_formulas(
    van_dyke: tuple[np.ndarray, np.ndarray],
) -> None:
    """The acceptance analysis: Van Dyke, treatment 1 vs 2, jackknife, RRRC.

    p: RJafroc's published 8-digit value. F, df2 and the CI: no published
    output prints them to 7 digits, so they are worked by hand here with
    Hillis (2007) from the published jackknife mean squares and covariances
    (MRMCaov JSS output, the same jackknife, FRRC section):
    F = MS(T)/[MS(T:R) + r(Cov2 − Cov3)], ddf = [..]²/[MS(T:R)²/((t−1)(r−1))],
    CI = d ± t(ddf)·√(2/r·[..]). The upper CI bound is near 0, so it is
    compared to 1e-6 of the interval's half-width rather than of itself.
    The Iowa OR-DBM MRMC output is checked at the precision it prints.
    """
    scores, truth = van_dyke
    result = reader_study_auc(scores, truth, modalities=("1", "2"))
    assert result.method.startswith("Obuchowski-Rockette RRRC")
    assert close(result.test.p_value, published.JACKKNIFE_RRRC_P_RJAFROC, 1e-8)
    frrc = published.JACKKNIFE_FRRC
    term = frrc["ms_tr"] + 5 * (frrc["cov2"] - frrc["cov3"])
    f_by_hand = frrc["ms_t"] / term
    df2_by_hand = term**2 / (frrc["ms_tr"] ** 2 / 4)
    assert close(result.test.statistic, f_by_hand)
    assert close(result.test.df2, df2_by_hand)
    assert close(result.test.p_value, float(scipy_stats.f.sf(f_by_hand, 1, df2_by_hand)))
    half_width = float(scipy_stats.t.ppf(0.975, df2_by_hand)) * math.sqrt(2 / 5 * term)
    difference = result.differences[0].estimate
    assert close(difference.estimate, -0.04380032)
    assert close(difference.low, -0.04380032 - half_width)
    assert difference.high is not None
    assert abs(difference.high - (-0.04380032 + half_width)) <= 1e-6 * half_width
    iowa = published.IOWA_RRRC
    assert round(result.test.statistic or 0.0, 2) == iowa["f"]
    assert round(result.test.df2 or 0.0, 2) == iowa["df2"]
    assert round(result.test.p_value or 0.0, 4) == iowa["p_value"]
    assert round(difference.low or 0.0, 5) == iowa["low"]
    assert round(difference.high, 5) == iowa["high"]
    for index, estimate in enumerate(result.modality_estimates):
        assert round(estimate.estimate or 0.0, 8) == iowa["modality_means"][index]
        assert close(estimate.low, iowa["modality_low"][index], 1e-7)
        assert close(estimate.high, iowa["modality_high"][index], 1e-7)


@pytest.mark.parametrize(
    ("covariance", "reference"),
    [
        (CovarianceMethod.DELONG, published.DELONG_RRRC),
        (CovarianceMethod.UNBIASED, published.UNBIASED_RRRC),
    ],
)
@pytest.mark.req("DXV-MRMC-001")
def test_rrrc_with_delong_and_unbiased_covariance_matches_mrmcaov(
    van_dyke: tuple[np.ndarray, np.ndarray],
    covariance: CovarianceMethod,
    reference: dict[str, object],
) -> None:
    scores, truth = van_dyke
    check_rrrc(reader_study_auc(scores, truth, covariance=covariance), reference)


@pytest.mark.req("DXV-MRMC-002")
def test_fixed_readers_match_mrmcaov(van_dyke: tuple[np.ndarray, np.ndarray]) -> None:
    scores, truth = van_dyke
    result = reader_study_auc(scores, truth, factors=Factors.FRRC)
    reference = published.JACKKNIFE_FRRC
    assert result.test.distribution == "chi2"
    assert result.test.df2 is None
    assert close(result.test.statistic, reference["chi2"])
    assert close(result.test.p_value, reference["p_value"])
    difference = result.differences[0]
    assert difference.df is None
    assert close(difference.estimate.low, reference["low"])
    assert close(difference.estimate.high, reference["high"])
    assert close(math.sqrt(difference.estimate.variance or 0.0), reference["standard_error"])
    for name in ("reader", "modality_reader", "error", "cov1", "cov2", "cov3"):
        assert close(getattr(result.components, name), reference[name]), name
    assert close(result.mean_squares["ms_t"], reference["ms_t"])
    assert close(result.mean_squares["ms_tr"], reference["ms_tr"])
    for index, estimate in enumerate(result.modality_estimates):
        assert close(estimate.low, reference["modality_low"][index])
        assert close(estimate.high, reference["modality_high"][index])
    for figure in result.reader_figures:
        auc, standard_error, low, high = published.JACKKNIFE_READERS[
            (figure.modality, figure.reader)
        ]
        assert close(figure.estimate.estimate, auc)
        assert close(math.sqrt(figure.estimate.variance or 0.0), standard_error)
        assert close(figure.estimate.low, low)
        assert close(figure.estimate.high, high)
    for reader, difference in zip(result.readers, result.reader_differences, strict=True):
        value, standard_error, low, high, p_value = published.JACKKNIFE_READER_DIFFERENCES[reader]
        assert close(difference.estimate.estimate, value)
        assert close(math.sqrt(difference.estimate.variance or 0.0), standard_error)
        assert close(difference.estimate.low, low)
        assert close(difference.estimate.high, high)
        assert close(difference.p_value, p_value)


@pytest.mark.req("DXV-MRMC-002")
def test_fixed_cases_match_mrmcaov(van_dyke: tuple[np.ndarray, np.ndarray]) -> None:
    scores, truth = van_dyke
    result = reader_study_auc(scores, truth, factors=Factors.RRFC)
    reference = published.RRFC
    assert close(result.test.statistic, reference["f"])
    assert result.test.df2 == reference["df2"]
    assert close(result.test.p_value, reference["p_value"])
    difference = result.differences[0].estimate
    assert close(difference.low, reference["low"])
    assert close(difference.high, reference["high"])
    assert close(math.sqrt(difference.variance or 0.0), reference["standard_error"])
    for index, estimate in enumerate(result.modality_estimates):
        assert close(estimate.low, reference["modality_low"][index])
        assert close(estimate.high, reference["modality_high"][index])


@pytest.mark.req("DXV-MRMC-004")
def test_binary_sensitivity_matches_mrmcaov(van_dyke: tuple[np.ndarray, np.ndarray]) -> None:
    scores, truth = van_dyke
    sensitivity, specificity = reader_study_binary(scores, truth, threshold=3)
    reference = published.SENSITIVITY_RRRC
    assert sensitivity.figure_of_merit == "sensitivity"
    assert close(sensitivity.test.statistic, reference["f"])
    assert close(sensitivity.test.df2, reference["df2"])
    assert close(sensitivity.test.p_value, reference["p_value"])
    difference = sensitivity.differences[0].estimate
    assert close(difference.estimate, reference["difference"])
    assert close(difference.low, reference["low"])
    assert close(difference.high, reference["high"])
    for name in ("error", "cov1", "cov2", "cov3"):
        assert close(getattr(sensitivity.components, name), reference[name]), name
    # Specificity: no published value; the per-reader figures are plain proportions
    # of negative calls among the 69 negative cases (independent: counted here).
    negatives = ~truth
    for figure in specificity.reader_figures:
        i, j = int(figure.modality) - 1, int(figure.reader) - 1
        expected = float(np.mean(scores[i, j, negatives] < 3))
        assert figure.estimate.estimate == pytest.approx(expected, rel=1e-12)
        assert figure.estimate.n == int(negatives.sum())


# --- the U-statistic analysis (iMRMC) -----------------------------------------


def brute_force_reader_averaged_covariance(
    scores: np.ndarray, truth: np.ndarray, first: int, second: int
) -> float:
    """Cov(Ā_first, Ā_second) by enumerating Gallas's (2006) moment definitions.

    Independent of the implementation: every moment is the mean of
    ψ(x, y)·ψ'(x', y') over the explicit index set (same or different reader,
    same or different positive / negative case), then Gallas's combination
    Var = Σ_k c_k M_k − M8 with the coefficients of his table 1.
    """
    _, readers, _ = scores.shape
    positives = np.flatnonzero(truth)
    negatives = np.flatnonzero(~truth)
    n1, n0 = len(positives), len(negatives)

    def kernel(modality: int, reader: int) -> np.ndarray:
        x = scores[modality, reader, positives][:, None]
        y = scores[modality, reader, negatives][None, :]
        return (x > y) + 0.5 * (x == y)

    same_x = np.eye(n1, dtype=bool)[:, None, :, None]
    same_y = np.eye(n0, dtype=bool)[None, :, None, :]
    masks = [same_x & same_y, same_x & ~same_y, ~same_x & same_y, ~same_x & ~same_y]
    moments = np.zeros((2, 4))  # [same reader, different readers] × 4 case relations
    counts = np.zeros(2)
    for reader_a, reader_b in itertools.product(range(readers), repeat=2):
        product = np.einsum("ij,kl->ijkl", kernel(first, reader_a), kernel(second, reader_b))
        row = 0 if reader_a == reader_b else 1
        counts[row] += 1
        moments[row] += [product[mask].mean() for mask in masks]
    moments /= counts[:, None]
    case_weights = np.array([1, n0 - 1, n1 - 1, (n1 - 1) * (n0 - 1)]) / (n1 * n0)
    return float(
        case_weights @ moments[0] / readers
        + (readers - 1) / readers * (case_weights @ moments[1])
        - moments[1, 3]
    )


@pytest.mark.req("DXV-MRMC-003")
def test_u_statistic_matches_brute_force_on_the_imrmc_example(
    imrmc_example: tuple[np.ndarray, np.ndarray],
) -> None:
    """An independent route beside FDA iMRMC's own output (tests/stats/test_mrmc_imrmc.py):
    reader-averaged AUCs against scikit-learn's roc_auc_score per reader, and
    the variances against an enumeration of Gallas's moment definitions
    written in this test; p from the normal approximation (iMRMC's
    pValueNormal) recomputed with scipy."""
    scores, truth = imrmc_example
    result = u_statistic_analysis(
        scores,
        truth,
        modalities=("testA", "testB"),
        readers=tuple("12345"),
        test=UStatisticTest.NORMAL,
    )
    for modality in range(2):
        expected = np.mean([roc_auc_score(truth, scores[modality, reader]) for reader in range(5)])
        assert close(result.modality_estimates[modality].estimate, float(expected), 1e-12)
    variance_a = brute_force_reader_averaged_covariance(scores, truth, 0, 0)
    variance_b = brute_force_reader_averaged_covariance(scores, truth, 1, 1)
    covariance = brute_force_reader_averaged_covariance(scores, truth, 0, 1)
    assert close(result.modality_estimates[0].variance, variance_a, 1e-9)
    assert close(result.modality_estimates[1].variance, variance_b, 1e-9)
    variance = variance_a + variance_b - 2 * covariance
    assert close(result.difference.variance, variance, 1e-9)
    difference = result.modality_estimates[0].estimate - result.modality_estimates[1].estimate  # type: ignore[operator]
    assert close(result.difference.estimate, difference, 1e-12)
    assert close(
        result.p_value, float(2 * scipy_stats.norm.sf(abs(difference) / math.sqrt(variance))), 1e-9
    )


@pytest.mark.req("DXV-MRMC-003")
def test_u_statistic_variance_equals_or_with_unbiased_covariance(
    imrmc_example: tuple[np.ndarray, np.ndarray], van_dyke: tuple[np.ndarray, np.ndarray]
) -> None:
    """Hillis (2014, Stat Med 33:330): with unbiased covariances and Cov2 ≥ Cov3 the
    OR RRRC variance of the difference, (2/r)[MS(T:R) + r(Cov2 − Cov3)], equals the
    U-statistic variance. MRMCaov's published unbiased results (test above) pin the
    OR side, so this ties the U-statistic variance to a published analysis."""
    for scores, truth in (imrmc_example, van_dyke):
        u_result = u_statistic_analysis(
            scores, truth, modalities=("A", "B"), readers=tuple("12345")
        )
        or_result = reader_study_auc(scores, truth, covariance=CovarianceMethod.UNBIASED)
        assert or_result.components.cov2 >= or_result.components.cov3
        assert close(
            u_result.difference.variance, or_result.differences[0].estimate.variance or 0.0, 1e-9
        )


@pytest.mark.req("DXV-MRMC-003")
def test_unbiased_moments_match_brute_force_for_one_pair() -> None:
    rng = np.random.default_rng(5)
    truth = np.array([True] * 6 + [False] * 7)
    scores = rng.integers(1, 5, size=(2, truth.size)).astype(float)
    covariance, moment4 = unbiased_moments(scores, truth)
    x = scores[:, truth]
    y = scores[:, ~truth]
    kernels = [
        (x[k][:, None] > y[k][None, :]) + 0.5 * (x[k][:, None] == y[k][None, :]) for k in range(2)
    ]
    total, count = 0.0, 0
    for i, j, k, m in itertools.product(range(6), range(7), range(6), range(7)):
        if i != k and j != m:
            total += kernels[0][i, j] * kernels[1][k, m]
            count += 1
    assert moment4[0, 1] == pytest.approx(total / count, rel=1e-12)
    assert covariance[0, 1] == pytest.approx(covariance[1, 0], rel=1e-12)


@pytest.mark.req("DXV-MRMC-006")
def test_u_statistic_refuses_one_reader(van_dyke: tuple[np.ndarray, np.ndarray]) -> None:
    scores, truth = van_dyke
    with pytest.raises(ValueError, match="needs at least 2 readers, got 1"):
        u_statistic_analysis(scores[:, :1], truth, modalities=("1", "2"), readers=("1",))


# --- properties -----------------------------------------------------------------


@pytest.mark.parametrize("covariance", list(CovarianceMethod))
@pytest.mark.req("DXV-MRMC-005")
def test_swapping_modalities_negates_the_difference(
    van_dyke: tuple[np.ndarray, np.ndarray], covariance: CovarianceMethod
) -> None:
    scores, truth = van_dyke
    forward = reader_study_auc(scores, truth, covariance=covariance)
    backward = reader_study_auc(scores[::-1], truth, covariance=covariance)
    assert backward.differences[0].estimate.estimate == pytest.approx(
        -(forward.differences[0].estimate.estimate or 0.0), rel=1e-12
    )
    assert backward.differences[0].estimate.low == pytest.approx(
        -(forward.differences[0].estimate.high or 0.0), rel=1e-12
    )
    assert backward.test.statistic == pytest.approx(forward.test.statistic, rel=1e-12)
    assert backward.test.p_value == pytest.approx(forward.test.p_value, rel=1e-12)
    assert backward.test.df2 == pytest.approx(forward.test.df2, rel=1e-12)


@st.composite
def studies(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    readers = draw(st.integers(2, 4))
    positives = draw(st.integers(2, 6))
    negatives = draw(st.integers(2, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    truth = np.array([True] * positives + [False] * negatives)
    scores = rng.integers(1, 6, size=(2, readers, truth.size)).astype(float)
    scores[:, :, truth] += rng.integers(0, 2, size=(2, readers, positives))
    return scores, truth, seed


@settings(max_examples=40, deadline=None)
@given(studies())
@pytest.mark.req("DXV-MRMC-005")
def test_permuting_readers_or_cases_changes_nothing(
    study: tuple[np.ndarray, np.ndarray, int],
) -> None:
    scores, truth, seed = study
    rng = np.random.default_rng(seed + 1)
    reader_order = rng.permutation(scores.shape[1])
    case_order = rng.permutation(scores.shape[2])
    for covariance in CovarianceMethod:
        base = reader_study_auc(scores, truth, covariance=covariance)
        moved = reader_study_auc(
            scores[:, reader_order][:, :, case_order], truth[case_order], covariance=covariance
        )
        for first, second in ((base, moved),):
            assert first.test.status is second.test.status
            if first.test.status is Status.OK:
                assert second.test.statistic == pytest.approx(
                    first.test.statistic, rel=1e-9, abs=1e-12
                )
                assert second.test.p_value == pytest.approx(first.test.p_value, rel=1e-9, abs=1e-12)
            assert second.differences[0].estimate.estimate == pytest.approx(
                first.differences[0].estimate.estimate, rel=1e-9, abs=1e-12
            )
            assert second.components.error == pytest.approx(
                first.components.error, rel=1e-9, abs=1e-15
            )
    base_u = u_statistic_analysis(
        scores, truth, modalities=("A", "B"), readers=tuple(map(str, range(scores.shape[1])))
    )
    moved_u = u_statistic_analysis(
        scores[:, reader_order][:, :, case_order],
        truth[case_order],
        modalities=("A", "B"),
        readers=tuple(map(str, range(scores.shape[1]))),
    )
    assert moved_u.difference.variance == pytest.approx(
        base_u.difference.variance, rel=1e-9, abs=1e-15
    )


@pytest.mark.parametrize("factors", [Factors.RRRC, Factors.RRFC])
@pytest.mark.req("DXV-MRMC-006")
def test_one_reader_random_reader_analysis_is_refused(
    van_dyke: tuple[np.ndarray, np.ndarray], factors: Factors
) -> None:
    scores, truth = van_dyke
    with pytest.raises(ValueError, match=r"needs at least 2 readers, got 1"):
        reader_study_auc(scores[:, :1], truth, factors=factors)


@pytest.mark.req("DXV-MRMC-002")
def test_one_reader_fixed_readers_is_the_paired_single_reader_test(
    van_dyke: tuple[np.ndarray, np.ndarray],
) -> None:
    """FRRC with one reader is the reader's own paired comparison (MRMCaov's reader 1 row)."""
    scores, truth = van_dyke
    result = reader_study_auc(scores[:, :1], truth, factors=Factors.FRRC, readers=("1",))
    _value, _standard_error, low, high, p_value = published.JACKKNIFE_READER_DIFFERENCES["1"]
    assert close(result.differences[0].estimate.low, low)
    assert close(result.differences[0].estimate.high, high)
    assert close(result.differences[0].p_value, p_value)


@pytest.mark.req("DXV-MRMC-010")
def test_identical_readers_give_undefined_statuses_not_nan() -> None:
    truth = np.array([True, True, True, False, False, False])
    one = np.array([3.0, 2.0, 1.0, 1.0, 2.0, 3.0])  # AUC < 1 with case variability
    scores = np.stack([np.stack([one, one]), np.stack([one, one])])  # no reader or modality effect
    result = reader_study_auc(scores, truth)
    assert result.test.status is Status.UNDEFINED
    assert result.test.p_value is None
    assert "denominator" in (result.test.reason or "")
    document = result.to_dict()
    assert document["p_value"] is None
    assert document["differences"][0]["status"] == "undefined"


def test_covariance_matrix_is_symmetric_and_jackknife_is_linear_time(
    van_dyke: tuple[np.ndarray, np.ndarray],
) -> None:
    scores, truth = van_dyke
    for method in CovarianceMethod:
        figures, covariance = auc_covariance(scores, truth, method=method)
        assert figures.shape == (2, 5)
        np.testing.assert_allclose(covariance, covariance.T, rtol=0, atol=1e-15)
    # the O(n) leave-one-out AUCs equal recomputing each AUC without the case
    figures, covariance = auc_covariance(scores[:, :1], truth, method=CovarianceMethod.JACKKNIFE)
    n = truth.size
    leave_out = np.array(
        [
            [roc_auc_score(np.delete(truth, k), np.delete(scores[m, 0], k)) for k in range(n)]
            for m in range(2)
        ]
    )
    centred = leave_out - leave_out.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(covariance, (n - 1) / n * centred @ centred.T, rtol=1e-10)


# --- power ------------------------------------------------------------------------


@pytest.mark.parametrize("factors", [Factors.RRRC, Factors.FRRC, Factors.RRFC])
@pytest.mark.req("DXV-MRMC-009")
def test_power_matches_rjafroc(van_dyke: tuple[np.ndarray, np.ndarray], factors: Factors) -> None:
    scores, truth = van_dyke
    pilot = reader_study_auc(scores, truth).components
    readers, cases, expected = published.POWER[factors.name.lower()]
    result = reader_study_power(
        pilot,
        pilot_cases=114,
        effect=published.POWER_EFFECT,
        n_readers=readers,
        n_cases=cases,
        factors=factors,
    )
    assert close(result.power, expected)


@pytest.mark.req("DXV-MRMC-009")
def test_power_follows_hillis_2011_worked_by_hand(van_dyke: tuple[np.ndarray, np.ndarray]) -> None:
    """Beside RJafroc's values (above): Hillis, Obuchowski & Berbaum (2011, Acad
    Radiol 18:129) eq. 10 worked by hand here for other inputs, plus its limiting
    behaviour (power rises with cases and readers; α at effect → 0)."""
    scores, truth = van_dyke
    pilot = reader_study_auc(scores, truth).components
    result = reader_study_power(pilot, pilot_cases=114, effect=0.05, n_readers=8, n_cases=300)
    scale = 114 / 300
    denominator = pilot.modality_reader + scale * (
        pilot.error - pilot.cov1 + 7 * (pilot.cov2 - pilot.cov3)
    )
    interaction = pilot.modality_reader + scale * (
        pilot.error - pilot.cov1 - (pilot.cov2 - pilot.cov3)
    )
    df2 = denominator**2 / (interaction**2 / 7)
    noncentrality = 8 * 0.05**2 / (2 * denominator)
    power = scipy_stats.ncf.sf(scipy_stats.f.ppf(0.95, 1, df2), 1, df2, noncentrality)
    assert close(result.df2, df2, 1e-12)
    assert close(result.noncentrality, noncentrality, 1e-12)
    assert close(result.power, float(power), 1e-9)
    more_cases = reader_study_power(pilot, pilot_cases=114, effect=0.05, n_readers=8, n_cases=600)
    more_readers = reader_study_power(
        pilot, pilot_cases=114, effect=0.05, n_readers=16, n_cases=300
    )
    assert more_cases.power > result.power
    assert more_readers.power > result.power
    tiny = reader_study_power(pilot, pilot_cases=114, effect=1e-9, n_readers=8, n_cases=300)
    assert tiny.power == pytest.approx(0.05, abs=1e-6)
    plan = cases_for_power(pilot, pilot_cases=114, effect=0.05, n_readers=8)
    assert plan is not None
    assert plan.power >= 0.8
    below = reader_study_power(
        pilot, pilot_cases=114, effect=0.05, n_readers=8, n_cases=plan.n_cases - 1
    )
    assert below.power < 0.8


@pytest.mark.req("DXV-MRMC-009")
def test_power_errors_and_unreachable_targets() -> None:
    pilot = VarianceComponents(
        reader=0.001, modality_reader=0.01, error=0.001, cov1=0.0, cov2=0.0, cov3=0.0
    )
    assert cases_for_power(pilot, pilot_cases=100, effect=0.01, n_readers=2, max_cases=1000) is None
    with pytest.raises(ValueError, match="n_readers: expected at least 2, got 1"):
        reader_study_power(pilot, pilot_cases=100, effect=0.05, n_readers=1, n_cases=100)
    with pytest.raises(ValueError, match="effect: expected a non-zero"):
        reader_study_power(pilot, pilot_cases=100, effect=0.0, n_readers=5, n_cases=100)
