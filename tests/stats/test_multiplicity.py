"""Bonferroni and Holm adjusted p-values and confidence levels."""

from __future__ import annotations

import numpy as np
import pytest

from dxval.stats import MultiplicityMethod, adjust_p_values, adjusted_confidence_level


@pytest.mark.req("DXV-STAT-009")
def test_holm_matches_r_p_adjust() -> None:
    # R: p.adjust(c(0.01, 0.04, 0.03, 0.5), "holm") = 0.04 0.09 0.09 0.50
    adjusted = adjust_p_values([0.01, 0.04, 0.03, 0.5], method="holm")
    np.testing.assert_allclose(adjusted, [0.04, 0.09, 0.09, 0.5])


def test_bonferroni_caps_at_one_and_none_is_identity() -> None:
    np.testing.assert_allclose(
        adjust_p_values([0.01, 0.3], method=MultiplicityMethod.BONFERRONI), [0.02, 0.6]
    )
    np.testing.assert_allclose(adjust_p_values([0.6, 0.3], method="bonferroni"), [1.0, 0.6])
    np.testing.assert_allclose(adjust_p_values([0.6, 0.3], method="none"), [0.6, 0.3])
    assert adjust_p_values([], method="holm").size == 0


def test_holm_is_never_above_bonferroni() -> None:
    p_values = np.random.default_rng(1).random(20) / 10
    holm = adjust_p_values(p_values)
    assert (holm <= adjust_p_values(p_values, method="bonferroni") + 1e-15).all()


@pytest.mark.req("DXV-STAT-009")
def test_adjusted_confidence_level() -> None:
    assert adjusted_confidence_level(0.95, 5) == pytest.approx(0.99)
    assert adjusted_confidence_level(0.95, 5, method="holm") == pytest.approx(0.99)
    assert adjusted_confidence_level(0.95, 5, method="none") == 0.95


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"p_values: expected numbers in \[0, 1\]"):
        adjust_p_values([0.1, 1.2])
    with pytest.raises(ValueError, match="method: got 'hochberg'"):
        adjust_p_values([0.1], method="hochberg")
    with pytest.raises(ValueError, match="k: expected at least 1"):
        adjusted_confidence_level(0.95, 0)
