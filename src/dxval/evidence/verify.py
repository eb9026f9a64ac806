"""Verify an evidence bundle: every changed, missing, extra or irregular file and any audit break.

Each file is checked against every record that holds its digest, not only
``MANIFEST.sha256``: the content files against the ``bundle.sealed`` audit
event, the sealed part of ``audit.jsonl`` against ``run.json``'s
``audit_sha256``, and ``run.json``'s status against the sealed event. A
changed file is told apart from a changed manifest entry, and a manifest
regenerated after a file was edited is still caught. The files every bundle
must have (:data:`~dxval.evidence.bundle.REQUIRED_FILES`; for a monitoring
bundle :data:`~dxval.evidence.format.MONITORING_REQUIRED_FILES`) are required, and
anything that is not a regular file (symlink, FIFO, socket, device) is a
problem. Evidence files that are not in the sealed event are extra even
when the manifest lists them.

What this proves alone is integrity against accident: a writer who rewrites
every record consistently is caught only by an anchor outside the bundle,
the evidence ledger of the evidence root (:mod:`dxval.evidence.anchor`), a
digest the user passes (``expect_digest``) or a signature.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dxval.data.hashing import sha256_bytes, sha256_file
from dxval.errors import IntegrityError, UsageError
from dxval.evidence.audit import check_chain, read_events
from dxval.evidence.bundle import AUDIT_NAME, RUN_NAME
from dxval.evidence.format import required_files
from dxval.evidence.manifest import MANIFEST_NAME, bundle_files, irregular_files, parse_manifest

#: Largest JSON record (run.json, a signature) verify parses; larger is reported as malformed.
MAX_RECORD_BYTES = 16 << 20
SEALED_ACTION = "bundle.sealed"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding: kind (changed, missing, extra, irregular, malformed, audit, anchor), file."""

    kind: str
    path: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.path}" + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of :func:`verify_bundle`: intact when there is no problem.

    ``status``/``exit_code`` are the run's as ``run.json`` states them (None
    when unreadable); ``evidence_digest`` the bundle's current one (None when
    it cannot be computed); ``anchors`` the external records it was checked
    against (``ledger``, ``expected digest``).
    """

    bundle: Path
    files_checked: int
    problems: tuple[Problem, ...]
    status: str | None = None
    exit_code: int | None = None
    evidence_digest: str | None = None
    anchors: tuple[str, ...] = field(default=())

    @property
    def intact(self) -> bool:
        """True when every file matches and the audit chain is unbroken."""
        return not self.problems


def load_record(path: Path) -> Any:
    """A JSON file of the bundle, or ``None`` when missing, too large, not JSON or too deep."""
    try:
        if path.stat().st_size > MAX_RECORD_BYTES:
            return None
        return json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None


def sealed_event(bundle: Path, present: set[str]) -> dict[str, Any] | None:
    """The last ``bundle.sealed`` event of the bundle's audit log (None when there is none)."""
    if AUDIT_NAME not in present:
        return None
    found = None
    for event in read_events((bundle / AUDIT_NAME).read_bytes()):
        if event.get("action") == SEALED_ACTION and isinstance(event.get("object"), dict):
            found = event["object"]
    return found


def _sealed_digests(sealed: Mapping[str, Any] | None) -> dict[str, str]:
    files = sealed.get("files") if sealed is not None else None
    if not isinstance(files, dict):
        return {}
    return {str(name): str(digest) for name, digest in files.items()}


def _compare(
    name: str,
    actual: str,
    listed: str | None,
    sealed: Mapping[str, str],
    *,
    compared: str | None = None,
) -> Problem | None:
    """One problem for a file whose digest differs from its manifest entry or sealed record.

    The second record of a content file is the ``bundle.sealed`` event; of
    ``audit.jsonl``, ``run.json``'s ``audit_sha256``, which covers the log up
    to its sealing event (``compared``: that part's digest).
    """
    second = sealed.get(name)
    compared = actual if compared is None else compared
    source = f"{RUN_NAME}'s audit_sha256" if name == AUDIT_NAME else f"{AUDIT_NAME}'s sealing"
    manifest_ok = listed is None or listed == actual
    sealed_ok = second is None or second == compared
    if manifest_ok and sealed_ok:
        return None
    if sealed_ok and second is not None and compared == actual:
        return Problem(
            "changed",
            MANIFEST_NAME,
            f"entry for {name} altered; the file matches the digest in {source}",
        )
    if not sealed_ok:
        where = f"{MANIFEST_NAME} " + ("lists it" if manifest_ok else f"lists {listed}")
        return Problem(
            "changed",
            name,
            f"{source} records {second}, file has {actual}; {where}"
            + (" (the manifest was regenerated)" if manifest_ok else ""),
        )
    after_sealing = name == AUDIT_NAME and second is not None  # events appended since sealing
    return Problem(
        "changed",
        name if after_sealing else f"{name} or its entry in {MANIFEST_NAME}",
        f"MANIFEST.sha256 lists {listed}, file has {actual}",
    )


def _sealed_part_digest(bundle: Path) -> str:
    """SHA-256 of the audit log up to its sealing event ("" when it has none)."""
    from dxval.evidence.signatures import sealed_audit_part  # it imports this module

    try:
        return sha256_bytes(sealed_audit_part((bundle / AUDIT_NAME).read_bytes()))
    except IntegrityError:
        return ""


def _file_problems(bundle: Path, present: set[str]) -> tuple[int, list[Problem]]:
    """Manifest, required, sealed, extra and irregular-file findings."""
    problems = [
        Problem("irregular", name, "not a regular file (symlink, FIFO, socket or device)")
        for name in irregular_files(bundle)
    ]
    run = load_record(bundle / RUN_NAME) if RUN_NAME in present else None
    required = required_files(run)
    problems += [
        Problem("missing", name, "required in every bundle")
        for name in required
        if name not in present and not (bundle / name).is_file()
    ]
    manifest_path = bundle / MANIFEST_NAME
    entries: dict[str, str] = {}
    if manifest_path.is_file():
        parsed = parse_manifest(manifest_path.read_bytes())
        entries = parsed.entries
        problems += [
            Problem("malformed", MANIFEST_NAME, f"line {number} is not '<sha256>  <path>'")
            for number in parsed.malformed
        ]
    sealed_files = _sealed_digests(sealed_event(bundle, present))
    sealed_files.pop(AUDIT_NAME, None)
    sealed = dict(sealed_files)
    if isinstance(run, dict) and isinstance(run.get("audit_sha256"), str):
        sealed[AUDIT_NAME] = run["audit_sha256"]  # exact until signatures append events
    for name in sorted(entries.keys() | sealed.keys()):
        if name not in present:
            if name not in required:
                where = MANIFEST_NAME if name in entries else f"the {SEALED_ACTION} event"
                problems.append(Problem("missing", name, f"listed in {where}"))
            continue
        compared = _sealed_part_digest(bundle) if name == AUDIT_NAME else None
        problem = _compare(
            name, sha256_file(bundle / name), entries.get(name), sealed, compared=compared
        )
        if problem is not None:
            problems.append(problem)
    if manifest_path.is_file():
        problems += [
            Problem("extra", name, f"not listed in {MANIFEST_NAME}")
            for name in sorted(present - entries.keys())
        ]
    problems += _unsealed_evidence(present, entries, sealed_files)
    return len(entries), problems


def _unsealed_evidence(
    present: set[str], entries: Mapping[str, str], sealed: Mapping[str, str]
) -> list[Problem]:
    """Evidence files the manifest lists but the sealing event does not: added after sealing."""
    if not sealed:
        return []
    from dxval.evidence.signatures.digest import is_evidence_file  # it imports this module

    return [
        Problem("extra", name, f"not among the files sealed in {AUDIT_NAME} (added after sealing)")
        for name in sorted(present & entries.keys())
        if is_evidence_file(name) and name not in sealed and name not in (AUDIT_NAME, RUN_NAME)
    ]


def _audit_problems(bundle: Path, present: set[str]) -> list[Problem]:
    if AUDIT_NAME not in present:
        return []
    return [
        Problem("audit", AUDIT_NAME, finding)
        for finding in check_chain((bundle / AUDIT_NAME).read_bytes())
    ]


def _sealed_audit_problems(bundle: Path, present: set[str], run: Any) -> list[Problem]:
    """run.json's ``audit_sha256`` must equal the audit log up to its ``bundle.sealed`` event.

    Catches an event edited, inserted or deleted before sealing even when the
    chain was recomputed and ``MANIFEST.sha256`` rewritten.
    """
    if AUDIT_NAME not in present or RUN_NAME not in present:
        return []
    from dxval.evidence.signatures import sealed_audit_part  # it imports this module

    try:
        sealed = sha256_bytes(sealed_audit_part((bundle / AUDIT_NAME).read_bytes()))
    except IntegrityError:
        return [Problem("audit", AUDIT_NAME, f"no {SEALED_ACTION} event")]
    recorded = run.get("audit_sha256") if isinstance(run, dict) else None
    if recorded == sealed:
        return []
    return [
        Problem(
            "audit",
            AUDIT_NAME,
            f"events up to {SEALED_ACTION} differ from {RUN_NAME}'s audit_sha256 "
            "(an event was edited, inserted or deleted)",
        )
    ]


def _run_problems(bundle: Path, present: set[str], run: Any) -> list[Problem]:
    """run.json must be a readable record whose outcome matches what the audit log sealed."""
    if RUN_NAME not in present:
        return []
    if not isinstance(run, dict):
        return [Problem("malformed", RUN_NAME, "not a JSON object that dxval can read")]
    problems = []
    sealed = sealed_event(bundle, present) or {}
    for key in ("status", "exit_code"):
        if key in sealed and sealed[key] != run.get(key):
            problems.append(
                Problem(
                    "changed",
                    RUN_NAME,
                    f"{key} {run.get(key)!r} differs from {sealed[key]!r} sealed in {AUDIT_NAME}",
                )
            )
    events = read_events((bundle / AUDIT_NAME).read_bytes()) if AUDIT_NAME in present else []
    analysed = [e.get("object") for e in events if e.get("action") == "analysis.completed"]
    if analysed and "criteria" in run and analysed[-1] != run["criteria"]:
        problems.append(
            Problem(
                "changed",
                RUN_NAME,
                f"criteria summary differs from the analysis.completed event in {AUDIT_NAME}",
            )
        )
    return problems


def _anchor_problems(
    bundle: Path, run: Any, digest: str | None, *, expect_digest: str | None, use_ledger: bool
) -> tuple[list[Problem], list[str]]:
    """Compare with the evidence root's ledger and with a digest the user expects."""
    from dxval.evidence.anchor import ANCHOR_LEDGER_NAME, anchor_findings, read_anchors

    problems: list[Problem] = []
    checked: list[str] = []
    if expect_digest is not None:
        checked.append("expected digest")
        if digest != expect_digest.strip().lower():
            problems.append(
                Problem(
                    "anchor",
                    "evidence digest",
                    f"is {digest or 'not computable'}, expected {expect_digest.strip().lower()}",
                )
            )
    root = bundle.resolve().parent.parent
    if not use_ledger or not (root / ANCHOR_LEDGER_NAME).is_file():
        return problems, checked
    checked.append(f"ledger {root / ANCHOR_LEDGER_NAME}")
    try:
        anchors = read_anchors(root) or ()
    except IntegrityError as error:
        return [*problems, Problem("anchor", ANCHOR_LEDGER_NAME, str(error))], checked
    protocol = run.get("protocol") if isinstance(run, dict) else None
    if not isinstance(protocol, dict) or digest is None:
        return [*problems, Problem("anchor", RUN_NAME, "cannot identify the run")], checked
    findings = anchor_findings(
        anchors,
        protocol_id=str(protocol.get("id")),
        run_id=str(run.get("run_id")),
        digest=digest,
        audit=(bundle / AUDIT_NAME).read_bytes(),
    )
    return [*problems, *(Problem("anchor", ANCHOR_LEDGER_NAME, f) for f in findings)], checked


def verify_bundle(
    path: str | Path,
    *,
    expect_digest: str | None = None,
    ledger: bool = True,
    signers: Any = None,
) -> VerifyReport:
    """Check the bundle at ``path`` against every record of its files' digests.

    Parameters
    ----------
    path:
        The bundle folder.
    expect_digest:
        The evidence digest recorded outside the bundle (the CI log, JUnit
        property or step summary of the run); a different digest is a problem.
    ledger:
        Check against ``<evidence root>/evidence-ledger.jsonl`` when the
        bundle sits under an evidence root that has one.
    signers:
        A :class:`dxval.evidence.signatures.registry.SignerRegistry`; when
        given, separation of duties compares registry identities.

    Returns a :class:`VerifyReport` listing every problem found.

    Raises
    ------
    UsageError
        ``path`` is not a folder.
    """
    bundle = Path(path)
    if not bundle.is_dir():
        raise UsageError(f"{bundle}: not a bundle folder")
    present = set(bundle_files(bundle))
    files_checked, problems = _file_problems(bundle, present)
    run = load_record(bundle / RUN_NAME) if RUN_NAME in present else None
    problems += _run_problems(bundle, present, run)
    problems += _audit_problems(bundle, present)
    problems += _sealed_audit_problems(bundle, present, run)
    from dxval.evidence.signatures import check_signatures, evidence_digest

    problems += check_signatures(bundle, signers=signers)
    try:
        digest: str | None = evidence_digest(bundle)
    except IntegrityError:
        digest = None
    anchor_problems, anchors = _anchor_problems(
        bundle, run, digest, expect_digest=expect_digest, use_ledger=ledger
    )
    problems += anchor_problems
    status = run.get("status") if isinstance(run, dict) else None
    code = run.get("exit_code") if isinstance(run, dict) else None
    return VerifyReport(
        bundle,
        files_checked,
        tuple(problems),
        status=status if isinstance(status, str) else None,
        exit_code=code if isinstance(code, int) else None,
        evidence_digest=digest,
        anchors=tuple(anchors),
    )
