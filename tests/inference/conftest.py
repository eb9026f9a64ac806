"""Fixtures of the inference tests: tiny artifacts built once per session, and .npy cases."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from dxval.inference import (
    Activation,
    CaseInput,
    InputSpec,
    ModelConfig,
    OutputSpec,
    Runtime,
    file_sha256,
)

from .models import CASE_SHAPE, Weights, make_weights, write_cases, write_onnx, write_torchscript


@dataclass(frozen=True)
class Artifacts:
    """The same weights as ONNX and TorchScript files."""

    weights: Weights
    onnx: Path
    torchscript: Path


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Artifacts:
    folder = tmp_path_factory.mktemp("artifacts")
    weights = make_weights()
    return Artifacts(
        weights=weights,
        onnx=write_onnx(weights, folder / "tiny.onnx"),
        torchscript=write_torchscript(weights, folder / "tiny.pt"),
    )


@pytest.fixture(scope="session")
def case_paths(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_cases(tmp_path_factory.mktemp("cases"), 24)


def make_config(
    path: Path,
    *,
    runtime: Runtime | None = None,
    activation: Activation = Activation.SOFTMAX,
    positive_index: int = 1,
    **changes: object,
) -> ModelConfig:
    """A config for the tiny network at ``path`` (runtime from the suffix)."""
    chosen = runtime or (Runtime.ONNXRUNTIME if path.suffix == ".onnx" else Runtime.TORCH)
    config = ModelConfig(
        path=path,
        runtime=chosen,
        input=InputSpec(name="image", shape=(None, *CASE_SHAPE), dtype="float32"),
        output=OutputSpec(name="score", activation=activation, positive_index=positive_index),
        operating_point=0.5,
    )
    return replace(config, **changes)  # type: ignore[arg-type]


def make_cases(paths: list[Path]) -> list[CaseInput]:
    """One case per file, IDs from the file names, digests computed."""
    return [
        CaseInput(case_id=path.stem, paths=(path,), sha256s=(file_sha256(path),)) for path in paths
    ]
