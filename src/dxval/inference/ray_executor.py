"""The Ray executor: decode in cluster tasks, score in an actor pool, records kept here.

``validate P --executor ray`` runs the cases that the prediction cache does
not already hold through a Ray Data pipeline:

1. the case list (IDs, file paths, input digests; no pixels) becomes a
   dataset of small blocks;
2. CPU tasks decode and preprocess each block with the protocol's loader
   (:func:`dxval.inference.executor.load_case`: one bad case becomes a
   reason, never a failed block);
3. an actor pool scores the loaded blocks, one runner per actor (GPUs per
   actor from ``--gpus-per-worker``), with the harness's own code
   (:func:`dxval.inference.harness.score_loaded`: the declared shape and
   dtype check, batches padded to exactly ``batch_size`` rows, per-case retry
   when the runtime rejects a batch, the activation in float64);
4. results stream back to the driver in case order (Ray Data's
   ``preserve_order``), where the harness records them, fills the prediction
   cache and reports progress exactly as for a local run.

Blocks stream through the pipeline, so no process holds every case's pixels.
The model artifact travels through the object store (workers need dxval, the
runtime and the decoders, not the model file); the case files must be
readable by every worker under the paths of the manifest (a shared file
system). Before any case runs, one probe task per node reports its Python,
dxval, runner and decoder versions and its CPUs and GPUs: a worker whose
dxval, runner or decoder versions differ from the driver's is refused
(exit 2, naming the node), and the nodes are recorded in ``environment.json``.

A scoring actor that dies (a node lost, a process killed) is restarted by Ray
and its unfinished blocks are retried on a live actor. A block given up (its
actor died ``_MAX_BLOCK_RETRIES + 1`` times, or its decode task's worker
died: a decoder crash) is run again one case per
block, as the local executor retries a crashed worker's cases one at a time;
a case lost again is recorded as failed (``worker_crashed``), so cases in =
scored + failed.

Ray is an optional extra (``pip install 'dxval[ray]'``) and is imported only
when this executor runs.
"""

from __future__ import annotations

import logging
import pickle
import platform
import socket
import tempfile
import warnings
from collections.abc import Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from dxval.errors import UsageError
from dxval.inference.config import ModelConfig
from dxval.inference.executor import CaseLoaderFunction, LoadOutcome, load_case
from dxval.inference.results import CaseInput, CaseResult, CaseStatus, HarnessReason

__all__ = [
    "DECODER_DISTRIBUTIONS",
    "RayExecutor",
    "check_worker_versions",
    "import_ray",
    "software_versions",
]

#: The distributions that decode pixels: a worker must have the driver's versions.
DECODER_DISTRIBUTIONS = (
    "numpy",
    "pydicom",
    "pylibjpeg",
    "pylibjpeg-openjpeg",
    "pylibjpeg-rle",
    "python-gdcm",
)

#: The distribution behind each runtime of ``model.runtime``.
_RUNNER_DISTRIBUTIONS = {"onnxruntime": "onnxruntime", "torch": "torch"}

#: Retries of a block whose scoring actor died (a lost node, a killed process).
_MAX_BLOCK_RETRIES = 3
#: Retries of a decode task whose worker died: none, as the cases of a lost block are
#: run again one per block anyway (a decoder crash costs two worker processes, not eight).
_DECODE_RETRIES = 0

_EXTRA_HINT = "install the extra: pip install 'dxval[ray]'"


def import_ray() -> ModuleType:
    """Import Ray, or raise :class:`UsageError` (exit 2) naming the extra to install."""
    try:
        import ray
    except ImportError as error:
        raise UsageError(f"--executor ray: Ray is not installed ({_EXTRA_HINT})") from error
    return ray


def _distribution_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def software_versions(runtime: str) -> dict[str, str | None]:
    """The versions a worker must share with the driver: dxval, the runner, the decoders.

    Parameters
    ----------
    runtime:
        ``model.runtime`` (``onnxruntime`` or ``torch``).
    """
    from dxval import __version__

    versions: dict[str, str | None] = {"dxval": __version__}
    runner = _RUNNER_DISTRIBUTIONS.get(runtime, runtime)
    versions[runner] = _distribution_version(runner)
    for name in DECODER_DISTRIBUTIONS:
        versions[name] = _distribution_version(name)
    return versions


def _probe(runtime: str) -> dict[str, Any]:
    """What one node reports about itself (runs as a Ray task on that node)."""
    return {
        "hostname": socket.gethostname(),
        "python": platform.python_version(),
        "versions": software_versions(runtime),
    }


def check_worker_versions(
    driver: Mapping[str, str | None], nodes: Iterable[Mapping[str, Any]]
) -> None:
    """Refuse a node whose dxval, runner or decoder versions differ from the driver's.

    Parameters
    ----------
    driver:
        :func:`software_versions` on the driver.
    nodes:
        One record per node, with ``node_id``, ``hostname`` and ``versions``.

    Raises
    ------
    UsageError
        Naming the node, the distribution and both versions (exit 2).
    """
    for node in nodes:
        versions = node["versions"]
        for name, expected in driver.items():
            found = versions.get(name)
            if found != expected:
                raise UsageError(
                    f"--executor ray: node {node['hostname']} ({node['node_id'][:16]}) has "
                    f"{name} {found or 'not installed'}, the driver has "
                    f"{expected or 'not installed'}; install the same dxval wheel, runtime "
                    "and decoders on every worker"
                )


def _load_block(batch: dict[str, np.ndarray], loader: CaseLoaderFunction) -> dict[str, np.ndarray]:
    """Ray task: decode and preprocess one block of cases (pickled CaseInput → LoadOutcome)."""
    loaded = []
    for blob in batch["case"]:
        case: CaseInput = pickle.loads(blob)  # noqa: S301  (pickled by this run's driver)
        array, code, reason, decoder, timing = load_case(loader, case.paths)
        outcome = LoadOutcome(
            case, array, reason_code=code, reason=reason, decoder=decoder, timing=timing
        )
        loaded.append(pickle.dumps(outcome))
    return {"index": batch["index"], "outcome": np.array(loaded, dtype=object)}


class _ScoringActor:
    """Ray actor: one runner, loaded from the artifact bytes in the object store."""

    def __init__(self, settings: _ActorSettings) -> None:
        import ray

        from dxval.inference.runner import load_runner

        (artifact,) = ray.get(list(settings.artifact))
        with tempfile.TemporaryDirectory(prefix="dxval-ray-model-") as folder:
            local = Path(folder) / settings.config.path.name
            local.write_bytes(artifact)
            # The digest pinned in the protocol is checked again on this copy, which
            # the runtime has read in full once loaded.
            config = replace(settings.config, path=local)
            self.runner = load_runner(config, device=settings.device, threads=settings.threads)
        self.settings = settings

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from dxval.inference.harness import score_loaded

        outcomes = [pickle.loads(blob) for blob in batch["outcome"]]  # noqa: S301  (our tasks)
        scored = score_loaded(
            outcomes,
            self.runner,
            input_spec=self.settings.config.input,
            output_spec=self.settings.config.output,
            batch_size=self.settings.batch_size,
        )
        return {
            "index": batch["index"],
            "result": np.array([pickle.dumps(pair) for pair in scored], dtype=object),
        }


@dataclass(frozen=True, slots=True)
class _ActorSettings:
    config: ModelConfig
    artifact: tuple[Any, ...]  # one Ray ObjectRef, in a tuple so Ray passes it unresolved
    device: str
    threads: int
    batch_size: int


def _quiet() -> None:
    """Keep Ray's own notices off stderr, where dxval's progress lines are; errors show.

    Ray Data configures its loggers when imported and warns about its internal
    deprecations while a dataset runs; neither is about this run.
    """
    import ray.data  # noqa: F401  (configures Ray Data's loggers, reset below)
    from ray.util.annotations import RayDeprecationWarning

    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=RayDeprecationWarning)


def _crashed(case: CaseInput) -> CaseResult:
    return CaseResult(
        case_id=case.case_id,
        score=None,
        status=CaseStatus.FAILED,
        reason_code=HarnessReason.WORKER_CRASHED.value,
        reason="the Ray worker loading or scoring this case died, also with the case alone",
    )


class RayExecutor:
    """Loads and scores cases on a Ray cluster (see the module docstring).

    Parameters
    ----------
    model_config:
        The protocol's model section; each scoring actor loads this artifact.
    device:
        ``cpu``, ``cuda`` or ``tensorrt``, for the actors' runners.
    threads:
        Runtime threads per actor; ``None``: the CPUs each actor reserves.
    address:
        The cluster to join (``ray://…`` or ``host:port``); ``None`` starts a local
        Ray with this machine's cores (or joins the Ray this process already started).
    gpus_per_worker:
        GPUs per scoring actor; 0 scores on CPU.
    cpus_per_actor:
        CPUs each scoring actor reserves.
    actors:
        Scoring actors; ``None``: one per ``gpus_per_worker`` GPUs of the cluster, or
        one per 8 CPUs on a CPU-only cluster (at least one).
    block_size:
        Cases per decode task and per block scored by an actor.
    """

    def __init__(
        self,
        model_config: ModelConfig,
        *,
        device: str = "cpu",
        threads: int | None = None,
        address: str | None = None,
        gpus_per_worker: float = 0.0,
        cpus_per_actor: float = 1.0,
        actors: int | None = None,
        block_size: int | None = None,
    ) -> None:
        self.model_config = model_config
        self.device = device
        self.threads = threads
        self.address = address
        self.gpus_per_worker = gpus_per_worker
        self.cpus_per_actor = cpus_per_actor
        self.actors = actors
        self.block_size = block_size
        self._record: dict[str, Any] = {"name": "ray", "address": address or "local"}

    def describe(self) -> dict[str, Any]:
        """Ray version, address, actor pool and the nodes with their versions."""
        return dict(self._record)

    def score(
        self, loader: CaseLoaderFunction, cases: Iterable[CaseInput], *, batch_size: int
    ) -> Iterator[tuple[CaseInput, CaseResult]]:
        """Load and score each case on the cluster; yield one result per case, in order.

        Raises
        ------
        UsageError
            Ray not installed, or a node's versions differ from the driver's (exit 2).
        """
        ray = import_ray()
        started = self._connect(ray)
        try:
            _quiet()
            self._check_nodes(ray)
            yield from self._run(ray, loader, list(cases), batch_size)
        finally:
            if started:
                ray.shutdown()

    def _connect(self, ray: ModuleType) -> bool:
        """Join the cluster or start a local Ray; True when this call started it."""
        if ray.is_initialized():
            return False
        if self.address is None:
            from dxval.inference.harness import default_workers

            ray.init(
                num_cpus=default_workers(),
                include_dashboard=False,
                logging_level=logging.ERROR,
                log_to_driver=False,
            )
        else:
            try:
                ray.init(address=self.address, logging_level=logging.ERROR)
            except (ConnectionError, RuntimeError, ValueError) as error:
                raise UsageError(
                    f"--ray-address {self.address}: cannot join the Ray cluster ({error})"
                ) from error
        return True

    def _check_nodes(self, ray: ModuleType) -> None:
        """Probe every live node; refuse mismatched versions; record the nodes."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        runtime = self.model_config.runtime.value
        probe = ray.remote(num_cpus=0)(_probe)
        live = [node for node in ray.nodes() if node.get("Alive")]
        reports = ray.get(
            [
                probe.options(
                    scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)
                ).remote(runtime)
                for node in live
            ]
        )
        nodes = []
        for node, report in zip(live, reports, strict=True):
            resources = node.get("Resources", {})
            nodes.append(
                {
                    "node_id": node["NodeID"],
                    "address": node.get("NodeManagerAddress"),
                    "hostname": report["hostname"],
                    "cpus": resources.get("CPU", 0.0),
                    "gpus": resources.get("GPU", 0.0),
                    "python": report["python"],
                    "versions": report["versions"],
                }
            )
        nodes.sort(key=lambda node: (str(node["hostname"]), str(node["node_id"])))
        check_worker_versions(software_versions(runtime), nodes)
        self._record = {
            "name": "ray",
            "ray_version": ray.__version__,
            "address": self.address or "local",
            "nodes": nodes,
            "gpus_per_worker": self.gpus_per_worker,
            "cpus_per_actor": self.cpus_per_actor,
        }

    def _pool_size(self, ray: ModuleType) -> int:
        if self.actors is not None:
            return max(1, self.actors)
        resources = ray.cluster_resources()
        if self.gpus_per_worker > 0:
            return max(1, int(resources.get("GPU", 0.0) // self.gpus_per_worker))
        return max(1, int(resources.get("CPU", 1.0) // 8))

    def _run(
        self,
        ray: ModuleType,
        loader: CaseLoaderFunction,
        cases: list[CaseInput],
        batch_size: int,
    ) -> Iterator[tuple[CaseInput, CaseResult]]:
        if not cases:
            return
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False  # progress is dxval's own, on stderr
        context.print_on_execution_start = False
        # A block whose task or actor keeps dying is dropped, not the run: its cases
        # are retried one per block, and those still lost are recorded as failed.
        context.max_errored_blocks = -1
        actors = self._pool_size(ray)
        block = self.block_size or max(1, min(batch_size, -(-len(cases) // (2 * actors))))
        self._record.update({"actors": actors, "block_size": block, "batch_size": batch_size})
        settings = _ActorSettings(
            config=self.model_config,
            artifact=(ray.put(self.model_config.path.read_bytes()),),
            device=self.device,
            threads=self.threads or max(1, int(self.cpus_per_actor)),
            batch_size=batch_size,
        )
        pipeline = _Pipeline(ray, loader, settings, self, actors)
        lost = yield from pipeline.stream(cases, list(range(len(cases))), block)
        if lost and block > 1:  # one case per block: a case that kills workers fails alone
            lost = yield from pipeline.stream(cases, lost, 1)
        for index in lost:
            yield cases[index], _crashed(cases[index])


class _Pipeline:
    """One Ray Data pipeline shape (decode tasks → scoring actors) over chosen cases."""

    def __init__(
        self,
        ray: ModuleType,
        loader: CaseLoaderFunction,
        settings: _ActorSettings,
        executor: RayExecutor,
        actors: int,
    ) -> None:
        self.ray = ray
        self.loader = loader
        self.settings = settings
        self.executor = executor
        self.actors = actors

    def stream(
        self, cases: list[CaseInput], indices: list[int], block: int
    ) -> Generator[tuple[CaseInput, CaseResult], None, list[int]]:
        """Yield each case's result as it streams in; return the indices never returned."""
        ray = self.ray
        items = [{"index": index, "case": pickle.dumps(cases[index])} for index in indices]
        dataset = ray.data.from_items(items, override_num_blocks=-(-len(items) // block))
        loaded = dataset.map_batches(
            _load_block,
            fn_kwargs={"loader": self.loader},
            batch_size=block,
            batch_format="numpy",
            num_cpus=1,
            max_retries=_DECODE_RETRIES,
        )
        scored = loaded.map_batches(
            _ScoringActor,
            fn_constructor_kwargs={"settings": self.settings},
            batch_size=block,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=self.actors),
            num_cpus=self.executor.cpus_per_actor,
            num_gpus=self.executor.gpus_per_worker or None,
            max_restarts=-1,
            max_task_retries=_MAX_BLOCK_RETRIES,
        )
        return (yield from _collect(scored, cases, indices))


def _collect(
    scored: Any, cases: list[CaseInput], indices: list[int]
) -> Generator[tuple[CaseInput, CaseResult], None, list[int]]:
    """Yield the results of a pipeline as they stream in; return the indices it lost."""
    missing = set(indices)
    for batch in scored.iter_batches(batch_size=None, batch_format="numpy"):
        for index, blob in zip(batch["index"], batch["result"], strict=True):
            missing.discard(int(index))
            case, result = pickle.loads(blob)  # noqa: S301  (pickled by this run's actors)
            yield case, result
    return sorted(missing)
