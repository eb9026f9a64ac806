"""R ``psych::ICC`` on Shrout & Fleiss (1979) Table 2, to full double precision.

Data: Shrout, P. E. & Fleiss, J. L. (1979). Intraclass correlations: uses in
assessing rater reliability. Psychol. Bull. 86(2):420-428, Table 2 (6 targets
× 4 judges), rows = targets::

    9 2 5 8 / 6 1 3 2 / 8 4 6 8 / 7 1 2 6 / 10 5 6 9 / 6 2 4 7

Produced on 2026-12-06 with R 4.2.2 Patched (2022-11-10 r83330) and psych 2.2.9
(Debian bookworm packages r-base-core, r-cran-psych) by::

    library(psych)
    sf <- matrix(c(9,2,5,8, 6,1,3,2, 8,4,6,8, 7,1,2,6, 10,5,6,9, 6,2,4,7),
                 ncol = 4, byrow = TRUE)
    for (a in c(0.05, 0.10)) {
      r <- ICC(sf, alpha = a, lmer = FALSE)$results
      for (i in 1:3) cat(sprintf("%s %.17g %.17g %.17g %.17g %.17g\n", r$type[i],
          r$ICC[i], r$F[i], r$p[i], r[i, "lower bound"], r[i, "upper bound"]))
    }

``alpha = a`` gives two-sided (1 - a) intervals. psych's ICC1/ICC2/ICC3 are
Shrout & Fleiss' ICC(1,1), ICC(2,1), ICC(3,1) (single rater). Values are
pasted from that output unchanged (17 significant digits).
"""

from __future__ import annotations

SHROUT_FLEISS_TABLE_2 = (
    (9, 2, 5, 8),
    (6, 1, 3, 2),
    (8, 4, 6, 8),
    (7, 1, 2, 6),
    (10, 5, 6, 9),
    (6, 2, 4, 7),
)

#: confidence level → dxval key → (ICC, F, p, lower, upper), psych::ICC(sf, alpha = 1 - level).
PSYCH_ICC = {
    0.95: {
        "icc1_1": (
            0.16574176840547555,
            1.794678492239469,
            0.16476880834463961,
            -0.13293232487475087,
            0.72256006232812109,
        ),
        "icc2_1": (
            0.28976377952755922,
            11.027247956403272,
            0.00013456651648433693,
            0.018786513374712047,
            0.7610843696489531,
        ),
        "icc3_1": (
            0.71484071484071487,
            11.027247956403272,
            0.00013456651648433693,
            0.34246476503392537,
            0.94585825995535955,
        ),
    },
    0.90: {
        "icc1_1": (
            0.16574176840547555,
            1.794678492239469,
            0.16476880834463961,
            -0.096722203657742117,
            0.64339831070442322,
        ),
        "icc2_1": (
            0.28976377952755922,
            11.027247956403272,
            0.00013456651648433693,
            0.042901191540539951,
            0.69107060661835673,
        ),
        "icc3_1": (
            0.71484071484071487,
            11.027247956403272,
            0.00013456651648433693,
            0.41183413091904414,
            0.92583280768027942,
        ),
    },
}
