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

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

#: Where each name of the package lives. Imported on first use (PEP 562), so that the
#: report's typesetting child imports :mod:`dxval.report.pdf` without the view code.
_HOMES = {
    "ATTACHED_FILES": "dxval.evidence.format",
    "BundleData": "dxval.evidence.format",
    "read_bundle": "dxval.evidence.format",
    "RefreshResult": "dxval.report.refresh",
    "is_rendering": "dxval.report.refresh",
    "refresh_reports": "dxval.report.refresh",
    "RENDERED_NAMES": "dxval.report.render",
    "RenderedReports": "dxval.report.render",
    "render_bundle_reports": "dxval.report.render",
    "render_reports": "dxval.report.render",
    "SummaryFiles": "dxval.report.summary",
    "write_summary": "dxval.report.summary",
    "ReportView": "dxval.report.views",
    "build_report_view": "dxval.report.views",
}

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


def __getattr__(name: str) -> Any:
    """Import a package-level name from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
