"""From a protocol to the harness inputs (tests/commands runs a DICOM protocol end to end)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dxval.errors import UsageError
from dxval.pipeline.concordance_plan import plan_inference

PREDICTIONS_PROTOCOL = """\
dxval: 1
id: BYO
title: Bring-your-own predictions
version: "1.0"
device: {name: Test, version: 0.0.1, intended_use: Test only}
predictions: {path: predictions.csv, operating_point: 0.5}
test_sets:
  - {id: site-a, site: Site A, manifest: manifest.csv}
truth: {column: label, positive: "1", negative: "0", reference_standard: test labels}
requirements:
  - id: PERF-001
    text: AUC at least 0.5.
    criteria:
      - {metric: auc, population: all, bound: point, op: ">=", value: 0.5}
"""


def test_predictions_protocol_has_no_model_to_run(tmp_path: Path) -> None:
    path = tmp_path / "protocol.yaml"
    path.write_text(PREDICTIONS_PROTOCOL)
    with pytest.raises(UsageError, match=r"model: section missing; concordance runs a model"):
        plan_inference(path)
