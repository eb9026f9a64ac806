"""The committed demo model: size, signature, ONNX/TorchScript agreement, recorded digests.

The artifacts live in models/demo/ (trained by models/demo/train.py); these
tests check what the demo protocol relies on, on inputs produced by dxval's
own loader from generated demo files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from dxval.demo import DemoResult
from dxval.dicom.loader import CaseLoader
from dxval.protocol.preprocessing import plain_steps

MODEL_FOLDER = Path(__file__).resolve().parents[2] / "models" / "demo"
ONNX_PATH = MODEL_FOLDER / "demo-nodule.onnx"
TORCHSCRIPT_PATH = MODEL_FOLDER / "demo-nodule.pt"
PREPROCESSING = [
    {"op": "modality_lut"},
    {"op": "voi_lut"},
    {"op": "monochrome2"},
    {"op": "resize", "size": [128, 128], "method": "area"},
    {"op": "scale", "low": 0.0, "high": 1.0},
    {"op": "to_channels", "channels": 1},
]


@pytest.fixture(scope="module")
def labelled_inputs(
    small_demo: DemoResult, read_manifest: Callable[[Path], list[dict[str, str]]]
) -> tuple[np.ndarray, np.ndarray]:
    """Model inputs [N, 1, 128, 128] and labels [N] of the readable cases of the small demo."""
    loader = CaseLoader(plain_steps(PREPROCESSING), expected_shape=(1, 128, 128))
    tensors, labels = [], []
    for site in small_demo.sites:
        for row in read_manifest(site.manifest):
            if row["case_id"] not in site.truncated_case_ids:
                tensors.append(loader((site.manifest.parent / row["path"],)))
                labels.append(row["label"] == "1")
    return np.stack(tensors), np.array(labels)


@pytest.fixture(scope="module")
def inputs(labelled_inputs: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The model inputs alone."""
    return labelled_inputs[0]


@pytest.mark.parametrize("path", [ONNX_PATH, TORCHSCRIPT_PATH], ids=lambda path: path.name)
def test_artifacts_are_small_and_match_the_training_report(path: Path) -> None:
    assert path.stat().st_size <= 2 * 1024 * 1024
    report = json.loads((MODEL_FOLDER / "training-report.json").read_text(encoding="utf-8"))
    recorded = report["artifacts"][path.name]
    assert recorded["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert recorded["bytes"] == path.stat().st_size


def test_onnx_signature_has_a_dynamic_batch() -> None:
    graph = onnx.load(str(ONNX_PATH)).graph
    (image,), (score,) = graph.input, graph.output
    assert image.name == "image"
    assert score.name == "score"
    image_shape = [d.dim_param or d.dim_value for d in image.type.tensor_type.shape.dim]
    score_shape = [d.dim_param or d.dim_value for d in score.type.tensor_type.shape.dim]
    assert image_shape == ["batch", 1, 128, 128]
    assert score_shape == ["batch", 1]
    assert image.type.tensor_type.elem_type == onnx.TensorProto.FLOAT


# TorchScript is deprecated in torch 2.13 but is the artifact format the torch runner loads
@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")
def test_onnx_and_torchscript_agree_on_real_inputs(inputs: np.ndarray) -> None:
    session = onnxruntime.InferenceSession(str(ONNX_PATH), providers=["CPUExecutionProvider"])
    scripted = torch.jit.load(str(TORCHSCRIPT_PATH))
    for batch in (inputs[:1], inputs[:7], inputs):
        (from_onnx,) = session.run(["score"], {"image": batch})
        with torch.no_grad():
            from_torch = scripted(torch.from_numpy(batch)).numpy()
        assert from_onnx.shape == (len(batch), 1)
        assert np.max(np.abs(from_onnx - from_torch)) <= 1e-5


def test_positive_cases_score_higher_on_average(
    labelled_inputs: tuple[np.ndarray, np.ndarray],
) -> None:
    # a smoke check on a tiny set, not a performance claim (see MODEL_CARD.md)
    inputs, labels = labelled_inputs
    assert labels.any()
    assert not labels.all()
    session = onnxruntime.InferenceSession(str(ONNX_PATH), providers=["CPUExecutionProvider"])
    (logits,) = session.run(["score"], {"image": inputs})
    assert np.isfinite(logits).all()
    assert logits[labels, 0].mean() > logits[~labels, 0].mean() + 1.0
