"""Prediction cache: a rerun of an unchanged protocol skips decode and inference.

An entry is keyed by the SHA-256 of everything that determines a case's raw
output: the model's SHA-256, the preprocessing digest, the case's input file
SHA-256s, the runner's name and version, the device, the batch size (a batch
size change can move torch results by rounding; see the harness) and the
output name (and, for a mask output, its declaration). Entries hold raw
outputs only, so a changed activation or operating point never invalidates
them and never reads stale scores.

Each entry carries a SHA-256 of its own content and repeats its key fields;
both are verified before use. An entry that fails verification is counted as
rejected, treated as a miss and overwritten. A mask output's entry holds the
SHA-256 of the label map's file in the mask store beside the entries; the
file must still hash to it, else the entry is rejected. Writes are atomic (temporary
file, then rename), so an interrupted run never leaves half an entry.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["CACHE_SCHEMA", "CacheContext", "CacheStats", "CachedPrediction", "PredictionCache"]

#: Version of the entry layout; part of every key.
CACHE_SCHEMA = 1


@dataclass(frozen=True, slots=True)
class CacheContext:
    """The run settings a cached output depends on (everything but the case's files)."""

    model_sha256: str
    preprocessing_digest: str
    runner: str
    runner_version: str
    device: str
    batch_size: int
    output_name: str
    output: str | None = None
    """A non-score output's declaration (canonical JSON, e.g. a mask's shape, encoding and
    threshold); ``None`` for a score output, whose keys are unchanged by this field."""


@dataclass(frozen=True, slots=True)
class CachedPrediction:
    """A verified cache entry."""

    outputs: tuple[float, ...]
    decoder: str | None
    mask_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class CacheStats:
    """What the cache did in one run (recorded in the audit log)."""

    enabled: bool
    hits: int = 0
    misses: int = 0
    stored: int = 0
    rejected: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return asdict(self)


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


class PredictionCache:
    """A folder of verified per-case entries for one :class:`CacheContext`."""

    def __init__(
        self,
        folder: Path,
        context: CacheContext,
        *,
        mask_ok: Callable[[str], bool] | None = None,
    ) -> None:
        self.folder = folder
        self.context = context
        fields = asdict(context)
        if fields["output"] is None:  # score outputs keep the keys they always had
            del fields["output"]
        self._context_fields = fields
        self._mask_ok = mask_ok
        self._hits = 0
        self._misses = 0
        self._stored = 0
        self._rejected = 0

    def key(self, input_sha256s: tuple[str, ...]) -> str:
        """SHA-256 key of one case in this context."""
        material = {
            "schema": CACHE_SCHEMA,
            "context": self._context_fields,
            "input_sha256s": list(input_sha256s),
        }
        return hashlib.sha256(_canonical(material)).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def lookup(self, input_sha256s: tuple[str, ...]) -> CachedPrediction | None:
        """Return the verified entry for a case, or ``None`` (a miss or a rejected entry)."""
        key = self.key(input_sha256s)
        try:
            raw = self._path(key).read_bytes()
        except FileNotFoundError:
            self._misses += 1
            return None
        entry = self._verified(raw, key, input_sha256s)
        if entry is None:
            self._rejected += 1
            self._misses += 1
            return None
        self._hits += 1
        return entry

    def _verified(
        self, raw: bytes, key: str, input_sha256s: tuple[str, ...]
    ) -> CachedPrediction | None:
        try:
            entry = json.loads(raw)
            claimed = entry.pop("entry_sha256")
            outputs = tuple(float(value) for value in entry["outputs"])
            mask = entry.get("mask_sha256")
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if mask is None:
            usable = bool(outputs) and all(map(math.isfinite, outputs))
        else:  # a mask entry: its label map's file must still hash to the digest
            usable = self._mask_ok is not None and isinstance(mask, str) and self._mask_ok(mask)
        intact = hashlib.sha256(_canonical(entry)).hexdigest() == claimed
        matches = (
            entry.get("key") == key
            and entry.get("schema") == CACHE_SCHEMA
            and entry.get("context") == self._context_fields
            and entry.get("input_sha256s") == list(input_sha256s)
        )
        if not (intact and matches and usable):
            return None
        decoder = entry.get("decoder")
        if mask is not None:
            return CachedPrediction((), None if decoder is None else str(decoder), mask)
        return CachedPrediction(outputs=outputs, decoder=None if decoder is None else str(decoder))

    def store(
        self,
        input_sha256s: tuple[str, ...],
        outputs: tuple[float, ...],
        *,
        decoder: str | None,
        mask_sha256: str | None = None,
    ) -> None:
        """Write one case's raw outputs atomically (only finite outputs are ever stored).

        A mask output stores no row (``outputs`` empty) but the SHA-256 of its label
        map's file in the run's mask store.
        """
        key = self.key(input_sha256s)
        entry: dict[str, Any] = {
            "schema": CACHE_SCHEMA,
            "key": key,
            "context": self._context_fields,
            "input_sha256s": list(input_sha256s),
            "outputs": list(outputs),
            "decoder": decoder,
        }
        if mask_sha256 is not None:
            entry["mask_sha256"] = mask_sha256
        entry["entry_sha256"] = hashlib.sha256(_canonical(entry)).hexdigest()
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(_canonical(entry))
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self._stored += 1

    def stats(self) -> CacheStats:
        """Counters so far."""
        return CacheStats(
            enabled=True,
            hits=self._hits,
            misses=self._misses,
            stored=self._stored,
            rejected=self._rejected,
        )
