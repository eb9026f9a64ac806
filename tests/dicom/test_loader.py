"""CaseLoader: picklable, shape-checked, records its decoders."""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from tests.dicom.conftest import real_file

from dxval.dicom.failures import CaseFailure, ReasonCode
from dxval.dicom.loader import CaseLoader
from dxval.dicom.steps import preprocessing_digest
from dxval.protocol.preprocessing import parse_steps, plain_steps

RAW = [
    {"op": "modality_lut"},
    {"op": "window", "center": 40, "width": 400},
    {"op": "resize", "size": [32, 32]},
    {"op": "to_channels", "channels": 1},
]
STEPS = plain_steps(RAW)


def _load(loader: CaseLoader, path: Path) -> np.ndarray:
    return loader([path])


def test_loader_pickles_and_runs_in_a_worker_process() -> None:
    loader = CaseLoader(STEPS, expected_shape=(1, None, 32))
    clone = pickle.loads(pickle.dumps(loader))  # noqa: S301  (our own object)
    assert clone.steps == loader.steps
    path = real_file("CT_small.dcm")
    with ProcessPoolExecutor(max_workers=1) as pool:
        remote = pool.submit(_load, loader, path).result()
    assert np.array_equal(remote, loader([path]))
    assert remote.shape == (1, 32, 32)
    assert remote.dtype == np.float32


def test_loader_takes_plain_steps_and_reports_digest() -> None:
    from_models = plain_steps(parse_steps(RAW))
    assert CaseLoader(from_models).digest == CaseLoader(STEPS).digest
    assert CaseLoader(STEPS).digest == preprocessing_digest(STEPS)
    assert "modality_lut, window, resize, to_channels" in repr(CaseLoader(STEPS))
    with pytest.raises(ValueError, match=r"preprocessing\[1\] \(modality_lut\)"):
        CaseLoader(plain_steps([{"op": "scale"}]) + plain_steps([{"op": "modality_lut"}]))


def test_shape_mismatch_against_the_model_input() -> None:
    loader = CaseLoader(STEPS, expected_shape=(3, 32, 32))
    with pytest.raises(
        CaseFailure,
        match=r"preprocessed shape \(1, 32, 32\) does not fit the model input \(3, 32, 32\)",
    ) as caught:
        loader([real_file("CT_small.dcm")])
    assert caught.value.reason_code is ReasonCode.SHAPE_MISMATCH


def test_failure_pickles_with_its_reason() -> None:
    failure = CaseFailure("not_dicom", "x.dcm: not DICOM")
    clone = pickle.loads(pickle.dumps(failure))  # noqa: S301  (our own object)
    assert (clone.reason_code, clone.message, str(clone)) == (
        ReasonCode.NOT_DICOM,
        "x.dcm: not DICOM",
        "not_dicom: x.dcm: not DICOM",
    )
    with pytest.raises(ValueError, match="'crashed' is not a valid ReasonCode"):
        CaseFailure("crashed", "no such code")
