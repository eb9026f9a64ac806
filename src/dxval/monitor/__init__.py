"""Post-market monitoring: a production log against its validation evidence (issue 21).

Public entry point: :func:`run_monitoring` (``dxval monitor``), with
:func:`load_config` for ``monitor.yaml`` and :func:`analyse_production` for
the JSON document alone. The statistics are in :mod:`dxval.stats.drift`, the
per-window analysis in :mod:`dxval.analysis.monitoring`.
"""

from __future__ import annotations

from dxval.monitor.config import LoadedConfig, MonitorConfig, Window, load_config
from dxval.monitor.run import MonitorResult, analyse_production, run_monitoring

__all__ = [
    "LoadedConfig",
    "MonitorConfig",
    "MonitorResult",
    "Window",
    "analyse_production",
    "load_config",
    "run_monitoring",
]
