"""The torch runner: TorchScript (``.pt``) and torch.export (``.pt2``) artifacts on CPU or CUDA.

torch is imported only when this runner is loaded; dxval and its onnxruntime
path work without it.

Determinism settings, applied before the artifact is loaded and read back
into the record: ``torch.backends.cudnn.allow_tf32 = False``,
``torch.backends.cuda.matmul.allow_tf32 = False``,
``torch.use_deterministic_algorithms(True)``, ``cudnn.benchmark = False``,
``cudnn.deterministic = True``, float32 matmul precision ``highest``, a fixed
thread count and ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` (required by cuBLAS for
deterministic results; set only if the user has not set it).

Signature. A torch.export program declares its input name, dtype and shape
(symbolic sizes are dynamic). A TorchScript module declares only argument
names, so dtype and shape are checked by a probe: the module is run on zeros
of the declared shape with batch sizes 1 and 2 (dynamic non-batch axes get
size :data:`PROBE_DYNAMIC_SIZE`); the probe also shows the output's shape and
whether its batch axis follows the input.
"""

from __future__ import annotations

import logging
import os
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from dxval.errors import UsageError
from dxval.inference.config import Device, ModelConfig
from dxval.inference.runner import ArtifactSignature, RunnerInfo, TensorSignature
from dxval.inference.signature import check_inputs, check_signature, format_shape

__all__ = [
    "CPU_ROW_BLOCK",
    "EXPORT_SUFFIXES",
    "PROBE_DYNAMIC_SIZE",
    "DeviceStaging",
    "TorchRunner",
    "apply_torch_determinism",
]

#: File suffixes read as torch.export programs; anything else is read as TorchScript.
EXPORT_SUFFIXES: frozenset[str] = frozenset({".pt2"})
#: Size given to dynamic non-batch axes in the TorchScript probe.
PROBE_DYNAMIC_SIZE = 64
#: Rows per model call on CPU. MKL and oneDNN choose kernels by row count (a single
#: row takes a matrix-vector path), which moves results by a float32 ulp between
#: batch sizes; computing every batch in blocks of this fixed size makes CPU scores
#: bitwise independent of the batch size.
CPU_ROW_BLOCK = 8
_CUBLAS_WORKSPACE = ":4096:8"


class TorchRunner:
    """A loaded TorchScript or torch.export artifact (see the module docstring)."""

    def __init__(self, module: Any, *, device: str, output_name: str | None, info: RunnerInfo):
        self._module = module
        self._device = device
        self._output_name = output_name
        self._info = info
        self._row_block = CPU_ROW_BLOCK if device == "cpu" else None
        # On CUDA the batch goes through a reused pinned host buffer and a reused device
        # buffer with a non-blocking copy; on CPU the array is wrapped without any copy.
        self._staging = DeviceStaging(device, pin=True) if device.startswith("cuda") else None

    @property
    def info(self) -> RunnerInfo:
        """What ran, where, and with which settings."""
        return self._info

    @classmethod
    def load(cls, config: ModelConfig, *, device: Device, threads: int, sha256: str) -> TorchRunner:
        """Load the artifact on ``device`` and check it against ``config``.

        Parameters
        ----------
        config:
            The model declaration; ``config.path`` is ``.pt`` (TorchScript) or ``.pt2``.
        device:
            ``cpu`` or ``cuda``.
        threads:
            ``torch.set_num_threads`` value.
        sha256:
            The artifact's SHA-256, already computed by the caller.

        Raises
        ------
        UsageError
            torch missing, device unsupported or absent, artifact invalid, probe failure or
            signature mismatch (exit 2).
        """
        torch = _import_torch()
        _require_device(torch, device)
        determinism = apply_torch_determinism(torch, threads=threads)
        torch_device = "cuda" if device is Device.CUDA else "cpu"
        if config.path.suffix in EXPORT_SUFFIXES:
            module, inputs = _load_export(torch, config.path, torch_device)
            artifact_format = "torch.export"
        else:
            module, inputs = _load_torchscript(torch, config.path, torch_device)
            artifact_format = "torchscript"
        check_inputs(config, inputs)
        signature = _probe_signature(torch, module, config, inputs, torch_device)
        check_signature(config, signature)
        info = RunnerInfo(
            name="torch",
            version=str(torch.__version__),
            device=device.value,
            artifact_format=artifact_format,
            model_path=str(config.path),
            model_sha256=sha256,
            providers=(torch_device,),
            threads={
                "num_threads": torch.get_num_threads(),
                "num_interop_threads": torch.get_num_interop_threads(),
            },
            determinism={
                **determinism,
                "cpu_row_block": CPU_ROW_BLOCK if device is Device.CPU else None,
            },
            signature=signature,
        )
        output_name = config.output.name if signature.named_outputs else None
        return cls(module, device=torch_device, output_name=output_name, info=info)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Run one ``(B, ...)`` batch; return the selected output as ``(B, K)``.

        On CPU the batch is computed in blocks of exactly :data:`CPU_ROW_BLOCK` rows (the
        last block padded by repeating its last row), so every call has the same shape
        whatever the batch size.
        """
        if self._row_block is None:
            return self._forward(batch)
        rows = batch.shape[0]
        blocks = []
        for start in range(0, rows, self._row_block):
            block = batch[start : start + self._row_block]
            missing = self._row_block - block.shape[0]
            if missing:
                block = np.concatenate([block, np.repeat(block[-1:], missing, axis=0)])
            blocks.append(self._forward(block)[: self._row_block - missing])
        return np.concatenate(blocks)

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        import torch

        if self._staging is None:
            tensor = torch.from_numpy(np.ascontiguousarray(batch)).to(self._device)
        else:
            tensor = self._staging.stage(batch)
        with torch.inference_mode():
            output = _select(self._module(tensor), self._output_name)
        if output.dtype == torch.bfloat16:
            output = output.float()
        return output.detach().to("cpu").numpy().reshape(batch.shape[0], -1)


class DeviceStaging:
    """Reused host and device buffers for the batches of one runner (CUDA).

    A batch is copied into a host buffer (page-locked when ``pin``, so the copy to
    the device can be asynchronous), then into a device buffer with
    ``non_blocking=True``; both are allocated once per batch shape and dtype and
    reused, so steady-state batches allocate nothing. The values are the batch's,
    unchanged (a copy, no conversion). Reusing the host buffer is safe: the
    runner reads each result back to the host, which waits for the stream, before
    the next batch is staged.
    """

    def __init__(self, device: str, *, pin: bool) -> None:
        self.device = device
        self.pin = pin
        self._key: tuple[tuple[int, ...], str] | None = None
        self._host: Any = None
        self._device_buffer: Any = None

    def stage(self, batch: np.ndarray) -> Any:
        """The batch as a tensor on the device, in the reused buffers."""
        import torch

        source = torch.from_numpy(np.ascontiguousarray(batch))
        key = (tuple(source.shape), str(source.dtype))
        if key != self._key:
            self._host = torch.empty(source.shape, dtype=source.dtype, pin_memory=self.pin)
            self._device_buffer = torch.empty(source.shape, dtype=source.dtype, device=self.device)
            self._key = key
        self._host.copy_(source)
        self._device_buffer.copy_(self._host, non_blocking=self.pin)
        return self._device_buffer


def apply_torch_determinism(torch: Any, *, threads: int) -> dict[str, Any]:
    """Set torch's determinism switches and thread count; return what is now in force.

    Parameters
    ----------
    torch:
        The imported torch module.
    threads:
        Intra-op thread count.

    Returns
    -------
    dict
        The flags read back from torch (for ``environment.json``).
    """
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", _CUBLAS_WORKSPACE)
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    torch.use_deterministic_algorithms(True)
    torch.set_float32_matmul_precision("highest")
    torch.set_num_threads(threads)
    return {
        "cudnn.allow_tf32": bool(torch.backends.cudnn.allow_tf32),
        "cuda.matmul.allow_tf32": bool(torch.backends.cuda.matmul.allow_tf32),
        "cudnn.benchmark": bool(torch.backends.cudnn.benchmark),
        "cudnn.deterministic": bool(torch.backends.cudnn.deterministic),
        "use_deterministic_algorithms": bool(torch.are_deterministic_algorithms_enabled()),
        "float32_matmul_precision": str(torch.get_float32_matmul_precision()),
        "CUBLAS_WORKSPACE_CONFIG": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
        "mkldnn.enabled": bool(torch.backends.mkldnn.enabled),
    }


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as error:
        raise UsageError(
            "model.runtime is 'torch' but PyTorch cannot be imported "
            f"({error}); install it (pip install torch) or export the model to ONNX"
        ) from error
    return torch


def _require_device(torch: Any, device: Device) -> None:
    if device is Device.TENSORRT:
        raise UsageError(
            "--device tensorrt is onnxruntime's TensorRT execution provider; "
            "the torch runner runs on cpu or cuda"
        )
    if device is Device.CUDA and not torch.cuda.is_available():
        build = torch.version.cuda or "none: a CPU-only build"
        raise UsageError(
            f"--device cuda: torch {torch.__version__} sees no CUDA device "
            f"(CUDA build: {build}); use --device cpu"
        )


@contextmanager
def _quiet_torch_loading() -> Any:
    """torch warns that TorchScript is deprecated and logs load failures itself."""
    export_logger = logging.getLogger("torch.export")
    previous = export_logger.level
    export_logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        export_logger.setLevel(previous)


def _load_torchscript(torch: Any, path: Path, device: str) -> tuple[Any, list[TensorSignature]]:
    try:
        with _quiet_torch_loading():
            module = torch.jit.load(str(path), map_location=device)
    except Exception as error:  # torch raises RuntimeError/ValueError subclasses here
        raise UsageError(
            f"model file {path} is not a valid TorchScript archive (torch.jit.save); a "
            f"state_dict or pickled module cannot be run as a frozen artifact: "
            f"{_first_line(error)}"
        ) from error
    module.eval()
    arguments = list(module.forward.schema.arguments)[1:]  # the first is ``self``
    required = [argument for argument in arguments if not argument.has_default_value()]
    inputs = [TensorSignature(name=argument.name, shape=None, dtype=None) for argument in required]
    return module, inputs


def _load_export(torch: Any, path: Path, device: str) -> tuple[Any, list[TensorSignature]]:
    try:
        with _quiet_torch_loading():
            program = torch.export.load(str(path))
    except Exception as error:  # torch raises RuntimeError/BadZipFile here
        raise UsageError(
            f"model file {path} is not a valid torch.export program (torch.export.save): "
            f"{_first_line(error)}"
        ) from error
    if device != "cpu":
        from torch.export.passes import move_to_device_pass

        program = move_to_device_pass(program, device)
    user_inputs = set(program.graph_signature.user_inputs)
    inputs = [
        _export_tensor(node.name, node.meta.get("val"))
        for node in program.graph.nodes
        if node.op == "placeholder" and node.name in user_inputs
    ]
    return program.module(), inputs


def _export_tensor(name: str, value: Any) -> TensorSignature:
    if value is None or not hasattr(value, "shape"):
        return TensorSignature(name=name, shape=None, dtype=None)
    shape = tuple(axis if isinstance(axis, int) else None for axis in value.shape)
    return TensorSignature(name=name, shape=shape, dtype=_dtype_name(value.dtype))


def _dtype_name(dtype: Any) -> str:
    return str(dtype).removeprefix("torch.")


def _probe_input_shape(config: ModelConfig, batch: int) -> tuple[int, ...]:
    case_shape = config.input.case_shape
    return (batch, *(PROBE_DYNAMIC_SIZE if axis is None else axis for axis in case_shape))


def _probe_signature(
    torch: Any, module: Any, config: ModelConfig, inputs: list[TensorSignature], device: str
) -> ArtifactSignature:
    """Run the module on zeros with batch 1 and 2; describe its outputs."""
    results = []
    for batch in (1, 2):
        shape = _probe_input_shape(config, batch)
        probe = torch.zeros(shape, dtype=getattr(torch, config.input.dtype), device=device)
        try:
            with torch.inference_mode():
                results.append(module(probe))
        except Exception as error:  # any failure of user model code on a valid input
            raise UsageError(
                f"model {config.path.name} failed on a probe input of shape "
                f"{format_shape(shape)} and dtype {config.input.dtype} (model.input): "
                f"{_first_line(error)}"
            ) from error
    probed_inputs = tuple(
        TensorSignature(name=tensor.name, shape=config.input.shape, dtype=config.input.dtype)
        if tensor.shape is None
        else tensor
        for tensor in inputs
    )
    first, second = results
    if isinstance(second, dict):
        outputs = tuple(
            _output_tensor(str(name), first.get(name), tensor) for name, tensor in second.items()
        )
        return ArtifactSignature(inputs=probed_inputs, outputs=outputs, named_outputs=True)
    if isinstance(second, (tuple, list)):
        outputs = tuple(
            _output_tensor(f"output[{index}]", None, tensor) for index, tensor in enumerate(second)
        )
        return ArtifactSignature(inputs=probed_inputs, outputs=outputs, named_outputs=False)
    output = _output_tensor(config.output.name, first, second)
    return ArtifactSignature(inputs=probed_inputs, outputs=(output,), named_outputs=False)


def _output_tensor(name: str, batch_one: Any, batch_two: Any) -> TensorSignature:
    """Describe a probed output; its batch axis is dynamic when it followed the input batch."""
    if not hasattr(batch_two, "shape"):
        return TensorSignature(name=name, shape=None, dtype=type(batch_two).__name__)
    shape: list[int | None] = list(batch_two.shape)
    follows = (
        batch_one is not None
        and hasattr(batch_one, "shape")
        and len(shape) > 0
        and shape[0] == 2
        and tuple(batch_one.shape)[:1] == (1,)
    )
    if follows:
        shape[0] = None
    return TensorSignature(name=name, shape=tuple(shape), dtype=_dtype_name(batch_two.dtype))


def _select(output: Any, name: str | None) -> Any:
    if name is not None and isinstance(output, dict):
        return output[name]
    return output


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
