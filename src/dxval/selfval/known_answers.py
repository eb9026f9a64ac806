"""Known-answer tests: dxval's statistics against values computed outside dxval.

Three sets run always: the binomial intervals against statsmodels and
Newcombe (1998); the ROC area of Hanley & McNeil's (1982) CT data against the
published value; and DeLong's variance of that area against an independent
exact computation in rational arithmetic from the definition (DeLong, DeLong
& Clarke-Pearson 1988, structural components), which dxval's fast algorithm
(Sun & Xu 2014) must reproduce. The aSAH set (pROC, scikit-learn, rms
reference values) runs when the aSAH CSV is supplied.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from statistics import NormalDist

import numpy as np

from dxval.errors import InputError
from dxval.selfval import reference
from dxval.selfval.checks import CheckResult, compare_exact, compare_values
from dxval.stats import (
    BinConvention,
    auc_delong,
    average_precision,
    calibration,
    confusion_counts,
    delong_paired_test,
    proportion_ci,
)

GROUP = "known answers"
REFERENCE_TOLERANCE = 1e-9


def _interval(count: int, total: int, method: str) -> list[float | None]:
    estimate = proportion_ci(count, total, method=method)
    return [estimate.low, estimate.high]


def binomial_checks() -> list[CheckResult]:
    """Wilson, Clopper-Pearson, Agresti-Coull, Jeffreys and continuity-corrected intervals."""
    checks = []
    for (count, total), (wilson, exact) in reference.WILSON_AND_CLOPPER_PEARSON.items():
        for method, expected in (("wilson", wilson), ("clopper_pearson", exact)):
            checks.append(
                compare_values(
                    GROUP,
                    f"{method} 95% CI of {count}/{total}",
                    expected,
                    _interval(count, total, method),
                    relative=REFERENCE_TOLERANCE,
                    source=reference.BINOMIAL_SOURCE,
                )
            )
    for method, table in (
        ("agresti_coull", reference.AGRESTI_COULL),
        ("jeffreys", reference.JEFFREYS),
    ):
        for (count, total), expected in table.items():
            checks.append(
                compare_values(
                    GROUP,
                    f"{method} 95% CI of {count}/{total}",
                    expected,
                    _interval(count, total, method),
                    relative=REFERENCE_TOLERANCE,
                    source=reference.BINOMIAL_SOURCE,
                )
            )
    for (count, total), (wilson, corrected) in reference.NEWCOMBE_1998.items():
        for method, expected in (("wilson", wilson), ("wilson_cc", corrected)):
            checks.append(
                compare_values(
                    GROUP,
                    f"{method} 95% CI of {count}/{total} (published to 4 decimals)",
                    expected,
                    _interval(count, total, method),
                    relative=0.0,
                    absolute=5e-5,
                    source=reference.NEWCOMBE_SOURCE,
                )
            )
    return checks


def _exact_delong(negatives: Sequence[int], positives: Sequence[int]) -> tuple[Fraction, Fraction]:
    """AUC and DeLong variance in exact rational arithmetic, from the 1988 definition.

    ψ(x, y) = 1 if y > x, ½ if y = x, 0 otherwise (x negative, y positive);
    V10(y) = mean over x of ψ, V01(x) = mean over y of ψ;
    Var = S10/m + S01/n with S the sample variances (denominator − 1).
    """

    def psi(negative: int, positive: int) -> Fraction:
        """The Mann-Whitney kernel of one (negative, positive) pair."""
        return (
            Fraction(1)
            if positive > negative
            else Fraction(1, 2)
            if positive == negative
            else Fraction(0)
        )

    m, n = len(positives), len(negatives)
    v10 = [sum((psi(x, y) for x in negatives), Fraction(0)) / n for y in positives]
    v01 = [sum((psi(x, y) for y in positives), Fraction(0)) / m for x in negatives]
    auc = sum(v10, Fraction(0)) / m
    s10 = sum(((value - auc) ** 2 for value in v10), Fraction(0)) / (m - 1)
    s01 = sum(((value - auc) ** 2 for value in v01), Fraction(0)) / (n - 1)
    return auc, s10 / m + s01 / n


def _expand(counts: Sequence[int]) -> list[int]:
    return [rating for rating, count in enumerate(counts, start=1) for _ in range(count)]


def hanley_mcneil_checks() -> list[CheckResult]:
    """ROC area of the Hanley & McNeil CT data; DeLong variance and CI against exact values."""
    negatives = _expand(reference.HANLEY_MCNEIL_NORMAL)
    positives = _expand(reference.HANLEY_MCNEIL_ABNORMAL)
    truth = np.array([False] * len(negatives) + [True] * len(positives))
    scores = np.array(negatives + positives, dtype=float)
    estimate = auc_delong(truth, scores, confidence_level=0.95)
    auc, variance = _exact_delong(negatives, positives)
    half_width = NormalDist().inv_cdf(0.975) * float(variance) ** 0.5
    exact_source = "exact rational computation from DeLong et al. (1988), independent of dxval"
    return [
        compare_values(
            GROUP,
            "ROC AUC of Hanley & McNeil CT ratings (published to 3 decimals)",
            [reference.HANLEY_MCNEIL_AUC],
            [estimate.estimate],
            relative=0.0,
            absolute=5e-4,
            source=reference.HANLEY_MCNEIL_SOURCE,
        ),
        compare_values(
            GROUP,
            "ROC AUC of Hanley & McNeil CT ratings (exact Mann-Whitney)",
            [float(auc)],
            [estimate.estimate],
            relative=1e-12,
            source=exact_source,
        ),
        compare_values(
            GROUP,
            "DeLong variance and 95% CI of that AUC",
            [float(variance), float(auc) - half_width, float(auc) + half_width],
            [estimate.variance, estimate.low, estimate.high],
            relative=1e-9,
            source=exact_source,
        ),
    ]


def read_asah(path: str | Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Truth (outcome == "Poor") and the s100b, ndka, wfns scores of pROC's aSAH CSV.

    Raises
    ------
    InputError
        The file is unreadable, lacks a column, or is not the 113-row data set.
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        truth = np.array([row["outcome"] == "Poor" for row in rows])
        scores = {
            name: np.array([float(row[name]) for row in rows]) for name in ("s100b", "ndka", "wfns")
        }
    except OSError as error:
        raise InputError(f"{path}: cannot read the aSAH data ({error.strerror})") from error
    except (KeyError, ValueError) as error:
        raise InputError(
            f"{path}: expected pROC's aSAH CSV with outcome, s100b, ndka, wfns ({error})"
        ) from error
    if len(rows) != reference.ASAH_ROWS or int(truth.sum()) != reference.ASAH_POSITIVES:
        raise InputError(
            f"{path}: got {len(rows)} rows ({int(truth.sum())} Poor) expected pROC's aSAH data "
            f"({reference.ASAH_ROWS} rows, {reference.ASAH_POSITIVES} Poor)"
        )
    return truth, scores


def _asah_roc_checks(truth: np.ndarray, scores: dict[str, np.ndarray]) -> list[CheckResult]:
    """pROC's AUC, DeLong variance and CI per predictor, and its paired DeLong tests."""
    checks = []
    for name, (auc, variance, (low, high)) in reference.ASAH_AUC.items():
        estimate = auc_delong(truth, scores[name])
        checks.append(
            compare_values(
                GROUP,
                f"aSAH {name}: AUC, DeLong variance, 95% CI",
                [auc, variance, low, high],
                [estimate.estimate, estimate.variance, estimate.low, estimate.high],
                relative=REFERENCE_TOLERANCE,
                source=reference.ASAH_SOURCE,
            )
        )
    for (first, second), (z, p_value, (low, high)) in reference.ASAH_PAIRED.items():
        test = delong_paired_test(truth, scores[first], scores[second])
        checks.append(
            compare_values(
                GROUP,
                f"aSAH paired DeLong {first} vs {second}: Z, p, 95% CI of difference",
                [z, p_value, low, high],
                [test.z, test.p_value, test.difference.low, test.difference.high],
                relative=REFERENCE_TOLERANCE,
                source=reference.ASAH_SOURCE,
            )
        )
    return checks


def _asah_decision_checks(truth: np.ndarray, scores: dict[str, np.ndarray]) -> list[CheckResult]:
    """pROC's counts at fixed thresholds and scikit-learn's average precision."""
    checks = []
    for name, threshold, expected in reference.ASAH_COUNTS:
        counts = confusion_counts(truth, scores[name], threshold)
        checks.append(
            compare_exact(
                GROUP,
                f"aSAH {name} >= {threshold}: TP, FP, TN, FN",
                expected,
                (counts.tp, counts.fp, counts.tn, counts.fn),
                source=reference.ASAH_SOURCE,
            )
        )
    for name, expected_ap in reference.ASAH_AVERAGE_PRECISION.items():
        estimate = average_precision(truth, scores[name], seed=1, replicates=100)
        checks.append(
            compare_values(
                GROUP,
                f"aSAH {name}: average precision (step-wise)",
                [expected_ap],
                [estimate.estimate],
                relative=REFERENCE_TOLERANCE,
                source=reference.ASAH_SOURCE,
            )
        )
    return checks


def _asah_calibration_check(truth: np.ndarray, s100b: np.ndarray) -> CheckResult:
    """Calibration of plogis(-1.5 + 3 s100b) against R rms::val.prob and statsmodels."""
    probabilities = 1.0 / (1.0 + np.exp(-(-1.5 + 3.0 * s100b)))
    result = calibration(truth, probabilities, bins=10, bin_convention=BinConvention.LEFT_CLOSED)
    wanted = reference.ASAH_CALIBRATION
    return compare_values(
        GROUP,
        "aSAH calibration of plogis(-1.5 + 3 s100b): Brier, log loss, slope, intercept, ECE",
        [
            wanted["brier"],
            wanted["log_loss"],
            wanted["slope"],
            wanted["intercept"],
            wanted["ece_left_closed"],
        ],
        [
            result.brier,
            result.log_loss,
            result.slope.estimate,
            result.intercept.estimate,
            result.ece,
        ],
        relative=REFERENCE_TOLERANCE,
        source=reference.ASAH_SOURCE,
    )


def asah_checks(path: str | Path) -> list[CheckResult]:
    """pROC, scikit-learn and rms reference values on the aSAH data at ``path``.

    Raises
    ------
    InputError
        See :func:`read_asah`.
    """
    truth, scores = read_asah(path)
    return [
        *_asah_roc_checks(truth, scores),
        *_asah_decision_checks(truth, scores),
        _asah_calibration_check(truth, scores["s100b"]),
    ]


def known_answer_checks(asah: str | Path | None = None) -> list[CheckResult]:
    """Every known-answer check; the aSAH set only when ``asah`` names its CSV.

    Raises
    ------
    InputError
        ``asah`` is given but is not pROC's aSAH data.
    """
    checks = binomial_checks() + hanley_mcneil_checks()
    if asah is not None:
        checks += asah_checks(asah)
    return checks
