"""A model comparator scored by the locked harness (issue 13): lock.json and the audit log
record which model was scored by which runner on which device."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from tests.e2e.test_validate_model import WEIGHTS, _audit, _bundle, _make_protocol, _validate

from dxval.cli import main

COMPARATOR = """\
comparators:
  - id: released
    role: last_released
    model:
      path: released.onnx
      runtime: onnxruntime
      input: {name: image, shape: [null, 1, 16, 16], dtype: float32}
      output: {name: score, activation: sigmoid, positive_index: 0}
      operating_point: 0.5
    preprocessing:
      - {op: modality_lut}
      - {op: window, center: 50, width: 350}
      - {op: resize, size: [16, 16], method: area}
      - {op: to_channels, channels: 1}
"""
CRITERION = """\
  - id: CMP-001
    text: At most all calls change.
    criteria:
      - {metric: flip_fraction, against: released, population: all, op: "<=", value: 1.0}
"""


def _write_released(path: Path) -> None:
    """Another linear model: the weights reversed."""
    weights = np.ascontiguousarray(WEIGHTS[::-1])
    graph = helper.make_graph(
        [
            helper.make_node("Flatten", ["image"], ["flat"], axis=1),
            helper.make_node("MatMul", ["flat", "w"], ["score"]),
        ],
        "linear",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, 16, 16])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["batch", 1])],
        [numpy_helper.from_array(weights, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())


@pytest.mark.req("DXV-PCCP-004")
def test_model_comparator_runs_through_the_harness_and_is_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = _make_protocol(tmp_path)
    _write_released(tmp_path / "released.onnx")
    text = protocol.read_text().replace(
        "requirements:\n", COMPARATOR + "requirements:\n" + CRITERION
    )
    protocol.write_text(text)
    assert main(["lock", str(protocol)]) == 0
    assert "comparators[0].model.sha256" in capsys.readouterr().out
    out = tmp_path / "evidence"
    assert _validate(protocol, out) == 0, capsys.readouterr().err
    bundle = _bundle(out)
    lock = json.loads((bundle / "lock.json").read_text())
    (released,) = lock["comparators"]
    assert released["model"]["path"] == "released.onnx"
    assert released["runner"]["name"] == "onnxruntime"
    assert released["runner"]["device"] == lock["runner"]["device"]
    assert released["preprocessing_digest"] != lock["preprocessing_digest"]  # its own window
    scored = _audit(bundle)["comparator.scored"]["object"]
    assert scored["id"] == "released"
    assert scored["runner"]["device"] == released["runner"]["device"]
    document = json.loads((bundle / "comparison.json").read_text())
    (entry,) = document["comparators"]
    assert entry["source"] == "model"
    assert entry["not_scored"] == 1  # the broken file fails for the comparator too
    overall = next(item for item in entry["populations"] if item["key"] == "all")
    assert overall["n"] == 8  # paired: cases scored by both
    assert main(["verify", str(bundle)]) == 0
