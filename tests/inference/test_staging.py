"""The torch runner's reused batch buffers (issue 18, GPU runner) and the per-device batch size.

No GPU here: the staging path is exercised on CPU (unpinned buffers, device
"cpu"), which runs the same code as on CUDA except for ``pin_memory`` and the
asynchronous copy; the figures of the GPU path come from
``benchmarks/gpu_check.py`` on a lent machine.
"""

from __future__ import annotations

import numpy as np
import pytest

from dxval.inference import load_runner
from dxval.inference.options import CPU_BATCH_SIZE, GPU_BATCH_SIZE, default_batch_size

from .conftest import Artifacts, make_config
from .models import CASE_SHAPE


@pytest.mark.req("DXV-SPEED-006")
def test_staged_batches_give_bitwise_the_scores_of_fresh_tensors(artifacts: Artifacts) -> None:
    from dxval.inference.torch_runner import DeviceStaging

    runner = load_runner(make_config(artifacts.torchscript), threads=1)
    plain = [runner.predict(batch) for batch in _batches()]
    runner._staging = DeviceStaging("cpu", pin=False)  # what CUDA does, minus pinning
    staged = [runner.predict(batch) for batch in _batches()]
    for first, second in zip(plain, staged, strict=True):
        assert first.dtype == second.dtype
        assert np.array_equal(first, second)


@pytest.mark.req("DXV-SPEED-006")
def test_staging_reuses_its_buffers_and_copies_the_values_unchanged() -> None:
    from dxval.inference.torch_runner import DeviceStaging

    staging = DeviceStaging("cpu", pin=False)
    first = np.random.default_rng(1).normal(size=(8, *CASE_SHAPE)).astype(np.float32)
    second = np.random.default_rng(2).normal(size=(8, *CASE_SHAPE)).astype(np.float32)
    tensor = staging.stage(first)
    pointer = tensor.data_ptr()
    assert np.array_equal(tensor.numpy(), first)
    again = staging.stage(second)
    assert again.data_ptr() == pointer  # same buffer, new values
    assert np.array_equal(again.numpy(), second)
    assert not np.shares_memory(again.numpy(), second)  # a copy: the caller's array is free
    smaller = staging.stage(first[:3])  # another shape: new buffers of that shape
    assert tuple(smaller.shape) == (3, *CASE_SHAPE)
    assert np.array_equal(smaller.numpy(), first[:3])


def test_cpu_runner_does_not_stage_through_buffers(artifacts: Artifacts) -> None:
    runner = load_runner(make_config(artifacts.torchscript), threads=1)
    assert runner._staging is None  # on CPU the array is wrapped without a copy


@pytest.mark.req("DXV-SPEED-006")
def test_default_batch_size_is_16_on_cpu_and_64_on_a_gpu() -> None:
    assert (CPU_BATCH_SIZE, GPU_BATCH_SIZE) == (16, 64)
    assert default_batch_size("cpu") == 16
    assert default_batch_size("cuda") == 64
    assert default_batch_size("tensorrt") == 64


def _batches() -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    return [rng.normal(size=(rows, *CASE_SHAPE)).astype(np.float32) for rows in (8, 8, 3, 16)]
