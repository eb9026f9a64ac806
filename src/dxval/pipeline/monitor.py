"""``dxval monitor``: production log against the validation baseline → monitoring evidence bundle.

Orchestration of post-market monitoring (issue 21), the only place that
combines the baseline bundle's protocol with the monitoring stages. Order:
load ``monitor.yaml`` (:mod:`dxval.protocol.monitoring`); verify the baseline
bundle (exit 3 if it does not verify) and read it through
:func:`dxval.evidence.read_bundle`, its protocol turned into plain values by
:func:`~dxval.pipeline.plan.plan_from_loaded`; read the production log (exit
2 if unreadable or for another model) and reason-code every row
(:mod:`dxval.monitor.production`); analyse each window
(:mod:`dxval.analysis.monitoring`); write the monitoring bundle atomically
with the same writer, manifest and audit chain as validation bundles
(``<out>/<protocol-id>-monitoring/<run-id>/``, file names from
:mod:`dxval.evidence.format`), recording the baseline bundle's
``MANIFEST.sha256`` digest; render the report (from ``templates`` over the
shipped templates). Exit 0 when no alert was raised, 1 otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dxval import __version__
from dxval.analysis.monitoring import (
    PERFORMANCE_METRICS,
    Alert,
    AlertThresholds,
    AttributeBaseline,
    Baseline,
    WindowResult,
    analyse_window,
    make_baseline,
)
from dxval.data.hashing import sha256_file
from dxval.errors import ExitCode, InputError, IntegrityError
from dxval.evidence import (
    MANIFEST_NAME,
    AuditLog,
    BundleData,
    BundleWriter,
    capture_environment,
    check_writable,
    new_run_id,
    read_bundle,
    verify_bundle,
)
from dxval.evidence.anchor import audit_head, record_anchor
from dxval.evidence.audit import utc_now
from dxval.evidence.format import (
    AUDIT_NAME,
    BASELINE_NAME,
    ENVIRONMENT_NAME,
    EXCLUDED_NAME,
    MONITOR_CONFIG_NAME,
    MONITORING_NAME,
    MONITORING_RUN_SCHEMA,
    PRODUCTION_NAME,
    RUN_NAME,
    EstimateRecord,
    MonitoringRunRecord,
    check_record,
)
from dxval.inference import capture_environment as capture_runtime
from dxval.monitor.production import (
    REASON_TEXT,
    AttributeRule,
    ProductionLog,
    TruthLabels,
    Window,
    encode_attributes,
    read_production,
    split_windows,
)
from dxval.pipeline.plan import RunPlan, plan_from_loaded
from dxval.protocol.monitoring import LoadedConfig, MonitorConfig, load_config
from dxval.report.template_set import (
    MONITORING_ROOTS,
    TemplateSet,
    check_template_folder,
    template_set,
)
from dxval.stats import Estimate, Status
from dxval.stats.wording import plural

__all__ = [
    "SCHEMA",
    "LoadedBaseline",
    "MonitorResult",
    "alert_thresholds",
    "analyse_production",
    "load_baseline",
    "run_monitoring",
    "window_record",
]

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
    bundle: BundleData, plan: RunPlan, scored: list[int]
) -> tuple[dict[str, AttributeBaseline], list[AttributeRule]]:
    """Site and every protocol attribute: level counts, or values when numeric."""
    bins_of = {attribute.name: attribute.bins for attribute in plan.attributes}
    cases = bundle.cases  # read as columns (issue 18): no per-case object
    columns = {"site": cases.text["site"].text()[scored].tolist()}
    for name in bins_of:
        present = cases.levels.get(name)
        columns[name] = [""] * len(scored) if present is None else present.text()[scored].tolist()
    baselines, rules = {}, []
    for name, levels in columns.items():
        bins = bins_of.get(name)
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
            f"{folder}: baseline bundle does not verify "
            f"({plural(len(report.problems), 'problem')}: {findings}); run dxval verify {folder}"
        )
    bundle = read_bundle(folder)
    model = bundle.lock.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("sha256"), str):
        raise InputError(
            f"{folder}/lock.json: model.sha256: missing; expected a bundle of a model protocol "
            "(a predictions-file validation names no model to monitor)"
        )
    plan = plan_from_loaded(bundle.loaded)
    scored = np.flatnonzero(bundle.cases.has_score).tolist()
    if not scored:
        raise InputError(f"{folder}/cases.csv: no scored case; expected baseline scores")
    scores = bundle.cases.scores[scored]
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
    attributes, rules = _attributes(bundle, plan, scored)
    baseline = make_baseline(
        scores,
        validated=validated,
        attributes=attributes,
        settings=plan.statistics,
        requirements=list(plan.requirements),
        attribute_specs=plan.attribute_specs,
        psi_bins=psi_bins,
    )
    return LoadedBaseline(
        folder=folder,
        manifest_sha256=sha256_file(folder / MANIFEST_NAME),
        run_id=bundle.run.run_id,
        run_status=bundle.run.status,
        run_exit_code=bundle.run.exit_code,
        protocol_id=plan.protocol_id,
        protocol_version=plan.version,
        model_sha256=model["sha256"].lower(),
        baseline=baseline,
        rules=tuple(rules),
        truth_labels=TruthLabels(plan.truth.positive, plan.truth.negative),
        criteria_attributes=tuple(plan.attribute_names),
    )


SCHEMA = "dxval-monitoring/1"

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    """Default progress sink: report nothing."""


@dataclass(frozen=True, slots=True)
class MonitorResult:
    """What a monitoring run produced: exit code, bundle folder, the JSON document."""

    exit_code: ExitCode
    run_id: str
    bundle: Path
    document: dict[str, Any]
    evidence_digest: str

    @property
    def alerts(self) -> list[dict[str, Any]]:
        """Every alert of the run, window alerts first in time order."""
        alerts: list[dict[str, Any]] = self.document["alerts"]
        return alerts


def _baseline_record(loaded: LoadedBaseline) -> dict[str, Any]:
    baseline = loaded.baseline
    return {
        "bundle": str(loaded.folder),
        "manifest_sha256": loaded.manifest_sha256,
        "run_id": loaded.run_id,
        "run_status": loaded.run_status,
        "run_exit_code": loaded.run_exit_code,
        "protocol": {"id": loaded.protocol_id, "version": loaded.protocol_version},
        "model_sha256": loaded.model_sha256,
        "operating_point": baseline.operating_point,
        "n": int(baseline.scores.size),
        "positive_rate": baseline.positive_rate.to_dict(),
        "validated": {name: e.to_dict() for name, e in baseline.validated.items()},
        "psi_bins": list(baseline.psi_edges),
        "attributes": {
            name: {"kind": a.kind, "levels": dict(a.level_counts)}
            for name, a in baseline.attributes.items()
        },
    }


def _production_record(log: ProductionLog) -> dict[str, Any]:
    return {
        "path": str(log.path),
        "sha256": log.sha256,
        "rows": log.rows,
        "used": log.used,
        "excluded_total": sum(log.excluded.values()),
        "excluded": dict(log.excluded),
        "reasons": dict(REASON_TEXT),
        "truth_unrecognised": log.truth_unrecognised,
        "other_model_digests": dict(log.other_digests),
    }


def window_record(result: WindowResult, baseline: Baseline) -> dict[str, Any]:
    """One window in the ``--json`` shape."""
    baseline_rate = baseline.positive_rate
    rate = result.positive_rate
    difference = (
        None
        if rate.estimate is None or baseline_rate.estimate is None
        else rate.estimate - baseline_rate.estimate
    )
    return {
        "label": result.label,
        "start": result.start,
        "end": result.end,
        "n": result.n,
        "drift_rules_applied": result.drift_rules_applied,
        "score_drift": result.score_drift,
        "positive_rate": {
            **rate.to_dict(),
            "baseline": baseline_rate.to_dict(),
            "difference": difference,
        },
        "attributes": {name: drift.to_dict() for name, drift in result.attributes.items()},
        "performance": {
            "adjudicated": result.adjudicated,
            "positives": result.positives,
            "negatives": result.negatives,
            "metrics": {
                name: {
                    **estimate.to_dict(),
                    "validated": None
                    if name not in baseline.validated
                    else baseline.validated[name].to_dict(),
                }
                for name, estimate in result.performance.items()
            },
            "criteria": [requirement.to_dict() for requirement in result.requirements],
        },
        "alerts": [alert.to_dict() for alert in result.alerts],
    }


def _run_alerts(log: ProductionLog, limit: float | None) -> list[Alert]:
    excluded = sum(log.excluded.values())
    if limit is None or log.rows == 0 or excluded / log.rows <= limit:
        return []
    reasons = ", ".join(f"{code} {count}" for code, count in log.excluded.items() if count)
    return [
        Alert(
            "data_quality",
            "excluded_rows",
            f"{excluded} of {log.rows} rows excluded ({reasons}), above {limit:.2%}",
            None,
            excluded / log.rows,
            limit,
        )
    ]


def alert_thresholds(config: MonitorConfig) -> AlertThresholds:
    """The alert rules of a validated ``monitor.yaml`` as plain values."""
    return AlertThresholds(
        min_window_n=config.min_window_n,
        psi_bins=config.score_drift.psi_bins,
        psi_max=config.score_drift.psi_max,
        ks_alpha=config.score_drift.ks_alpha,
        ks_min_statistic=config.score_drift.ks_min_statistic,
        wasserstein_max=config.score_drift.wasserstein_max,
        positive_rate_max_difference=config.positive_rate.max_difference,
        new_levels=config.attributes.new_levels,
        chi2_alpha=config.attributes.chi2_alpha,
        cramers_v_min=config.attributes.cramers_v_min,
        attribute_ks_alpha=config.attributes.ks_alpha,
        attribute_ks_min_statistic=config.attributes.ks_min_statistic,
        performance=config.performance.below_validated,
        criteria=config.performance.criteria,
        max_excluded_fraction=config.data_quality.max_excluded_fraction,
    )


def analyse_production(
    loaded: LoadedBaseline, log: ProductionLog, config: LoadedConfig, window: Window
) -> dict[str, Any]:
    """The monitoring document (the ``--json`` output) of ``log`` against ``loaded``."""
    thresholds = alert_thresholds(config.config)
    encoded = encode_attributes(log, loaded.rules)
    windows = split_windows(log, encoded, window, criteria_attributes=loaded.criteria_attributes)
    results = [analyse_window(data, loaded.baseline, thresholds) for data in windows]
    records = [window_record(result, loaded.baseline) for result in results]
    alerts = [alert for record in records for alert in record["alerts"]]
    alerts += [alert.to_dict() for alert in _run_alerts(log, thresholds.max_excluded_fraction)]
    return {
        "schema": SCHEMA,
        "baseline": _baseline_record(loaded),
        "production": _production_record(log),
        "window": window.value,
        "config": {
            "source": None if config.path is None else str(config.path),
            "score_range": list(config.config.score_range),
            "thresholds": asdict(thresholds),
        },
        "windows": records,
        "alerts": alerts,
    }


def _renderer(templates: TemplateSet) -> Callable[[Path], Sequence[Path]]:
    """Render the monitoring report with ``templates`` (WeasyPrint is imported only here)."""

    def render(folder: Path) -> Sequence[Path]:
        from dxval.report.monitoring import render_monitoring_reports

        return render_monitoring_reports(folder, templates=templates.folder)

    return render


def run_monitoring(
    baseline_path: str | Path,
    production_path: str | Path,
    *,
    config_path: str | Path | None = None,
    window: Window | None = None,
    out: str | Path = "evidence",
    reports: bool = True,
    progress: Progress = _quiet,
    run_id: str | None = None,
    templates: str | Path | None = None,
) -> MonitorResult:
    """Monitor a production log against a verified validation bundle; write the evidence.

    ``templates``: a folder of report templates used over the shipped ones
    (``monitoring.html`` and what it includes); the SHA-256 listing of the set
    is recorded in ``run.json`` (``templates``), as for validation bundles.

    Raises
    ------
    IntegrityError
        The baseline bundle does not verify (exit 3); nothing is written.
    InputError, UsageError
        Unreadable configuration or production log, or a log for another
        model (exit 2); nothing is written.
    TemplateError
        A report template does not parse or fails to render (exit 2, file and
        line named); no bundle is published.
    """
    started = utc_now()
    run_id = run_id or new_run_id()
    config = load_config(config_path)
    chosen = window or config.config.window
    out = Path(out)
    check_writable(out)
    report_templates = (
        template_set(check_template_folder(templates), roots=MONITORING_ROOTS) if reports else None
    )
    audit = AuditLog()
    loaded = load_baseline(baseline_path, psi_bins=config.config.score_drift.psi_bins)
    baseline_digest = {"bundle": str(loaded.folder), "manifest_sha256": loaded.manifest_sha256}
    audit.record("baseline.verified", baseline_digest, "baseline bundle verified intact")
    progress(f"baseline {loaded.protocol_id} run {loaded.run_id} verified; reading production log")
    log = read_production(
        production_path,
        model_sha256=loaded.model_sha256,
        score_range=config.config.score_range,
        truth_labels=loaded.truth_labels,
        attributes=[rule.name for rule in loaded.rules],
    )
    audit.record("production.read", _production_record(log), "every row used or reason-coded")
    progress(f"{log.rows} rows read, {log.used} used; analysing {chosen.value} windows")
    document = analyse_production(loaded, log, config, chosen)
    code = ExitCode.CRITERIA_NOT_MET if document["alerts"] else ExitCode.OK
    audit.record(
        "monitoring.analysed",
        {"windows": len(document["windows"]), "alerts": len(document["alerts"])},
        "drift, positive rate, attributes and performance per window",
    )
    progress("writing monitoring bundle")
    with BundleWriter(out, f"{loaded.protocol_id}-monitoring", run_id) as writer:
        writer.write_json(BASELINE_NAME, document["baseline"])
        writer.write_json(PRODUCTION_NAME, document["production"])
        writer.write_bytes(EXCLUDED_NAME, log.exclusion_csv())
        if config.raw_bytes is not None:
            writer.write_bytes(MONITOR_CONFIG_NAME, config.raw_bytes)
        writer.write_json(ENVIRONMENT_NAME, capture_environment(runtime=capture_runtime()))
        writer.write_json(MONITORING_NAME, document)
        run = {
            "schema": MONITORING_RUN_SCHEMA,
            "run_id": run_id,
            "kind": "monitoring",
            "baseline": baseline_digest,
            "protocol": {"id": loaded.protocol_id, "version": loaded.protocol_version},
            "started_utc": started,
            "finished_utc": utc_now(),
            "user": audit.user,
            "host": audit.host,
            "dxval_version": __version__,
            "exit_code": int(code),
            "alerts": len(document["alerts"]),
            "templates": None if report_templates is None else report_templates.to_dict(),
        }
        check_record(MonitoringRunRecord, run, name=RUN_NAME)
        render = None if report_templates is None else _renderer(report_templates)
        bundle = writer.seal(audit, run, render=render)
    return MonitorResult(code, run_id, bundle, document, _anchor(out, bundle, loaded, run_id))


def _anchor(out: Path, bundle: Path, loaded: LoadedBaseline, run_id: str) -> str:
    """Record the sealed bundle's evidence digest in the evidence root's ledger (as validate)."""
    from dxval.evidence.signatures import evidence_digest

    digest = evidence_digest(bundle)
    record_anchor(
        out,
        event="sealed",
        protocol_id=loaded.protocol_id,
        run_id=run_id,
        evidence_digest=digest,
        audit=audit_head((bundle / AUDIT_NAME).read_bytes()),
    )
    return digest
