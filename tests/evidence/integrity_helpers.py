"""What a writer with full access does to a bundle: edit, then recompute every record."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dxval.evidence.audit import GENESIS
from dxval.evidence.manifest import MANIFEST_NAME, digest_files, render_manifest
from dxval.evidence.signatures import sealed_audit_part


def rewrite_manifest(bundle: Path) -> None:
    """``sha256sum`` every file into ``MANIFEST.sha256`` (what a forger does first)."""
    (bundle / MANIFEST_NAME).write_bytes(render_manifest(digest_files(bundle)))


def events(bundle: Path) -> list[dict[str, Any]]:
    """The audit events of ``bundle`` in order."""
    return [json.loads(line) for line in (bundle / "audit.jsonl").read_bytes().splitlines()]


def write_chain(bundle: Path, edited: list[dict[str, Any]]) -> None:
    """Write ``edited`` as audit.jsonl with sequence numbers and the hash chain recomputed."""
    previous, lines = GENESIS, []
    for number, original in enumerate(edited, start=1):
        event = {**original, "previous_sha256": previous, "sequence": number}
        line = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        lines.append(line.encode())
        previous = hashlib.sha256(line.encode()).hexdigest()
    (bundle / "audit.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))


def reseal(bundle: Path, edit_events: Callable[[list[dict[str, Any]]], None] | None = None) -> None:
    """Make every internal record consistent again after files were edited.

    The ``bundle.sealed`` event gets the files' new digests, the chain is
    recomputed, ``run.json``'s ``audit_sha256`` and the manifest rewritten.
    """
    edited = events(bundle)
    if edit_events is not None:
        edit_events(edited)
    sealed = next(e for e in reversed(edited) if e["action"] == "bundle.sealed")
    files = sealed["object"]["files"]
    for name in list(files):
        if (bundle / name).is_file():
            files[name] = hashlib.sha256((bundle / name).read_bytes()).hexdigest()
    write_chain(bundle, edited)
    run = json.loads((bundle / "run.json").read_text())
    part = sealed_audit_part((bundle / "audit.jsonl").read_bytes())
    run["audit_sha256"] = hashlib.sha256(part).hexdigest()
    (bundle / "run.json").write_text(json.dumps(run, indent=2) + "\n")
    rewrite_manifest(bundle)


def fail_to_pass(bundle: Path) -> None:
    """The consistent rewrite of issue 11: FAIL→PASS everywhere, every record recomputed."""
    criteria = bundle / "criteria.json"
    criteria.write_bytes(criteria.read_bytes().replace(b'"verdict": "fail"', b'"verdict": "pass"'))
    run = json.loads((bundle / "run.json").read_text())
    run["exit_code"] = 0
    run["criteria"] = {**run["criteria"], "passed": 8, "failed": 0, "all_met": True}
    (bundle / "run.json").write_text(json.dumps(run, indent=2) + "\n")

    def edit(edited: list[dict[str, Any]]) -> None:
        for event in edited:
            if event["action"] == "analysis.completed":
                event["object"] = run["criteria"]
            if event["action"] == "bundle.sealed":
                event["object"]["exit_code"] = 0

    reseal(bundle, edit)
