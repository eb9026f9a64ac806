"""The locked inference harness: a frozen artifact, run the same way every time, on every case.

Modules
-------
config        :class:`ModelConfig` and its parts (the protocol's ``model:`` section as plain values)
runner        the runner interface, plugin availability, :func:`load_runner`
onnx_runner   onnxruntime (CPU; CUDA / TensorRT execution providers when asked)
torch_runner  TorchScript ``.pt`` and torch.export ``.pt2`` (torch imported lazily)
signature     artifact inputs/outputs vs the declaration (exit 2)
golden        pinned-input golden check (exit 3)
executor      where cases are decoded: in-process or worker processes (ordered, bounded)
ray_executor  decode in Ray tasks, score in a Ray actor pool (``--executor ray``; lazy import)
cache         verified prediction cache
harness       :func:`run_harness` / :func:`score_cases`
qc            failed-fraction tolerance (exit 4)
concordance   the same cases scored twice: differences, flips, paired tests
environment   :func:`capture_environment` for ``environment.json``

Importing this package imports neither onnxruntime nor torch.
"""

from __future__ import annotations

from dxval.inference.cache import CacheStats
from dxval.inference.config import (
    Activation,
    Device,
    InputSpec,
    ModelConfig,
    OutputSpec,
    ReferenceSpec,
    Runtime,
)
from dxval.inference.environment import capture_environment
from dxval.inference.executor import (
    CaseLoaderFunction,
    Executor,
    InlineExecutor,
    LoadOutcome,
    ProcessExecutor,
)
from dxval.inference.golden import GoldenCheckResult, make_reference, run_golden_check
from dxval.inference.harness import (
    HarnessOptions,
    HarnessResult,
    default_workers,
    run_harness,
    score_cases,
    score_from_outputs,
)
from dxval.inference.options import InferenceOptions
from dxval.inference.progress import Progress
from dxval.inference.qc import QcOutcome, check_qc
from dxval.inference.results import (
    CaseInput,
    CaseResult,
    CaseStatus,
    HarnessReason,
    read_results,
)
from dxval.inference.runner import (
    ArtifactSignature,
    Runner,
    RunnerInfo,
    TensorSignature,
    available_runners,
    file_sha256,
    load_runner,
)

__all__ = [
    "Activation",
    "ArtifactSignature",
    "CacheStats",
    "CaseInput",
    "CaseLoaderFunction",
    "CaseResult",
    "CaseStatus",
    "Device",
    "Executor",
    "GoldenCheckResult",
    "HarnessOptions",
    "HarnessReason",
    "HarnessResult",
    "InferenceOptions",
    "InlineExecutor",
    "InputSpec",
    "LoadOutcome",
    "ModelConfig",
    "OutputSpec",
    "ProcessExecutor",
    "Progress",
    "QcOutcome",
    "ReferenceSpec",
    "Runner",
    "RunnerInfo",
    "Runtime",
    "TensorSignature",
    "available_runners",
    "capture_environment",
    "check_qc",
    "default_workers",
    "file_sha256",
    "load_runner",
    "make_reference",
    "read_results",
    "run_golden_check",
    "run_harness",
    "score_cases",
    "score_from_outputs",
]
