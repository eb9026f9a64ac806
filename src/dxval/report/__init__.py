"""Reports from an evidence bundle: PDF/A, HTML twin and the 510(k) performance summary.

The report reads the bundle and computes no statistic. Public entry points:
:func:`render_bundle_reports` (``validate`` calls it before sealing; writes
``report.pdf``, ``report-submission.pdf``, ``report.html`` and
``figures/*.svg``), :func:`refresh_reports` (``dxval report``: verify,
re-render, rewrite ``MANIFEST.sha256``), :func:`write_summary`
(``dxval summary``), :func:`is_rendering` (which bundle paths are
renderings, outside the signed evidence), and the lower-level
:func:`read_bundle`, :func:`build_report_view` and :func:`render_reports`.
"""

from __future__ import annotations

from dxval.evidence.format import ATTACHED_FILES, BundleData, read_bundle
from dxval.report.refresh import RefreshResult, is_rendering, refresh_reports
from dxval.report.render import (
    RENDERED_NAMES,
    RenderedReports,
    render_bundle_reports,
    render_reports,
)
from dxval.report.summary import SummaryFiles, write_summary
from dxval.report.views import ReportView, build_report_view

__all__ = [
    "ATTACHED_FILES",
    "RENDERED_NAMES",
    "BundleData",
    "RefreshResult",
    "RenderedReports",
    "ReportView",
    "SummaryFiles",
    "build_report_view",
    "is_rendering",
    "read_bundle",
    "refresh_reports",
    "render_bundle_reports",
    "render_reports",
    "write_summary",
]
