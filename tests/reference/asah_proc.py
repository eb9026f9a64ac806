"""pROC reference values on the aSAH data (tests/data/aSAH.csv).

Source: shared/reference/README.md, computed with R 4.2.2 and pROC 1.18.0.
Positive class outcome == "Poor" (41 cases), negative "Good" (72 cases);
``direction = "<"`` (a case is called positive when score >= threshold).
Numbers are printed to 10 significant digits: match to 1e-9 relative.
"""

from __future__ import annotations

RELATIVE_TOLERANCE = 1e-9
N_POSITIVE = 41
N_NEGATIVE = 72

# r <- roc(aSAH$outcome, aSAH$<predictor>, levels = c("Good", "Poor"), direction = "<")
# auc(r); var(r, method = "delong")
# ci.auc(r, method = "delong", conf.level = 0.95 / 0.90 / 0.99)
AUC = {
    "s100b": 0.7313685637,
    "ndka": 0.6119579946,
    "wfns": 0.8236788618,
}
DELONG_VARIANCE = {
    "s100b": 0.002668682457,
    "ndka": 0.003190810549,
    "wfns": 0.001469914709,
}
DELONG_CI = {
    ("s100b", 0.95): (0.6301182118, 0.8326189156),
    ("s100b", 0.90): (0.6463965898, 0.8163405376),
    ("s100b", 0.99): (0.5983030454, 0.864434082),
    ("ndka", 0.95): (0.5012449993, 0.7226709899),
    ("ndka", 0.90): (0.51904472, 0.7048712692),
    ("ndka", 0.99): (0.4664564548, 0.7574595343),
    ("wfns", 0.95): (0.7485348878, 0.8988228358),
    ("wfns", 0.90): (0.7606160509, 0.8867416727),
    ("wfns", 0.99): (0.7249229399, 0.9224347837),
}

# roc.test(r1, r2, method = "delong", paired = TRUE): Z, two-sided p, 95% CI of AUC1 - AUC2
PAIRED_DELONG = {
    ("s100b", "wfns"): {
        "z": -2.208983591,
        "p_value": 0.02717578223,
        "ci": (-0.1742144192, -0.01040617696),
    },
    ("s100b", "ndka"): {
        "z": 1.390770026,
        "p_value": 0.1642951752,
        "ci": (-0.04887060642, 0.2876917446),
    },
    ("wfns", "ndka"): {
        "z": 2.797775919,
        "p_value": 0.005145579707,
        "ci": (0.06340117093, 0.3600405635),
    },
}

# coords(r, t, input = "threshold", ret = c("tp", "fp", "tn", "fn"))
COUNTS = [
    # (predictor, threshold, tp, fp, tn, fn)
    ("s100b", 0.100, 34, 44, 28, 7),
    ("s100b", 0.205, 26, 14, 58, 15),
    ("s100b", 0.500, 12, 2, 70, 29),
    ("ndka", 20.00, 13, 11, 61, 28),
    ("wfns", 2.5, 27, 15, 57, 14),
]

# coords(r, "best", best.method = "youden", ret = "threshold"): midpoint convention
YOUDEN_THRESHOLD = {"s100b": 0.205}
