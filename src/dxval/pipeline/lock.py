"""Pins: the SHA-256 digests a protocol locks, ``dxval lock``, and ``lock.json``.

A locked protocol never runs on a changed model or changed data (DESIGN.md,
data flow step 2): :func:`protocol_pins` lists every pinned digest with the
actual value, :func:`lock_protocol` writes them into the protocol (keeping its
comments and key order) and :func:`lock_record` is the bundle's ``lock.json``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dxval.data import (
    Pin,
    PinUpdate,
    TestSetSource,
    check_pins,
    file_pin,
    lock_test_set,
    read_manifest,
    replace_file,
    rewrite_pins,
)
from dxval.data.limits import check_run_size
from dxval.pipeline.columnar import row_by_row_reason
from dxval.pipeline.plan import RunPlan, plan_run
from dxval.pipeline.score import ModelScores
from dxval.stats.wording import plural


@dataclass(frozen=True, slots=True)
class LockResult:
    """The pins ``dxval lock`` computed, and whether the protocol file changed."""

    path: Path
    updates: tuple[PinUpdate, ...]
    changed: bool


def read_sources(plan: RunPlan) -> list[TestSetSource]:
    """Read and lock every test set's manifest (hashing every file it names).

    The cases read so far are held to the run's case limit after each
    manifest, before its files are hashed (:func:`check_run_size`: a run read
    row by row stops at ``MAX_ROW_CASES``, not after reading every manifest).
    """
    sources: list[TestSetSource] = []
    manifests = []
    for test_set in plan.test_sets:
        manifest = read_manifest(
            test_set.manifest_path,
            label=f"test set {test_set.id}",
            data_root=test_set.data_root,
        )
        manifests.append(manifest)
        check_run_size(
            plan.path,
            sum(item.size for item in manifests),
            0,  # the bootstrap draws are checked on the whole run
            row_by_row=row_by_row_reason(plan, manifests),
        )
        lock = lock_test_set(manifest, test_set=test_set.id)
        sources.append(TestSetSource(test_set.id, test_set.site, manifest, lock))
    return sources


@dataclass(frozen=True, slots=True)
class PinnedItem:
    """One pinned digest: the Pin to check and the PinUpdate that `dxval lock` writes."""

    pin: Pin
    update: PinUpdate


def _pinned(update: PinUpdate, *, what: str, path: Path) -> PinnedItem:
    return PinnedItem(Pin(what, path, update.field, update.old, update.new), update)


def protocol_pins(plan: RunPlan, sources: Sequence[TestSetSource]) -> list[PinnedItem]:
    """Every digest the protocol pins, with the actual value and where `dxval lock` writes it."""
    items = []
    for index, (test_set, source) in enumerate(zip(plan.test_sets, sources, strict=True)):
        assert source.lock is not None  # _read_sources always locks
        update = PinUpdate(
            ("test_sets", index), "sha256", "manifest", test_set.sha256, source.lock.digest
        )
        files = plural(len(source.lock.files), "file")
        what = f"test set {test_set.id} (manifest and the {files} it names)"
        items.append(_pinned(update, what=what, path=source.manifest.path))
    if plan.predictions is not None:
        path = plan.predictions.resolved
        actual = file_pin(path, what="predictions file")
        update = PinUpdate(("predictions",), "sha256", "path", plan.predictions.sha256, actual)
        items.append(_pinned(update, what="predictions file", path=path))
    if plan.model is not None:
        model = plan.model
        path = plan.resolve(model.path)
        actual = file_pin(path, what="model file")
        update = PinUpdate(("model",), "sha256", "path", model.sha256, actual)
        items.append(_pinned(update, what="model", path=path))
        if model.reference_input is not None:
            path = plan.resolve(model.reference_input)
            actual = file_pin(path, what="model reference input")
            location: tuple[str | int, ...] = ("model", "reference")
            pinned = model.reference_input_sha256
            update = PinUpdate(location, "input_sha256", "input", pinned, actual)
            items.append(_pinned(update, what="model reference input", path=path))
    detection = None if plan.task is None else plan.task.detection
    if detection is not None and detection.format == "csv":  # issue 16: lesion truth CSV
        actual = file_pin(detection.resolved, what="detection truth file")
        update = PinUpdate(("detection",), "sha256", "truth", detection.sha256, actual)
        items.append(_pinned(update, what="detection truth file", path=detection.resolved))
    items.extend(_comparator_pins(plan))
    if plan.reader_study is not None:  # issue 15: pinned like the predictions file
        path = plan.reader_study.resolved
        actual = file_pin(path, what="reader study reads file")
        update = PinUpdate(("reader_study",), "sha256", "reads", plan.reader_study.sha256, actual)
        items.append(_pinned(update, what="reader study reads file", path=path))
    return items


def _comparator_pins(plan: RunPlan) -> list[PinnedItem]:
    """Pins of the comparators' predictions files and model artifacts (issue 13)."""
    items = []
    for comparator in plan.comparators:
        here: tuple[str | int, ...] = ("comparators", comparator.index)
        if comparator.predictions is not None:
            path = comparator.predictions.resolved
            what = f"comparator {comparator.id} predictions file"
            actual = file_pin(path, what=what)
            old = comparator.predictions.sha256
            update = PinUpdate((*here, "predictions"), "sha256", "path", old, actual)
            items.append(_pinned(update, what=what, path=path))
        if comparator.model is not None:
            path = plan.resolve(comparator.model.path)
            what = f"comparator {comparator.id} model"
            actual = file_pin(path, what=what)
            update = PinUpdate((*here, "model"), "sha256", "path", comparator.model.sha256, actual)
            items.append(_pinned(update, what=what, path=path))
    return items


def lock_protocol(protocol_path: str | Path) -> LockResult:
    """Compute every pin of the protocol and write them into it (``dxval lock``).

    The protocol keeps its comments, key order and layout; only ``sha256``
    fields (and ``model.reference.input_sha256``) change.

    Raises
    ------
    ProtocolError, InputError
        Invalid protocol, unreadable manifest or pinned file.
    IntegrityError
        A manifest's own ``sha256`` column disagrees with a file it names.
    """
    plan = plan_run(protocol_path)
    updates = tuple(item.update for item in protocol_pins(plan, read_sources(plan)))
    changed = any(update.old != update.new for update in updates)
    if changed:
        replace_file(plan.path, rewrite_pins(plan.raw_bytes, updates))
        relocked = plan_run(plan.path)
        check_pins(item.pin for item in protocol_pins(relocked, read_sources(relocked)))
    return LockResult(plan.path, updates, changed)


def lock_record(
    plan: RunPlan,
    pins: Sequence[PinnedItem],
    sources: Sequence[TestSetSource],
    model_run: ModelScores | None,
    comparator_runs: Mapping[str, ModelScores] | None = None,
) -> dict[str, Any]:
    """The bundle's ``lock.json``: every pinned digest, the decoders and the runner used.

    ``comparator_runs`` holds the harness runs of model comparators by id;
    their runner (device, providers) is recorded beside each comparator's pin.
    """
    by_field = {item.pin.field: item.pin.actual for item in pins}
    test_sets = []
    for index, (test_set, source) in enumerate(zip(plan.test_sets, sources, strict=True)):
        assert source.lock is not None  # _read_sources always locks
        test_sets.append(
            {
                **source.lock.to_dict(),
                "manifest": test_set.manifest,
                "site": test_set.site,
                "pinned_in": f"test_sets[{index}].sha256",
            }
        )
    source_section: dict[str, Any] = {}
    if plan.predictions is not None:
        source_section["predictions"] = {
            "path": plan.predictions.path,
            "sha256": by_field["predictions.sha256"],
        }
    if plan.model is not None:
        source_section["model"] = {"path": plan.model.path, "sha256": by_field["model.sha256"]}
    return {
        "protocol": {"path": plan.path.name, "sha256": plan.digest},
        "model": source_section.get("model"),
        "predictions": source_section.get("predictions"),
        "test_sets": test_sets,
        "preprocessing_digest": None if model_run is None else model_run.preprocessing_digest,
        "decoders": None if model_run is None else sorted(set(model_run.decoders.values())),
        "runner": None if model_run is None else model_run.runner,
        "detection_truth": None
        if "detection.sha256" not in by_field
        else {"path": plan.task.detection.truth, "sha256": by_field["detection.sha256"]}
        if plan.task is not None and plan.task.detection is not None
        else None,
        "comparators": _comparator_record(plan, by_field, comparator_runs or {}),
        "reader_study": None
        if plan.reader_study is None
        else {"reads": plan.reader_study.reads, "sha256": by_field["reader_study.sha256"]},
    }


def _comparator_record(
    plan: RunPlan, by_field: Mapping[str, str], runs: Mapping[str, ModelScores]
) -> list[dict[str, Any]]:
    """``lock.json`` entries of the comparators: pins, and which runner scored a model."""
    records = []
    for comparator in plan.comparators:
        prefix = f"comparators[{comparator.index}]"
        run = runs.get(comparator.id)
        source = comparator.model if comparator.model is not None else comparator.predictions
        assert source is not None  # exactly one: protocol checks
        kind = "model" if comparator.model is not None else "predictions"
        records.append(
            {
                "id": comparator.id,
                "role": comparator.role,
                kind: {"path": source.path, "sha256": by_field[f"{prefix}.{kind}.sha256"]},
                "preprocessing_digest": None if run is None else run.preprocessing_digest,
                "runner": None if run is None else run.runner,
            }
        )
    return records
