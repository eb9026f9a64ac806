"""Read evidence bundles for tracing: each run's identity, digests and requirement outcomes.

A bundle is a folder holding ``run.json`` and ``criteria.json``
(DESIGN.md, "The evidence bundle"); hidden ``.partial`` folders of
interrupted runs are never bundles. Each requirement of a run carries a
*fingerprint*: the SHA-256 of its text (whitespace-normalised) and its
criteria as validated by the protocol schema (defaults filled in, so writing
a default out does not change it), taken from the exact ``protocol.yaml``
bytes that ran. A link from a requirement to a run is *suspect* when the
requirement's current fingerprint differs (IEC 62304 §5.1.1 and §9.8:
changes to requirements trigger re-verification; StrictDoc calls this
fingerprinting).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from dxval.errors import InputError
from dxval.evidence import verify_bundle
from dxval.evidence.format import (
    CRITERIA_NAME,
    LOCK_NAME,
    PROTOCOL_NAME,
    RUN_NAME,
    RequirementRecord,
    as_record,
    read_json_object,
)
from dxval.evidence.format import RunRecord as RunFile
from dxval.evidence.signatures import check_signatures, read_signatures
from dxval.protocol import Requirement


@dataclass(frozen=True, slots=True)
class CriterionOutcome:
    """One criterion of a requirement in one run: observed value, required value, verdict."""

    description: str
    observed: float | None
    required: str
    verdict: str


@dataclass(frozen=True, slots=True)
class RequirementOutcome:
    """A requirement as it stood and was evaluated in one run."""

    id: str
    text: str
    fingerprint: str
    verdict: str
    criteria: tuple[CriterionOutcome, ...]

    @property
    def observed(self) -> str:
        """Observed values of the criteria, ``;``-separated, 4 decimals (``undefined`` if none)."""
        return "; ".join(
            "undefined" if criterion.observed is None else f"{criterion.observed:.4f}"
            for criterion in self.criteria
        )

    @property
    def required(self) -> str:
        """Required values of the criteria, ``;``-separated."""
        return "; ".join(criterion.required for criterion in self.criteria)


@dataclass(frozen=True, slots=True)
class RunRecord:
    """What tracing needs of one evidence bundle."""

    bundle: Path
    protocol_id: str
    protocol_version: str
    protocol_sha256: str
    run_id: str
    started_utc: str
    status: str
    exit_code: int | None
    model_sha256: str | None
    predictions_sha256: str | None
    intact: bool
    signatures: tuple[str, ...]
    requirements: Mapping[str, RequirementOutcome]

    @property
    def scored_by(self) -> str:
        """``model <sha256>`` or ``predictions <sha256>``: what produced the scores."""
        if self.model_sha256 is not None:
            return f"model {self.model_sha256}"
        return f"predictions {self.predictions_sha256 or 'unknown'}"


def requirement_fingerprint(requirement: Mapping[str, Any]) -> str:
    """SHA-256 of a protocol requirement's text and criteria (the ID excluded).

    The requirement is validated with the protocol schema first so that
    defaults are explicit; one that no longer validates is fingerprinted as
    written.
    """
    try:
        plain = Requirement.model_validate(dict(requirement)).model_dump(mode="json")
    except ValidationError:
        plain = json.loads(json.dumps(requirement, default=str))
    text = " ".join(str(plain.get("text", "")).split())
    document = {"text": text, "criteria": plain.get("criteria")}
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def protocol_requirements(raw_bytes: bytes, *, where: str) -> dict[str, dict[str, Any]]:
    """Requirement ID → its plain mapping, from protocol YAML bytes.

    Raises
    ------
    InputError
        The bytes are not YAML or hold no ``requirements`` list.
    """
    try:
        document = YAML(typ="safe", pure=True).load(raw_bytes.decode("utf-8"))
    except (UnicodeDecodeError, YAMLError) as error:
        raise InputError(f"{where}: not a readable protocol ({error})") from error
    requirements = document.get("requirements") if isinstance(document, dict) else None
    if not isinstance(requirements, list):
        raise InputError(f"{where}: no requirements list; expected a dxval protocol")
    return {
        str(entry["id"]): entry
        for entry in requirements
        if isinstance(entry, dict) and "id" in entry
    }


def _outcomes(
    requirements: Sequence[RequirementRecord], definitions: Mapping[str, Mapping[str, Any]]
) -> dict[str, RequirementOutcome]:
    outcomes = {}
    for requirement in requirements:
        definition = definitions.get(requirement.id, {"text": requirement.text})
        outcomes[requirement.id] = RequirementOutcome(
            id=requirement.id,
            text=" ".join(requirement.text.split()),
            fingerprint=requirement_fingerprint(definition),
            verdict=requirement.verdict,
            criteria=tuple(
                CriterionOutcome(
                    description=criterion.description,
                    observed=criterion.observed,
                    required=criterion.required,
                    verdict=criterion.verdict,
                )
                for criterion in requirement.criteria
            ),
        )
    return outcomes


def _digest(lock: Mapping[str, Any], section: str) -> str | None:
    entry = lock.get(section)
    return str(entry["sha256"]) if isinstance(entry, dict) and entry.get("sha256") else None


def read_run(bundle: str | Path) -> RunRecord:
    """Read one bundle for tracing, including whether it still verifies.

    Raises
    ------
    InputError
        ``run.json``, ``criteria.json`` or ``protocol.yaml`` is unreadable.
    """
    bundle = Path(bundle)
    run_path, criteria_path = bundle / RUN_NAME, bundle / CRITERIA_NAME
    run = as_record(RunFile, read_json_object(run_path), where=run_path)
    criteria = read_json_object(criteria_path)
    requirements = [
        as_record(RequirementRecord, requirement, where=criteria_path)
        for requirement in criteria.get("requirements", [])
    ]
    lock_path = bundle / LOCK_NAME
    lock = read_json_object(lock_path) if lock_path.is_file() else {}
    protocol_path = bundle / PROTOCOL_NAME
    try:
        protocol_bytes = protocol_path.read_bytes()
    except OSError as error:
        raise InputError(f"{protocol_path}: unreadable ({error.strerror})") from error
    definitions = protocol_requirements(protocol_bytes, where=str(protocol_path))
    intact = verify_bundle(bundle).intact and not check_signatures(bundle)
    return RunRecord(
        bundle=bundle,
        protocol_id=run.protocol.id,
        protocol_version=run.protocol.version,
        protocol_sha256=run.protocol.sha256,
        run_id=run.run_id,
        started_utc=run.started_utc,
        status=run.status,
        exit_code=run.exit_code,
        model_sha256=_digest(lock, "model"),
        predictions_sha256=_digest(lock, "predictions"),
        intact=intact,
        signatures=tuple(
            f"{record.meaning.value} by {record.name} {record.signed_utc}"
            for record in read_signatures(bundle)
        ),
        requirements=_outcomes(requirements, definitions),
    )


def find_bundles(root: str | Path) -> Iterator[Path]:
    """Every bundle folder below ``root`` (``run.json`` and ``criteria.json`` present).

    Hidden folders (``.partial`` bundles of interrupted runs) are skipped.
    """
    for run_file in sorted(Path(root).rglob(RUN_NAME)):
        folder = run_file.parent
        relative = folder.relative_to(root).parts
        if (folder / CRITERIA_NAME).is_file() and not any(p.startswith(".") for p in relative):
            yield folder


def read_runs(root: str | Path) -> tuple[RunRecord, ...]:
    """Every bundle below the evidence root, oldest first (start time, then run ID).

    Raises
    ------
    InputError
        ``root`` is not a folder, or a bundle is unreadable.
    """
    if not Path(root).is_dir():
        raise InputError(f"{root}: evidence folder not found")
    runs = [read_run(bundle) for bundle in find_bundles(root)]
    return tuple(sorted(runs, key=lambda run: (run.started_utc, run.run_id)))
