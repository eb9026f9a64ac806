"""FDA iMRMC's own analysis of its example data (tests/data/dfMRMC_example.csv).

Source
------
IMRMC_R_2_1_2
    FDA's reference implementation, the iMRMC R package (Brandon Gallas,
    FDA/CDRH/DIDSR), version 2.1.2, built from repository DIDSR/iMRMC,
    directory ``Rpackage/iMRMC`` at commit
    ad589e57add5d8a5c45b56ab356c565f004c9db8, with R 4.2.2 (Debian) and
    Matrix 1.5-3. Call: ``doIMRMC(read.csv("tests/data/dfMRMC_example.csv"))``
    (the pure-R implementation; the Java jar is not used), script
    ``tests/reference/imrmc_dfMRMC_example.R``, run 2026-12-06; numbers
    copied from its ``sprintf("%.17g")`` print-out. The same script checks
    that the package's own ``data(dfMRMC_example)`` gives identical results
    (it does: the CSV is the package's data set, row for row).
    ``Ustat`` rows: unbiased (U-statistic) variances; ``pValueNormal`` /
    ``botCInormal`` / ``topCInormal`` by the normal approximation;
    ``dfBDG``, ``pValueBDG``, ``botCIBDG`` / ``topCIBDG`` by Student's t with
    ⌊dfBDG⌋ degrees of freedom (iMRMC switches to the normal when dfBDG > 50).
    All intervals are 95 %. For a single modality iMRMC's p-values test
    AUC = 0.5 (dxval reports no such test, so they are not stored).

No published printed output of this analysis was found (iMRMC's help pages
and vignettes do not print it; see /work/notes/mrmc.md), so the reference is
the output of FDA's implementation itself, stated as such.
"""

from __future__ import annotations

MODALITIES = ("testA", "testB")
N_READERS, N_NEGATIVE, N_POSITIVE = 5, 40, 40

# --- IMRMC_R_2_1_2, doIMRMC(...)$perReader, AUCA of the single-modality rows -------
READER_AUCS = {
    "testA": {
        "reader1": 0.78062500000000001,
        "reader2": 0.74124999999999996,
        "reader3": 0.67562500000000003,
        "reader4": 0.58187500000000003,
        "reader5": 0.68500000000000005,
    },
    "testB": {
        "reader1": 0.87187499999999996,
        "reader2": 0.823125,
        "reader3": 0.70999999999999996,
        "reader4": 0.59812500000000002,
        "reader5": 0.82499999999999996,
    },
}

# --- IMRMC_R_2_1_2, doIMRMC(...)$Ustat rows 1 and 2 (one modality each) -------------
MODALITY = {
    "testA": {
        "auc": 0.69287500000000002,
        "variance": 0.0030358247965976033,
        "low_normal": 0.58488427844035951,
        "high_normal": 0.80086572155964053,
        "df_bdg": 23.938040576220217,
        "low_bdg": 0.57889544232898538,
        "high_bdg": 0.80685455767101466,
    },
    "testB": {
        "auc": 0.765625,
        "variance": 0.0040388480543228035,
        "low_normal": 0.64106550223398606,
        "high_normal": 0.89018449776601394,
        "df_bdg": 10.458067821390909,
        "low_bdg": 0.6240224713078808,
        "high_bdg": 0.9072275286921192,
    },
}

# --- IMRMC_R_2_1_2, doIMRMC(...)$Ustat row 3 (testA − testB) ------------------------
DIFFERENCE = {
    "estimate": -0.072749999999999981,
    "variance": 0.0016103221975674337,
    "p_normal": 0.069845469651875103,
    "low_normal": -0.15140104201474358,
    "high_normal": 0.0059010420147436321,
    "df_bdg": 30.367913685165412,
    "p_bdg": 0.079863368394233136,
    "low_bdg": -0.15470398386557427,
    "high_bdg": 0.0092039838655743195,
}
