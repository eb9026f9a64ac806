"""``dxval concordance``: a locked DICOM protocol scored by ONNX and TorchScript via the CLI."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from pydicom.data import get_testdata_file

from dxval.cli import main

DICOM_FILES = ("CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "MR_small_RLE.dcm")
WEIGHTS = np.linspace(-0.3, 0.5, 256, dtype=np.float32).reshape(1, 256)

PROTOCOL = """\
dxval: 1
id: CONCORDANCE-TEST
title: Concordance of two exports
version: "1.0"
device: {name: Test model, version: 0.0.1, intended_use: Test only}
model:
  path: model.onnx
  runtime: onnxruntime
  input: {name: image, shape: [null, 1, 16, 16], dtype: float32}
  output: {name: score, activation: sigmoid, positive_index: 0}
  operating_point: 0.5
preprocessing:
  - {op: modality_lut}
  - {op: window, center: 40, width: 400}
  - {op: resize, size: [16, 16], method: area}
  - {op: to_channels, channels: 1}
test_sets:
  - {id: site-a, site: Site A, manifest: data/manifest.csv}
truth: {column: label, positive: "1", negative: "0", reference_standard: test labels}
requirements:
  - id: PERF-001
    text: AUC at least 0.5.
    criteria:
      - {metric: auc, population: all, bound: point, op: ">=", value: 0.5}
"""


def _write_onnx(path: Path) -> None:
    """score = flatten(image) · w (one linear layer over the 16×16 image)."""
    graph = helper.make_graph(
        [
            helper.make_node("Flatten", ["image"], ["flat"], axis=1),
            helper.make_node("MatMul", ["flat", "w"], ["score"]),
        ],
        "linear",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, 16, 16])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["batch", 1])],
        [numpy_helper.from_array(WEIGHTS.T.copy(), "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())


def _write_torchscript(path: Path) -> None:
    import torch

    class Linear(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = torch.nn.Parameter(torch.from_numpy(WEIGHTS.T.copy()))

        def forward(self, image: torch.Tensor) -> torch.Tensor:
            return torch.flatten(image, 1) @ self.weight

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.script(Linear().eval()).save(str(path))


@pytest.fixture
def protocol(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    rows = ["case_id,path,label"]
    for index in range(8):
        name = DICOM_FILES[index % len(DICOM_FILES)]
        target = data / f"case{index}.dcm"
        shutil.copyfile(str(get_testdata_file(name)), target)
        rows.append(f"c{index},{target.name},{index % 2}")
    (data / "manifest.csv").write_text("\n".join(rows) + "\n")
    _write_onnx(tmp_path / "model.onnx")
    _write_torchscript(tmp_path / "model.pt")
    path = tmp_path / "protocol.yaml"
    path.write_text(PROTOCOL)
    return path


@pytest.mark.req("DXV-INFER-007")
def test_onnx_against_torchscript_through_the_cli(
    protocol: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lock", str(protocol)]) == 0
    output = tmp_path / "out"
    code = main(
        [
            "concordance",
            str(protocol),
            "--against",
            f"torch:{protocol.parent / 'model.pt'}",
            "--workers",
            "2",
            "--threads",
            "1",
            "--batch-size",
            "3",
            "--output",
            str(output),
            "--quiet",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "8 of 8 cases compared" in captured.out
    assert "0 decision flips at operating point 0.5" in captured.out
    summary = json.loads((output / "concordance.json").read_text())
    assert summary["max_absolute_difference"] <= 1e-5
    assert summary["comparison_run"]["runner"]["artifact_format"] == "torchscript"
    decoders = {
        json.loads(line)["decoder"]
        for line in (output / "reference.jsonl").read_text().splitlines()
    }
    assert any(str(decoder).startswith("pylibjpeg-openjpeg ") for decoder in decoders)
    assert any(str(decoder).startswith("pydicom ") for decoder in decoders)
    assert (protocol.parent / ".dxval-cache").is_dir()


def test_unlocked_protocol_is_refused(protocol: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["concordance", str(protocol), "--against", "cpu", "--quiet"]) == 2
    assert "protocol is not locked" in capsys.readouterr().err


def test_unknown_counterpart_is_a_one_line_usage_error(
    protocol: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lock", str(protocol)]) == 0
    capsys.readouterr()
    assert main(["concordance", str(protocol), "--against", "model.bin", "--quiet"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert error == [
        "dxval: error: --against: got 'model.bin'; expected cpu, cuda, tensorrt, onnxruntime, "
        "torch, or a model file (.onnx, .pt, .pt2; or write RUNTIME:PATH)"
    ]


def test_cuda_counterpart_where_absent_is_exit_2(
    protocol: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this machine has CUDA; the refusal is what is tested here")
    assert main(["lock", str(protocol)]) == 0
    code = main(
        [
            "concordance",
            str(protocol),
            "--against",
            "cuda",
            "--workers",
            "0",
            "--output",
            str(tmp_path / "out"),
            "--quiet",
        ]
    )
    assert code == 2
    assert "use --device cpu" in capsys.readouterr().err
