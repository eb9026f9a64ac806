"""Published reader-study (MRMC) results on the Van Dyke data (tests/data/VanDyke.csv).

Every number below is copied from a published output, cited beside it. The
Van Dyke data: 5 readers, treatments 1 and 2, 114 cases (45 diseased),
empirical (trapezoidal / Wilcoxon) AUC of ``rating``; differences are
treatment 1 − treatment 2.

Sources
-------
MRMCAOV_JSS
    Smith & Hillis, "MRMCaov" paper sources, repository brian-j-smith/MRMCaov,
    file ``docs/jss/MRMCaov.tex`` at commit
    d79e49bcef42ef2a17195aae84ca84ae569f8702: R output of
    ``summary(mrmc(empirical_auc(truth, rating), treatment, reader, case,
    data = VanDyke, cov = ...))`` (sections "Covariance Estimation Methods"
    and "Fixed Factors") and of ``mrmc(binary_sens(truth, rating >= 3), ...)``.
    Printed to 7 significant digits.
RJAFROC_OBUROC
    Repository dpc10ster/RJafroc, file ``inst/obumrm2/ObuRoc.R`` at commit
    44b0e39ebb0adda0d28d675850cbcf97d4d85d3f, "Expected output: dataset02":
    ``St(dataset02, FOM = "Wilcoxon", method = "OR")$RRRC$FTests$p[1]``
    (jackknife covariance; ``dataset02`` is the Van Dyke data,
    ``man/dataset02.Rd``). Printed to 8 significant digits.
IOWA_ORDBM
    OR-DBM MRMC 2.51 (Schartz, Hillis, Pesce, Berbaum) output on VanDyke.lrc,
    trapezoidal area, jackknife: same RJafroc commit, file
    ``tests/testthat/goodValues361/Iowa/VanDyke.txt``. Printed to 8 decimals
    for AUCs and single-treatment CIs, fewer for the test.
"""

from __future__ import annotations

# --- MRMCAOV_JSS, cov = DeLong, random readers and random cases --------------
DELONG_RRRC = {
    "f": 4.484854,
    "df2": 15.06611,
    "p_value": 0.05123303,
    "difference": -0.04380032,
    "standard_error": 0.0206825,
    "low": -0.0878671960,
    "high": 0.0002665519,
    "reader": 0.0015364254,
    "modality_reader": 0.0002045840,
    "error": 0.0007921325,
    "cov1": 0.0003420090,
    "cov2": 0.0003395265,
    "cov3": 0.0002358497,
    "modality_low": (0.8253461, 0.8942155),
    "modality_high": (0.9687280, 0.9874592),
}

# --- MRMCAOV_JSS, cov = unbiased, random readers and random cases ------------
UNBIASED_RRRC = {
    "f": 4.489614,
    "df2": 15.03418,
    "p_value": 0.0511618,
    "difference": -0.04380032,
    "standard_error": 0.02067154,
    "low": -0.0878519409,
    "high": 0.0002512968,
    "reader": 0.0015365290,
    "modality_reader": 0.0002077588,
    "error": 0.0007883925,
    "cov1": 0.0003416706,
    "cov2": 0.0003390650,
    "cov3": 0.0002356148,
    "modality_low": (0.8253526, 0.8942323),
    "modality_high": (0.9687214, 0.9874424),
}

# --- MRMCAOV_JSS, jackknife (default), fixed readers and random cases --------
JACKKNIFE_FRRC = {
    "chi2": 5.475953,
    "p_value": 0.01927984,
    "standard_error": 0.01871748,
    "low": -0.08048591,
    "high": -0.00711473,
    "reader": 0.0015349993,
    "modality_reader": 0.0002004025,
    "error": 0.0008022883,
    "cov1": 0.0003466137,
    "cov2": 0.0003440748,
    "cov3": 0.0002390284,
    "ms_t": 0.004796171,
    "ms_tr": 0.0005510306,
    "modality_low": (0.8494301, 0.9079564),
    "modality_high": (0.9446440, 0.9737183),
}
# "Single reader 95% CIs" of the same output: (treatment, reader) -> (AUC, SE, low, high)
JACKKNIFE_READERS = {
    ("1", "1"): (0.9196457, 0.0301255164, 0.8606008, 0.9786907),
    ("1", "2"): (0.8587762, 0.0363753335, 0.7874818, 0.9300705),
    ("1", "3"): (0.9038647, 0.0282594118, 0.8484773, 0.9592522),
    ("1", "4"): (0.9731079, 0.0173388332, 0.9391244, 1.0000000),
    ("1", "5"): (0.8297907, 0.0417201720, 0.7480206, 0.9115607),
    ("2", "1"): (0.9478261, 0.0221416887, 0.9044292, 0.9912230),
    ("2", "2"): (0.9053140, 0.0298151099, 0.8468775, 0.9637506),
    ("2", "3"): (0.9217391, 0.0297673065, 0.8633963, 0.9800820),
    ("2", "4"): (0.9993559, 0.0007213348, 0.9979421, 1.0000000),
    ("2", "5"): (0.9299517, 0.0262023046, 0.8785961, 0.9813073),
}
# "Reader-specific 95% CIs and tests": reader -> (difference, SE, low, high, p)
JACKKNIFE_READER_DIFFERENCES = {
    "1": (-0.02818035, 0.02551213, -0.078183215, 0.021822507, 0.26933885),
    "2": (-0.04653784, 0.02630183, -0.098088476, 0.005012792, 0.07683102),
    "3": (-0.01787440, 0.03120965, -0.079044180, 0.043295388, 0.56683414),
    "4": (-0.02624799, 0.01729129, -0.060138290, 0.007642316, 0.12901715),
    "5": (-0.10016103, 0.04405746, -0.186512066, -0.013809995, 0.02300099),
}

# --- MRMCAOV_JSS, random readers and fixed cases ------------------------------
RRFC = {
    "f": 8.704,
    "df2": 4,
    "p_value": 0.04195875,
    "standard_error": 0.01484629,
    "low": -0.08502022,
    "high": -0.00258042,
    "modality_low": (0.8280981, 0.8959894),
    "modality_high": (0.9659760, 0.9856854),
}

# --- MRMCAOV_JSS, binary_sens(truth, rating >= 3), jackknife, RRRC -----------
SENSITIVITY_RRRC = {
    "f": 6.689493,
    "df2": 15.71732,
    "p_value": 0.02008822,
    "difference": -0.09777778,
    "standard_error": 0.03780451,
    "low": -0.1780371,
    "high": -0.0175185,
    "error": 0.0023681257,
    "cov1": 0.0009943883,
    "cov2": 0.0010145903,
    "cov3": 0.0006604938,
}

# --- jackknife RRRC (the acceptance analysis) --------------------------------
# RJAFROC_OBUROC: RRRC p-value, 8 significant digits.
JACKKNIFE_RRRC_P_RJAFROC = 0.051665686
# IOWA_ORDBM, Analysis 1 (RRRC): printed precision only.
IOWA_RRRC = {
    "f": 4.46,
    "df2": 15.26,
    "p_value": 0.0517,
    "standard_error": 0.02075,
    "low": -0.08796,
    "high": 0.00036,
    "modality_means": (0.89703704, 0.94083736),
    "modality_low": (0.82522360, 0.89413783),
    "modality_high": (0.96885048, 0.98753689),
}

# --- power (Hillis, Obuchowski & Berbaum 2011) ----------------------------------
# RJafroc tests/testthat/test-SsSampleSizeRoc.R at commit
# 44b0e39ebb0adda0d28d675850cbcf97d4d85d3f ("SsPowerGivenJK OR VarComp Input
# VanDyke data"): SsPowerGivenJK(dataset02, FOM = "Wilcoxon", method = "OR",
# effectSize = -0.043800322, J = 10, K = ..., analysisOption = ...)$power...,
# checked there with tolerance 1e-8. Pilot: the Van Dyke jackknife OR components
# with K* = 114 cases.
POWER_EFFECT = -0.043800322
POWER = {  # factors: (readers J, cases K, power)
    "rrrc": (10, 165, 0.80541995),
    "frrc": (10, 131, 0.80091813),
    "rrfc": (10, 53, 0.80496663),
}
