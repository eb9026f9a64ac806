"""Calibration reference values on the aSAH data (tests/data/aSAH.csv).

Source: shared/reference/README.md. Model p = plogis(-1.5 + 3 * s100b),
outcome Poor. R ``rms::val.prob(p, y)`` and statsmodels agree on:

- Brier score ``mean((p - y)^2)``
- log loss ``-mean(y log p + (1 - y) log(1 - p))``
- calibration slope: ``coef(glm(y ~ qlogis(p), family = binomial))[2]``
- calibration-in-the-large: ``coef(glm(y ~ offset(qlogis(p)), family = binomial))[1]``
- ECE over 10 equal-width bins, sum_b (n_b / N) |mean(y_b) - mean(p_b)|, under
  both bin conventions (one prediction is exactly 0.5).

Match to 1e-9 relative.
"""

from __future__ import annotations

INTERCEPT_LOGIT = -1.5
SLOPE_LOGIT = 3.0
BRIER = 0.1895951799
LOG_LOSS = 0.5635471742
CALIBRATION_SLOPE = 1.634773659
CALIBRATION_IN_THE_LARGE = 0.1913951869
ECE_RIGHT_CLOSED = 0.1163114603  # (a, b] bins
ECE_LEFT_CLOSED = 0.09861234523  # [a, b) bins
