"""validate with the closed-form defaults (issue 18, scalestats): no per-case resampling limit.

A protocol that leaves ``ap_ci`` out gets the Boyd, Eng & Page (2013) logit
interval for average precision; with DeLong for the AUC it resamples no case,
so the protocol draw limit (data/limits.py ``MAX_BOOTSTRAP_DRAWS``) does not
refuse it, and the ROC band (binomial-splitting bootstrap) is still written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dxval.cli import main
from dxval.data import limits


@pytest.mark.req("DXV-SCALESTATS-001")
def test_closed_form_protocol_is_not_bound_by_the_draw_limit(
    example: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(limits, "MAX_BOOTSTRAP_DRAWS", 113 * 1999)  # the example's 113 cases
    code = main(["validate", str(example), "--out", str(tmp_path / "out"), "--no-report"])
    assert code in (0, 1), capsys.readouterr().err
    (document,) = (tmp_path / "out").rglob("metrics.json")
    metrics = json.loads(document.read_text())
    assert metrics["settings"]["ap_method"] == "logit"
    overall = next(p for p in metrics["populations"] if p["key"] == "all")
    assert "logit" in overall["metrics"]["average_precision"]["method"]
    band = metrics["roc_curves"][0]["band"]
    assert "binomial-splitting" in band["method"]
    assert metrics["roc_curves"][0]["curve"]["thinning"]["method"].startswith("lossless")
