"""scikit-learn reference values on the aSAH data (tests/data/aSAH.csv).

Source: shared/reference/README.md, scikit-learn 1.9.1.
``average_precision_score(aSAH.outcome == "Poor", aSAH.<predictor>)``: the
step-wise sum AP = sum_n (R_n - R_{n-1}) P_n. Match to 1e-9 relative.
"""

from __future__ import annotations

AVERAGE_PRECISION = {
    "s100b": 0.6856209232,
    "ndka": 0.4862487226,
    "wfns": 0.6803366371,
}

# The trapezoidal area under the PR curve, a different definition that
# dxval does NOT report; kept to show the two differ.
TRAPEZOIDAL_PR_AUC = {
    "s100b": 0.6869382613,
    "ndka": 0.4754883132,
    "wfns": 0.7547781337,
}
