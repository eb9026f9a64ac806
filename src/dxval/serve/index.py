"""The SQLite index of every evidence bundle under a root: where each bundle is, never its numbers.

The index (standard-library :mod:`sqlite3`) records, per bundle folder, the
identity found in ``run.json`` (protocol ID, run ID, start time), the
requirement IDs of ``criteria.json`` with their fingerprints
(:func:`dxval.trace.requirement_fingerprint`), the digests of ``lock.json``
(model or predictions SHA-256, test-set digests) and the outcome of
:func:`dxval.evidence.verify_bundle`. It exists to find bundles quickly; it is
never the source of truth: the pages read every number they show from the
bundle files themselves.

Each bundle has a *stamp* (:func:`dxval.serve.scan.bundle_stamp`): the
SHA-256 of its ``MANIFEST.sha256`` bytes and of the path, size, inode,
modification and change time of every file in it and of the evidence
ledger; an unchanged stamp means the cached verify outcome still holds.
:meth:`EvidenceIndex.refresh` adds new bundles, re-reads changed ones and drops removed ones;
:meth:`EvidenceIndex.status` re-checks the stamp of one bundle on every page
that shows it and verifies it again when it moved.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dxval.errors import UsageError
from dxval.serve.scan import (
    FAILED_VERIFY,
    VERIFIED,
    Definitions,
    Entry,
    Finding,
    VerifyStatus,
    bundle_stamp,
    find_bundle_folders,
    read_entry,
)

#: Default file name of the index, directly under the evidence root (hidden: never a bundle).
INDEX_NAME = ".dxval-index.sqlite"
SCHEMA_VERSION = "dxval-serve-index/1"
__all__ = [
    "FAILED_VERIFY",
    "INDEX_NAME",
    "VERIFIED",
    "EvidenceIndex",
    "Finding",
    "IndexedBundle",
    "ProtocolEntry",
    "RefreshResult",
    "RequirementLink",
    "SearchHit",
    "VerifyStatus",
    "bundle_stamp",
    "find_bundle_folders",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bundles (
  folder TEXT PRIMARY KEY,
  protocol_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  started_utc TEXT NOT NULL,
  readable INTEGER NOT NULL,
  problem TEXT,
  stamp TEXT NOT NULL,
  intact INTEGER NOT NULL,
  verify_problems TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS bundles_by_run ON bundles (protocol_id, run_id);
CREATE INDEX IF NOT EXISTS bundles_by_time ON bundles (protocol_id, started_utc, run_id);
CREATE TABLE IF NOT EXISTS requirements (
  folder TEXT NOT NULL,
  requirement_id TEXT NOT NULL,
  text TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  PRIMARY KEY (folder, requirement_id)
);
CREATE INDEX IF NOT EXISTS requirements_by_id ON requirements (requirement_id COLLATE NOCASE);
CREATE TABLE IF NOT EXISTS digests (
  folder TEXT NOT NULL,
  kind TEXT NOT NULL,
  digest TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS digests_by_value ON digests (digest);
CREATE INDEX IF NOT EXISTS digests_by_folder ON digests (folder);
"""


@dataclass(frozen=True, slots=True)
class IndexedBundle:
    """Where a bundle is and who it says it is (from ``run.json``, else from its folder names)."""

    folder: Path
    relative: str
    protocol_id: str
    run_id: str
    started_utc: str
    readable: bool
    problem: str | None


@dataclass(frozen=True, slots=True)
class ProtocolEntry:
    """A protocol ID with the number of its indexed runs and its latest run."""

    protocol_id: str
    runs: int
    latest: IndexedBundle


@dataclass(frozen=True, slots=True)
class RequirementLink:
    """A run that evaluated a requirement, with the requirement's text and fingerprint then."""

    bundle: IndexedBundle
    text: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One search result: what matched (``requirement``, ``protocol``, ``run`` or a digest kind)."""

    kind: str
    value: str
    protocol_id: str | None = None
    run_id: str | None = None
    requirement_id: str | None = None


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """What one :meth:`EvidenceIndex.refresh` did."""

    added: int
    changed: int
    removed: int
    unchanged: int
    seconds: float

    @property
    def bundles(self) -> int:
        """Bundles in the index after the refresh."""
        return self.added + self.changed + self.unchanged


def _bundle_from_row(root: Path, row: sqlite3.Row) -> IndexedBundle:
    return IndexedBundle(
        folder=root / row["folder"],
        relative=row["folder"],
        protocol_id=row["protocol_id"],
        run_id=row["run_id"],
        started_utc=row["started_utc"],
        readable=bool(row["readable"]),
        problem=row["problem"],
    )


def _status_from_row(row: sqlite3.Row) -> VerifyStatus:
    findings = tuple(Finding(*item) for item in json.loads(row["verify_problems"]))
    return VerifyStatus(bool(row["intact"]), findings)


_BUNDLE_COLUMNS = "folder, protocol_id, run_id, started_utc, readable, problem"


class EvidenceIndex:
    """The index of the bundles under ``root``, kept in an SQLite file (default under the root).

    Thread-safe: writes are serialised by a lock; every call opens its own
    connection.

    Raises
    ------
    UsageError
        ``root`` is not a folder, or the index file cannot be created or read.
    """

    def __init__(self, root: str | Path, *, index_path: str | Path | None = None) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise UsageError(f"{root}: evidence root not found; expected a folder of bundles")
        self.path = Path(index_path) if index_path is not None else self.root / INDEX_NAME
        self._write_lock = threading.Lock()
        try:
            with self._connect() as connection:
                connection.executescript(_SCHEMA)
                self._check_meta(connection)
        except sqlite3.Error as error:
            raise UsageError(
                f"{self.path}: cannot open the index ({error}); expected a writable location, "
                "or pass --index PATH"
            ) from error

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, timeout=30)
        connection.row_factory = sqlite3.Row
        try:
            with connection:
                yield connection
        finally:
            connection.close()

    def _check_meta(self, connection: sqlite3.Connection) -> None:
        rows = dict(connection.execute("SELECT key, value FROM meta").fetchall())
        if rows.get("schema") == SCHEMA_VERSION and rows.get("root") == str(self.root):
            return
        # Another schema or another root: the index is a cache, so start it afresh.
        for table in ("bundles", "requirements", "digests", "meta"):
            connection.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed table names)
        connection.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [("schema", SCHEMA_VERSION), ("root", str(self.root))],
        )

    # -- building ---------------------------------------------------------------------------

    def refresh(self) -> RefreshResult:
        """Bring the index up to date: add new bundles, re-read changed ones, drop removed ones."""
        started = time.perf_counter()
        definitions = Definitions()
        with self._write_lock, self._connect() as connection:
            known = dict(connection.execute("SELECT folder, stamp FROM bundles").fetchall())
            seen: set[str] = set()
            added = changed = unchanged = 0
            for folder in find_bundle_folders(self.root):
                relative = folder.relative_to(self.root).as_posix()
                seen.add(relative)
                try:
                    stamp = bundle_stamp(folder)
                except OSError:
                    continue  # removed while scanning: dropped below
                if known.get(relative) == stamp:
                    unchanged += 1
                    continue
                if relative in known:
                    changed += 1
                else:
                    added += 1
                self._store(connection, read_entry(self.root, folder, stamp, definitions))
            removed = sorted(set(known) - seen)
            for relative in removed:
                self._delete(connection, relative)
        seconds = time.perf_counter() - started
        return RefreshResult(added, changed, len(removed), unchanged, seconds)

    @staticmethod
    def _delete(connection: sqlite3.Connection, relative: str) -> None:
        for table in ("bundles", "requirements", "digests"):
            connection.execute(
                f"DELETE FROM {table} WHERE folder = ?",  # noqa: S608 (fixed table names)
                (relative,),
            )

    def _store(self, connection: sqlite3.Connection, entry: Entry) -> None:
        self._delete(connection, entry.relative)
        findings = json.dumps([[f.kind, f.path, f.detail] for f in entry.status.findings])
        connection.execute(
            "INSERT INTO bundles (folder, protocol_id, run_id, started_utc, readable, problem, "
            "stamp, intact, verify_problems) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.relative,
                entry.protocol_id,
                entry.run_id,
                entry.started_utc,
                int(entry.readable),
                entry.problem,
                entry.stamp,
                int(entry.status.intact),
                findings,
            ),
        )
        connection.executemany(
            "INSERT OR REPLACE INTO requirements (folder, requirement_id, text, fingerprint) "
            "VALUES (?, ?, ?, ?)",
            [(entry.relative, *row) for row in entry.requirements],
        )
        connection.executemany(
            "INSERT INTO digests (folder, kind, digest) VALUES (?, ?, ?)",
            [(entry.relative, *row) for row in entry.digests],
        )

    # -- verify status ----------------------------------------------------------------------

    def status(self, bundle: IndexedBundle) -> VerifyStatus:
        """The bundle's verify status now (see :meth:`statuses`)."""
        return self.statuses([bundle])[0]

    def statuses(self, bundles: Sequence[IndexedBundle]) -> list[VerifyStatus]:
        """Each bundle's verify status now: cached while its stamp holds, else verified anew.

        A bundle whose stamp moved is re-read into the index at once, so the
        page that asked sees its current state; a removed one is reported
        as such.
        """
        placeholders = ", ".join("?" * len(bundles))  # pages show at most a few dozen
        query = f"SELECT folder, stamp, intact, verify_problems FROM bundles WHERE folder IN ({placeholders})"  # noqa: E501, S608 (placeholders only)
        with self._connect() as connection:
            rows = connection.execute(query, [bundle.relative for bundle in bundles]).fetchall()
        stored = {row["folder"]: row for row in rows}
        found = []
        for bundle in bundles:
            try:
                stamp = bundle_stamp(bundle.folder)
            except OSError:
                removed = Finding("missing", bundle.relative, "bundle removed")
                found.append(VerifyStatus(False, (removed,)))
                continue
            row = stored.get(bundle.relative)
            if row is not None and row["stamp"] == stamp:
                found.append(_status_from_row(row))
                continue
            entry = read_entry(self.root, bundle.folder, stamp, Definitions())
            with self._write_lock, self._connect() as connection:
                self._store(connection, entry)
            found.append(entry.status)
        return found

    # -- queries ----------------------------------------------------------------------------

    def _bundles(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[IndexedBundle]:
        with self._connect() as connection:
            rows = connection.execute(sql, parameters).fetchall()
        return [_bundle_from_row(self.root, row) for row in rows]

    def count(self) -> int:
        """Number of bundles in the index."""
        with self._connect() as connection:
            return int(connection.execute("SELECT COUNT(*) FROM bundles").fetchone()[0])

    def protocols(self) -> list[ProtocolEntry]:
        """Every protocol ID with its number of runs and latest run, sorted by ID."""
        with self._connect() as connection:
            counts = connection.execute(
                "SELECT protocol_id, COUNT(*) AS runs FROM bundles "
                "GROUP BY protocol_id ORDER BY protocol_id"
            ).fetchall()
        entries = []
        for row in counts:
            latest = self.runs(row["protocol_id"], limit=1)
            entries.append(ProtocolEntry(row["protocol_id"], int(row["runs"]), latest[0]))
        return entries

    def unreadable(self) -> list[IndexedBundle]:
        """Bundles whose ``run.json`` or ``criteria.json`` could not be read."""
        return self._bundles(
            f"SELECT {_BUNDLE_COLUMNS} FROM bundles WHERE readable = 0 ORDER BY folder"  # noqa: S608
        )

    def count_runs(self, protocol_id: str) -> int:
        """Number of indexed runs of ``protocol_id``."""
        with self._connect() as connection:
            row = connection.execute(
                "SELECT COUNT(*) FROM bundles WHERE protocol_id = ?", (protocol_id,)
            ).fetchone()
        return int(row[0])

    def runs(self, protocol_id: str, *, offset: int = 0, limit: int = 50) -> list[IndexedBundle]:
        """Runs of ``protocol_id``, newest first (start time, then run ID)."""
        return self._bundles(
            f"SELECT {_BUNDLE_COLUMNS} FROM bundles WHERE protocol_id = ? "  # noqa: S608
            "ORDER BY started_utc DESC, run_id DESC, folder LIMIT ? OFFSET ?",
            (protocol_id, limit, offset),
        )

    def bundle(self, protocol_id: str, run_id: str) -> IndexedBundle | None:
        """The bundle of ``protocol_id``/``run_id`` (the first folder if two claim it), or None."""
        found = self._bundles(
            f"SELECT {_BUNDLE_COLUMNS} FROM bundles "  # noqa: S608
            "WHERE protocol_id = ? AND run_id = ? ORDER BY folder LIMIT 1",
            (protocol_id, run_id),
        )
        return found[0] if found else None

    def requirement_links(
        self, requirement_id: str, *, offset: int = 0, limit: int = 50
    ) -> list[RequirementLink]:
        """Runs that evaluated ``requirement_id``, newest first, with the text they evaluated."""
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT {', '.join('b.' + c for c in _BUNDLE_COLUMNS.split(', '))}, "  # noqa: S608
                "r.text, r.fingerprint FROM requirements r JOIN bundles b ON b.folder = r.folder "
                "WHERE r.requirement_id = ? "
                "ORDER BY b.started_utc DESC, b.run_id DESC, b.folder LIMIT ? OFFSET ?",
                (requirement_id, limit, offset),
            ).fetchall()
        return [
            RequirementLink(_bundle_from_row(self.root, row), row["text"], row["fingerprint"])
            for row in rows
        ]

    def count_requirement_links(self, requirement_id: str) -> int:
        """Number of runs that evaluated ``requirement_id``."""
        with self._connect() as connection:
            row = connection.execute(
                "SELECT COUNT(*) FROM requirements WHERE requirement_id = ?", (requirement_id,)
            ).fetchone()
        return int(row[0])

    def current_requirement(
        self, protocol_id: str, requirement_id: str
    ) -> tuple[IndexedBundle, RequirementLink | None] | None:
        """The latest run of ``protocol_id`` and the requirement there (None: no longer in it)."""
        latest = self.runs(protocol_id, limit=1)
        if not latest:
            return None
        with self._connect() as connection:
            row = connection.execute(
                "SELECT text, fingerprint FROM requirements "
                "WHERE folder = ? AND requirement_id = ?",
                (latest[0].relative, requirement_id),
            ).fetchone()
        if row is None:
            return latest[0], None
        return latest[0], RequirementLink(latest[0], row["text"], row["fingerprint"])

    def requirements_of(self, bundle: IndexedBundle) -> dict[str, RequirementLink]:
        """Requirement ID → the requirement as ``bundle`` evaluated it (text, fingerprint)."""
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT requirement_id, text, fingerprint FROM requirements WHERE folder = ?",
                (bundle.relative,),
            ).fetchall()
        return {row[0]: RequirementLink(bundle, row[1], row[2]) for row in rows}

    def search(self, query: str, *, limit: int = 200) -> list[SearchHit]:
        """Requirement IDs, protocol IDs and run IDs starting with ``query`` (any case), and runs
        whose model, predictions, protocol or test-set digest starts with it (4+ hex digits)."""
        text = query.strip()
        if not text:
            return []
        pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        hits: list[SearchHit] = []
        with self._connect() as connection:
            for row in connection.execute(
                "SELECT DISTINCT requirement_id FROM requirements "
                "WHERE requirement_id LIKE ? ESCAPE '\\' ORDER BY requirement_id LIMIT ?",
                (pattern, limit),
            ):
                hits.append(SearchHit("requirement", row[0], requirement_id=row[0]))
            for row in connection.execute(
                "SELECT DISTINCT protocol_id FROM bundles "
                "WHERE protocol_id LIKE ? ESCAPE '\\' ORDER BY protocol_id LIMIT ?",
                (pattern, limit),
            ):
                hits.append(SearchHit("protocol", row[0], protocol_id=row[0]))
            for row in connection.execute(
                "SELECT protocol_id, run_id FROM bundles WHERE run_id LIKE ? ESCAPE '\\' "
                "ORDER BY started_utc DESC LIMIT ?",
                (pattern, limit),
            ):
                hits.append(SearchHit("run", row[1], protocol_id=row[0], run_id=row[1]))
            hexadecimal = text.lower()
            if len(hexadecimal) >= 4 and all(c in "0123456789abcdef" for c in hexadecimal):
                for row in connection.execute(
                    "SELECT d.kind, d.digest, b.protocol_id, b.run_id FROM digests d "
                    "JOIN bundles b ON b.folder = d.folder WHERE d.digest >= ? AND d.digest < ? "
                    "ORDER BY b.started_utc DESC LIMIT ?",
                    (hexadecimal, hexadecimal + "g", limit),
                ):
                    hits.append(SearchHit(row[0], row[1], protocol_id=row[2], run_id=row[3]))
        return hits
