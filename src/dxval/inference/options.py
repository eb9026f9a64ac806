"""How the harness runs a model: the one spelling of the inference options.

``validate`` and ``concordance`` build an :class:`InferenceOptions` from their
command-line options and hand it to :func:`~dxval.inference.score_cases` (and
:func:`~dxval.pipeline.concordance.run_concordance`). None of these options
may change a score: the harness is batch-invariant and the prediction cache is
keyed by everything that determines the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dxval.errors import UsageError

__all__ = ["CPU_BATCH_SIZE", "GPU_BATCH_SIZE", "InferenceOptions", "default_batch_size"]

#: Rows per model call on CPU when ``--batch-size`` is not given.
CPU_BATCH_SIZE = 16
#: Rows per model call on a GPU (cuda, tensorrt) when ``--batch-size`` is not given:
#: a batch of 16 leaves a data-centre GPU mostly idle on a ResNet-sized model
#: (issue 18); ``benchmarks/gpu_check.py`` prints the runner's rate for 16-256 rows
#: so that one run on a lent GPU confirms or corrects this value.
GPU_BATCH_SIZE = 64


def default_batch_size(device: str) -> int:
    """The batch size used when ``--batch-size`` is not given, by device."""
    return CPU_BATCH_SIZE if device == "cpu" else GPU_BATCH_SIZE


@dataclass(frozen=True, slots=True)
class InferenceOptions:
    """Device, parallelism, cache and progress of a model run (never from the protocol).

    Parameters
    ----------
    device
        ``cpu``, ``cuda`` or ``tensorrt`` (``--device``).
    workers
        Decode worker processes (``--workers``); ``None`` all cores; 0 loads in-process.
    batch_size
        Rows per model call (``--batch-size``), at least 1.
    threads
        Runtime intra-op threads; ``None`` all cores.
    use_cache
        False for ``--no-cache``.
    cache_dir
        Prediction cache folder; ``None`` leaves the choice to the caller
        (``validate``: ``OUT/.dxval-cache``; :func:`score_cases`: no cache).
    progress
        A progress display on stderr.
    """

    device: str = "cpu"
    workers: int | None = None
    batch_size: int = 16
    threads: int | None = None
    use_cache: bool = True
    cache_dir: Path | None = None
    progress: bool = True

    def check(self) -> None:
        """Raise :class:`~dxval.errors.UsageError` (exit 2) on a batch size or worker count < 0."""
        if self.batch_size < 1:
            raise UsageError(f"--batch-size: got {self.batch_size}, expected an integer >= 1")
        if self.workers is not None and self.workers < 0:
            raise UsageError(f"--workers: got {self.workers}, expected 0 (load in-process) or more")
