"""Reference values for the known-answer tests of ``dxval self-validate``, with provenance.

Each value was computed outside dxval: the binomial intervals by statsmodels
0.15 ``proportion_confint`` (scipy and R ``binom::binom.confint`` agree), the
Newcombe (1998) values as printed in the paper, the Hanley & McNeil (1982)
area as printed in the paper, and the aSAH values by R 4.2.2 with pROC 1.18.0,
scikit-learn 1.9.1 and R ``rms::val.prob`` (the project's
``shared/reference/README.md``). Only numbers are stored here: the aSAH data
set itself (pROC, GPL-3) is not shipped, so its checks run when the user
supplies the file (``--asah``).
"""

from __future__ import annotations

# statsmodels.stats.proportion.proportion_confint(x, n, alpha=0.05, method=...)
# (x, n): ((Wilson low, high), (Clopper-Pearson "beta" low, high)); match 1e-9 relative.
WILSON_AND_CLOPPER_PEARSON = {
    (45, 50): ((0.7863976856, 0.9565242351), (0.7818646336, 0.9667249064)),
    (0, 30): ((0.0, 0.1135133932), (0.0, 0.1157033082)),
    (30, 30): ((0.8864866068, 1.0), (0.8842966918, 1.0)),
    (188, 200): ((0.898068307, 0.9653478057), (0.8975381687, 0.9686160461)),
    (1, 1000): ((0.0001765463706, 0.005642558598), (2.531748749e-05, 0.00555892428)),
    (26, 41): ((0.4812070109, 0.7641016898), (0.469362548, 0.7787721379)),
    (58, 72): ((0.6996724105, 0.8804852062), (0.6953310667, 0.8894162133)),
}
AGRESTI_COULL = {(45, 50): (0.7820622661, 0.9608596546)}
JEFFREYS = {(45, 50): (0.794645172, 0.9608056356)}
BINOMIAL_SOURCE = "statsmodels 0.15 proportion_confint (R binom::binom.confint agrees)"

# Newcombe RG (1998) Stat Med 17:857-872, Table II, 95% intervals printed to 4
# decimals (match 5e-5 absolute): (x, n): (Wilson score, Wilson with continuity correction).
NEWCOMBE_1998 = {
    (81, 263): ((0.2553, 0.3662), (0.2535, 0.3682)),
    (15, 148): ((0.0624, 0.1605), (0.0598, 0.1644)),
    (0, 20): ((0.0, 0.1611), (0.0, 0.2005)),
    (1, 29): ((0.0061, 0.1718), (0.0018, 0.1963)),
}
NEWCOMBE_SOURCE = "Newcombe (1998) Stat Med 17:857-872, Table II"

# Hanley JA, McNeil BJ (1982) Radiology 143:29-36, Table 1: CT ratings of 109
# patients on a 5-point scale (1 definitely normal ... 5 definitely abnormal).
# Counts per rating category; the area under the ROC curve is printed as 0.893.
HANLEY_MCNEIL_NORMAL = (33, 6, 6, 11, 2)
HANLEY_MCNEIL_ABNORMAL = (3, 2, 2, 11, 33)
HANLEY_MCNEIL_AUC = 0.893
HANLEY_MCNEIL_SOURCE = "Hanley & McNeil (1982) Radiology 143:29-36, Table 1"

# R 4.2.2, pROC 1.18.0 on aSAH (positive outcome == "Poor", direction "<"):
# r <- roc(aSAH$outcome, aSAH$x, levels = c("Good", "Poor"), direction = "<")
# auc(r); var(r, method = "delong"); ci.auc(r, method = "delong")
ASAH_AUC = {
    "s100b": (0.7313685637, 0.002668682457, (0.6301182118, 0.8326189156)),
    "ndka": (0.6119579946, 0.003190810549, (0.5012449993, 0.7226709899)),
    "wfns": (0.8236788618, 0.001469914709, (0.7485348878, 0.8988228358)),
}
# roc.test(r1, r2, method = "delong", paired = TRUE): Z, two-sided p, 95% CI of AUC1 - AUC2
ASAH_PAIRED = {
    ("s100b", "wfns"): (-2.208983591, 0.02717578223, (-0.1742144192, -0.01040617696)),
    ("s100b", "ndka"): (1.390770026, 0.1642951752, (-0.04887060642, 0.2876917446)),
    ("wfns", "ndka"): (2.797775919, 0.005145579707, (0.06340117093, 0.3600405635)),
}
# coords(r, t, input = "threshold", ret = c("tp", "fp", "tn", "fn"))
ASAH_COUNTS = (
    ("s100b", 0.100, (34, 44, 28, 7)),
    ("s100b", 0.205, (26, 14, 58, 15)),
    ("s100b", 0.500, (12, 2, 70, 29)),
    ("ndka", 20.00, (13, 11, 61, 28)),
    ("wfns", 2.5, (27, 15, 57, 14)),
)
# scikit-learn 1.9.1 average_precision_score (step-wise)
ASAH_AVERAGE_PRECISION = {"s100b": 0.6856209232, "ndka": 0.4862487226, "wfns": 0.6803366371}
# p = plogis(-1.5 + 3 s100b): R rms::val.prob and statsmodels agree
ASAH_CALIBRATION = {
    "brier": 0.1895951799,
    "log_loss": 0.5635471742,
    "slope": 1.634773659,
    "intercept": 0.1913951869,
    "ece_left_closed": 0.09861234523,
}
ASAH_SOURCE = "R 4.2.2 pROC 1.18.0; scikit-learn 1.9.1; R rms::val.prob"
ASAH_ROWS = 113
ASAH_POSITIVES = 41
