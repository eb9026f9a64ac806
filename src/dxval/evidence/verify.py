"""Verify an evidence bundle: every changed, missing or extra file and any audit-chain break.

``MANIFEST.sha256`` is the primary record. A file whose digest differs from
its manifest entry is checked against its second record (the
``bundle.sealed`` audit event for content files, ``run.json``'s
``audit_sha256`` for the audit log) to tell a changed file from a changed
manifest entry; files with no second record (``run.json``, renderings added
later) are reported as "the file or its manifest entry".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dxval.data.hashing import sha256_bytes, sha256_file
from dxval.errors import IntegrityError, UsageError
from dxval.evidence.audit import check_chain, read_events
from dxval.evidence.bundle import AUDIT_NAME, RUN_NAME
from dxval.evidence.manifest import MANIFEST_NAME, bundle_files, parse_manifest


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding: kind (changed, missing, extra, malformed, audit), the file, details."""

    kind: str
    path: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.path}" + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of :func:`verify_bundle`: intact when there is no problem."""

    bundle: Path
    files_checked: int
    problems: tuple[Problem, ...]

    @property
    def intact(self) -> bool:
        """True when every file matches and the audit chain is unbroken."""
        return not self.problems


def _second_records(bundle: Path, present: set[str]) -> dict[str, str]:
    """Digests recorded outside the manifest: sealed audit event and run.json."""
    records: dict[str, str] = {}
    if AUDIT_NAME in present:
        for event in read_events((bundle / AUDIT_NAME).read_bytes()):
            files = event.get("object", {}) if event.get("action") == "bundle.sealed" else {}
            if isinstance(files, dict) and isinstance(files.get("files"), dict):
                records.update({str(k): str(v) for k, v in files["files"].items()})
    if RUN_NAME in present:
        try:
            run = json.loads((bundle / RUN_NAME).read_bytes())
        except (UnicodeDecodeError, json.JSONDecodeError):
            run = {}
        if isinstance(run, dict) and isinstance(run.get("audit_sha256"), str):
            records[AUDIT_NAME] = run["audit_sha256"]
    return records


def _changed(name: str, listed: str, actual: str, records: Mapping[str, str]) -> Problem:
    detail = f"MANIFEST.sha256 lists {listed}, file has {actual}"
    second = records.get(name)
    if second is None:
        return Problem("changed", f"{name} or its entry in {MANIFEST_NAME}", detail)
    if second == actual:
        return Problem(
            "changed",
            MANIFEST_NAME,
            f"entry for {name} altered; the file matches its second record",
        )
    return Problem("changed", name, detail)


def _audit_problems(bundle: Path, present: set[str]) -> list[Problem]:
    if AUDIT_NAME not in present:
        return []
    return [
        Problem("audit", AUDIT_NAME, finding)
        for finding in check_chain((bundle / AUDIT_NAME).read_bytes())
    ]


def _sealed_audit_problems(bundle: Path, present: set[str]) -> list[Problem]:
    """run.json's ``audit_sha256`` must equal the audit log up to its ``bundle.sealed`` event.

    Catches an event edited, inserted or deleted before sealing even when the
    chain was recomputed and ``MANIFEST.sha256`` rewritten.
    """
    if AUDIT_NAME not in present or RUN_NAME not in present:
        return []
    from dxval.evidence.signatures import sealed_audit_part  # it imports this module

    try:
        run = json.loads((bundle / RUN_NAME).read_bytes())
        sealed = sha256_bytes(sealed_audit_part((bundle / AUDIT_NAME).read_bytes()))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return []  # reported as a changed run.json
    except IntegrityError:
        return [Problem("audit", AUDIT_NAME, "no bundle.sealed event")]
    recorded = run.get("audit_sha256") if isinstance(run, dict) else None
    if recorded == sealed:
        return []
    return [
        Problem(
            "audit",
            AUDIT_NAME,
            "events up to bundle.sealed differ from run.json's audit_sha256 "
            "(an event was edited, inserted or deleted)",
        )
    ]


def verify_bundle(path: str | Path) -> VerifyReport:
    """Check the bundle at ``path`` against its ``MANIFEST.sha256`` and audit chain.

    Returns a :class:`VerifyReport` listing every changed, missing and extra
    file, malformed manifest lines and audit-chain breaks.

    Raises
    ------
    UsageError
        ``path`` is not a folder.
    """
    bundle = Path(path)
    if not bundle.is_dir():
        raise UsageError(f"{bundle}: not a bundle folder")
    present = set(bundle_files(bundle))
    manifest_path = bundle / MANIFEST_NAME
    if not manifest_path.is_file():
        problems = [Problem("missing", MANIFEST_NAME, "cannot check any file without it")]
        return VerifyReport(bundle, 0, tuple(problems + _audit_problems(bundle, present)))
    parsed = parse_manifest(manifest_path.read_bytes())
    problems = [
        Problem("malformed", MANIFEST_NAME, f"line {number} is not '<sha256>  <path>'")
        for number in parsed.malformed
    ]
    records = _second_records(bundle, present)
    for name, listed in sorted(parsed.entries.items()):
        if name not in present:
            problems.append(Problem("missing", name, f"listed in {MANIFEST_NAME}"))
            continue
        actual = sha256_file(bundle / name)
        if actual != listed:
            problems.append(_changed(name, listed, actual, records))
    problems.extend(
        Problem("extra", name, f"not listed in {MANIFEST_NAME}")
        for name in sorted(present - parsed.entries.keys())
    )
    problems.extend(_audit_problems(bundle, present))
    problems.extend(_sealed_audit_problems(bundle, present))
    from dxval.evidence.signatures import check_signatures  # it imports this module

    problems.extend(check_signatures(bundle))
    return VerifyReport(bundle, len(parsed.entries), tuple(problems))
