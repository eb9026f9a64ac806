"""Tiny seeded models exported both ways with identical weights, built during the test run.

The network: Conv(1→4, 3×3, pad 1) → ReLU → global average pool → Linear(4→2).
The ONNX file is written with the ``onnx.helper`` API from the same numpy
weights that the torch module is loaded with, so the two artifacts compute the
same function and may differ only by floating-point evaluation order.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CASE_SHAPE = (1, 16, 16)


@dataclass(frozen=True)
class Weights:
    """The parameters shared by the ONNX and torch artifacts."""

    conv_weight: np.ndarray  # (4, 1, 3, 3)
    conv_bias: np.ndarray  # (4,)
    linear_weight: np.ndarray  # (2, 4)
    linear_bias: np.ndarray  # (2,)


def make_weights(seed: int = 20261126) -> Weights:
    rng = np.random.default_rng(seed)
    return Weights(
        conv_weight=rng.normal(0.0, 0.5, (4, 1, 3, 3)).astype(np.float32),
        conv_bias=rng.normal(0.0, 0.1, (4,)).astype(np.float32),
        linear_weight=rng.normal(0.0, 1.0, (2, 4)).astype(np.float32),
        linear_bias=rng.normal(0.0, 0.1, (2,)).astype(np.float32),
    )


def write_onnx(
    weights: Weights,
    path: Path,
    *,
    input_name: str = "image",
    output_name: str = "score",
    batch: int | str = "batch",
    opset: int = 17,
) -> Path:
    """Write the network as ONNX with a dynamic (or fixed) batch axis."""
    nodes = [
        helper.make_node("Conv", [input_name, "conv_w", "conv_b"], ["conv"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("GlobalAveragePool", ["relu"], ["pool"]),
        helper.make_node("Flatten", ["pool"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], [output_name], transB=1),
    ]
    initializers = [
        numpy_helper.from_array(weights.conv_weight, "conv_w"),
        numpy_helper.from_array(weights.conv_bias, "conv_b"),
        numpy_helper.from_array(weights.linear_weight, "fc_w"),
        numpy_helper.from_array(weights.linear_bias, "fc_b"),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [batch, *CASE_SHAPE])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, [batch, 2])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())
    return path


def torch_module(weights: Weights):  # type: ignore[no-untyped-def]
    """The same network as a torch module (eval mode) holding ``weights``."""
    import torch

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
            self.fc = torch.nn.Linear(4, 2)

        def forward(self, image: torch.Tensor) -> torch.Tensor:
            pooled = torch.relu(self.conv(image)).mean(dim=(2, 3))
            return self.fc(pooled)

    module = Tiny()
    with torch.no_grad():
        module.conv.weight.copy_(torch.from_numpy(weights.conv_weight))
        module.conv.bias.copy_(torch.from_numpy(weights.conv_bias))
        module.fc.weight.copy_(torch.from_numpy(weights.linear_weight))
        module.fc.bias.copy_(torch.from_numpy(weights.linear_bias))
    return module.eval()


def write_torchscript(weights: Weights, path: Path) -> Path:
    """Script the torch module and save it as TorchScript."""
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is deprecated upstream
        torch.jit.script(torch_module(weights)).save(str(path))
    return path


def write_export(weights: Weights, path: Path) -> Path:
    """Export the torch module with torch.export (dynamic batch) and save it as ``.pt2``."""
    import torch

    example = (torch.zeros((2, *CASE_SHAPE)),)
    batch = torch.export.Dim("batch", min=1, max=4096)
    program = torch.export.export(
        torch_module(weights), example, dynamic_shapes={"image": {0: batch}}
    )
    torch.export.save(program, str(path))
    return path


def write_cases(folder: Path, count: int, *, seed: int = 7) -> list[Path]:
    """``count`` seeded ``.npy`` images of shape :data:`CASE_SHAPE`."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(count):
        path = folder / f"case-{index:04d}.npy"
        np.save(path, rng.normal(0.0, 1.0, CASE_SHAPE).astype(np.float32))
        paths.append(path)
    return paths
