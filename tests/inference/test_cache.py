"""Prediction cache: keys, verified entries, atomic writes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from dxval.inference.cache import CacheContext, PredictionCache

CONTEXT = CacheContext(
    model_sha256="a" * 64,
    preprocessing_digest="b" * 64,
    runner="onnxruntime",
    runner_version="1.32.0",
    device="cpu",
    batch_size=16,
    output_name="score",
)
INPUTS = ("c" * 64,)


def test_round_trip_keeps_outputs_exactly(tmp_path: Path) -> None:
    cache = PredictionCache(tmp_path, CONTEXT)
    outputs = (0.1 + 0.2, -1e-300, 123456.789)
    cache.store(INPUTS, outputs, decoder="pydicom 3.0.2 (native)")
    hit = cache.lookup(INPUTS)
    assert hit is not None
    assert hit.outputs == outputs
    assert hit.decoder == "pydicom 3.0.2 (native)"
    assert cache.stats().to_dict() == {
        "enabled": True,
        "hits": 1,
        "misses": 0,
        "stored": 1,
        "rejected": 0,
    }
    assert not list(tmp_path.rglob("*.tmp"))


def test_every_key_field_separates_entries(tmp_path: Path) -> None:
    keys = {PredictionCache(tmp_path, CONTEXT).key(INPUTS)}
    for field, value in [
        ("model_sha256", "d" * 64),
        ("preprocessing_digest", "e" * 64),
        ("runner", "torch"),
        ("runner_version", "1.33.0"),
        ("device", "cuda"),
        ("batch_size", 8),
        ("output_name", "logits"),
    ]:
        keys.add(PredictionCache(tmp_path, replace(CONTEXT, **{field: value})).key(INPUTS))
    keys.add(PredictionCache(tmp_path, CONTEXT).key(("f" * 64,)))
    assert len(keys) == 9


def test_entry_of_another_context_at_the_key_path_is_rejected(tmp_path: Path) -> None:
    cache = PredictionCache(tmp_path, CONTEXT)
    other = PredictionCache(tmp_path, replace(CONTEXT, device="cuda"))
    other.store(INPUTS, (1.0,), decoder=None)
    moved = next(tmp_path.rglob("*.json"))
    target = tmp_path / cache.key(INPUTS)[:2] / f"{cache.key(INPUTS)}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    moved.rename(target)
    assert cache.lookup(INPUTS) is None
    assert cache.stats().rejected == 1


def test_garbage_and_non_finite_entries_are_rejected(tmp_path: Path) -> None:
    cache = PredictionCache(tmp_path, CONTEXT)
    cache.store(INPUTS, (1.0,), decoder=None)
    path = next(tmp_path.rglob("*.json"))
    path.write_text("{not json")
    assert cache.lookup(INPUTS) is None
    cache.store(INPUTS, (1.0,), decoder=None)
    entry = json.loads(path.read_text())
    assert entry["entry_sha256"]
    path.write_text(json.dumps({**entry, "outputs": []}))
    assert cache.lookup(INPUTS) is None
    assert cache.stats().rejected == 2
    assert cache.stats().misses == 2


def test_missing_entry_is_a_plain_miss(tmp_path: Path) -> None:
    cache = PredictionCache(tmp_path / "never-created", CONTEXT)
    assert cache.lookup(INPUTS) is None
    assert (cache.stats().misses, cache.stats().rejected) == (1, 0)
