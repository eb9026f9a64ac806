"""Executors: how cases are spread over workers for decoding and preprocessing.

The harness sees one small interface, :class:`Executor`: ``load(loader,
cases)`` returns an iterator of :class:`LoadOutcome` **in the order of the
cases**, reading ahead by a bounded number of cases. Inference itself always
runs in the calling process, so any executor that calls the same loader on
the same files gives identical results; a cluster executor (e.g. Ray) only
has to implement ``load`` and ``describe``. An executor that also scores
(:class:`ScoringExecutor`, e.g. :mod:`dxval.inference.ray_executor`, one
runner per cluster worker) returns results instead, computed by the same
harness code (:func:`dxval.inference.harness.score_loaded`).

- :class:`InlineExecutor` loads in the calling process (``workers=0``).
- :class:`ProcessExecutor` loads in a pool of worker processes (forkserver
  start: the parent may already hold runtime threads, which ``fork`` would
  copy in an undefined state). The loader is pickled once per worker. At most
  ``max_in_flight`` cases are submitted and not yet consumed, so memory is
  bounded whatever the number of cases. A worker that dies (a decoder crash)
  is replaced; the cases it may have held are retried one at a time, and the
  case that kills a worker again is recorded as ``worker_crashed``.
"""

from __future__ import annotations

import multiprocessing
import pickle
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from enum import Enum
from itertools import islice
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from dxval.inference.results import CaseInput, CaseResult, HarnessReason
from dxval.inference.timing import LoadTiming, clock_ns

__all__ = [
    "CaseLoaderFunction",
    "Executor",
    "InlineExecutor",
    "LoadOutcome",
    "ProcessExecutor",
    "ScoringExecutor",
    "describe_decoder",
    "load_case",
]

#: A picklable callable turning one case's files into its model input (no batch axis).
#: Bad input raises an exception carrying ``reason_code`` (and ideally ``message``).
CaseLoaderFunction = Callable[[tuple[Path, ...]], np.ndarray]


@dataclass(frozen=True, slots=True)
class LoadOutcome:
    """One case after loading: its tensor, or why there is none; and how long loading took."""

    case: CaseInput
    array: np.ndarray | None
    reason_code: str | None = None
    reason: str | None = None
    decoder: str | None = None
    timing: LoadTiming | None = None


_Payload = tuple[np.ndarray | None, str | None, str | None, str | None, LoadTiming | None]
_Pending = tuple[list[CaseInput], "Future[list[_Payload]] | None"]


def _reason_of(error: BaseException) -> tuple[str, str]:
    code = getattr(error, "reason_code", None)
    if code is None:
        return HarnessReason.LOADER_ERROR.value, f"{type(error).__name__}: {error}"
    code_text = str(code.value) if isinstance(code, Enum) else str(code)
    message = getattr(error, "message", None)
    return code_text, str(message) if message is not None else str(error)


def describe_decoder(decoder: object) -> str:
    """A decoder record as text: ``library version (plugin)`` when it has those fields."""
    library = getattr(decoder, "library", None)
    version = getattr(decoder, "version", None)
    plugin = getattr(decoder, "plugin", None)
    if library is None or version is None:
        return str(decoder)
    return f"{library} {version}" + (f" ({plugin})" if plugin else "")


def _decoder_text(decoders: Iterable[object]) -> str | None:
    described = list(dict.fromkeys(describe_decoder(decoder) for decoder in decoders))
    return "; ".join(described) if described else None


def _decoder_of(loader: CaseLoaderFunction, paths: tuple[Path, ...]) -> str | None:
    """The loader's own account of which decoder it used, when it gives one."""
    describe = getattr(loader, "decoder_for", None)
    if describe is None or not paths:
        return None
    try:
        described = describe(paths[0])
    except Exception:  # the description is informative only; never fail a case for it
        return None
    return None if described is None else describe_decoder(described)


def load_case(loader: CaseLoaderFunction, paths: tuple[Path, ...]) -> _Payload:
    """Run the loader on one case; turn an exception into a reason (used in workers).

    A loader with a ``load(paths)`` method returning an object with ``tensor`` and
    ``decoders`` (like :class:`dxval.dicom.loader.CaseLoader`) is asked for both in
    one pass; otherwise the loader is called and, if it has ``decoder_for(path)``,
    asked which decoder read the first file.

    Returns
    -------
    tuple
        ``(array, reason_code, reason, decoder, timing)``: array set when loaded,
        reason set when not; the wall time of the call (:mod:`dxval.inference.timing`).
    """
    load_with_decoders = getattr(loader, "load", None)
    started = clock_ns()
    try:
        if callable(load_with_decoders):
            loaded = load_with_decoders(paths)
            timing = LoadTiming(
                started,
                clock_ns() - started,
                getattr(loaded, "decode_ns", None),
                getattr(loaded, "preprocess_ns", None),
            )
            return np.asarray(loaded.tensor), None, None, _decoder_text(loaded.decoders), timing
        array = np.asarray(loader(paths))
    except Exception as error:  # every loader failure becomes a recorded case failure
        code, message = _reason_of(error)
        stage = str(getattr(error, "stage", "load"))
        return None, code, message, None, LoadTiming(started, clock_ns() - started, stage=stage)
    timing = LoadTiming(started, clock_ns() - started)
    return array, None, None, _decoder_of(loader, paths), timing


def _outcome(case: CaseInput, payload: _Payload) -> LoadOutcome:
    array, code, reason, decoder, timing = payload
    return LoadOutcome(case, array, reason_code=code, reason=reason, decoder=decoder, timing=timing)


class Executor(Protocol):
    """Spreads case loading over workers; yields outcomes in case order."""

    def load(self, loader: CaseLoaderFunction, cases: Iterable[CaseInput]) -> Iterator[LoadOutcome]:
        """Load each case with ``loader``; yield one outcome per case, in order."""
        ...

    def describe(self) -> dict[str, Any]:
        """Settings to record in ``environment.json``."""
        ...


@runtime_checkable
class ScoringExecutor(Protocol):
    """An executor that also scores, where it loads (a cluster: one runner per worker).

    ``score`` yields ``(case, result)`` for every case it was given, each scored
    or failed with a reason, in case order; the caller records results, fills the
    prediction cache and counts, exactly as it does for cases scored in-process.
    """

    def score(
        self, loader: CaseLoaderFunction, cases: Iterable[CaseInput], *, batch_size: int
    ) -> Iterator[tuple[CaseInput, CaseResult]]:
        """Load and score each case; yield one result per case, in order."""
        ...

    def describe(self) -> dict[str, Any]:
        """Settings to record in ``environment.json``."""
        ...


class InlineExecutor:
    """Loads cases one after another in the calling process."""

    def load(self, loader: CaseLoaderFunction, cases: Iterable[CaseInput]) -> Iterator[LoadOutcome]:
        """Load each case with ``loader``; yield one outcome per case, in order."""
        for case in cases:
            yield _outcome(case, load_case(loader, case.paths))

    def describe(self) -> dict[str, Any]:
        """Settings to record in ``environment.json``."""
        return {"name": "inline", "workers": 0}


# Worker-process state: the loader, unpickled once per worker by the initializer.
_WORKER_LOADER: CaseLoaderFunction | None = None


def _install_loader(search_path: list[str], pickled_loader: bytes) -> None:
    """Worker initializer: adopt the parent's import path, then unpickle the loader.

    The loader travels pickled so that it is unpickled only after ``sys.path`` is
    set: a loader defined in any module the parent can import works in the workers,
    however the worker processes were started.
    """
    global _WORKER_LOADER  # noqa: PLW0603  (one loader per worker process, set once)
    for entry in reversed(search_path):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    _WORKER_LOADER = pickle.loads(pickled_loader)  # noqa: S301  (bytes pickled by our parent)


def _load_chunk(chunk: Sequence[tuple[Path, ...]]) -> list[_Payload]:
    if _WORKER_LOADER is None:  # the initializer always runs first
        raise RuntimeError("worker started without a loader")
    return [load_case(_WORKER_LOADER, paths) for paths in chunk]


def _default_start_method() -> str:
    methods = multiprocessing.get_all_start_methods()
    return "forkserver" if sys.platform.startswith("linux") and "forkserver" in methods else "spawn"


class ProcessExecutor:
    """Loads cases in worker processes with a bounded, ordered read-ahead window.

    Parameters
    ----------
    workers:
        Number of worker processes (>= 1).
    max_in_flight:
        Most cases submitted but not yet yielded (bounds memory).
    chunk_size:
        Cases per task sent to a worker (amortises inter-process overhead for small
        images).
    start_method:
        multiprocessing start method; default forkserver on Linux, else spawn.
    """

    def __init__(
        self,
        workers: int,
        *,
        max_in_flight: int | None = None,
        chunk_size: int = 1,
        start_method: str | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers: got {workers}, expected >= 1")
        self.workers = workers
        self.chunk_size = max(1, chunk_size)
        self.max_in_flight = max(max_in_flight or 4 * workers, self.chunk_size)
        self.start_method = start_method or _default_start_method()

    def describe(self) -> dict[str, Any]:
        """Settings to record in ``environment.json``."""
        return {
            "name": "process-pool",
            "workers": self.workers,
            "start_method": self.start_method,
            "chunk_size": self.chunk_size,
            "max_in_flight": self.max_in_flight,
        }

    def _pool(self, pickled_loader: bytes) -> ProcessPoolExecutor:
        context = multiprocessing.get_context(self.start_method)
        if self.start_method == "forkserver":
            context.set_forkserver_preload(["numpy"])
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=_install_loader,
            initargs=(list(sys.path), pickled_loader),
        )

    def load(self, loader: CaseLoaderFunction, cases: Iterable[CaseInput]) -> Iterator[LoadOutcome]:
        """Load each case in a worker; yield one outcome per case, in order.

        Raises
        ------
        TypeError
            The loader cannot be pickled, so it cannot be sent to worker processes.
        """
        try:
            pickled_loader = pickle.dumps(loader)
        except (pickle.PicklingError, TypeError, AttributeError) as error:
            raise TypeError(
                f"the case loader {loader!r} cannot be sent to worker processes ({error}); "
                "define it at module level, or load in-process (workers=0)"
            ) from error
        pool = self._pool(pickled_loader)
        window: deque[_Pending] = deque()
        iterator = iter(cases)
        chunks_in_flight = max(1, self.max_in_flight // self.chunk_size)
        try:
            while True:
                try:
                    self._fill(pool, window, iterator, chunks_in_flight)
                    if not window:
                        return
                    chunk, future = window[0]
                    if future is None:  # its submit found the pool already broken
                        raise BrokenProcessPool("the pool broke before this chunk was submitted")
                    payloads = future.result()
                except BrokenProcessPool:
                    pool, outcomes = self._recover(
                        pool, pickled_loader, [chunk for chunk, _ in window]
                    )
                    window.clear()
                    yield from outcomes
                    continue
                window.popleft()
                for case, payload in zip(chunk, payloads, strict=True):
                    yield _outcome(case, payload)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _fill(
        self,
        pool: ProcessPoolExecutor,
        window: deque[_Pending],
        iterator: Iterator[CaseInput],
        chunks_in_flight: int,
    ) -> None:
        """Submit chunks until the window is full (a chunk whose submit fails stays in it)."""
        while len(window) < chunks_in_flight:
            chunk = list(islice(iterator, self.chunk_size))
            if not chunk:
                return
            window.append((chunk, None))
            window[-1] = (chunk, pool.submit(_load_chunk, [case.paths for case in chunk]))

    def _recover(
        self,
        broken: ProcessPoolExecutor,
        pickled_loader: bytes,
        chunks: list[list[CaseInput]],
    ) -> tuple[ProcessPoolExecutor, list[LoadOutcome]]:
        """Replace a broken pool; retry the unfinished cases one at a time, in order."""
        broken.shutdown(wait=True, cancel_futures=True)
        pool = self._pool(pickled_loader)
        outcomes: list[LoadOutcome] = []
        for case in (case for chunk in chunks for case in chunk):
            try:
                (payload,) = pool.submit(_load_chunk, [case.paths]).result()
            except BrokenProcessPool:
                pool.shutdown(wait=True, cancel_futures=True)
                pool = self._pool(pickled_loader)
                payload = (
                    None,
                    HarnessReason.WORKER_CRASHED.value,
                    "the worker process died while loading this case (twice)",
                    None,
                    None,
                )
            outcomes.append(_outcome(case, payload))
        return pool, outcomes
