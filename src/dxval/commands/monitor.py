"""``dxval monitor BASELINE PRODUCTION.csv``: post-market monitoring against a validation bundle."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from dxval.stats.wording import plural

# Spelled here so that registering the command imports nothing heavy (dxval --help stays
# fast); tests/e2e/test_monitor.py keeps it equal to dxval.monitor.Window.
WINDOW_CHOICES = ("day", "week", "month", "all")


def _progress(message: str) -> None:
    print(f"monitor: {message}", file=sys.stderr, flush=True)


def _number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _print_table(document: dict[str, Any]) -> None:
    production = document["production"]
    print(
        f"production rows {production['rows']}: {production['used']} used, "
        f"{production['excluded_total']} excluded "
        + (
            "(" + ", ".join(f"{k} {v}" for k, v in production["excluded"].items() if v) + ")"
            if production["excluded_total"]
            else ""
        )
    )
    print(
        f"{'window':<10}  {'n':>6}  {'PSI':>6}  {'KS D':>6}  {'KS p':>8}  {'pos.rate':>8}  alerts"
    )
    for window in document["windows"]:
        drift = window["score_drift"]
        p_value = drift["ks"]["p_value"]
        print(
            f"{window['label']:<10}  {window['n']:>6}  {_number(drift['psi']):>6}  "
            f"{_number(drift['ks']['statistic']):>6}  "
            f"{'-' if p_value is None else f'{p_value:.2g}':>8}  "
            f"{_number(window['positive_rate']['estimate']):>8}  {len(window['alerts'])}"
        )
    for alert in document["alerts"]:
        where = alert["window"] or "run"
        print(f"ALERT {where} {alert['kind']}: {alert['message']}")


def _monitor(args: argparse.Namespace) -> int:
    from dxval.monitor import Window
    from dxval.pipeline.monitor import run_monitoring

    result = run_monitoring(
        args.baseline,
        args.production,
        config_path=args.config,
        window=None if args.window is None else Window(args.window),
        out=args.out,
        reports=not args.no_report,
        progress=_progress,
        templates=args.templates,
    )
    if args.json:
        print(json.dumps(result.document, indent=2, allow_nan=False))
    else:
        _print_table(result.document)
        alerts = len(result.alerts)
        print(f"{plural(alerts, 'alert')}; exit code {int(result.exit_code)}")
        print(f"evidence: {result.bundle}")
        print(f"evidence digest: {result.evidence_digest}")
    return int(result.exit_code)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``monitor`` subcommand."""
    parser = subparsers.add_parser(
        "monitor",
        help="compare a production log with a validation bundle (exit 1 on an alert)",
        description="Post-market monitoring: verify the baseline evidence bundle, read the "
        "production log (timestamp, score, model_sha256, optional attributes and truth), "
        "compute score drift, positive rate, input drift and performance per window, raise "
        "the alerts of monitor.yaml and write a monitoring evidence bundle with its report. "
        "Exit 0 no alert, 1 alert, 2 invalid input or another model, 3 baseline does not "
        "verify.",
    )
    parser.add_argument("baseline", metavar="BASELINE_BUNDLE", help="validation evidence bundle")
    parser.add_argument("production", metavar="PRODUCTION.csv", help="production log")
    parser.add_argument("--config", metavar="monitor.yaml", help="alert thresholds")
    parser.add_argument(
        "--window",
        choices=WINDOW_CHOICES,
        help="time window (default: monitor.yaml's, else week)",
    )
    parser.add_argument(
        "--templates",
        metavar="DIR",
        help="report templates used over the shipped ones (monitoring.html and what it "
        "includes; recorded with their SHA-256 in run.json)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--out", default="evidence", help="evidence root (default: %(default)s)")
    parser.add_argument(
        "--no-report", action="store_true", help="skip rendering the PDF/HTML report"
    )
    parser.set_defaults(handler=_monitor)
