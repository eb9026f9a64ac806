"""The ``ct_window`` perturbation: the model's CT window moved, the pixels untouched (issue 19)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from dxval.dicom.failures import CaseFailure, ReasonCode
from dxval.dicom.loader import CaseLoader
from dxval.dicom.perturbations import (
    Perturbation,
    apply_perturbation,
    make_perturbation,
    window_problem,
    window_steps,
)
from dxval.dicom.perturbed_loader import PerturbedCaseLoader
from dxval.dicom.steps import ModalityLutOp, ResizeOp, VoiLutOp, WindowOp
from dxval.errors import InputError, ProtocolError

STEPS = (ModalityLutOp(), WindowOp(center=40, width=400), ResizeOp(size=(16, 16)))


def _window(shift: float, scale: float) -> Perturbation:
    return make_perturbation("ct_window", {"center_shift": shift, "width_scale": scale}, seed=3)


@pytest.mark.req("DXV-ROBUST2-001")
def test_window_steps_move_the_centre_and_scale_the_width_only() -> None:
    moved = window_steps(STEPS, _window(-60, 2.5))
    assert moved[1] == WindowOp(center=-20, width=1000)
    assert moved[0] == STEPS[0]
    assert moved[2] == STEPS[2]
    assert STEPS[1] == WindowOp(center=40, width=400)  # the model's own steps are not changed


@pytest.mark.req("DXV-ROBUST2-001")
def test_identity_window_is_the_same_steps_and_other_perturbations_do_not_move_it() -> None:
    identity = _window(0, 1)
    assert identity.is_identity
    assert window_steps(STEPS, identity) == STEPS
    noise = make_perturbation("gaussian_noise", {"relative_sd": 0.1}, seed=1)
    assert window_steps(STEPS, noise) == STEPS
    assert window_problem((VoiLutOp(),), noise) is None  # only ct_window needs a window


@pytest.mark.req("DXV-ROBUST2-003")
@pytest.mark.parametrize(
    ("steps", "problem"),
    [
        ((ModalityLutOp(), VoiLutOp()), "no window step"),
        ((WindowOp(center=40, width=400),), "without modality_lut before it"),
        ((ModalityLutOp(), WindowOp(center=40, width=1.5)), "window width of 0.75 after scaling"),
    ],
)
def test_steps_without_a_usable_ct_window_are_refused(steps: tuple, problem: str) -> None:
    perturbation = _window(10, 0.5)
    found = window_problem(steps, perturbation)
    assert found is not None
    assert problem in found
    with pytest.raises(InputError, match="expected \\{op: window\\} \\(HU\\)"):
        window_steps(steps, perturbation)


@pytest.mark.req("DXV-ROBUST2-001")
def test_parameters_are_checked_and_pixels_are_never_changed_by_a_window_level() -> None:
    with pytest.raises(ProtocolError, match=r"width_scale: got 0, expected a number from 0\.1"):
        make_perturbation("ct_window", {"center_shift": 0, "width_scale": 0}, seed=0)
    with pytest.raises(ProtocolError, match="expected center_shift, width_scale"):
        make_perturbation("ct_window", {"center_shift": 10}, seed=0)
    image = np.arange(16.0).reshape(4, 4)
    with pytest.raises(InputError, match="expected the model's preprocessing steps"):
        apply_perturbation(image, (1.0, 1.0), _window(10, 1))


@pytest.mark.req("DXV-ROBUST2-002")
def test_every_window_level_has_its_own_cache_key() -> None:
    plain = CaseLoader(STEPS).digest
    digests = {
        PerturbedCaseLoader(STEPS, perturbation=_window(shift, scale)).digest
        for shift, scale in ((0, 1), (10, 1), (0, 1.5), (10, 1.5))
    }
    assert len(digests) == 4
    assert plain not in digests


@pytest.mark.req("DXV-ROBUST2-003")
def test_a_case_that_is_not_ct_fails_at_a_window_level(tmp_path: Path) -> None:
    dataset = pydicom.dcmread(str(get_testdata_file("CT_small.dcm")))
    dataset.Modality = "MR"
    path = tmp_path / "mr.dcm"
    dataset.save_as(path)
    loader = PerturbedCaseLoader(STEPS, perturbation=_window(100, 1))
    with pytest.raises(CaseFailure) as failure:
        loader.load([path])
    assert failure.value.reason_code is ReasonCode.PERTURBATION_FAILED
    assert "got Modality 'MR', expected 'CT'" in str(failure.value)
