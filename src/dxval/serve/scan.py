"""Reading one bundle folder for the index: discovery, the stamp, identity, digests, verify.

A *bundle* is a folder holding ``run.json`` and ``criteria.json`` as
regular files (DESIGN.md, "The evidence bundle"). Its *stamp* is the
SHA-256 of its ``MANIFEST.sha256`` bytes and of the path, size, inode,
modification and change time (nanoseconds) of every file in it and of the
evidence root's ledger (which verify also consults): writing a file changes
its change time, which no user command can set back, so an unchanged stamp
means unchanged bytes and a cached verify outcome still holds. Everything
here reads through the public bundle readers
(:func:`dxval.evidence.verify_bundle`, :mod:`dxval.trace`) and never raises
for a damaged bundle: what cannot be read is recorded with why.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dxval.errors import DxvalError, InputError
from dxval.evidence import MANIFEST_NAME, verify_bundle
from dxval.evidence.anchor import ANCHOR_LEDGER_NAME
from dxval.evidence.format import read_json_object
from dxval.trace.runs import protocol_requirements, requirement_fingerprint

#: The verify status words shown on every page.
VERIFIED = "VERIFIED"
FAILED_VERIFY = "FAILED VERIFY"


@dataclass(frozen=True, slots=True)
class Finding:
    """One verify finding of a bundle: kind (changed, missing, extra, audit, ...), file, detail."""

    kind: str
    path: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.path}" + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True, slots=True)
class VerifyStatus:
    """Whether a bundle verifies now (files, audit chain, signatures) and what was found."""

    intact: bool
    findings: tuple[Finding, ...]

    @property
    def label(self) -> str:
        """``VERIFIED`` or ``FAILED VERIFY``."""
        return VERIFIED if self.intact else FAILED_VERIFY


@dataclass(frozen=True, slots=True)
class Entry:
    """Everything the index stores about one bundle folder."""

    relative: str
    protocol_id: str
    run_id: str
    started_utc: str
    readable: bool
    problem: str | None
    stamp: str
    status: VerifyStatus
    requirements: tuple[tuple[str, str, str], ...]
    digests: tuple[tuple[str, str], ...]


def is_bundle(folder: Path) -> bool:
    """True when ``folder`` holds ``run.json`` and ``criteria.json`` as regular files."""
    return all(
        (folder / name).is_file() and not (folder / name).is_symlink()
        for name in ("run.json", "criteria.json")
    )


def find_bundle_folders(root: Path) -> Iterator[Path]:
    """Every bundle folder below ``root``, sorted; hidden and symlinked folders are skipped.

    Hidden folders hold interrupted runs (``.partial``) and caches; a
    symlinked folder could lead out of the root. A bundle's own subfolders
    (``figures/``, ``signatures/``) are not searched.
    """
    try:
        entries = sorted(os.scandir(root), key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
            continue
        folder = Path(entry.path)
        if is_bundle(folder):
            yield folder
        else:
            yield from find_bundle_folders(folder)


def _file_stats(folder: Path, prefix: str = "") -> Iterator[str]:
    for entry in sorted(os.scandir(folder), key=lambda item: item.name):
        stat = entry.stat(follow_symlinks=False)
        name = prefix + entry.name
        if entry.is_dir(follow_symlinks=False):
            yield f"d {name}"
            yield from _file_stats(Path(entry.path), name + "/")
        else:
            link = "l" if entry.is_symlink() else "f"
            times = f"{stat.st_mtime_ns} {stat.st_ctime_ns}"
            yield f"{link} {name} {stat.st_size} {stat.st_ino} {times}"


def bundle_stamp(folder: Path) -> str:
    """SHA-256 of the manifest bytes and of every file's path, size, inode, mtime and ctime.

    Raises
    ------
    OSError
        The folder cannot be listed (e.g. it was removed).
    """
    digest = hashlib.sha256()
    try:
        digest.update(hashlib.sha256((folder / MANIFEST_NAME).read_bytes()).digest())
    except FileNotFoundError:
        digest.update(b"no manifest")
    for line in _file_stats(folder):
        digest.update(line.encode("utf-8", "surrogateescape") + b"\n")
    # verify_bundle also checks the evidence root's ledger (two levels up): a change to it
    # must invalidate the cached outcome too.
    ledger = folder.resolve().parent.parent / ANCHOR_LEDGER_NAME
    try:
        stat = ledger.stat()
    except OSError:
        digest.update(b"no ledger")
    else:
        times = f"{stat.st_mtime_ns} {stat.st_ctime_ns}"
        digest.update(f"ledger {stat.st_size} {stat.st_ino} {times}".encode())
    return digest.hexdigest()


def _json_object(path: Path) -> dict[str, Any]:
    try:
        return read_json_object(path)
    except InputError as error:
        raise ValueError(str(error).replace(str(path), path.name, 1)) from error


def lock_digests(lock: Mapping[str, Any]) -> list[tuple[str, str]]:
    found = []
    for section in ("protocol", "model", "predictions"):
        entry = lock.get(section)
        if isinstance(entry, dict) and isinstance(entry.get("sha256"), str):
            found.append((f"{section} SHA-256", entry["sha256"].lower()))
    for entry in lock.get("test_sets") or []:
        if isinstance(entry, dict) and isinstance(entry.get("sha256"), str):
            found.append((f"test set {entry.get('test_set', '?')} digest", entry["sha256"].lower()))
    return found


class Definitions:
    """Requirement definitions of protocol files, parsed once per distinct protocol bytes."""

    def __init__(self) -> None:
        self._cache: dict[str, dict[str, dict[str, Any]]] = {}

    def of(self, folder: Path) -> dict[str, dict[str, Any]]:
        try:
            raw = (folder / "protocol.yaml").read_bytes()
        except OSError:
            return {}
        key = hashlib.sha256(raw).hexdigest()
        if key not in self._cache:
            try:
                self._cache[key] = protocol_requirements(raw, where=str(folder / "protocol.yaml"))
            except DxvalError:
                self._cache[key] = {}
        return self._cache[key]


def _verify(folder: Path) -> VerifyStatus:
    try:
        report = verify_bundle(folder)
    except (DxvalError, OSError) as error:
        return VerifyStatus(False, (Finding("unreadable", folder.name, str(error)),))
    findings = tuple(Finding(p.kind, p.path, p.detail) for p in report.problems)
    return VerifyStatus(report.intact, findings)


def _requirements(
    criteria: Mapping[str, Any], definitions: Mapping[str, Mapping[str, Any]]
) -> tuple[tuple[str, str, str], ...]:
    rows = []
    for requirement in criteria.get("requirements") or []:
        if not isinstance(requirement, dict) or "id" not in requirement:
            continue
        identifier = str(requirement["id"])
        text = " ".join(str(requirement.get("text", "")).split())
        definition = definitions.get(identifier, {"text": text})
        rows.append((identifier, text, requirement_fingerprint(definition)))
    return tuple(rows)


def read_entry(root: Path, folder: Path, stamp: str, definitions: Definitions) -> Entry:
    relative = folder.relative_to(root).as_posix()
    status = _verify(folder)
    try:
        run = _json_object(folder / "run.json")
        criteria = _json_object(folder / "criteria.json")
        protocol = run.get("protocol")
        if not isinstance(protocol, dict) or not protocol.get("id") or not run.get("run_id"):
            raise ValueError("run.json: no protocol.id or run_id")
    except ValueError as error:
        return Entry(
            relative, folder.parent.name, folder.name, "", False, str(error), stamp, status, (), ()
        )
    lock_path = folder / "lock.json"
    try:
        lock = _json_object(lock_path) if lock_path.is_file() else {}
    except ValueError:
        lock = {}
    return Entry(
        relative=relative,
        protocol_id=str(protocol["id"]),
        run_id=str(run["run_id"]),
        started_utc=str(run.get("started_utc", "")),
        readable=True,
        problem=None,
        stamp=stamp,
        status=status,
        requirements=_requirements(criteria, definitions.of(folder)),
        digests=tuple(lock_digests(lock)),
    )
