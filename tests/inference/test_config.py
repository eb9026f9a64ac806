"""The protocol's model section as a frozen ModelConfig."""

from __future__ import annotations

from pathlib import Path

import pytest

from dxval.errors import ProtocolError
from dxval.inference import Activation, ModelConfig, Runtime

SECTION = {
    "path": "models/demo.onnx",
    "sha256": "AB" * 32,
    "runtime": "onnxruntime",
    "input": {"name": "image", "shape": [None, 1, 64, 64], "dtype": "float32"},
    "output": {"name": "score", "activation": "softmax", "positive_index": 1},
    "operating_point": 0.5,
    "reference": {
        "input": "golden.npy",
        "input_sha256": None,
        "expected": [0.25, 0.75],
        "tolerance": 1e-5,
    },
    "decoders": None,
}


def test_mapping_becomes_config_with_resolved_paths(tmp_path: Path) -> None:
    config = ModelConfig.from_mapping(SECTION, folder=tmp_path)
    assert config.path == tmp_path / "models" / "demo.onnx"
    assert config.runtime is Runtime.ONNXRUNTIME
    assert config.sha256 == "ab" * 32
    assert config.input.shape == (None, 1, 64, 64)
    assert config.input.case_shape == (1, 64, 64)
    assert config.output.activation is Activation.SOFTMAX
    assert config.reference is not None
    assert config.reference.input_path == tmp_path / "golden.npy"
    assert config.reference.input_sha256 is None
    assert config.reference.expected == (0.25, 0.75)


def test_absolute_paths_are_kept(tmp_path: Path) -> None:
    config = ModelConfig.from_mapping({**SECTION, "path": "/models/x.pt"}, folder=tmp_path)
    assert config.path == Path("/models/x.pt")


def test_malformed_section_is_a_protocol_error(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match=r"model: cannot read the model section \(KeyError"):
        ModelConfig.from_mapping({"path": "x.onnx"}, folder=tmp_path)
    with pytest.raises(ProtocolError, match=r"'tensorflow' is not a valid Runtime"):
        ModelConfig.from_mapping({**SECTION, "runtime": "tensorflow"}, folder=tmp_path)
