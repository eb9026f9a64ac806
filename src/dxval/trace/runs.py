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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from dxval.errors import InputError
from dxval.evidence import verify_bundle
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


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{path}: unreadable ({error})") from error
    if not isinstance(document, dict):
        raise InputError(f"{path}: expected a JSON object")
    return document


def _outcomes(
    criteria_document: Mapping[str, Any], definitions: Mapping[str, Mapping[str, Any]]
) -> dict[str, RequirementOutcome]:
    outcomes = {}
    for requirement in criteria_document.get("requirements", []):
        identifier = str(requirement["id"])
        definition = definitions.get(identifier, {"text": requirement.get("text", "")})
        outcomes[identifier] = RequirementOutcome(
            id=identifier,
            text=" ".join(str(requirement.get("text", "")).split()),
            fingerprint=requirement_fingerprint(definition),
            verdict=str(requirement.get("verdict", "unknown")),
            criteria=tuple(
                CriterionOutcome(
                    description=str(criterion.get("description", "")),
                    observed=criterion.get("observed"),
                    required=str(criterion.get("required", "")),
                    verdict=str(criterion.get("verdict", "unknown")),
                )
                for criterion in requirement.get("criteria", [])
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
    run = _read_json(bundle / "run.json")
    criteria = _read_json(bundle / "criteria.json")
    lock = _read_json(bundle / "lock.json") if (bundle / "lock.json").is_file() else {}
    try:
        protocol_bytes = (bundle / "protocol.yaml").read_bytes()
    except OSError as error:
        raise InputError(f"{bundle / 'protocol.yaml'}: unreadable ({error.strerror})") from error
    definitions = protocol_requirements(protocol_bytes, where=str(bundle / "protocol.yaml"))
    protocol = run.get("protocol", {})
    intact = verify_bundle(bundle).intact and not check_signatures(bundle)
    return RunRecord(
        bundle=bundle,
        protocol_id=str(protocol.get("id", "")),
        protocol_version=str(protocol.get("version", "")),
        protocol_sha256=str(protocol.get("sha256", "")),
        run_id=str(run.get("run_id", bundle.name)),
        started_utc=str(run.get("started_utc", "")),
        status=str(run.get("status", "")),
        exit_code=run.get("exit_code"),
        model_sha256=_digest(lock, "model"),
        predictions_sha256=_digest(lock, "predictions"),
        intact=intact,
        signatures=tuple(
            f"{record.meaning.value} by {record.name} {record.signed_utc}"
            for record in read_signatures(bundle)
        ),
        requirements=_outcomes(criteria, definitions),
    )


def find_bundles(root: str | Path) -> Iterator[Path]:
    """Every bundle folder below ``root`` (``run.json`` and ``criteria.json`` present).

    Hidden folders (``.partial`` bundles of interrupted runs) are skipped.
    """
    for run_file in sorted(Path(root).rglob("run.json")):
        folder = run_file.parent
        relative = folder.relative_to(root).parts
        if (folder / "criteria.json").is_file() and not any(p.startswith(".") for p in relative):
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
