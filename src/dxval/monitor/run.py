"""``dxval monitor``: production log against the validation baseline → monitoring evidence bundle.

Order: load ``monitor.yaml``; verify the baseline bundle (exit 3 if it does
not verify); read the production log (exit 2 if unreadable or for another
model); reason-code every row; analyse each window; write the monitoring
bundle atomically with the same writer, manifest and audit chain as
validation bundles (``<out>/<protocol-id>-monitoring/<run-id>/``), recording
the baseline bundle's ``MANIFEST.sha256`` digest; render the report. Exit 0
when no alert was raised, 1 otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dxval import __version__
from dxval.analysis.monitoring import Alert, Baseline, WindowResult, analyse_window
from dxval.errors import ExitCode
from dxval.evidence import AuditLog, BundleWriter, capture_environment, check_writable, new_run_id
from dxval.evidence.anchor import audit_head, record_anchor
from dxval.evidence.audit import utc_now
from dxval.evidence.bundle import MONITORING_RUN_SCHEMA
from dxval.monitor.baseline import LoadedBaseline, load_baseline
from dxval.monitor.config import LoadedConfig, Window, load_config
from dxval.monitor.production import (
    REASON_TEXT,
    ProductionLog,
    encode_attributes,
    read_production,
    split_windows,
)

SCHEMA = "dxval-monitoring/1"
DOCUMENT_NAME = "monitoring.json"

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


def analyse_production(
    loaded: LoadedBaseline, log: ProductionLog, config: LoadedConfig, window: Window
) -> dict[str, Any]:
    """The monitoring document (the ``--json`` output) of ``log`` against ``loaded``."""
    thresholds = config.config.thresholds()
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


def _render(folder: Path) -> Sequence[Path]:
    """Render the monitoring report (imported here: WeasyPrint is slow to import)."""
    from dxval.report.monitoring import render_monitoring_reports

    return render_monitoring_reports(folder)


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
) -> MonitorResult:
    """Monitor a production log against a verified validation bundle; write the evidence.

    Raises
    ------
    IntegrityError
        The baseline bundle does not verify (exit 3); nothing is written.
    InputError, UsageError
        Unreadable configuration or production log, or a log for another
        model (exit 2); nothing is written.
    """
    started = utc_now()
    run_id = run_id or new_run_id()
    config = load_config(config_path)
    chosen = window or config.config.window
    out = Path(out)
    check_writable(out)
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
        writer.write_json("baseline.json", document["baseline"])
        writer.write_json("production.json", document["production"])
        writer.write_bytes("excluded.csv", log.exclusion_csv())
        if config.raw_bytes is not None:
            writer.write_bytes("monitor.yaml", config.raw_bytes)
        writer.write_json("environment.json", capture_environment())
        writer.write_json(DOCUMENT_NAME, document)
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
        }
        bundle = writer.seal(audit, run, render=_render if reports else None)
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
        audit=audit_head((bundle / "audit.jsonl").read_bytes()),
    )
    return digest
