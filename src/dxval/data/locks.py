"""Dataset and artifact locks: the digests a protocol pins, computed and checked.

A test set's lock digest is the SHA-256 of this text (UTF-8, ``\\n`` line ends)::

    dxval-test-set-lock 1
    manifest <SHA-256 of the manifest's bytes>
    files <number of distinct files named>
    <SHA-256>  <file path relative to the manifest, POSIX>    (one line per file, sorted by path)

so it changes when the manifest changes by one byte or any file it names
does. A predictions-only manifest names no files; its digest then covers the
manifest bytes alone, and the predictions file is pinned by its own SHA-256
(``predictions.sha256``). Model and predictions pins are the plain SHA-256 of
the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from dxval.data.hashing import digest_listing, sha256_bytes, sha256_file
from dxval.data.manifest import Manifest, ManifestRow
from dxval.errors import InputError, IntegrityError

LOCK_FORMAT = "dxval-test-set-lock 1"


@dataclass(frozen=True, slots=True)
class TestSetLock:
    """The digests of one test set: manifest bytes, each file, and the lock digest."""

    __test__: ClassVar[bool] = False  # not a pytest test class despite its name

    test_set: str
    manifest: Path
    manifest_sha256: str
    files: tuple[tuple[str, str], ...]
    digest: str
    _by_name: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", dict(self.files))

    def file_sha256(self) -> Mapping[str, str]:
        """File path relative to the manifest → SHA-256.

        Built once per lock: callers look up every case's files in it, and a
        new dict per case made a manifest naming files quadratic (issue 18:
        1,000,000 files never finished).
        """
        return self._by_name

    def to_dict(self) -> dict[str, object]:
        """JSON-safe record for ``lock.json``."""
        return {
            "test_set": self.test_set,
            "manifest": self.manifest.as_posix(),
            "manifest_sha256": self.manifest_sha256,
            "files": len(self.files),
            "sha256": self.digest,
        }


def _hash(path: Path) -> str:
    try:
        return sha256_file(path)
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from error


def case_input_digest(entries: Iterable[tuple[str, str]]) -> str:
    """Input digest of one case: its file's SHA-256, or for several files the listing digest.

    ``entries`` are (path relative to the manifest, SHA-256) pairs; the value is
    what a manifest's optional ``sha256`` column holds and what ``cases.csv``
    records as ``input_sha256``.
    """
    pairs = list(entries)
    return pairs[0][1] if len(pairs) == 1 else digest_listing(pairs)


def _check_declared(manifest: Manifest, row: ManifestRow, actual: str) -> None:
    if row.declared_sha256 is not None and row.declared_sha256 != actual:
        target = row.files[0] if len(row.files) == 1 else Path(row.values.get("path", ""))
        raise IntegrityError(
            f"lock mismatch: {target} (listed in {manifest.location(row)}): "
            f"expected sha256 {row.declared_sha256} got {actual}"
        )


def lock_test_set(manifest: Manifest, *, test_set: str) -> TestSetLock:
    """Hash every file ``manifest`` names and compute the test set's lock digest.

    Raises
    ------
    InputError
        A named file cannot be read.
    IntegrityError
        A row's declared ``sha256`` differs from its file (the message names
        the file, the manifest line, the expected and the actual digest).
    """
    digests: dict[str, str] = {}
    for row in manifest.rows if manifest.has_paths else ():  # no path column: no file to hash
        entries = []
        for file, name in zip(row.files, row.names, strict=True):
            if name not in digests:
                digests[name] = _hash(file)
            entries.append((name, digests[name]))
        if entries:
            _check_declared(manifest, row, case_input_digest(entries))
    files = tuple(sorted(digests.items()))
    listing = "".join(f"{sha}  {name}\n" for name, sha in files)
    text = f"{LOCK_FORMAT}\nmanifest {manifest.sha256}\nfiles {len(files)}\n{listing}"
    return TestSetLock(
        test_set=test_set,
        manifest=manifest.path,
        manifest_sha256=manifest.sha256,
        files=files,
        digest=sha256_bytes(text.encode("utf-8")),
    )


def file_pin(path: Path, *, what: str) -> str:
    """SHA-256 of a pinned artifact (model, predictions, reference input).

    Raises
    ------
    InputError
        The file is missing or unreadable (``what`` names its role).
    """
    if not path.is_file():
        raise InputError(f"{path}: {what} not found")
    return _hash(path)


@dataclass(frozen=True, slots=True)
class Pin:
    """One pinned digest to check: what it is, its file, the protocol field, the values."""

    what: str
    path: Path
    field: str
    expected: str | None
    actual: str


def check_pins(pins: Iterable[Pin]) -> None:
    """Refuse to run unless every pin is set and equal to the actual digest.

    Raises
    ------
    IntegrityError
        One or more digests differ; the message lists each (what, file,
        expected and actual SHA-256). Exit code 3.
    InputError
        A pin is not set; the message names the field and ``dxval lock``.
    """
    pins = list(pins)
    unset = [pin.field for pin in pins if pin.expected is None]
    if unset:
        raise InputError(
            f"protocol is not locked: {', '.join(unset)} not set; "
            "run `dxval lock PROTOCOL` to pin the digests"
        )
    mismatches = [
        f"{pin.what} ({pin.path}): expected sha256 {pin.expected} got {pin.actual}"
        for pin in pins
        if pin.expected != pin.actual
    ]
    if mismatches:
        raise IntegrityError("lock mismatch: " + "; ".join(mismatches))
