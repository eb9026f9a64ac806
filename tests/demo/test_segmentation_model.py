"""The demo segmentation model and its data (``dxval demo generate --task segmentation-model``)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
from onnx import TensorProto, checker, helper

from dxval.demo.pins import stale_reason
from dxval.demo.segmentation_model import (
    LESION_THRESHOLD_HU,
    LIVER_THRESHOLD_HU,
    MODEL_SHA256,
    expected_labels,
    model_bytes,
)
from dxval.demo.tasks import generate_task_demo
from dxval.protocol import load_protocol

REPOSITORY = Path(__file__).resolve().parents[2]
PROTOCOL = REPOSITORY / "protocols" / "demo-segmentation-model.yaml"


def _rebuild() -> bytes:
    """The model from the description in dxval.demo.segmentation_model's docstring."""
    shape = ["batch", 16, 48, 48]
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, shape)
    labels = helper.make_tensor_value_info("labels", TensorProto.FLOAT, shape)
    liver = helper.make_tensor("liver_hu", TensorProto.FLOAT, [], [LIVER_THRESHOLD_HU])
    lesion = helper.make_tensor("lesion_hu", TensorProto.FLOAT, [], [LESION_THRESHOLD_HU])
    nodes = [
        helper.make_node("GreaterOrEqual", ["image", "liver_hu"], ["in_liver"]),
        helper.make_node("GreaterOrEqual", ["image", "lesion_hu"], ["in_lesion"]),
        helper.make_node("Cast", ["in_liver"], ["liver"], to=TensorProto.FLOAT),
        helper.make_node("Cast", ["in_lesion"], ["lesion"], to=TensorProto.FLOAT),
        helper.make_node("Add", ["liver", "lesion"], ["labels"]),
    ]
    graph = helper.make_graph(nodes, "threshold_segmentation", [image], [labels], [liver, lesion])
    model = helper.make_model(
        graph, producer_name="dxval-demo", opset_imports=[helper.make_opsetid("", 17)]
    )
    model.ir_version = 8
    checker.check_model(model)
    return model.SerializeToString()


@pytest.mark.req("DXV-TASKMODEL-006")
def test_the_shipped_model_bytes_are_the_described_graph_and_compute_the_thresholds() -> None:
    assert _rebuild() == model_bytes()
    assert hashlib.sha256(model_bytes()).hexdigest() == MODEL_SHA256
    session = onnxruntime.InferenceSession(model_bytes(), providers=["CPUExecutionProvider"])
    hu = np.random.default_rng(3).normal(50.0, 60.0, (2, 16, 48, 48)).astype(np.float32)
    hu[0, 0, 0, :3] = [LIVER_THRESHOLD_HU, LESION_THRESHOLD_HU, np.nextafter(np.float32(10), 0)]
    (labels,) = session.run(["labels"], {"image": hu})
    np.testing.assert_array_equal(labels, expected_labels(hu))
    np.testing.assert_array_equal(labels[0, 0, 0, :3], [1, 2, 0])  # >= is positive


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.req("DXV-TASKMODEL-006")
def test_the_same_seed_gives_the_same_series_masks_and_model(tmp_path: Path) -> None:
    task = "segmentation-model"
    generate_task_demo(tmp_path / "one", task=task, cases_per_site=2, seed=5)
    generate_task_demo(tmp_path / "two", task=task, cases_per_site=2, seed=5)
    generate_task_demo(tmp_path / "three", task=task, cases_per_site=2, seed=6)
    one = _files(tmp_path / "one")
    assert one == _files(tmp_path / "two")
    assert one != _files(tmp_path / "three")
    assert one["model/demo-liver-threshold.onnx"] == model_bytes()
    assert len([name for name in one if name.startswith("site-a/cases/AM001/series/")]) == 16


@pytest.mark.req("DXV-TASKMODEL-006")
def test_the_demo_protocol_pins_the_generated_data_model_and_golden_input(tmp_path: Path) -> None:
    (tmp_path / "protocols").mkdir()
    protocol = tmp_path / "protocols" / PROTOCOL.name
    shutil.copy(PROTOCOL, protocol)
    data = tmp_path / "demo-data-segmentation-model"
    generate_task_demo(data, task="segmentation-model", seed=20260101)
    assert stale_reason(protocol, data) is None  # every test-set pin holds
    model = load_protocol(protocol).protocol.model
    assert model is not None
    assert model.sha256 == MODEL_SHA256
    assert model.reference is not None
    reference = (data / "model" / "reference-input.npy").read_bytes()
    assert model.reference.input_sha256 == hashlib.sha256(reference).hexdigest()
