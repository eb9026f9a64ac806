"""The validation bundle as a monitoring baseline: verified first, then read as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dxval.analysis.monitoring import (
    PERFORMANCE_METRICS,
    AttributeBaseline,
    Baseline,
    make_baseline,
)
from dxval.analysis.populations import AttributeSpec
from dxval.data.hashing import sha256_file
from dxval.errors import InputError, IntegrityError
from dxval.evidence import MANIFEST_NAME, verify_bundle
from dxval.monitor.production import AttributeRule, TruthLabels
from dxval.pipeline import _requirement_specs, _settings
from dxval.report.bundle import BundleData, EstimateRecord, read_bundle
from dxval.stats import Estimate, Status

#: Distinct numeric values above which an unbinned attribute is compared by KS, not χ².
NUMERIC_MIN_DISTINCT = 10


@dataclass(frozen=True, slots=True)
class LoadedBaseline:
    """The baseline bundle: where it is, its digest, identity and the plain-value baseline."""

    folder: Path
    manifest_sha256: str
    run_id: str
    run_status: str
    run_exit_code: int
    protocol_id: str
    protocol_version: str
    model_sha256: str
    baseline: Baseline
    rules: tuple[AttributeRule, ...]
    truth_labels: TruthLabels
    criteria_attributes: tuple[str, ...]


def _estimate(record: EstimateRecord) -> Estimate:
    return Estimate(
        record.estimate,
        record.low,
        record.high,
        record.confidence_level,
        record.method,
        record.n,
        Status(record.status),
        record.reason,
        record.numerator,
        record.denominator,
    )


def _is_numeric(levels: list[str]) -> bool:
    present = [level for level in levels if level and level != "missing"]
    try:
        distinct = {float(level) for level in present}
    except ValueError:
        return False
    return len(distinct) > NUMERIC_MIN_DISTINCT


def _attributes(
    bundle: BundleData, scored: list[int]
) -> tuple[dict[str, AttributeBaseline], list[AttributeRule]]:
    """Site and every protocol attribute: level counts, or values when numeric."""
    protocol = bundle.loaded.protocol
    columns = {"site": [bundle.cases[i].site for i in scored]}
    for name in protocol.attributes:
        columns[name] = [bundle.cases[i].levels.get(name, "") for i in scored]
    baselines, rules = {}, []
    for name, levels in columns.items():
        spec = protocol.attributes.get(name)
        bins = None if spec is None or spec.bins is None else tuple(spec.bins)
        if bins is None and _is_numeric(levels):
            values = np.array([float(v) for v in levels if v and v != "missing"])
            baselines[name] = AttributeBaseline(name, "numeric", {}, values)
            rules.append(AttributeRule(name, "numeric"))
            continue
        counts: dict[str, int] = {}
        for level in levels:
            counts[level or "missing"] = counts.get(level or "missing", 0) + 1
        baselines[name] = AttributeBaseline(name, "categorical", counts)
        rules.append(AttributeRule(name, "binned" if bins else "categorical", bins))
    return baselines, rules


def load_baseline(folder: str | Path, *, psi_bins: int) -> LoadedBaseline:
    """Verify the validation bundle at ``folder`` and read it as a monitoring baseline.

    Raises
    ------
    IntegrityError
        The bundle does not verify (a changed, missing or extra file, a broken
        audit chain or an invalid signature): exit 3.
    InputError, UsageError
        Not a bundle, or a bundle of a predictions-file protocol (no model
        SHA-256 to monitor): exit 2.
    """
    folder = Path(folder)
    report = verify_bundle(folder)
    if not report.intact:
        findings = "; ".join(str(problem) for problem in report.problems[:5])
        raise IntegrityError(
            f"{folder}: baseline bundle does not verify ({len(report.problems)} problem(s): "
            f"{findings}); run dxval verify {folder}"
        )
    bundle = read_bundle(folder)
    model = bundle.lock.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("sha256"), str):
        raise InputError(
            f"{folder}/lock.json: model.sha256: missing; expected a bundle of a model protocol "
            "(a predictions-file validation names no model to monitor)"
        )
    loaded = bundle.loaded
    protocol = loaded.protocol
    scored = [i for i, case in enumerate(bundle.cases) if case.score is not None]
    if not scored:
        raise InputError(f"{folder}/cases.csv: no scored case; expected baseline scores")
    scores = np.array([bundle.cases[i].score for i in scored], dtype=np.float64)
    everything = bundle.metrics.population("all")
    validated: dict[str, Estimate] = (
        {}
        if everything is None
        else {
            name: _estimate(everything.metrics[name])
            for name in PERFORMANCE_METRICS
            if name in everything.metrics
        }
    )
    attributes, rules = _attributes(bundle, scored)
    specs = [
        AttributeSpec(name, a.label or name, None if a.bins is None else tuple(a.bins))
        for name, a in protocol.attributes.items()
    ]
    baseline = make_baseline(
        scores,
        validated=validated,
        attributes=attributes,
        settings=_settings(loaded),
        requirements=_requirement_specs(loaded),
        attribute_specs=specs,
        psi_bins=psi_bins,
    )
    return LoadedBaseline(
        folder=folder,
        manifest_sha256=sha256_file(folder / MANIFEST_NAME),
        run_id=bundle.run.run_id,
        run_status=bundle.run.status,
        run_exit_code=bundle.run.exit_code,
        protocol_id=protocol.id,
        protocol_version=protocol.version,
        model_sha256=model["sha256"].lower(),
        baseline=baseline,
        rules=tuple(rules),
        truth_labels=TruthLabels(
            frozenset(protocol.truth.positive), frozenset(protocol.truth.negative)
        ),
        criteria_attributes=tuple(protocol.attributes),
    )
