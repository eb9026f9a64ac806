"""Post-market monitoring stage: the production log as plain values (issue 21).

:mod:`dxval.monitor.production` reads a production log (CSV), reason-codes
every row, encodes the attributes and groups the usable rows into time
windows (:class:`Window`). It takes plain values (the baseline model's
SHA-256, the score range, the truth labels, the attribute rules) and never
sees the protocol. The orchestration (baseline bundle, ``monitor.yaml``,
the monitoring bundle) is :mod:`dxval.pipeline.monitor`; the schema of
``monitor.yaml`` is :mod:`dxval.protocol.monitoring`; the statistics are in
:mod:`dxval.stats.drift` and the per-window analysis in
:mod:`dxval.analysis.monitoring`.
"""

from __future__ import annotations

from dxval.monitor.production import (
    AttributeRule,
    ProductionLog,
    TruthLabels,
    Window,
    encode_attributes,
    read_production,
    split_windows,
)

__all__ = [
    "AttributeRule",
    "ProductionLog",
    "TruthLabels",
    "Window",
    "encode_attributes",
    "read_production",
    "split_windows",
]
