"""Binomial proportion 95% confidence intervals.

Source: shared/reference/README.md: statsmodels 0.15
``proportion_confint(x, n, alpha=0.05, method="wilson" | "beta" |
"agresti_coull" | "jeffreys")``; scipy ``binomtest(x, n).proportion_ci(method=
"wilson" | "exact")`` and R ``binom::binom.confint`` agree. Jeffreys follows
Brown, Cai & DasGupta (2001): lower bound 0 at x = 0, upper bound 1 at x = n.
Match to 1e-9 relative (0 and 1 exactly).
"""

from __future__ import annotations

# (x, n): (Wilson, Clopper-Pearson)
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

# Newcombe RG (1998) Two-sided confidence intervals for the single proportion:
# comparison of seven methods. Stat Med 17:857-872, Table II, 95% intervals
# printed to 4 decimals (match to 5e-5 absolute): method 3 (Wilson score) and
# method 4 (Wilson score with continuity correction).
NEWCOMBE_1998_TABLE_II = {
    # (x, n): (Wilson, Wilson with continuity correction)
    (81, 263): ((0.2553, 0.3662), (0.2535, 0.3682)),
    (15, 148): ((0.0624, 0.1605), (0.0598, 0.1644)),
    (0, 20): ((0.0, 0.1611), (0.0, 0.2005)),
    (1, 29): ((0.0061, 0.1718), (0.0018, 0.1963)),
}
