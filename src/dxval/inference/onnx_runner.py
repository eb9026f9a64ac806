"""The onnxruntime runner: CPU by default, CUDA or TensorRT execution providers when asked.

Determinism settings (all recorded in :class:`~dxval.inference.runner.RunnerInfo`):

- graph optimisation level fixed at ``ORT_ENABLE_EXTENDED`` (fusions, but not the
  CPU-layout transforms of ``ORT_ENABLE_ALL`` that depend on the processor);
- intra-op threads fixed by the caller, one inter-op thread, sequential
  execution, no spinning (decode workers need the cores);
- ``use_deterministic_compute`` on;
- CUDA EP: TF32 off, cuDNN convolution algorithm from the heuristic
  (``DEFAULT``) rather than a timing search, which can pick different
  algorithms run to run; TensorRT EP: FP16 and INT8 off.

On CPU, onnxruntime's MLAS kernels give bitwise identical rows whatever the
batch size (tested in ``tests/inference/test_harness.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dxval.errors import UsageError
from dxval.inference.config import Device, ModelConfig
from dxval.inference.runner import ArtifactSignature, RunnerInfo, TensorSignature
from dxval.inference.signature import check_signature

__all__ = ["ONNX_DTYPES", "OnnxRuntimeRunner"]

#: onnxruntime type strings → numpy dtype names.
ONNX_DTYPES: dict[str, str] = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(double)": "float64",
    "tensor(bfloat16)": "bfloat16",
    "tensor(uint8)": "uint8",
    "tensor(int8)": "int8",
    "tensor(int16)": "int16",
    "tensor(int32)": "int32",
    "tensor(int64)": "int64",
    "tensor(bool)": "bool",
}

_PROVIDER_FOR_DEVICE: dict[Device, str] = {
    Device.CPU: "CPUExecutionProvider",
    Device.CUDA: "CUDAExecutionProvider",
    Device.TENSORRT: "TensorrtExecutionProvider",
}

_GRAPH_OPTIMIZATION = "ORT_ENABLE_EXTENDED"
_CUDA_OPTIONS: dict[str, Any] = {
    "device_id": 0,
    "use_tf32": 0,
    "cudnn_conv_algo_search": "DEFAULT",
}
_TENSORRT_OPTIONS: dict[str, Any] = {
    "device_id": 0,
    "trt_fp16_enable": False,
    "trt_int8_enable": False,
}


class OnnxRuntimeRunner:
    """A loaded ONNX artifact in an onnxruntime session (see the module docstring)."""

    def __init__(self, session: Any, *, input_name: str, output_name: str, info: RunnerInfo):
        self._session = session
        self._input_name = input_name
        self._output_name = output_name
        self._info = info

    @property
    def info(self) -> RunnerInfo:
        """What ran, where, and with which settings."""
        return self._info

    @classmethod
    def load(
        cls, config: ModelConfig, *, device: Device, threads: int, sha256: str
    ) -> OnnxRuntimeRunner:
        """Open a session on ``device`` and check its signature against ``config``.

        Parameters
        ----------
        config:
            The model declaration; ``config.path`` is an ONNX file.
        device:
            ``cpu``, ``cuda`` or ``tensorrt``.
        threads:
            Intra-op threads.
        sha256:
            The artifact's SHA-256, already computed by the caller.

        Raises
        ------
        UsageError
            The device's execution provider is absent, the file is not a valid ONNX
            model, or the signature differs from the declaration (exit 2).
        """
        import onnxruntime

        providers = _providers(onnxruntime, device)
        options = _session_options(onnxruntime, threads)
        try:
            session = onnxruntime.InferenceSession(
                str(config.path), sess_options=options, providers=providers
            )
        except Exception as error:  # onnxruntime raises its own non-hierarchical types
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            raise UsageError(
                f"model file {config.path} is not a valid ONNX model for onnxruntime "
                f"{onnxruntime.__version__}: {first_line}"
            ) from error
        active = tuple(session.get_providers())
        _require_provider(onnxruntime, device, active)
        signature = _signature(session)
        check_signature(config, signature)
        info = RunnerInfo(
            name="onnxruntime",
            version=onnxruntime.__version__,
            device=device.value,
            artifact_format="onnx",
            model_path=str(config.path),
            model_sha256=sha256,
            providers=active,
            threads={
                "intra_op_num_threads": threads,
                "inter_op_num_threads": 1,
                "execution_mode": "ORT_SEQUENTIAL",
                "intra_op_allow_spinning": False,
            },
            determinism=_determinism_record(device),
            signature=signature,
        )
        return cls(session, input_name=config.input.name, output_name=config.output.name, info=info)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Run one ``(B, ...)`` batch; return the selected output as ``(B, K)``."""
        (output,) = self._session.run([self._output_name], {self._input_name: batch})
        return np.asarray(output).reshape(batch.shape[0], -1)


def _providers(onnxruntime: Any, device: Device) -> list[Any]:
    wanted = _PROVIDER_FOR_DEVICE[device]
    available = list(onnxruntime.get_available_providers())
    if wanted not in available:
        raise UsageError(
            f"--device {device.value}: onnxruntime {onnxruntime.__version__} has no {wanted} "
            f"here (available: {', '.join(available)}); use --device cpu, or install a GPU "
            "build of onnxruntime on a machine with an NVIDIA GPU"
        )
    if device is Device.CPU:
        return ["CPUExecutionProvider"]
    cuda = ("CUDAExecutionProvider", dict(_CUDA_OPTIONS))
    if device is Device.CUDA:
        return [cuda, "CPUExecutionProvider"]
    return [("TensorrtExecutionProvider", dict(_TENSORRT_OPTIONS)), cuda, "CPUExecutionProvider"]


def _require_provider(onnxruntime: Any, device: Device, active: tuple[str, ...]) -> None:
    """A GPU provider can be listed yet fail to start (no driver); onnxruntime then falls back."""
    wanted = _PROVIDER_FOR_DEVICE[device]
    if wanted not in active:
        raise UsageError(
            f"--device {device.value}: onnxruntime {onnxruntime.__version__} could not start "
            f"{wanted} (no usable GPU or CUDA libraries; session runs on {', '.join(active)}); "
            "use --device cpu"
        )


def _session_options(onnxruntime: Any, threads: int) -> Any:
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = getattr(
        onnxruntime.GraphOptimizationLevel, _GRAPH_OPTIMIZATION
    )
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.use_deterministic_compute = True
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def _determinism_record(device: Device) -> dict[str, Any]:
    record: dict[str, Any] = {
        "graph_optimization_level": _GRAPH_OPTIMIZATION,
        "use_deterministic_compute": True,
    }
    if device in (Device.CUDA, Device.TENSORRT):
        record["cuda_use_tf32"] = False
        record["cudnn_conv_algo_search"] = _CUDA_OPTIONS["cudnn_conv_algo_search"]
    if device is Device.TENSORRT:
        record["trt_fp16_enable"] = False
        record["trt_int8_enable"] = False
    return record


def _tensor(argument: Any) -> TensorSignature:
    shape = tuple(axis if isinstance(axis, int) else None for axis in argument.shape)
    return TensorSignature(
        name=argument.name, shape=shape, dtype=ONNX_DTYPES.get(argument.type, argument.type)
    )


def _signature(session: Any) -> ArtifactSignature:
    return ArtifactSignature(
        inputs=tuple(_tensor(argument) for argument in session.get_inputs()),
        outputs=tuple(_tensor(argument) for argument in session.get_outputs()),
    )
