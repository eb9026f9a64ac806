"""A small picklable case loader over ``.npy`` files, standing in for the DICOM loader.

File-name conventions steer failures, so one case folder exercises every path:
``bad-*`` raises an error with a ``reason_code`` (as ``dxval.dicom.CaseFailure``
does), ``buggy-*`` raises a plain exception, ``crash-*`` kills the worker
process, anything else is read with :func:`numpy.load`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from dxval.inference import Runner, RunnerInfo


class NpyCaseError(Exception):
    """A bad case, with the ``reason_code``/``message`` protocol of ``CaseFailure``."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(reason_code, message)
        self.reason_code = reason_code
        self.message = message


class NpyLoader:
    """``loader(paths) -> float32 array``: the first file of the case, loaded with numpy."""

    def __init__(self, *, decoder: str = "numpy.load") -> None:
        self.decoder = decoder

    def __call__(self, paths: tuple[Path, ...]) -> np.ndarray:
        path = paths[0]
        if path.name.startswith("bad-"):
            raise NpyCaseError("not_dicom", f"{path.name} is not a DICOM file")
        if path.name.startswith("buggy-"):
            raise ZeroDivisionError("division by zero in preprocessing")
        if path.name.startswith("crash-"):
            os._exit(3)  # a decoder segfault, as far as the parent can tell
        return np.load(path, allow_pickle=False).astype(np.float32)

    def decoder_for(self, path: Path) -> str:
        """Which decoder read ``path`` (recorded per case)."""
        return self.decoder


class CountingRunner:
    """Wraps a runner and counts model calls and rows (cache tests)."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.calls = 0
        self.rows = 0

    @property
    def info(self) -> RunnerInfo:
        return self.runner.info

    def predict(self, batch: np.ndarray) -> np.ndarray:
        self.calls += 1
        self.rows += batch.shape[0]
        return self.runner.predict(batch)
