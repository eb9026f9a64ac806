"""The shipped reference model is exactly the documented ONNX graph, and computes max - mean."""

from __future__ import annotations

import hashlib

import numpy as np
import onnxruntime
from onnx import TensorProto, helper

from dxval.selfval.model import (
    INPUT_NAME,
    INPUT_SIZE,
    MODEL_SHA256,
    OUTPUT_NAME,
    expected_scores,
    model_bytes,
)


def test_bytes_are_the_documented_graph() -> None:
    nodes = [
        helper.make_node("ReduceMax", [INPUT_NAME], ["peak"], axes=[2, 3], keepdims=0),
        helper.make_node("ReduceMean", [INPUT_NAME], ["level"], axes=[2, 3], keepdims=0),
        helper.make_node("Sub", ["peak", "level"], [OUTPUT_NAME]),
    ]
    shape = ["batch", 1, INPUT_SIZE, INPUT_SIZE]
    graph = helper.make_graph(
        nodes,
        "peak_minus_mean",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", 1])],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="dxval-selfval"
    )
    model.ir_version = 8
    assert model.SerializeToString() == model_bytes()
    assert hashlib.sha256(model_bytes()).hexdigest() == MODEL_SHA256


def test_onnxruntime_computes_max_minus_mean() -> None:
    session = onnxruntime.InferenceSession(model_bytes(), providers=["CPUExecutionProvider"])
    batch = np.random.default_rng(7).random((3, 1, INPUT_SIZE, INPUT_SIZE), dtype=np.float32)
    (scores,) = session.run(None, {INPUT_NAME: batch})
    assert scores.shape == (3, 1)
    np.testing.assert_allclose(scores.ravel(), expected_scores(batch), atol=1e-6)
