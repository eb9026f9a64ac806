"""The U-statistic analysis against FDA iMRMC's own output on its example data.

Reference: FDA's iMRMC R package 2.1.2 (DIDSR/iMRMC at ad589e57…),
``doIMRMC`` on tests/data/dfMRMC_example.csv; values, call and provenance in
tests/reference/imrmc_example.py (the R script that printed them is
tests/reference/imrmc_dfMRMC_example.R; the suite does not need R).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as scipy_stats
from tests.reference import imrmc_example as imrmc

from dxval.analysis.reads import ReadColumns, Reads, read_reads
from dxval.cli import main
from dxval.stats import Status
from dxval.stats.mrmc import UStatisticTest, u_statistic_analysis
from dxval.stats.mrmc.ustatistic import NORMAL_ABOVE_DF, TEST_NAMES, bdg_degrees_of_freedom

DATA = Path(__file__).resolve().parents[1] / "data"
RELATIVE = 1e-6  # the tolerance (the reference carries 17 significant digits)
COLUMNS = ReadColumns(reader="readerID", case="caseID", modality="modalityID")


def close(value: float | None, expected: float, relative: float = RELATIVE) -> bool:
    assert value is not None
    return math.isclose(value, expected, rel_tol=relative)


@pytest.fixture(scope="module")
def reads() -> Reads:
    return read_reads(DATA / "dfMRMC_example.csv", columns=COLUMNS)


@pytest.mark.req("DXV-MRMC-003")
@pytest.mark.req("DXV-MRMC-013")
@pytest.mark.parametrize("test", list(UStatisticTest))
def test_u_statistic_reproduces_imrmc(reads: Reads, test: UStatisticTest) -> None:
    assert reads.modalities == imrmc.MODALITIES
    assert (len(reads.readers), int((~reads.truth).sum()), int(reads.truth.sum())) == (
        imrmc.N_READERS,
        imrmc.N_NEGATIVE,
        imrmc.N_POSITIVE,
    )
    result = u_statistic_analysis(
        reads.scores, reads.truth, modalities=reads.modalities, readers=reads.readers, test=test
    )
    suffix = test.value
    for i, modality in enumerate(imrmc.MODALITIES):
        for j, reader in enumerate(reads.readers):
            assert close(float(result.reader_aucs[i, j]), imrmc.READER_AUCS[modality][reader])
        expected = imrmc.MODALITY[modality]
        estimate = result.modality_estimates[i]
        assert estimate.status is Status.OK
        assert close(estimate.estimate, expected["auc"])
        assert close(estimate.variance, expected["variance"])
        assert close(estimate.low, expected[f"low_{suffix}"])
        assert close(estimate.high, expected[f"high_{suffix}"])
        assert close(result.modality_inference[i].df, expected["df_bdg"])
    difference = imrmc.DIFFERENCE
    assert close(result.difference.estimate, difference["estimate"])
    assert close(result.difference.variance, difference["variance"])
    assert close(result.inference.df, difference["df_bdg"])
    assert close(result.p_value, difference[f"p_{suffix}"])
    assert close(result.difference.low, difference[f"low_{suffix}"])
    assert close(result.difference.high, difference[f"high_{suffix}"])
    assert result.inference.distribution == ("t" if test is UStatisticTest.BDG else "normal")


@pytest.mark.req("DXV-MRMC-013")
def test_command_reports_imrmc_values(capsys: pytest.CaptureFixture[str]) -> None:
    common = [str(DATA / "dfMRMC_example.csv"), "--reader", "readerID", "--case", "caseID"]
    common += ["--modality", "modalityID", "--method", "u-statistic", "--json"]
    difference = imrmc.DIFFERENCE
    for extra, p_key, low_key, distribution, df in (
        ([], "p_bdg", "low_bdg", "t", math.floor(difference["df_bdg"])),
        (["--u-test", "normal"], "p_normal", "low_normal", "normal", None),
    ):
        assert main(["mrmc", *common, *extra]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["test_distribution"] == distribution
        assert data["df2"] == df
        assert data["u_test"] == ("bdg" if distribution == "t" else "normal")
        assert close(data["df_bdg"], difference["df_bdg"])
        assert close(data["p_value"], difference[p_key])
        assert close(data["difference"]["variance"], difference["variance"])
        assert close(data["difference"]["low"], difference[low_key])
        named = "t with BDG df 30.3679" if df else "normal approximation"
        assert named in data["difference"]["method"]
        assert data["analysis"].endswith(TEST_NAMES[UStatisticTest(data["u_test"])])


@pytest.mark.req("DXV-MRMC-013")
def test_table_names_the_t_test(capsys: pytest.CaptureFixture[str]) -> None:
    arguments = [str(DATA / "dfMRMC_example.csv"), "--reader", "readerID", "--case", "caseID"]
    arguments += ["--modality", "modalityID", "--method", "u-statistic"]
    assert main(["mrmc", *arguments]) == 0
    assert "t(30; BDG df 30.37) = -1.8129, two-sided p = 0.07986" in capsys.readouterr().out


@pytest.mark.req("DXV-MRMC-013")
def test_bdg_df_is_floored_at_the_smallest_population_df() -> None:
    """Gaylor (1969), as iMRMC: never fewer than min(n₀ − 1, n₁ − 1, r − 1)."""
    rng = np.random.default_rng(3)
    aucs = rng.uniform(0.6, 0.9, size=4)
    positive = rng.uniform(size=(4, 12))
    negative = rng.uniform(size=(4, 9))
    assert bdg_degrees_of_freedom(1e-12, aucs, positive, negative) == 3.0
    assert bdg_degrees_of_freedom(0.0, aucs, positive, negative) is None
    assert bdg_degrees_of_freedom(-1e-3, aucs, positive, negative) is None
    # no spread in any population: V²/0, infinite as in iMRMC (then the normal is used)
    flat = bdg_degrees_of_freedom(1e-3, np.zeros(4), np.zeros((4, 12)), np.zeros((4, 9)))
    assert flat == math.inf


@pytest.mark.req("DXV-MRMC-013")
def test_above_50_bdg_df_the_normal_is_used_as_in_imrmc() -> None:
    """iMRMC's hypothesisTest_t: dfBDG > 50 → the normal quantile and p."""
    rng = np.random.default_rng(11)
    truth = np.array([True] * 100 + [False] * 100)
    readers = 60
    case_effect = rng.normal(size=truth.size) + 1.2 * truth
    scores = np.stack(
        [
            case_effect + rng.normal(scale=0.8, size=(readers, truth.size)) + shift
            for shift in (0.0, 0.15 * truth)
        ]
    )
    names = tuple(f"r{i}" for i in range(readers))
    bdg = u_statistic_analysis(scores, truth, modalities=("A", "B"), readers=names)
    normal = u_statistic_analysis(
        scores, truth, modalities=("A", "B"), readers=names, test=UStatisticTest.NORMAL
    )
    assert bdg.inference.df is not None
    assert bdg.inference.df > NORMAL_ABOVE_DF
    assert bdg.inference.distribution == "normal"
    assert bdg.p_value == normal.p_value
    assert bdg.difference.low == normal.difference.low
    assert bdg.statistic is not None
    assert bdg.p_value == pytest.approx(2 * scipy_stats.norm.sf(abs(bdg.statistic)), rel=1e-12)
