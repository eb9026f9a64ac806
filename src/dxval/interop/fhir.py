"""A FHIR R4 Bundle of a validation run: one DiagnosticReport and its Observations per case.

Resources (HL7 FHIR R4 4.0.1; checked with the ``fhir.resources`` R4B models,
FHIR 4.3.0, the R4-line release whose Bundle, Device, Observation and
DiagnosticReport have the same elements as 4.0.1 for everything written here):

* one ``Device`` for the model: ``deviceName`` (type ``model-name``),
  ``version``, ``manufacturer`` and an identifier holding the SHA-256 of the
  model file (or of the predictions file of a bring-your-own-predictions run);
* per scored case, an ``Observation`` of the score (``valueQuantity``, the
  exact decimal text of ``cases.csv``) and one of the decision at the
  operating point (``valueCodeableConcept``, SNOMED CT 10828004 Positive /
  260385009 Negative, the operating point as a component), both pointing at
  the Device;
* per scored case, a ``DiagnosticReport`` whose ``result`` lists the two
  Observations and whose identifiers are the case ID and the evidence run ID.

No Patient resource is written: cases are known by their pseudonymous case
ID only. ``fullUrl`` values are name-based UUIDs (RFC 4122 §4.3) of the run
and case, so the same bundle always exports the same document.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from dxval.errors import InputError
from dxval.interop.results import BundleResults, CaseResult, load_results

__all__ = ["FhirExport", "export_fhir", "fhir_bundle"]

SYSTEM = "urn:dxval"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
_DECISIONS = {"positive": ("10828004", "Positive"), "negative": ("260385009", "Negative")}


@dataclass(frozen=True, slots=True)
class FhirExport:
    """The file written, the resources in it and the cases left out (no score)."""

    path: Path
    resources: int
    not_exported: tuple[str, ...]


def _full_url(*parts: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'dxval:' + ':'.join(parts))}"


def _concept(code: str, display: str) -> dict[str, Any]:
    return {
        "coding": [{"system": f"{SYSTEM}:concept", "code": code, "display": display}],
        "text": display,
    }


def _device(results: BundleResults) -> dict[str, Any]:
    model = results.model
    device: dict[str, Any] = {
        "resourceType": "Device",
        "identifier": [{"system": f"{SYSTEM}:{model.artifact}-sha256", "value": model.sha256}],
        "deviceName": [{"name": model.name, "type": "model-name"}],
        "version": [{"value": model.version}],
        "type": {"text": "AI software (model validated by dxval)"},
    }
    if model.manufacturer:
        device["manufacturer"] = model.manufacturer
    return device


def _case_resources(
    results: BundleResults, case: CaseResult, device_url: str
) -> list[tuple[str, dict[str, Any]]]:
    if case.decision not in _DECISIONS:
        raise InputError(
            f"cases.csv: case {case.case_id}: got decision {case.decision!r} "
            "expected 'positive' or 'negative'"
        )
    identifiers = [
        {"system": f"{SYSTEM}:case-id", "value": case.case_id},
        {"system": f"{SYSTEM}:evidence-run", "value": results.run_id},
    ]
    issued = results.finished_utc
    score_url = _full_url(results.run_id, case.case_id, "score")
    decision_url = _full_url(results.run_id, case.case_id, "decision")
    code, display = _DECISIONS[case.decision]
    score = {
        "resourceType": "Observation",
        "identifier": identifiers,
        "status": "final",
        "code": _concept("score", "Model score"),
        "issued": issued,
        "device": {"reference": device_url},
        "valueQuantity": {
            "value": Decimal(case.score_text),
            "unit": "1",
            "system": UCUM,
            "code": "1",
        },
    }
    decision = {
        "resourceType": "Observation",
        "identifier": identifiers,
        "status": "final",
        "code": _concept("decision", "Decision at operating point"),
        "issued": issued,
        "device": {"reference": device_url},
        "valueCodeableConcept": {
            "coding": [{"system": SNOMED, "code": code, "display": display}],
            "text": case.decision,
        },
        "component": [
            {
                "code": _concept("operating-point", "Operating point (positive when score >= it)"),
                "valueQuantity": {
                    "value": Decimal(repr(results.operating_point)),
                    "unit": "1",
                    "system": UCUM,
                    "code": "1",
                },
            }
        ],
        "derivedFrom": [{"reference": score_url}],
    }
    report = {
        "resourceType": "DiagnosticReport",
        "identifier": identifiers,
        "status": "final",
        "code": _concept("ai-result", f"{results.model.name} result"),
        "issued": issued,
        "result": [{"reference": score_url}, {"reference": decision_url}],
        "conclusion": f"{case.decision} at operating point {results.operating_point!r} "
        f"(score {case.score_text}); evidence run {results.run_id}",
    }
    return [
        (_full_url(results.run_id, case.case_id, "report"), report),
        (score_url, score),
        (decision_url, decision),
    ]


def fhir_bundle(results: BundleResults) -> Any:
    """The validated ``fhir.resources`` R4B Bundle of ``results``' scored cases.

    Raises
    ------
    InputError
        A case has an unknown decision, or the resources do not validate.
    """
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    device_url = _full_url(results.run_id, "device", results.model.sha256)
    entries = [{"fullUrl": device_url, "resource": _device(results)}]
    for case in results.scored:
        entries += [
            {"fullUrl": url, "resource": resource}
            for url, resource in _case_resources(results, case, device_url)
        ]
    document = {
        "resourceType": "Bundle",
        "identifier": {"system": f"{SYSTEM}:evidence-run", "value": results.run_id},
        "type": "collection",
        "timestamp": results.finished_utc,
        "entry": entries,
    }
    try:
        return Bundle.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InputError(f"FHIR R4 Bundle does not validate: {where}: {first['msg']}") from None


def export_fhir(bundle: str | Path, out: str | Path) -> FhirExport:
    """Write the FHIR Bundle of a verified evidence bundle to ``out`` (JSON, atomically).

    Raises
    ------
    IntegrityError
        The evidence bundle does not verify (exit 3).
    InputError
        The bundle cannot be read or the FHIR resources do not validate (exit 2).
    """
    results = load_results(bundle)
    validated = fhir_bundle(results)
    text = json.dumps(json.loads(validated.model_dump_json()), indent=2) + "\n"
    path = Path(out)
    if path.parent and not path.parent.is_dir():
        raise InputError(f"--out {path}: folder {path.parent} does not exist")
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return FhirExport(
        path, len(validated.entry or []), tuple(case.case_id for case in results.unscored)
    )
