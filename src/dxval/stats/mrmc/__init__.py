"""Multi-reader multi-case (MRMC) analysis of reader studies.

Pure functions on numpy arrays (imports numpy, scipy and :mod:`dxval.stats`
only): Obuchowski–Rockette with Hillis's degrees of freedom (random or fixed
readers and cases) on empirical AUC or on binary sensitivity/specificity,
Gallas's U-statistic analysis (iMRMC), and Hillis–Obuchowski power.
"""

from dxval.stats.mrmc.analysis import reader_study_auc, reader_study_binary
from dxval.stats.mrmc.figures import (
    CovarianceMethod,
    auc_covariance,
    empirical_auc,
    proportion_covariance,
    unbiased_moments,
)
from dxval.stats.mrmc.obuchowski_rockette import mean_squares, obuchowski_rockette
from dxval.stats.mrmc.power import ReaderStudyPower, cases_for_power, reader_study_power
from dxval.stats.mrmc.results import (
    Difference,
    Factors,
    GlobalTest,
    ReaderFigure,
    ReaderStudyAnalysis,
    VarianceComponents,
)
from dxval.stats.mrmc.ustatistic import UStatisticAnalysis, UStatisticTest, u_statistic_analysis

__all__ = [
    "CovarianceMethod",
    "Difference",
    "Factors",
    "GlobalTest",
    "ReaderFigure",
    "ReaderStudyAnalysis",
    "ReaderStudyPower",
    "UStatisticAnalysis",
    "UStatisticTest",
    "VarianceComponents",
    "auc_covariance",
    "cases_for_power",
    "empirical_auc",
    "mean_squares",
    "obuchowski_rockette",
    "proportion_covariance",
    "reader_study_auc",
    "reader_study_binary",
    "reader_study_power",
    "u_statistic_analysis",
    "unbiased_moments",
]
