"""Detection statistics on a hand-built example whose answers are counted by hand.

Cases (IoU >= 0.5; boxes x0, y0, x1, y1 in pixels):
  A abnormal, lesions L1 (0,0,10,10) and L2 (20,20,30,30);
    marks m1 (0,0,10,10) 0.9 -> LL on L1; m2 (1,1,11,11) 0.8 hits L1 (IoU 81/119)
    but L1 is taken -> NL; m3 (50,50,60,60) 0.3 -> NL. L2 missed.
  B abnormal, lesion L3 (0,0,10,10); mark m4 (0,0,10,9) 0.5 -> LL (IoU 0.9).
  C normal; marks 0.7 and 0.2 -> NL, NL.
  D normal; no marks.
  E abnormal, lesion L4; no marks at all -> missed, still counted.
4 lesions, 5 images. LL ratings 0.9, -inf, 0.5, -inf; NL ratings 0.8, 0.3, 0.7, 0.2.
FROC (NLF, LLF) from the strictest threshold: (0,0) (0,.25) (.2,.25) (.4,.25) (.4,.5)
(.6,.5) (.8,.5). Sensitivity at 1/8, 1/4, 1/2, 1, 2, 4, 8 FPs/image:
.25, .25, .5, .5, .5, .5, .5 -> mean 3/7.
At threshold 0.5: lesion sensitivity 2/4; FPs 0.8 (A) and 0.7 (C) -> 2/5 per image,
1/2 per normal image (C's 0.7 over C and D). Case scores A .9, B .5, C .7, D -inf,
E -inf: case sensitivity 2/3 (A, B), specificity 1/2 (D).
AFROC: normals' highest NL: C .7, D -inf. psi per lesion vs (C, D):
L1 .9: 1+1; L2 -inf: 0+.5; L3 .5: 0+1; L4 -inf: 0+.5 -> 4 / (2 x 4) = 0.5.
wAFROC (equal weights within a case: A .5/.5, B 1, E 1):
A .5*2 + .5*.5 = 1.25; B 1; E .5 -> 2.75 / (2 x 3) = 11/24.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dxval.stats.detection import (
    CaseMatch,
    Criterion,
    FrocData,
    Localisation,
    Region,
    box_iou,
    detection_statistics,
    figure_of_merit,
    froc_curve,
    match_case,
    sensitivity_at_rates,
)

IOU = Localisation(Criterion.IOU, 0.5)


def hand_built() -> FrocData:
    box = Region.box
    cases = [
        match_case(
            [box(0, 0, 10, 10), box(20, 20, 30, 30)],
            [box(0, 0, 10, 10), box(1, 1, 11, 11), box(50, 50, 60, 60)],
            [0.9, 0.8, 0.3],
            IOU,
        ),
        match_case([box(0, 0, 10, 10)], [box(0, 0, 10, 9)], [0.5], IOU),
        match_case([], [box(0, 0, 5, 5), box(5, 5, 9, 9)], [0.7, 0.2], IOU),
        match_case([], [], [], IOU),
        match_case([box(0, 0, 10, 10)], [], [], IOU),
    ]
    return FrocData.from_cases(cases)


@pytest.mark.req("DXV-TASK-005")
def test_froc_points_on_the_hand_built_example() -> None:
    data = hand_built()
    assert data.lesion_rating.tolist() == [0.9, -math.inf, 0.5, -math.inf]
    assert sorted(data.fp_rating.tolist()) == [0.2, 0.3, 0.7, 0.8]
    thresholds, nlf, llf = froc_curve(data)
    assert thresholds[1:].tolist() == [0.9, 0.8, 0.7, 0.5, 0.3, 0.2]
    assert nlf.tolist() == pytest.approx([0, 0, 0.2, 0.4, 0.4, 0.6, 0.8])
    assert llf.tolist() == pytest.approx([0, 0.25, 0.25, 0.25, 0.5, 0.5, 0.5])
    at_rates = sensitivity_at_rates(nlf, llf)
    assert at_rates.tolist() == pytest.approx([0.25, 0.25, 0.5, 0.5, 0.5, 0.5, 0.5])


@pytest.mark.req("DXV-TASK-005")
def test_operating_point_and_figures_of_merit_by_hand() -> None:
    results = detection_statistics(hand_built(), threshold=0.5, replicates=300, seed=5)
    expected = {
        "lesion_sensitivity": 0.5,
        "fp_per_image": 0.4,
        "fp_per_normal_image": 0.5,
        "froc_cpm": 3 / 7,
        "afroc_fom": 0.5,
        "wafroc_fom": 11 / 24,
        "case_sensitivity": 2 / 3,
        "case_specificity": 0.5,
    }
    for name, value in expected.items():
        assert results[name].estimate == pytest.approx(value, abs=1e-12), name
        assert results[name].n == 5
        assert "stratified by truth" in results[name].method
    assert (results["lesion_sensitivity"].numerator, results["lesion_sensitivity"].denominator) == (
        2,
        4,
    )
    for result in results.values():
        if result.low is not None:
            assert result.low <= result.estimate <= result.high


def test_figure_of_merit_equals_the_explicit_double_sum() -> None:
    # Independent check of the sorted/weighted computation: the psi double sum written out.
    rng = np.random.default_rng(8)
    cases = []
    for index in range(30):
        lesions = rng.integers(0, 3) if index % 2 else 0
        ratings = np.where(rng.random(lesions) < 0.3, -np.inf, rng.integers(1, 6, lesions))
        fps = rng.integers(1, 6, rng.integers(0, 3)).astype(float)
        weights = np.full(lesions, 1.0 / lesions) if lesions else np.empty(0)
        cases.append(CaseMatch(ratings.astype(float), weights, fps))
    data = FrocData.from_cases(cases)
    normals = [max(c.false_positive_ratings, default=-np.inf) for c in cases if not c.abnormal]

    def psi(x: float, y: float) -> float:
        return 1.0 if y > x else 0.5 if y == x else 0.0

    lesions = [
        (r, w) for c in cases for r, w in zip(c.lesion_ratings, c.lesion_weights, strict=True)
    ]
    afroc = sum(psi(x, r) for x in normals for r, _ in lesions) / (len(normals) * len(lesions))
    abnormal = sum(c.abnormal for c in cases)
    wafroc = sum(w * psi(x, r) for x in normals for r, w in lesions) / (len(normals) * abnormal)
    assert figure_of_merit(data) == pytest.approx(afroc, abs=1e-12)
    assert figure_of_merit(data, weighted=True) == pytest.approx(wafroc, abs=1e-12)


def test_localisation_criteria() -> None:
    lesion = Region.box(10, 10, 20, 20)
    assert box_iou(lesion, Region.box(15, 10, 25, 20)) == pytest.approx(50 / 150)
    near = Region.point(16, 15)
    assert Localisation(Criterion.DISTANCE, 1.0).closeness(near, lesion, (0.5, 0.5)) == -0.5
    assert Localisation(Criterion.DISTANCE, 0.4).closeness(near, lesion, (0.5, 0.5)) is None
    assert Localisation(Criterion.INSIDE).closeness(Region.point(25, 15), lesion, None) is None
    assert Localisation(Criterion.INSIDE).closeness(near, lesion, None) is not None
    other_slice = Region.box(10, 10, 20, 20, z=3)
    assert IOU.closeness(other_slice, lesion, None) is None
    with pytest.raises(ValueError, match="needs the pixel spacing"):
        Localisation(Criterion.DISTANCE, 1.0).closeness(near, lesion, None)
    with pytest.raises(ValueError, match="x0 < x1"):
        Region.box(5, 5, 5, 9)


def test_docstring_examples_run() -> None:
    import doctest

    from dxval.stats import detection

    failures, tried = doctest.testmod(detection)
    assert tried > 0
    assert failures == 0
