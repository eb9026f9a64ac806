"""Calibration: the reference Brier, log loss, recalibration and ECE numbers; edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit
from tests.reference import asah_calibration as reference
from tests.reference.asah_data import Asah

from dxval.stats import BinConvention, Status, calibration


@pytest.fixture(scope="module")
def probabilities(asah: Asah) -> np.ndarray:
    return np.asarray(
        expit(reference.INTERCEPT_LOGIT + reference.SLOPE_LOGIT * asah.scores["s100b"])
    )


@pytest.mark.req("DXV-STAT-008")
def test_reference_values(asah: Asah, probabilities: np.ndarray) -> None:
    result = calibration(asah.truth, probabilities)
    assert result.brier == pytest.approx(reference.BRIER, rel=1e-9)
    assert result.log_loss == pytest.approx(reference.LOG_LOSS, rel=1e-9)
    assert result.slope.estimate == pytest.approx(reference.CALIBRATION_SLOPE, rel=1e-9)
    assert result.intercept.estimate == pytest.approx(reference.CALIBRATION_IN_THE_LARGE, rel=1e-9)
    assert result.bin_convention is BinConvention.LEFT_CLOSED
    assert result.ece == pytest.approx(reference.ECE_LEFT_CLOSED, rel=1e-9)
    right = calibration(asah.truth, probabilities, bin_convention="right_closed")
    assert right.ece == pytest.approx(reference.ECE_RIGHT_CLOSED, rel=1e-9)
    assert right.to_dict()["bin_convention"] == "right_closed"


def test_reliability_points_and_mce(asah: Asah, probabilities: np.ndarray) -> None:
    result = calibration(asah.truth, probabilities)
    assert sum(point.count for point in result.reliability) == asah.truth.size
    assert len(result.reliability) == 10
    gaps = [
        abs(point.observed_fraction - point.mean_predicted)
        for point in result.reliability
        if point.observed_fraction is not None and point.mean_predicted is not None
    ]
    assert result.mce == pytest.approx(max(gaps))
    assert result.ece == pytest.approx(
        sum(
            point.count
            / asah.truth.size
            * abs((point.observed_fraction or 0) - (point.mean_predicted or 0))
            for point in result.reliability
        )
    )
    empty = [point for point in result.reliability if point.count == 0]
    assert all(point.mean_predicted is None for point in empty)


def test_slope_interval_is_wald_from_the_information(asah: Asah, probabilities: np.ndarray) -> None:
    result = calibration(asah.truth, probabilities, confidence_level=0.9)
    slope = result.slope
    assert slope.status is Status.OK
    assert slope.variance is not None
    assert slope.low == pytest.approx(
        (slope.estimate or 0) - 1.6448536269514722 * slope.variance**0.5
    )
    assert result.to_dict()["calibration_slope"]["confidence_level"] == 0.9


def test_well_calibrated_probabilities_give_slope_near_one() -> None:
    rng = np.random.default_rng(5)
    probabilities = rng.uniform(0.05, 0.95, 20_000)
    truth = rng.random(20_000) < probabilities
    result = calibration(truth, probabilities)
    assert result.slope.low is not None
    assert result.slope.high is not None
    assert result.slope.low < 1.0 < result.slope.high
    assert abs(result.intercept.estimate or 1.0) < 0.1


def test_probability_of_zero_or_one_makes_recalibration_undefined() -> None:
    truth = np.array([True, False, True, False])
    result = calibration(truth, np.array([1.0, 0.2, 0.7, 0.0]))
    assert result.slope.status is Status.UNDEFINED
    assert "infinite log-odds" in (result.slope.reason or "")
    assert result.log_loss is not None  # 1 met a positive, 0 a negative: finite
    wrong = calibration(truth, np.array([0.0, 0.2, 0.7, 0.1]))
    assert wrong.log_loss is None
    assert "opposite outcome" in (wrong.log_loss_reason or "")
    assert wrong.to_dict()["log_loss"] is None


def test_separation_makes_recalibration_undefined() -> None:
    truth = np.array([False, False, True, True])
    result = calibration(truth, np.array([0.1, 0.2, 0.3, 0.4]))
    assert result.slope.status is Status.UNDEFINED
    assert "separated" in (result.slope.reason or "")


def test_bad_probabilities_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"probabilities: expected values in \[0, 1\]"):
        calibration(np.array([True, False]), np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match="bin_convention: got 'closed'"):
        calibration(np.array([True, False]), np.array([0.5, 0.5]), bin_convention="closed")
