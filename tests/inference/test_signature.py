"""Signature check: the artifact's inputs and outputs against the protocol, before any case."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from dxval.errors import ExitCode, UsageError
from dxval.inference import Activation, InputSpec, OutputSpec, load_runner
from dxval.inference.signature import format_shape

from .conftest import Artifacts, make_config
from .models import write_onnx


def _refusal(config_path: Path, **changes: object) -> str:
    with pytest.raises(UsageError) as caught:
        load_runner(make_config(config_path, **changes), threads=1)
    assert caught.value.exit_code == ExitCode.USAGE
    return caught.value.message


@pytest.mark.parametrize("artifact", ["onnx", "torchscript"])
@pytest.mark.req("DXV-INFER-003")
def test_input_name_mismatch_names_expected_and_actual(artifacts: Artifacts, artifact: str) -> None:
    message = _refusal(
        getattr(artifacts, artifact), input=InputSpec("pixels", (None, 1, 16, 16), "float32")
    )
    assert "model.input.name: expected 'pixels', artifact has 'image'" in message


def test_input_shape_mismatch_names_the_axes(artifacts: Artifacts) -> None:
    message = _refusal(artifacts.onnx, input=InputSpec("image", (None, 1, 32, 32), "float32"))
    assert (
        "model.input.shape: expected [null, 1, 32, 32], artifact has [null, 1, 16, 16] (axis 2, 3)"
        in message
    )


def test_input_rank_mismatch(artifacts: Artifacts) -> None:
    message = _refusal(artifacts.onnx, input=InputSpec("image", (None, 16, 16), "float32"))
    assert "(rank 3 vs 4)" in message


def test_input_dtype_mismatch(artifacts: Artifacts) -> None:
    message = _refusal(artifacts.onnx, input=InputSpec("image", (None, 1, 16, 16), "float16"))
    assert "model.input.dtype: expected float16, artifact has float32" in message


def test_declared_batch_axis_must_be_dynamic(artifacts: Artifacts) -> None:
    message = _refusal(artifacts.onnx, input=InputSpec("image", (8, 1, 16, 16), "float32"))
    assert "model.input.shape: expected the batch axis first and null (dynamic), got [8," in message


def test_fixed_batch_artifact_is_refused(tmp_path: Path, artifacts: Artifacts) -> None:
    fixed = write_onnx(artifacts.weights, tmp_path / "fixed.onnx", batch=1)
    message = _refusal(fixed)
    assert "the artifact's batch axis is fixed at 1; dxval needs a dynamic batch axis" in message


@pytest.mark.parametrize("artifact", ["onnx", "torchscript"])
def test_positive_index_beyond_output_width(artifacts: Artifacts, artifact: str) -> None:
    message = _refusal(getattr(artifacts, artifact), output=OutputSpec("score", Activation.NONE, 2))
    assert "model.output.positive_index: expected an index below the output width 2, got 2" in (
        message
    )


def test_output_name_mismatch_lists_artifact_outputs(artifacts: Artifacts) -> None:
    message = _refusal(artifacts.onnx, output=OutputSpec("probability"))
    assert "model.output.name: expected 'probability', artifact outputs are 'score'" in message


@pytest.mark.req("DXV-INFER-003")
def test_every_mismatch_is_listed_at_once(artifacts: Artifacts) -> None:
    message = _refusal(
        artifacts.onnx,
        input=InputSpec("pixels", (None, 1, 16, 16), "float64"),
        output=OutputSpec("probability"),
    )
    assert message.count(";") == 2
    assert message.startswith("model tiny.onnx does not match the protocol's model section: ")


def test_torchscript_probe_failure_is_a_usage_error(artifacts: Artifacts) -> None:
    message = _refusal(
        artifacts.torchscript, input=InputSpec("image", (None, 3, 16, 16), "float32")
    )
    assert "model tiny.pt failed on a probe input of shape [1, 3, 16, 16] and dtype float32" in (
        message
    )


def test_torchscript_dict_outputs_are_named(tmp_path: Path) -> None:
    import torch

    class Heads(torch.nn.Module):
        def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
            pooled = image.mean(dim=(1, 2, 3)).unsqueeze(1)
            return {"logit": pooled, "aux": pooled * 2}

    path = tmp_path / "heads.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.script(Heads()).save(str(path))
    message = _refusal(path, output=OutputSpec("score"))
    assert "model.output.name: expected 'score', artifact outputs are 'logit', 'aux'" in message
    runner = load_runner(make_config(path, output=OutputSpec("aux")), threads=1)
    assert runner.info.signature is not None
    assert runner.info.signature.named_outputs


def test_softmax_over_one_column_is_refused(tmp_path: Path) -> None:
    import torch

    class One(torch.nn.Module):
        def forward(self, image: torch.Tensor) -> torch.Tensor:
            return image.mean(dim=(1, 2, 3)).unsqueeze(1)

    path = tmp_path / "one.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.script(One()).save(str(path))
    message = _refusal(path, output=OutputSpec("score", Activation.SOFTMAX, 0))
    assert "softmax over a single output is always 1" in message


def test_format_shape_writes_null_for_dynamic_axes() -> None:
    assert format_shape((None, 1, 64)) == "[null, 1, 64]"
    assert format_shape(None) == "(undeclared)"
