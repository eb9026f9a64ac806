"""The inference harness: cases in, one streamed result per case out.

Pipeline of :func:`run_harness`:

1. each case is looked up in the prediction cache (a verified hit skips
   decode and inference);
2. the misses go to the executor, which decodes and preprocesses them in
   worker processes and hands them back in order with bounded read-ahead;
3. loaded tensors are checked against the declared case shape and dtype and
   grouped into batches of exactly ``batch_size`` rows (the last batch is
   padded by repeating its last row), so every model call has the same shape
   and a case's score cannot depend on which batch it landed in;
4. the runner scores the batch; raw outputs are checked for NaN/inf, the
   declared activation is applied by dxval in float64, and each result is
   appended to the JSON Lines results file.

Each case scored in this run carries the wall time of its stages (decode,
preprocess, its batch's inference, end to end; :mod:`dxval.inference.timing`
says exactly what each is); cache hits carry none.

A case that cannot be loaded or scored is recorded with its reason and the
run goes on; if the runtime rejects a whole batch, its cases are retried one
by one so that only the offending case fails. Memory is bounded by the
executor's read-ahead and one batch, whatever the number of cases.

Batch invariance (tested on CPU, both runners): a case's score is bitwise the
same whatever the batch size and whichever other cases share its batch
(onnxruntime's MLAS kernels are row-independent; the torch runner computes in
fixed blocks of rows on CPU). On GPU, cuBLAS/cuDNN may choose kernels by batch
shape, so the batch size is recorded and is part of the cache key.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence, Sized
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from dxval.errors import UsageError
from dxval.inference.cache import CacheContext, CacheStats, PredictionCache
from dxval.inference.config import Activation, InputSpec, ModelConfig, OutputSpec
from dxval.inference.environment import capture_environment
from dxval.inference.executor import (
    CaseLoaderFunction,
    Executor,
    InlineExecutor,
    LoadOutcome,
    ProcessExecutor,
    ScoringExecutor,
)
from dxval.inference.golden import GoldenCheckResult, run_golden_check
from dxval.inference.options import InferenceOptions
from dxval.inference.outputs import (
    MaskStore,
    box_problem,
    check_batch_width,
    mask_case_result,
)
from dxval.inference.progress import Progress
from dxval.inference.results import (
    CaseInput,
    CaseResult,
    CaseStatus,
    HarnessReason,
    ResultWriter,
    read_results,
)
from dxval.inference.runner import Runner, RunnerInfo, file_sha256, load_runner
from dxval.inference.timing import batch_timing, clock_ns, failure_timing

__all__ = [
    "HarnessOptions",
    "HarnessResult",
    "default_workers",
    "run_harness",
    "score_cases",
    "score_from_outputs",
    "score_loaded",
]


def default_workers() -> int:
    """All usable cores (the decode workers' default)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class HarnessOptions:
    """How one harness run is carried out.

    Attributes
    ----------
    results_path:
        JSON Lines file the results stream to (created, truncated).
    input_spec, output_spec:
        The declared input (case shape, dtype) and output (activation, positive index).
    batch_size:
        Rows per model call (>= 1).
    preprocessing_digest:
        Digest of the loader's preprocessing; part of the cache key.
    cache_dir:
        Prediction cache folder; ``None`` disables the cache.
    use_cache:
        False scores every case afresh (``--no-cache``); nothing is read or written.
    executor:
        Where cases are loaded (and, for a :class:`ScoringExecutor`, scored);
        default :class:`InlineExecutor`.
    progress:
        Progress reporter; ``None`` for silence.
    """

    results_path: Path
    input_spec: InputSpec
    output_spec: OutputSpec
    batch_size: int = 16
    preprocessing_digest: str | None = None
    cache_dir: Path | None = None
    use_cache: bool = True
    executor: Executor | ScoringExecutor | None = None
    progress: Progress | None = None
    mask_store: MaskStore | None = None
    """Where a ``kind: mask`` output's label maps go (set by :func:`run_harness`)."""


@dataclass(frozen=True, slots=True)
class HarnessResult:
    """Summary of a harness run; per-case results are in :attr:`results_path`."""

    results_path: Path
    total: int
    scored: int
    failed: int
    cache_hits: int
    failure_reasons: Mapping[str, int]
    runner: RunnerInfo
    cache: CacheStats
    executor: Mapping[str, Any]
    batch_size: int
    elapsed_seconds: float
    environment: Mapping[str, Any] = field(default_factory=dict)
    golden: GoldenCheckResult | None = None
    mask_store: MaskStore | None = None
    """A mask output's label maps, named by the results' ``mask_sha256``."""

    def iter_results(self) -> Iterator[CaseResult]:
        """Stream the per-case results from the results file (completion order)."""
        return read_results(self.results_path)

    def cache_hit_case_ids(self) -> Iterator[str]:
        """Case IDs whose score came from the prediction cache (for the audit log)."""
        return (result.case_id for result in self.iter_results() if result.cache_hit)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (no per-case rows, no environment) for run records."""
        return {
            "results_path": str(self.results_path),
            "total": self.total,
            "scored": self.scored,
            "failed": self.failed,
            "cache_hits": self.cache_hits,
            "failure_reasons": dict(self.failure_reasons),
            "runner": self.runner.to_dict(),
            "cache": self.cache.to_dict(),
            "executor": dict(self.executor),
            "batch_size": self.batch_size,
            "elapsed_seconds": self.elapsed_seconds,
            "golden": None if self.golden is None else self.golden.to_dict(),
        }


def _sigmoid(value: float) -> float:
    """1 / (1 + e^-x), written so that neither branch overflows."""
    if value >= 0.0:
        return 1.0 / (1.0 + math.exp(-value))
    decay = math.exp(value)
    return decay / (1.0 + decay)


def score_from_outputs(outputs: Sequence[float], output_spec: OutputSpec) -> float:
    """Turn one raw output row into the positive-class score.

    Computed in Python floats (IEEE 754 binary64) with the C library's ``exp`` and
    an exactly rounded sum (:func:`math.fsum`), so the score depends neither on the
    runtime nor on numpy's processor-specific vector kernels.

    Parameters
    ----------
    outputs:
        Shape ``(K,)``: the model's raw output row for one case, finite.
    output_spec:
        Activation (none; sigmoid, the logistic function; softmax over the row) and
        the positive index.

    Returns
    -------
    float
        The score.
    """
    row = [float(value) for value in outputs]
    index = output_spec.positive_index
    if output_spec.activation is Activation.SIGMOID:
        return _sigmoid(row[index])
    if output_spec.activation is Activation.SOFTMAX:
        largest = max(row)
        exponentials = [math.exp(value - largest) for value in row]
        return exponentials[index] / math.fsum(exponentials)
    return row[index]


class _RunState:
    """Counters, writer and progress of one run."""

    def __init__(self, writer: ResultWriter, progress: Progress | None) -> None:
        self.writer = writer
        self.progress = progress
        self.scored = 0
        self.cache_hits = 0
        self.reasons: Counter[str] = Counter()

    @property
    def total(self) -> int:
        return self.scored + sum(self.reasons.values())

    def record(self, result: CaseResult) -> None:
        self.writer.write(result)
        failed = result.status is CaseStatus.FAILED
        if failed:
            self.reasons[result.reason_code or HarnessReason.LOADER_ERROR.value] += 1
        else:
            self.scored += 1
        self.cache_hits += int(result.cache_hit)
        if self.progress is not None:
            self.progress.update(done=1, failed=int(failed), cached=int(result.cache_hit))


def _failed(case_id: str, code: str, reason: str, decoder: str | None = None) -> CaseResult:
    return CaseResult(
        case_id=case_id,
        score=None,
        status=CaseStatus.FAILED,
        reason_code=code,
        reason=reason,
        decoder=decoder,
    )


def _scored_or_failed(
    case_id: str, row: Sequence[float], spec: OutputSpec, *, cache_hit: bool, decoder: str | None
) -> CaseResult:
    """``row``: the raw outputs as Python floats."""
    if spec.boxes is not None:  # kind: boxes: the row is the marks (dxval.inference.outputs)
        problem = box_problem(row, spec.boxes)
        if problem is not None:
            return _failed(case_id, *problem, decoder)
        return CaseResult(
            case_id,
            None,
            CaseStatus.SCORED,
            cache_hit=cache_hit,
            decoder=decoder,
            outputs=tuple(row),
        )
    if not all(map(math.isfinite, row)):
        return _failed(
            case_id,
            HarnessReason.NON_FINITE_OUTPUT.value,
            f"the model returned non-finite outputs {list(row)!r}",
            decoder,
        )
    return CaseResult(
        case_id=case_id,
        score=score_from_outputs(row, spec),
        status=CaseStatus.SCORED,
        cache_hit=cache_hit,
        decoder=decoder,
        outputs=tuple(row),
    )


def _with_digests(case: CaseInput) -> CaseInput:
    if case.sha256s:
        return case
    try:
        return replace(case, sha256s=tuple(file_sha256(path) for path in case.paths))
    except OSError:
        return case  # unreadable: the loader reports it as a case failure


def _serve_from_cache(
    cases: Iterable[CaseInput],
    cache: PredictionCache | None,
    state: _RunState,
    spec: OutputSpec,
) -> Iterator[CaseInput]:
    """Record cache hits as they are met; pass the misses on to the executor."""
    for case in cases:
        if cache is None:
            yield case
            continue
        hashed = _with_digests(case)
        hit = cache.lookup(hashed.sha256s) if hashed.sha256s else None
        if hit is None:
            yield hashed
            continue
        if hit.mask_sha256 is not None:  # a mask output (issue 16 item 5)
            state.record(
                CaseResult(
                    case.case_id,
                    None,
                    CaseStatus.SCORED,
                    cache_hit=True,
                    decoder=hit.decoder,
                    mask_sha256=hit.mask_sha256,
                )
            )
            continue
        state.record(
            _scored_or_failed(case.case_id, hit.outputs, spec, cache_hit=True, decoder=hit.decoder)
        )


def _prepared(outcome: LoadOutcome, spec: InputSpec) -> np.ndarray | CaseResult:
    """The case's tensor in the declared dtype, or the failure to record."""
    case_id = outcome.case.case_id
    if outcome.array is None:
        failed = _failed(
            case_id,
            outcome.reason_code or HarnessReason.LOADER_ERROR.value,
            outcome.reason or "the loader returned no tensor",
        )
        return replace(failed, timing=failure_timing(outcome.timing, "load"))
    array = outcome.array
    expected = spec.case_shape
    fits = array.ndim == len(expected) and all(
        want is None or want == have for want, have in zip(expected, array.shape, strict=True)
    )
    if not fits:
        wanted = "[" + ", ".join("any" if axis is None else str(axis) for axis in expected) + "]"
        failed = _failed(
            case_id,
            HarnessReason.INPUT_SHAPE_MISMATCH.value,
            f"the loader produced shape {list(array.shape)}, the model input needs {wanted} "
            "per case (model.input.shape without the batch axis)",
            outcome.decoder,
        )
        return replace(failed, timing=failure_timing(outcome.timing, "input_check"))
    return np.ascontiguousarray(array, dtype=spec.dtype)


def _predict_padded(runner: Runner, arrays: list[np.ndarray], batch_size: int) -> np.ndarray:
    stacked = np.stack(arrays)
    missing = batch_size - len(arrays)
    if missing > 0:
        stacked = np.concatenate([stacked, np.repeat(stacked[-1:], missing, axis=0)])
    outputs = np.asarray(runner.predict(stacked))
    if outputs.ndim != 2 or outputs.shape[0] != len(stacked):
        raise RuntimeError(
            f"the runner returned shape {list(outputs.shape)} for a batch of {len(stacked)}"
        )
    return outputs[: len(arrays)]


def _score_batch(
    batch: list[tuple[LoadOutcome, np.ndarray]],
    runner: Runner,
    *,
    batch_size: int,
    output_spec: OutputSpec,
    masks: MaskStore | None = None,
) -> list[tuple[LoadOutcome, CaseResult]]:
    """Score one batch; if the runtime rejects it, score its cases one by one."""
    try:
        rows = _predict_padded(runner, [array for _, array in batch], batch_size)
    except Exception as error:  # a runtime error on some input must not end the run
        if len(batch) > 1:
            return [
                pair
                for item in batch
                for pair in _score_batch(
                    [item], runner, batch_size=batch_size, output_spec=output_spec, masks=masks
                )
            ]
        outcome = batch[0][0]
        return [
            (
                outcome,
                _failed(
                    outcome.case.case_id,
                    HarnessReason.INFERENCE_ERROR.value,
                    f"{type(error).__name__}: {error}",
                    outcome.decoder,
                ),
            )
        ]
    mask = output_spec.mask
    if mask is not None:  # kind: mask (dxval.inference.outputs)
        check_batch_width(mask, rows.shape[1], output_spec.name)
        return [
            (
                outcome,
                mask_case_result(outcome.case.case_id, row, mask, masks, decoder=outcome.decoder),
            )
            for (outcome, _), row in zip(batch, rows, strict=True)
        ]
    if output_spec.boxes is not None:  # kind: boxes, checked on every batch (so the first)
        check_batch_width(output_spec.boxes, rows.shape[1], output_spec.name)
    return [
        (
            outcome,
            _scored_or_failed(
                outcome.case.case_id,
                row,
                output_spec,
                cache_hit=False,
                decoder=outcome.decoder,
            ),
        )
        # float64 first: float32 → float64 is exact, and tolist() gives Python floats
        for (outcome, _), row in zip(batch, rows.astype(np.float64).tolist(), strict=True)
    ]


#: The stage a case scored in a batch reached, by the reason it failed there.
_BATCH_STAGES = {
    HarnessReason.INFERENCE_ERROR.value: "inference",
    HarnessReason.NON_FINITE_OUTPUT.value: "output_check",
}


def _timed_batch(
    batch: list[tuple[LoadOutcome, np.ndarray]],
    runner: Runner,
    *,
    batch_size: int,
    output_spec: OutputSpec,
    end_to_end_note: str | None,
    masks: MaskStore | None = None,
) -> list[tuple[LoadOutcome, CaseResult]]:
    """:func:`_score_batch` with each result's timing: its load and its batch's wall time."""
    started = clock_ns()
    scored = _score_batch(
        batch, runner, batch_size=batch_size, output_spec=output_spec, masks=masks
    )
    ended = clock_ns()
    return [
        (
            outcome,
            replace(
                result,
                timing=batch_timing(
                    outcome.timing,
                    started_ns=started,
                    ended_ns=ended,
                    batch_cases=len(batch),
                    stage_reached="done"
                    if result.status is CaseStatus.SCORED
                    else _BATCH_STAGES.get(result.reason_code or "", "output_check"),
                    end_to_end_note=end_to_end_note,
                ),
            ),
        )
        for outcome, result in scored
    ]


def _flush(
    batch: list[tuple[LoadOutcome, np.ndarray]],
    runner: Runner,
    options: HarnessOptions,
    cache: PredictionCache | None,
    state: _RunState,
) -> None:
    scored = _timed_batch(
        batch,
        runner,
        batch_size=options.batch_size,
        output_spec=options.output_spec,
        end_to_end_note=None,
        masks=options.mask_store,
    )
    for outcome, result in scored:
        _record_and_cache(outcome.case, result, cache, state)
    state.writer.flush()
    batch.clear()


def _record_and_cache(
    case: CaseInput, result: CaseResult, cache: PredictionCache | None, state: _RunState
) -> None:
    state.record(result)
    if cache is not None and result.outputs is not None and case.sha256s:
        cache.store(case.sha256s, result.outputs, decoder=result.decoder)
    elif cache is not None and result.mask_sha256 is not None and case.sha256s:
        cache.store(case.sha256s, (), decoder=result.decoder, mask_sha256=result.mask_sha256)


def score_loaded(
    outcomes: Sequence[LoadOutcome],
    runner: Runner,
    *,
    input_spec: InputSpec,
    output_spec: OutputSpec,
    batch_size: int,
) -> list[tuple[CaseInput, CaseResult]]:
    """Check and score loaded cases in padded batches of ``batch_size`` rows, in order.

    The same steps as :func:`run_harness` after loading (shape/dtype check, padded
    batches, per-case retry when the runtime rejects a batch, activation in float64),
    for an executor that scores where it loads (e.g. a Ray actor). Returns one
    result per outcome, in the order of ``outcomes``. Timings as in a local run,
    except end to end: the cases were loaded elsewhere, by another clock
    ("not timed (ray executor)").
    """
    results: dict[int, CaseResult] = {}
    batch: list[tuple[LoadOutcome, np.ndarray]] = []
    positions: list[int] = []

    def flush() -> None:
        scored = _timed_batch(
            batch,
            runner,
            batch_size=batch_size,
            output_spec=output_spec,
            end_to_end_note="not timed (ray executor)",
        )
        for position, (_, result) in zip(positions, scored, strict=True):
            results[position] = result
        batch.clear()
        positions.clear()

    for position, outcome in enumerate(outcomes):
        prepared = _prepared(outcome, input_spec)
        if isinstance(prepared, CaseResult):
            results[position] = prepared
            continue
        batch.append((outcome, prepared))
        positions.append(position)
        if len(batch) == batch_size:
            flush()
    if batch:
        flush()
    return [(outcome.case, results[position]) for position, outcome in enumerate(outcomes)]


def _open_cache(options: HarnessOptions, runner: Runner) -> PredictionCache | None:
    if not options.use_cache or options.cache_dir is None:
        return None
    if options.preprocessing_digest is None:
        raise ValueError("a prediction cache needs the preprocessing digest")
    info = runner.info
    context = CacheContext(
        model_sha256=info.model_sha256,
        preprocessing_digest=options.preprocessing_digest,
        runner=info.name,
        runner_version=info.version,
        device=info.device,
        batch_size=options.batch_size,
        output_name=options.output_spec.name,
        output=_output_declaration(options.output_spec),
    )
    store = options.mask_store
    return PredictionCache(
        options.cache_dir, context, mask_ok=None if store is None else store.verified
    )


def _output_declaration(spec: OutputSpec) -> str | None:
    """A mask or box output's declaration as canonical JSON (part of the cache key).

    None for scores (their keys are unchanged).
    """
    declared = spec.mask or spec.boxes
    if declared is None:
        return None
    return json.dumps(declared.describe(), sort_keys=True, separators=(",", ":"))


def _mask_store(options: HarnessOptions) -> MaskStore | None:
    """Label maps go beside the cache entries (kept for reruns) or beside the results file."""
    if options.output_spec.mask is None:
        return None
    if options.use_cache and options.cache_dir is not None:
        return MaskStore(options.cache_dir / "masks")
    return MaskStore(options.results_path.parent / "masks")


def _load_and_score(
    outcomes: Iterator[LoadOutcome],
    runner: Runner,
    options: HarnessOptions,
    cache: PredictionCache | None,
    state: _RunState,
) -> None:
    """Score loaded cases here, in batches of ``options.batch_size`` rows."""
    batch: list[tuple[LoadOutcome, np.ndarray]] = []
    try:
        for outcome in outcomes:
            prepared = _prepared(outcome, options.input_spec)
            if isinstance(prepared, CaseResult):
                state.record(prepared)
                continue
            batch.append((outcome, prepared))
            if len(batch) == options.batch_size:
                _flush(batch, runner, options, cache, state)
        if batch:
            _flush(batch, runner, options, cache, state)
    finally:
        close = getattr(outcomes, "close", None)
        if close is not None:
            close()


def run_harness(
    cases: Iterable[CaseInput],
    loader: CaseLoaderFunction,
    runner: Runner,
    options: HarnessOptions,
) -> HarnessResult:
    """Score every case with ``runner``; stream one result per case to ``options.results_path``.

    Parameters
    ----------
    cases:
        The cases, in manifest order (any iterable; consumed once, lazily).
    loader:
        Picklable ``loader(paths) -> ndarray`` giving one case's input without the
        batch axis; raises an exception with ``reason_code`` for a bad case.
    runner:
        A loaded, signature-checked runner.
    options:
        Batch size, cache, executor, progress; see :class:`HarnessOptions`.

    Returns
    -------
    HarnessResult
        Counts (total = scored + failed), failure reasons, cache statistics, runner and
        executor records. ``environment`` is left empty (see :func:`score_cases`).

    Raises
    ------
    UsageError
        ``batch_size`` below 1.
    """
    if options.batch_size < 1:
        raise UsageError(f"--batch-size: got {options.batch_size}, expected an integer >= 1")
    start = time.monotonic()
    options = replace(options, mask_store=_mask_store(options))
    cache = _open_cache(options, runner)
    executor: Executor | ScoringExecutor = (
        options.executor if options.executor is not None else InlineExecutor()
    )
    with ResultWriter(options.results_path) as writer:
        state = _RunState(writer, options.progress)
        misses = _serve_from_cache(cases, cache, state, options.output_spec)
        if isinstance(executor, ScoringExecutor):
            # A cluster executor loads and scores where the data is; the records,
            # cache and counts stay here, exactly as for a local run.
            for case, result in executor.score(loader, misses, batch_size=options.batch_size):
                _record_and_cache(case, result, cache, state)
        else:
            _load_and_score(executor.load(loader, misses), runner, options, cache, state)
    if options.progress is not None:
        options.progress.close()
    return HarnessResult(
        results_path=options.results_path,
        total=state.total,
        scored=state.scored,
        failed=state.total - state.scored,
        cache_hits=state.cache_hits,
        failure_reasons=dict(sorted(state.reasons.items())),
        runner=runner.info,
        cache=cache.stats() if cache is not None else CacheStats(enabled=False),
        executor=executor.describe(),
        batch_size=options.batch_size,
        elapsed_seconds=time.monotonic() - start,
        mask_store=options.mask_store,
    )


def _executor_for(workers: int | None, batch_size: int) -> Executor:
    count = default_workers() if workers is None else workers
    if count < 0:
        raise UsageError(f"--workers: got {count}, expected 0 (load in-process) or more")
    if count == 0:
        return InlineExecutor()
    # Chunks of up to 8 cases amortise the per-task cost of small images while every
    # worker still gets a share of each batch.
    chunk_size = max(1, min(8, batch_size // count))
    return ProcessExecutor(
        count, max_in_flight=2 * batch_size + 4 * count * chunk_size, chunk_size=chunk_size
    )


def score_cases(
    model_config: ModelConfig,
    loader: CaseLoaderFunction,
    cases: Iterable[CaseInput],
    *,
    results_path: Path,
    preprocessing_digest: str | None,
    options: InferenceOptions | None = None,
    executor: Executor | None = None,
    runner: Runner | None = None,
) -> HarnessResult:
    """Load the model, run its golden check, score every case and describe the environment.

    The one call the validation pipeline makes for a protocol with a ``model:`` section.

    Parameters
    ----------
    model_config:
        The protocol's model section (:meth:`ModelConfig.from_mapping`).
    loader:
        Picklable case loader (e.g. :class:`dxval.dicom.loader.CaseLoader`).
    cases:
        The cases in manifest order.
    results_path:
        JSON Lines file for per-case results.
    preprocessing_digest:
        Digest of the loader's preprocessing (needed when the cache is used).
    options:
        Device, workers, batch size, threads, cache and progress
        (:class:`~dxval.inference.options.InferenceOptions`; default options).
        Without ``options.cache_dir`` no prediction cache is used.
    executor:
        Overrides ``options.workers`` with another executor (e.g. a cluster executor).
    runner:
        An already loaded runner of ``model_config`` (from :func:`load_runner`); by
        default it is loaded here.

    Raises
    ------
    UsageError
        Bad option, model file missing/invalid, device absent, signature mismatch (exit 2).
    IntegrityError
        Model digest mismatch or golden check failed (exit 3).
    """
    options = options or InferenceOptions()
    options.check()
    if runner is None:
        threads = options.threads or default_workers()
        runner = load_runner(model_config, device=options.device, threads=threads)
    golden = None
    if model_config.reference is not None:
        golden = run_golden_check(model_config.reference, runner, model_config.input)
    chosen: Executor | ScoringExecutor
    if executor is not None:
        chosen = executor
    elif options.executor == "ray":
        from dxval.inference.ray_executor import RayExecutor

        if model_config.output.mask is not None:
            raise UsageError(
                "--executor ray: a model with output kind 'mask' is scored by the local "
                "executor only; run without --executor ray"
            )
        chosen = RayExecutor(
            model_config,
            device=options.device,
            threads=options.threads,
            address=options.ray_address,
            gpus_per_worker=options.gpus_per_worker,
        )
    else:
        chosen = _executor_for(options.workers, options.batch_size)
    total = len(cases) if isinstance(cases, Sized) else None
    harness = HarnessOptions(
        results_path=results_path,
        input_spec=model_config.input,
        output_spec=model_config.output,
        batch_size=options.batch_size,
        preprocessing_digest=preprocessing_digest,
        cache_dir=options.cache_dir,
        use_cache=options.use_cache,
        executor=chosen,
        progress=Progress(total, enabled=options.progress),
    )
    result = run_harness(cases, loader, runner, harness)
    environment = capture_environment(runners=[runner.info], executor=chosen.describe())
    return replace(result, environment=environment, golden=golden)
