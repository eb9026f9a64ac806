"""The test-set reuse ledger: how often each sequestered test set has been used.

FDA's guidance on clinical performance assessment of CADe devices (2020,
§V) asks that a test set used for standalone performance be independent of
model development; reusing it to tune a model, run after run, is how test
data stops being independent. Every ``validate`` run therefore appends one
line per test set to ``<evidence root>/test-set-ledger.jsonl``: the run, the
model (or predictions) digest and the case count. A test set is identified
by its lock digest (the manifest and every file it names), so renaming it
does not reset its count and changed data counts afresh.

Lines are JSON objects hash-chained like the audit log: each holds the
SHA-256 of the previous line, so an edited, removed or reordered line is
detected (:mod:`dxval.evidence.chain`, shared with the evidence ledger).
Appends hold an exclusive lock on ``.test-set-ledger.lock`` so concurrent
runs never interleave lines. When a protocol caps reuse (``qc.max_test_set_uses``), a
run holds that lock from the check of the cap until its own uses are
recorded (:func:`ledger_session`), so two runs started together cannot both
count the same earlier uses: the second waits, then sees the first's use.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dxval.errors import InputError
from dxval.evidence.audit import current_host, current_user, utc_now
from dxval.evidence.chain import LOCK_NAME, append_chain, locked, read_chain
from dxval.stats.wording import plural

LEDGER_NAME = "test-set-ledger.jsonl"
SCHEMA = "dxval-test-set-use/1"


@dataclass(frozen=True, slots=True)
class TestSetUse:
    """One test set as used by a run: its ID, lock digest and number of cases."""

    __test__ = False  # not a pytest test class despite its name

    test_set: str
    sha256: str
    cases: int


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One line of the ledger: a test set used by one run."""

    sequence: int
    time_utc: str
    protocol_id: str
    run_id: str
    test_set: str
    test_set_sha256: str
    model_sha256: str | None
    predictions_sha256: str | None
    cases: int
    user: str
    host: str


@dataclass(frozen=True, slots=True)
class TestSetUsage:
    """How often a test set was used before this run, and the cap that applies."""

    __test__ = False  # not a pytest test class despite its name

    test_set: str
    sha256: str
    cases: int
    prior_uses: int
    prior_runs: tuple[str, ...]
    prior_models: int
    max_uses: int | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for ``run.json`` and the report."""
        return {
            "test_set": self.test_set,
            "sha256": self.sha256,
            "cases": self.cases,
            "prior_uses": self.prior_uses,
            "prior_runs": list(self.prior_runs),
            "prior_models": self.prior_models,
            "max_uses": self.max_uses,
        }


def _entry(event: dict[str, Any]) -> LedgerEntry:
    return LedgerEntry(
        sequence=int(event["sequence"]),
        time_utc=str(event["time"]),
        protocol_id=str(event["protocol_id"]),
        run_id=str(event["run_id"]),
        test_set=str(event["test_set"]),
        test_set_sha256=str(event["test_set_sha256"]),
        model_sha256=None if event["model_sha256"] is None else str(event["model_sha256"]),
        predictions_sha256=None
        if event["predictions_sha256"] is None
        else str(event["predictions_sha256"]),
        cases=int(event["cases"]),
        user=str(event["user"]),
        host=str(event["host"]),
    )


def read_ledger(root: str | Path) -> tuple[LedgerEntry, ...]:
    """Every entry of the ledger under the evidence root ``root`` (none when absent).

    Raises
    ------
    IntegrityError
        A line is not a ledger entry or the hash chain is broken.
    """
    return tuple(read_chain(Path(root) / LEDGER_NAME, _entry) or ())


def _usage(entries: Sequence[LedgerEntry], use: TestSetUse, max_uses: int | None) -> TestSetUsage:
    prior = [entry for entry in entries if entry.test_set_sha256 == use.sha256]
    models = {(entry.model_sha256, entry.predictions_sha256) for entry in prior}
    return TestSetUsage(
        test_set=use.test_set,
        sha256=use.sha256,
        cases=use.cases,
        prior_uses=len(prior),
        prior_runs=tuple(f"{entry.protocol_id}/{entry.run_id}" for entry in prior),
        prior_models=len(models),
        max_uses=max_uses,
    )


def check_test_set_reuse(
    root: str | Path, uses: Sequence[TestSetUse], *, max_uses: int | None
) -> tuple[TestSetUsage, ...]:
    """How often each test set of a run was used before; refuse a use past ``max_uses``.

    Parameters
    ----------
    root:
        The evidence root holding the ledger.
    uses:
        The run's test sets (ID, lock digest, case count).
    max_uses:
        ``qc.max_test_set_uses``: the most runs a test set may be used in;
        ``None`` counts and reports without refusing.

    Raises
    ------
    InputError
        A test set has already been used ``max_uses`` times (exit 2).
    IntegrityError
        The ledger was altered (exit 3).
    """
    if max_uses is not None and max_uses < 1:
        raise InputError(f"qc.max_test_set_uses: got {max_uses}, expected an integer >= 1")
    entries = read_ledger(root)
    usages = tuple(_usage(entries, use, max_uses) for use in uses)
    exhausted = [usage for usage in usages if max_uses is not None and usage.prior_uses >= max_uses]
    if exhausted:
        details = "; ".join(
            f"test set {usage.test_set} (lock sha256 {usage.sha256[:12]}…) was already used in "
            f"{plural(usage.prior_uses, 'run')}, the last {usage.prior_runs[-1]}"
            for usage in exhausted
        )
        raise InputError(
            f"qc.max_test_set_uses {max_uses}: {details}; refusing another use, since a "
            f"sequestered test set reused run after run stops being independent (ledger "
            f"{Path(root) / LEDGER_NAME})"
        )
    return usages


@dataclass
class LedgerSession:
    """The ledger as one run sees it: check the cap, then record the uses."""

    root: Path
    holds_lock: bool

    def check(
        self, uses: Sequence[TestSetUse], *, max_uses: int | None
    ) -> tuple[TestSetUsage, ...]:
        """:func:`check_test_set_reuse` under this session's lock (when it holds one)."""
        return check_test_set_reuse(self.root, uses, max_uses=max_uses)

    def record(self, uses: Sequence[TestSetUse], **fields: Any) -> tuple[LedgerEntry, ...]:
        """:func:`record_test_set_uses` without taking the lock again when it is held."""
        return record_test_set_uses(self.root, uses, lock=not self.holds_lock, **fields)


@contextmanager
def ledger_session(
    root: str | Path, *, hold: bool, waiting: Callable[[], None] | None = None
) -> Iterator[LedgerSession]:
    """A run's use of the ledger; with ``hold``, the lock is held for the whole block.

    A run under ``qc.max_test_set_uses`` holds it from the check of the cap
    until its uses are recorded, so concurrent runs into the same evidence
    root are counted one after the other (21 CFR 11.10(f): sequencing of
    steps; FDA CADe guidance: a sequestered test set's uses are counted).

    Raises
    ------
    InputError
        The evidence root or its lock file cannot be created.
    """
    root = Path(root)
    if not hold:
        yield LedgerSession(root, holds_lock=False)
        return
    try:
        root.mkdir(parents=True, exist_ok=True)
        os.close(os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644))
    except OSError as error:
        raise InputError(
            f"{root / LOCK_NAME}: cannot lock the ledger ({error.strerror})"
        ) from error
    with locked(root, waiting=waiting):
        yield LedgerSession(root, holds_lock=True)


def record_test_set_uses(
    root: str | Path,
    uses: Sequence[TestSetUse],
    *,
    protocol_id: str,
    run_id: str,
    model_sha256: str | None,
    predictions_sha256: str | None,
    user: str | None = None,
    host: str | None = None,
    lock: bool = True,
) -> tuple[LedgerEntry, ...]:
    """Append one ledger line per test set a run used (after its bundle was written).

    Returns the new entries. ``lock=False`` when the caller already holds
    the ledger lock (:func:`ledger_session`).

    Raises
    ------
    IntegrityError
        The existing ledger was altered; nothing is appended.
    InputError
        The ledger cannot be written.
    """
    events = [
        {
            "schema": SCHEMA,
            "time": utc_now(),
            "protocol_id": protocol_id,
            "run_id": run_id,
            "test_set": use.test_set,
            "test_set_sha256": use.sha256,
            "model_sha256": model_sha256,
            "predictions_sha256": predictions_sha256,
            "cases": use.cases,
            "user": user or current_user(),
            "host": host or current_host(),
        }
        for use in uses
    ]
    return append_chain(Path(root) / LEDGER_NAME, events, _entry, what="test-set ledger", lock=lock)
