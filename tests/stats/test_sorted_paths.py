"""The two-sort paths of the DeLong AUC and the logit-interval AP equal the general ones.

``auc_delong`` and ``average_precision_logit`` count below/tied/above by binary
search in each class's sorted scores (issue 18: ``dxval metrics`` on a million
cases); the general implementations (Sun & Xu midranks, score histograms)
stay the references, themselves checked against pROC and scikit-learn in
tests/stats/test_delong.py and tests/stats/test_precision_recall.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from dxval.stats import auc_delong, average_precision_logit, structural_components
from dxval.stats._resampling import bin_cases, observed_histograms
from dxval.stats.delong import delong_covariance
from dxval.stats.precision_recall import average_precision_from_histograms


@pytest.mark.parametrize(("size", "decimals"), [(7, 1), (500, 1), (5_000, 2), (20_000, 6)])
def test_two_sort_auc_and_variance_equal_the_midrank_algorithm(size: int, decimals: int) -> None:
    rng = np.random.default_rng(size)
    truth = rng.random(size) < 0.35
    truth[:2], truth[2:4] = True, False
    scores = np.round(rng.normal(size=size) + truth, decimals)  # ties at every size
    fast = auc_delong(truth, scores)
    components = structural_components(truth, scores, case_order=False)
    assert fast.estimate == pytest.approx(components.auc, rel=1e-13, abs=0)
    assert fast.estimate == pytest.approx(roc_auc_score(truth, scores), rel=1e-13, abs=0)
    variance = float(delong_covariance([components])[0, 0])
    assert fast.variance == pytest.approx(variance, rel=1e-10)


@pytest.mark.parametrize(("size", "decimals"), [(9, 1), (800, 1), (30_000, 3)])
def test_two_sort_average_precision_equals_the_histogram_one(size: int, decimals: int) -> None:
    rng = np.random.default_rng(size + 1)
    truth = rng.random(size) < 0.2
    truth[:2], truth[2] = True, False
    scores = np.round(rng.normal(size=size) + truth, decimals)
    fast = average_precision_logit(truth, scores)
    positive, negative = observed_histograms(bin_cases(truth, scores, None))
    reference = float(average_precision_from_histograms(positive, negative)[0])
    assert fast.estimate == pytest.approx(reference, rel=1e-12)
    if decimals >= 3:  # scikit-learn's AP equals the step-wise one when ties are rare
        assert fast.estimate == pytest.approx(average_precision_score(truth, scores), rel=1e-9)
