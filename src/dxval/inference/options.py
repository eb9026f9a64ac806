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
from typing import Any

from dxval.errors import UsageError

__all__ = ["EXECUTORS", "RUN_OPTION_TYPES", "InferenceOptions", "read_run_options"]

#: The executors ``--executor`` names.
EXECUTORS = ("local", "ray")


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
    executor
        ``local`` (decode worker processes, scores here) or ``ray``
        (``--executor``; :mod:`dxval.inference.ray_executor`).
    ray_address
        The Ray cluster to join (``--ray-address``); ``None`` starts a local Ray.
    gpus_per_worker
        GPUs requested per Ray scoring actor (``--gpus-per-worker``).
    """

    device: str = "cpu"
    workers: int | None = None
    batch_size: int = 16
    threads: int | None = None
    use_cache: bool = True
    cache_dir: Path | None = None
    progress: bool = True
    executor: str = "local"
    ray_address: str | None = None
    gpus_per_worker: float = 0.0

    def check(self) -> None:
        """Raise :class:`~dxval.errors.UsageError` (exit 2) on a bad option value.

        A batch size below 1, a worker count below 0, an unknown executor, Ray
        options without ``--executor ray``, or a negative GPU count.
        """
        if self.executor not in EXECUTORS:
            raise UsageError(
                f"--executor: got {self.executor!r}, expected one of "
                + ", ".join(repr(name) for name in EXECUTORS)
            )
        if self.executor != "ray" and (self.ray_address is not None or self.gpus_per_worker):
            raise UsageError(
                "--ray-address and --gpus-per-worker need --executor ray "
                f"(got --executor {self.executor})"
            )
        if not self.gpus_per_worker >= 0:
            raise UsageError(
                f"--gpus-per-worker: got {self.gpus_per_worker}, expected a number >= 0"
            )
        if self.executor == "ray":
            from dxval.inference.ray_executor import import_ray

            import_ray()  # the missing extra is a usage error before any work starts
        if self.batch_size < 1:
            raise UsageError(f"--batch-size: got {self.batch_size}, expected an integer >= 1")
        if self.workers is not None and self.workers < 0:
            raise UsageError(f"--workers: got {self.workers}, expected 0 (load in-process) or more")


#: What a run-options file may set, and the type of each value.
RUN_OPTION_TYPES: dict[str, tuple[type, ...]] = {
    "executor": (str,),
    "ray_address": (str,),
    "gpus_per_worker": (int, float),
    "device": (str,),
    "workers": (int,),
    "batch_size": (int,),
}


def read_run_options(path: Path) -> dict[str, Any]:
    """Read a run-options YAML file: where and how a run happens, never what is validated.

    A mapping of the keys of :data:`RUN_OPTION_TYPES` (spelled with ``_`` or ``-``),
    e.g. ``executor: ray`` and ``ray_address: ray://head:10001``. Command-line
    options given explicitly take precedence over the file.

    Raises
    ------
    UsageError
        The file is unreadable, not YAML, not a mapping, or has an unknown key or a
        value of the wrong type (exit 2).
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"--run-options {path}: cannot read ({error.strerror})") from error
    try:
        document = YAML(typ="safe").load(text)
    except YAMLError as error:
        raise UsageError(
            f"--run-options {path}: not valid YAML ({str(error).splitlines()[0]})"
        ) from error
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise UsageError(
            f"--run-options {path}: got a {type(document).__name__}, expected a mapping of "
            + ", ".join(RUN_OPTION_TYPES)
        )
    options: dict[str, Any] = {}
    for key, value in document.items():
        name = str(key).replace("-", "_")
        types = RUN_OPTION_TYPES.get(name)
        if types is None:
            raise UsageError(
                f"--run-options {path}: unknown key {key!r}, expected one of "
                + ", ".join(RUN_OPTION_TYPES)
            )
        if isinstance(value, bool) or not isinstance(value, types):
            raise UsageError(
                f"--run-options {path}: {key}: got {value!r}, expected "
                + " or ".join(kind.__name__ for kind in types)
            )
        options[name] = value
    return options
