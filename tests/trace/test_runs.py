"""Reading bundles for tracing: fingerprints, bundle discovery, unreadable bundles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dxval.errors import InputError
from dxval.trace import find_bundles, read_run, read_runs, requirement_fingerprint

from .conftest import RUN_IDS

REQUIREMENT = {
    "id": "PERF-001",
    "text": "ROC AUC at least 0.70.",
    "criteria": [{"metric": "auc", "op": ">=", "value": 0.7}],
}


@pytest.mark.req("DXV-TRACE-002")
def test_fingerprint_covers_text_and_criteria_but_not_layout_or_defaults() -> None:
    fingerprint = requirement_fingerprint(REQUIREMENT)
    explicit = {
        "id": "OTHER-ID",
        "text": "ROC AUC   at least\n0.70.",
        "criteria": [
            {"metric": "auc", "population": "all", "bound": "point", "op": ">=", "value": 0.70}
        ],
    }
    assert requirement_fingerprint(explicit) == fingerprint
    reworded = {**REQUIREMENT, "text": "ROC AUC of at least 0.70."}
    assert requirement_fingerprint(reworded) != fingerprint
    stricter = {**REQUIREMENT, "criteria": [{"metric": "auc", "op": ">=", "value": 0.75}]}
    assert requirement_fingerprint(stricter) != fingerprint
    lower_bound = {
        **REQUIREMENT,
        "criteria": [{"metric": "auc", "op": ">=", "value": 0.7, "bound": "lower"}],
    }
    assert requirement_fingerprint(lower_bound) != fingerprint
    invalid = {**REQUIREMENT, "criteria": [{"metric": "no-such-metric"}]}
    assert len(requirement_fingerprint(invalid)) == 64


def test_bundles_are_found_and_partial_folders_skipped(changing_protocol: Path) -> None:
    bundles = list(find_bundles(changing_protocol))
    assert [bundle.name for bundle in bundles] == list(RUN_IDS)
    runs = read_runs(changing_protocol)
    assert [run.run_id for run in runs] == list(RUN_IDS)
    assert set(runs[2].requirements) == set(runs[0].requirements) - {"QC-001"}
    assert runs[0].scored_by.startswith("predictions ed445323")


def test_unreadable_bundle_is_an_input_error(evidence: Path) -> None:
    bundle = evidence / "ASAH-EXAMPLE" / RUN_IDS[0]
    (bundle / "criteria.json").write_text("{broken")
    with pytest.raises(InputError, match=r"criteria\.json: unreadable"):
        read_run(bundle)
    (bundle / "criteria.json").write_text("[]")
    with pytest.raises(InputError, match="expected a JSON object"):
        read_run(bundle)
    (bundle / "criteria.json").write_text(json.dumps({"requirements": []}))
    (bundle / "protocol.yaml").write_text("dxval: 1\n")
    with pytest.raises(InputError, match="no requirements list; expected a dxval protocol"):
        read_run(bundle)
    (bundle / "protocol.yaml").unlink()
    with pytest.raises(InputError, match=r"protocol\.yaml: unreadable"):
        read_run(bundle)
