"""Loading runners: bad artifact files, digests, devices, availability, recorded settings."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from dxval.errors import ExitCode, IntegrityError, UsageError
from dxval.inference import Runtime, available_runners, file_sha256, load_runner

from .conftest import Artifacts, make_config
from .models import CASE_SHAPE, write_export


def test_missing_model_file_is_exit_2(tmp_path: Path) -> None:
    config = make_config(tmp_path / "absent.onnx")
    with pytest.raises(UsageError, match=r"model file not found: .*absent\.onnx") as caught:
        load_runner(config, threads=1)
    assert caught.value.exit_code == ExitCode.USAGE


def test_file_that_is_not_onnx_is_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"not a protobuf at all \x00\xff")
    with pytest.raises(UsageError, match=r"is not a valid ONNX model for onnxruntime"):
        load_runner(make_config(path), threads=1)


def test_file_that_is_not_torchscript_is_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    path.write_bytes(b"PK but not really a zip archive")
    with pytest.raises(UsageError, match=r"is not a valid TorchScript archive"):
        load_runner(make_config(path), threads=1)


def test_state_dict_is_not_a_frozen_artifact(tmp_path: Path, artifacts: Artifacts) -> None:
    import torch

    from .models import torch_module

    path = tmp_path / "weights.pt"
    torch.save(torch_module(artifacts.weights).state_dict(), path)
    with pytest.raises(UsageError, match=r"a state_dict or pickled module cannot be run"):
        load_runner(make_config(path), threads=1)


def test_file_that_is_not_an_export_program_is_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "model.pt2"
    path.write_bytes(b"garbage")
    with pytest.raises(UsageError, match=r"is not a valid torch\.export program"):
        load_runner(make_config(path), threads=1)


def test_model_digest_mismatch_is_exit_3(artifacts: Artifacts) -> None:
    config = make_config(artifacts.onnx, sha256="0" * 64)
    with pytest.raises(IntegrityError, match=r"model digest mismatch: .* the protocol pins 0{64}"):
        load_runner(config, threads=1)
    assert IntegrityError("x").exit_code == ExitCode.INTEGRITY


def test_pinned_digest_that_matches_loads(artifacts: Artifacts) -> None:
    digest = file_sha256(artifacts.onnx)
    runner = load_runner(make_config(artifacts.onnx, sha256=digest), threads=1)
    assert runner.info.model_sha256 == digest


@pytest.mark.parametrize("artifact", ["onnx", "torchscript"])
def test_cuda_asked_where_absent_suggests_cpu(artifacts: Artifacts, artifact: str) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the refusal is what is tested here")
    config = make_config(getattr(artifacts, artifact))
    with pytest.raises(UsageError, match=r"--device cuda: .*use --device cpu") as caught:
        load_runner(config, device="cuda", threads=1)
    assert caught.value.exit_code == ExitCode.USAGE


def test_unknown_device_is_exit_2(artifacts: Artifacts) -> None:
    with pytest.raises(UsageError, match=r"--device: got 'gpu', expected one of 'cpu', 'cuda'"):
        load_runner(make_config(artifacts.onnx), device="gpu", threads=1)


def test_tensorrt_is_not_a_torch_device(artifacts: Artifacts) -> None:
    with pytest.raises(UsageError, match=r"tensorrt is onnxruntime's TensorRT"):
        load_runner(make_config(artifacts.torchscript), device="tensorrt", threads=1)


def test_thread_count_must_be_positive(artifacts: Artifacts) -> None:
    with pytest.raises(UsageError, match=r"threads: got 0, expected an integer >= 1"):
        load_runner(make_config(artifacts.onnx), threads=0)


def test_onnxruntime_records_determinism_and_threads(artifacts: Artifacts) -> None:
    info = load_runner(make_config(artifacts.onnx), threads=2).info
    assert info.name == "onnxruntime"
    assert info.providers == ("CPUExecutionProvider",)
    assert info.threads["intra_op_num_threads"] == 2
    assert info.determinism == {
        "graph_optimization_level": "ORT_ENABLE_EXTENDED",
        "use_deterministic_compute": True,
    }
    assert info.signature is not None
    assert info.signature.inputs[0].shape == (None, *CASE_SHAPE)
    assert info.to_dict()["signature"]["outputs"][0]["name"] == "score"


def test_torch_records_determinism_flags(artifacts: Artifacts) -> None:
    info = load_runner(make_config(artifacts.torchscript), threads=1).info
    assert info.artifact_format == "torchscript"
    assert info.determinism["cudnn.allow_tf32"] is False
    assert info.determinism["cuda.matmul.allow_tf32"] is False
    assert info.determinism["cudnn.benchmark"] is False
    assert info.determinism["use_deterministic_algorithms"] is True
    assert info.threads["num_threads"] == 1


def test_torch_export_program_runs_like_torchscript(tmp_path: Path, artifacts: Artifacts) -> None:
    exported = write_export(artifacts.weights, tmp_path / "tiny.pt2")
    batch = np.random.default_rng(1).normal(size=(3, *CASE_SHAPE)).astype(np.float32)
    program = load_runner(make_config(exported), threads=1)
    script = load_runner(make_config(artifacts.torchscript), threads=1)
    assert program.info.artifact_format == "torch.export"
    assert program.info.signature is not None
    assert program.info.signature.inputs[0].shape == (None, *CASE_SHAPE)
    np.testing.assert_allclose(program.predict(batch), script.predict(batch), rtol=0, atol=1e-6)


def test_runtime_and_suffix_disagree_is_exit_2(artifacts: Artifacts) -> None:
    config = make_config(artifacts.onnx, runtime=Runtime.TORCH)
    with pytest.raises(UsageError, match=r"not a valid TorchScript archive"):
        load_runner(config, threads=1)


def test_both_runners_are_available_here() -> None:
    assert available_runners() == {"onnxruntime": None, "torch": None}


def test_onnx_path_works_without_torch(artifacts: Artifacts, tmp_path: Path) -> None:
    """With torch unimportable, dxval.inference imports and scores with onnxruntime."""
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["torch"] = None  # any "import torch" now raises ImportError
        import numpy as np
        from pathlib import Path
        from dxval.inference import (
            InferenceOptions,
            Activation, CaseInput, InputSpec, ModelConfig, OutputSpec, Runtime,
            available_runners, score_cases,
        )
        from dxval.errors import UsageError
        class Loader:
            def __call__(self, paths):
                return np.zeros((1, 16, 16), dtype=np.float32)
        config = ModelConfig(
            path=Path({str(artifacts.onnx)!r}), runtime=Runtime.ONNXRUNTIME,
            input=InputSpec("image", (None, 1, 16, 16)),
            output=OutputSpec("score", Activation.SOFTMAX, 1), operating_point=0.5)
        result = score_cases(
            config, Loader(), [CaseInput("a", (Path("a"),), ("0" * 64,))],
            results_path=Path({str(tmp_path / "r.jsonl")!r}), preprocessing_digest=None,
            options=InferenceOptions(workers=0, threads=1, progress=False))
        assert result.scored == 1, result
        assert available_runners()["torch"] is not None
        from dataclasses import replace
        try:
            score_cases(
                replace(config, runtime=Runtime.TORCH), Loader(), [],
                results_path=Path({str(tmp_path / "s.jsonl")!r}), preprocessing_digest=None,
                options=InferenceOptions(workers=0, threads=1, progress=False))
        except UsageError as error:
            print("refused:", error)
        print("torch" in sys.modules and sys.modules["torch"] is not None)
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    assert "refused: model.runtime is 'torch' but the torch package is not installed" in (
        completed.stdout
    )
    assert completed.stdout.strip().endswith("False")
