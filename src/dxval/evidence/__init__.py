"""Evidence bundles: atomic writer, ``MANIFEST.sha256``, hash-chained audit log, verify.

Public entry points: :class:`BundleWriter` (with :func:`check_writable`,
:func:`new_run_id`, :func:`json_bytes`), :class:`AuditLog`,
:func:`capture_environment`, :func:`verify_bundle` (→ :class:`VerifyReport`),
and the bundle format (:mod:`dxval.evidence.format`: file names, typed
records, :func:`read_bundle` → :class:`BundleData`).
The run summaries for people and CI (terminal, JSON, JUnit, Markdown) are
renderings: :mod:`dxval.report.run_summaries`.
"""

from __future__ import annotations

from dxval.evidence.audit import AuditLog, check_chain, read_events, utc_now
from dxval.evidence.bundle import (
    AUDIT_NAME,
    CONTENT_FILES,
    RUN_NAME,
    BundleWriter,
    check_writable,
    json_bytes,
    new_run_id,
)
from dxval.evidence.environment import capture_environment, installed_distributions
from dxval.evidence.format import BundleData, read_bundle, read_record
from dxval.evidence.manifest import MANIFEST_NAME, parse_manifest, render_manifest
from dxval.evidence.verify import Problem, VerifyReport, verify_bundle

__all__ = [
    "AUDIT_NAME",
    "CONTENT_FILES",
    "MANIFEST_NAME",
    "RUN_NAME",
    "AuditLog",
    "BundleData",
    "BundleWriter",
    "Problem",
    "VerifyReport",
    "capture_environment",
    "check_chain",
    "check_writable",
    "installed_distributions",
    "json_bytes",
    "new_run_id",
    "parse_manifest",
    "read_bundle",
    "read_events",
    "read_record",
    "render_manifest",
    "utc_now",
    "verify_bundle",
]
