"""``dxval pull``: retrieve studies from a PACS into a dxval test set, resumably.

Layout of the output folder::

    DIR/manifest.csv              case_id, path, sha256, joined and empty columns
    DIR/pull.json                 the pull record (schema ``dxval-pull/1``)
    DIR/cases/<case_id>/<f>.dcm   the retrieved files, one folder per study
    DIR/.dxval-pull/journal.jsonl one line per verified file (path, SHA-256)

Case IDs are pseudonyms: ``case_id = "P" + HMAC-SHA-256(site key,
StudyInstanceUID)`` truncated to 20 hexadecimal digits (80 bits; RFC 2104,
FIPS 198-1); file names are keyed hashes of the SOP Instance UID. Only a
holder of the site key can map a case back to its study, which is the
pseudonymisation of ISO 25237 §5.3 and the "hashed case IDs" of PS3.15
E.3.9 practice; the key never leaves the site and is never recorded (the
record holds a key identifier, itself a keyed hash of a fixed string).

Every file is checked on arrival (a DICOM Part 10 file whose SOP Instance
UID and Study Instance UID are those requested), written to a temporary name,
flushed and renamed, then appended to the journal. A pull that is
interrupted continues with the files the journal lists and whose SHA-256
still matches; nothing is retrieved twice. The PHI scan
(:mod:`dxval.dicom.phi`, PS3.15 Annex E) runs on every study once its files
are in: under ``refuse`` a study with findings is removed and the pull fails
naming the attributes (never their values); under ``warn`` the findings are
recorded in the pull record. The manifest and the record are written last,
each atomically; a failed pull leaves the previous ones as they were.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dxval import __version__
from dxval.data.hashing import sha256_bytes, sha256_file
from dxval.data.locks import case_input_digest
from dxval.data.manifest import CASE_ID_COLUMN, PATH_COLUMN, SHA256_COLUMN, csv_records
from dxval.errors import InputError, UsageError
from dxval.evidence.audit import utc_now
from dxval.interop.source import InstanceRef, PacsError, StudySource
from dxval.stats.wording import plural

__all__ = [
    "KEY_ENVIRONMENT",
    "KEY_FILE_ENVIRONMENT",
    "PullRequest",
    "PullResult",
    "SiteKey",
    "load_site_key",
    "pull_studies",
]

PULL_SCHEMA = "dxval-pull/1"
KEY_FILE_ENVIRONMENT = "DXVAL_SITE_KEY_FILE"
KEY_ENVIRONMENT = "DXVAL_SITE_KEY"
STUDY_UID_COLUMN = "StudyInstanceUID"
_MINIMUM_KEY_BYTES = 32
_UID_PATTERN = re.compile(r"^[0-9]+(\.[0-9]+)*$")
_RESERVED_COLUMNS = (CASE_ID_COLUMN, PATH_COLUMN, SHA256_COLUMN)
_STATE = ".dxval-pull"

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    """Default progress sink."""


@dataclass(frozen=True, slots=True)
class SiteKey:
    """The site's secret for pseudonyms (HMAC-SHA-256, RFC 2104); never written anywhere."""

    secret: bytes = field(repr=False)

    def _mac(self, purpose: str, text: str) -> str:
        message = f"dxval:{purpose}:{text}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def case_id(self, study_uid: str) -> str:
        """Pseudonymous case ID of a study: ``P`` + 20 hex digits of the keyed hash."""
        return "P" + self._mac("case", study_uid)[:20]

    def file_name(self, sop_instance_uid: str) -> str:
        """File name of an instance, a keyed hash, so no UID appears in a path."""
        return self._mac("file", sop_instance_uid)[:32] + ".dcm"

    @property
    def key_id(self) -> str:
        """A fingerprint that tells keys apart without revealing them."""
        return self._mac("key-id", "")[:16]


def _key_from_text(text: str, *, where: str) -> SiteKey:
    text = text.strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        raise UsageError(
            f"{where}: got a value that is not hexadecimal expected at least "
            f"{2 * _MINIMUM_KEY_BYTES} hex digits (e.g. `openssl rand -hex 32`)"
        ) from None
    if len(secret) < _MINIMUM_KEY_BYTES:
        raise UsageError(
            f"{where}: got a {len(secret)}-byte key expected at least {_MINIMUM_KEY_BYTES} bytes "
            f"({2 * _MINIMUM_KEY_BYTES} hex digits)"
        )
    return SiteKey(secret)


def load_site_key(path: Path | None, environment: Mapping[str, str] = os.environ) -> SiteKey:
    """The site key from ``path``, else ``$DXVAL_SITE_KEY_FILE``, else ``$DXVAL_SITE_KEY`` (hex).

    Raises
    ------
    UsageError
        No key given, the file cannot be read, or the key is not at least 32
        bytes written as hexadecimal digits.
    """
    if path is None and environment.get(KEY_FILE_ENVIRONMENT):
        path = Path(environment[KEY_FILE_ENVIRONMENT])
    if path is not None:
        try:
            text = path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or "not ASCII text"
            raise UsageError(f"{path}: cannot read the site key ({reason})") from None
        return _key_from_text(text, where=str(path))
    if environment.get(KEY_ENVIRONMENT):
        return _key_from_text(environment[KEY_ENVIRONMENT], where=f"${KEY_ENVIRONMENT}")
    raise UsageError(
        f"no site key: got neither --key-file, ${KEY_FILE_ENVIRONMENT} nor ${KEY_ENVIRONMENT} "
        "expected the site's pseudonymisation key (create one with `openssl rand -hex 32`)"
    )


@dataclass(frozen=True, slots=True)
class PullRequest:
    """What to pull and how.

    Exactly one of ``study_uids``, ``query`` and ``studies_file`` selects the
    studies. ``join_file`` (and ``studies_file``) are CSV files keyed by a
    ``StudyInstanceUID`` column whose other columns are copied into the
    manifest; ``columns`` are added empty for the site to fill.
    """

    out: Path
    study_uids: tuple[str, ...] = ()
    query: Mapping[str, str] | None = None
    studies_file: Path | None = None
    join_file: Path | None = None
    columns: tuple[str, ...] = ()
    phi: str = "refuse"
    phi_retained: tuple[str, ...] = ()
    phi_justification: str | None = None


@dataclass(frozen=True, slots=True)
class PullResult:
    """What a pull did: counts, and whether the manifest or the record changed."""

    manifest: Path
    record: Path
    cases: int
    files: int
    retrieved: int
    already_verified: int
    phi_warnings: int
    changed: bool


@dataclass
class _Plan:
    studies: dict[str, str]  # case_id -> study UID
    instances: dict[str, list[InstanceRef]]
    joined: dict[str, dict[str, str]]  # case_id -> joined columns
    join_columns: list[str]


def _read_keyed_csv(path: Path) -> tuple[list[str], dict[str, dict[str, str]]]:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None
    header: list[str] = []
    rows: dict[str, dict[str, str]] = {}
    for line, columns, values in csv_records(path, raw):
        header = columns
        if STUDY_UID_COLUMN not in values:
            raise InputError(
                f"{path}: got columns {columns} expected a {STUDY_UID_COLUMN!r} column"
            )
        uid = values[STUDY_UID_COLUMN]
        if not _UID_PATTERN.match(uid) or len(uid) > 64:
            raise InputError(f"{path}:{line} {STUDY_UID_COLUMN}: got a value that is not a UID")
        if uid in rows:
            raise InputError(f"{path}:{line} {STUDY_UID_COLUMN}: duplicate study (listed twice)")
        rows[uid] = {name: value for name, value in values.items() if name != STUDY_UID_COLUMN}
    for name in header:
        if name in _RESERVED_COLUMNS:
            raise InputError(
                f"{path}: column {name!r} is written by dxval pull; rename it in the CSV"
            )
    if not rows:
        raise InputError(f"{path}: got no rows expected one row per study")
    return [name for name in header if name != STUDY_UID_COLUMN], rows


def _check_uids(uids: Sequence[str]) -> tuple[str, ...]:
    for uid in uids:
        if not _UID_PATTERN.match(uid) or len(uid) > 64:
            raise UsageError(
                f"--study: got {uid!r} expected a Study Instance UID (digits and dots)"
            )
    return tuple(dict.fromkeys(uids))


def _joined_tables(request: PullRequest) -> tuple[list[str], dict[str, dict[str, str]]]:
    columns: list[str] = []
    rows: dict[str, dict[str, str]] = {}
    for path in (request.studies_file, request.join_file):
        if path is None:
            continue
        names, table = _read_keyed_csv(path)
        clash = [name for name in names if name in columns]
        if clash:
            noun, verb = ("column", "is") if len(clash) == 1 else ("columns", "are")
            raise InputError(f"{path}: {noun} {clash} {verb} also in another joined CSV")
        columns += names
        for uid, values in table.items():
            rows.setdefault(uid, {}).update(values)
    return columns, rows


def _select_studies(
    source: StudySource, request: PullRequest, table: Mapping[str, Any]
) -> list[str]:
    if request.study_uids:
        return list(_check_uids(request.study_uids))
    if request.studies_file is not None:
        _, studies = _read_keyed_csv(request.studies_file)
        return list(studies)
    if request.query is None:
        raise UsageError("pull: got no --study, --query or --studies expected exactly one")
    return source.find_studies(request.query)


def _plan(source: StudySource, request: PullRequest, key: SiteKey, progress: Progress) -> _Plan:
    join_columns, table = _joined_tables(request)
    uids = _select_studies(source, request, table)
    server = source.describe()
    if not uids:
        raise PacsError(f"{_server_text(server)}: the query matched no study; nothing written")
    missing = [
        key.case_id(uid)
        for uid in uids
        if (request.join_file or request.studies_file) and uid not in table
    ]
    if missing:
        raise InputError(
            f"{request.join_file or request.studies_file}: no row for "
            f"{'case' if len(missing) == 1 else 'cases'} "
            f"{', '.join(sorted(missing)[:5])} expected one row per pulled study"
        )
    studies: dict[str, str] = {}
    instances: dict[str, list[InstanceRef]] = {}
    for uid in uids:
        case_id = key.case_id(uid)
        if case_id in studies:
            raise PacsError(f"case ID {case_id} is the pseudonym of two studies (hash collision)")
        found = source.list_instances(uid)
        if not found:
            raise PacsError(
                f"{_server_text(server)}: case {case_id}: the study has no instances on the "
                "server (wrong UID?); nothing written"
            )
        studies[case_id] = uid
        instances[case_id] = found
    joined = {case_id: table.get(uid, {}) for case_id, uid in studies.items()}
    instance_count = sum(map(len, instances.values()))
    progress(
        f"pull: {plural(len(studies), 'study', 'studies')}, {plural(instance_count, 'instance')}"
    )
    return _Plan(studies, instances, joined, join_columns)


def _server_text(server: Mapping[str, Any]) -> str:
    if server.get("protocol") == "DICOMweb":
        return f"DICOMweb server {server['url']}"
    return f"DICOM peer {server.get('host')}:{server.get('port')}"


class _Journal:
    """Append-only list of verified files; each line is flushed to disk before the next file."""

    def __init__(self, state: Path) -> None:
        self.path = state / "journal.jsonl"
        self.entries: dict[str, str] = {}
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                    self.entries[str(entry["path"])] = str(entry["sha256"])
                except (json.JSONDecodeError, KeyError, TypeError):
                    continue  # a line cut short by a kill: that file is fetched again

    def verified(self, out: Path, name: str) -> bool:
        expected = self.entries.get(name)
        target = out / name
        return expected is not None and target.is_file() and sha256_file(target) == expected

    def add(self, name: str, digest: str) -> None:
        with self.path.open("a", encoding="utf-8") as journal:
            journal.write(json.dumps({"path": name, "sha256": digest}) + "\n")
            journal.flush()
            os.fsync(journal.fileno())
        self.entries[name] = digest


def _write_atomic(path: Path, content: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _check_arrival(ref: InstanceRef, content: bytes, case_id: str) -> None:
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        dataset = pydicom.dcmread(io.BytesIO(content), stop_before_pixels=True)
    except (InvalidDicomError, EOFError, ValueError, OSError):
        raise PacsError(
            f"case {case_id}: a retrieved instance is not a DICOM Part 10 file"
        ) from None
    if (
        str(dataset.get("SOPInstanceUID", "")) != ref.sop_instance_uid
        or str(dataset.get("StudyInstanceUID", "")) != ref.study_uid
    ):
        raise PacsError(f"case {case_id}: the server sent a different instance than requested")


def _retrieve_case(
    source: StudySource,
    case_id: str,
    refs: Sequence[InstanceRef],
    *,
    out: Path,
    key: SiteKey,
    journal: _Journal,
) -> tuple[int, int]:
    """Retrieve the files of one case not yet verified; return (retrieved, already verified)."""
    folder = out / "cases" / case_id
    names = {
        ref.sop_instance_uid: f"cases/{case_id}/{key.file_name(ref.sop_instance_uid)}"
        for ref in refs
    }
    missing = [ref for ref in refs if not journal.verified(out, names[ref.sop_instance_uid])]
    if not missing:
        return 0, len(refs)
    folder.mkdir(parents=True, exist_ok=True)

    def store(ref: InstanceRef, content: bytes) -> None:
        _check_arrival(ref, content, case_id)
        name = names[ref.sop_instance_uid]
        _write_atomic(out / name, content)
        journal.add(name, sha256_bytes(content))

    source.retrieve(missing, store)
    return len(missing), len(refs) - len(missing)


def _phi_findings(
    files: Sequence[Path], case_id: str, allow: Sequence[str]
) -> list[dict[str, Any]]:
    from dxval.dicom.failures import CaseFailure
    from dxval.dicom.phi import scan_case

    try:
        findings = scan_case(list(files), case_id=case_id, allow=allow)
    except CaseFailure as failure:
        raise PacsError(f"case {case_id}: PHI scan could not read a file ({failure})") from None
    return [finding.to_dict() for finding in findings]


def _refusal_text(refused: Mapping[str, list[dict[str, Any]]], total: int) -> str:
    parts = []
    for case_id, findings in sorted(refused.items()):
        names = sorted({f"{item['attribute']} {item['tag']}" for item in findings})
        parts.append(f"case {case_id}: {', '.join(names)}")
    return (
        f"PHI scan on arrival (phi: refuse): {len(refused)} of "
        f"{plural(total, 'study', 'studies')} refused and their files removed; "
        f"no manifest written; {'; '.join(parts)}"
    )


def _manifest_bytes(
    plan: _Plan, files: Mapping[str, list[tuple[str, str]]], columns: Sequence[str]
) -> bytes:
    import csv

    extra = [name for name in columns if name not in plan.join_columns]
    header = [CASE_ID_COLUMN, PATH_COLUMN, SHA256_COLUMN, *plan.join_columns, *extra]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for case_id in sorted(plan.studies):
        joined = plan.joined.get(case_id, {})
        writer.writerow(
            [
                case_id,
                f"cases/{case_id}",
                case_input_digest(sorted(files[case_id])),
                *(joined.get(name, "") for name in plan.join_columns),
                *("" for _ in extra),
            ]
        )
    return buffer.getvalue().encode("utf-8")


def _query_record(request: PullRequest) -> dict[str, Any]:
    if request.study_uids:
        listing = "\n".join(sorted(request.study_uids)) + "\n"
        return {
            "mode": "study",
            "studies": len(request.study_uids),
            "uid_list_sha256": sha256_bytes(listing.encode()),
        }
    if request.studies_file is not None:
        return {
            "mode": "studies",
            "file": str(request.studies_file),
            "file_sha256": sha256_file(request.studies_file),
        }
    return {"mode": "query", "keys": dict(request.query or {})}


def _check_folder(out: Path, key: SiteKey) -> None:
    record = out / "pull.json"
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    if not record.exists():
        return
    try:
        previous = json.loads(record.read_bytes())
        previous_key = previous["site_key"]["id"]
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(f"{record}: not a dxval pull record; choose another --out") from None
    if previous_key != key.key_id:
        raise UsageError(
            f"{record}: got site key {key.key_id} expected the key of the earlier pull "
            f"({previous_key}); case IDs would change"
        )


def _check_phi_options(request: PullRequest) -> None:
    from pydicom.datadict import tag_for_keyword

    if request.phi not in ("refuse", "warn"):
        raise UsageError(f"--phi: got {request.phi!r} expected one of 'refuse', 'warn'")
    unknown = [name for name in request.phi_retained if tag_for_keyword(name) is None]
    if unknown:
        raise UsageError(f"--phi-retained: got {unknown} expected DICOM keywords")
    if request.phi_retained and not (request.phi_justification or "").strip():
        raise UsageError(
            "--phi-retained: got no --phi-justification expected why the files may keep "
            "these attributes (recorded in pull.json, as qc.phi_retained is in the evidence)"
        )


def pull_studies(
    source: StudySource,
    request: PullRequest,
    *,
    key: SiteKey,
    progress: Progress = _quiet,
) -> PullResult:
    """Retrieve the requested studies into ``request.out`` and write its manifest and record.

    Raises
    ------
    PacsError
        The server is unreachable, refuses the association or request, the
        query matches nothing, or a study is refused by the PHI scan; the
        manifest and the record are left as they were.
    InputError, UsageError
        A joined CSV or an option is wrong; nothing is retrieved.
    """
    _check_phi_options(request)
    started = utc_now()
    out = request.out
    _check_folder(out, key)
    try:
        plan = _plan(source, request, key, progress)
    finally:
        source.close()
    state = out / _STATE
    state.mkdir(parents=True, exist_ok=True)
    for leftover in out.glob("cases/*/.*.dcm.*"):
        leftover.unlink()  # temporary files of an interrupted pull
    journal = _Journal(state)
    retrieved = verified = 0
    files: dict[str, list[tuple[str, str]]] = {}
    findings: dict[str, list[dict[str, Any]]] = {}
    for case_id in sorted(plan.studies):
        refs = plan.instances[case_id]
        new, old = _retrieve_case(source, case_id, refs, out=out, key=key, journal=journal)
        retrieved, verified = retrieved + new, verified + old
        names = [f"cases/{case_id}/{key.file_name(ref.sop_instance_uid)}" for ref in refs]
        files[case_id] = [(name, journal.entries[name]) for name in names]
        found = _phi_findings([out / name for name in names], case_id, request.phi_retained)
        if found:
            findings[case_id] = found
        progress(f"pull: case {case_id}: {new} retrieved, {old} already verified")
    if findings and request.phi == "refuse":
        for case_id in findings:
            shutil.rmtree(out / "cases" / case_id, ignore_errors=True)
        raise PacsError(_refusal_text(findings, len(plan.studies)))
    manifest_path, record_path = out / "manifest.csv", out / "pull.json"
    manifest = _manifest_bytes(plan, files, request.columns)
    unchanged = (
        retrieved == 0
        and manifest_path.is_file()
        and manifest_path.read_bytes() == manifest
        and record_path.is_file()
    )
    if not unchanged:
        record = {
            "schema": PULL_SCHEMA,
            "dxval_version": __version__,
            "started_utc": started,
            "finished_utc": utc_now(),
            "server": source.describe(),
            "query": _query_record(request),
            "site_key": {"id": key.key_id, "pseudonym": "HMAC-SHA-256, 80 bits, prefix P"},
            "phi": {
                "policy": request.phi,
                "retained": {
                    "attributes": list(request.phi_retained),
                    "justification": request.phi_justification,
                },
                "findings": [item for case in sorted(findings) for item in findings[case]],
            },
            "manifest": {"path": "manifest.csv", "sha256": sha256_bytes(manifest)},
            "counts": {
                "cases": len(plan.studies),
                "files": sum(map(len, files.values())),
                "retrieved": retrieved,
                "already_verified": verified,
            },
            "cases": [
                {
                    "case_id": case_id,
                    "files": [{"path": name, "sha256": digest} for name, digest in files[case_id]],
                }
                for case_id in sorted(files)
            ],
        }
        _write_atomic(manifest_path, manifest)
        _write_atomic(record_path, (json.dumps(record, indent=2) + "\n").encode("utf-8"))
    return PullResult(
        manifest=manifest_path,
        record=record_path,
        cases=len(plan.studies),
        files=sum(map(len, files.values())),
        retrieved=retrieved,
        already_verified=verified,
        phi_warnings=sum(map(len, findings.values())),
        changed=not unchanged,
    )
