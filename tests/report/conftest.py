"""Fixtures for report tests: a small synthetic two-site bundle, rendered once per session.

The protocol uses bring-your-own predictions (probabilities, so calibration
runs), two sites, a binned age, sex and scanner attributes, one
non-evaluable case, a criterion over each site (multiplicity), a spread
criterion and a subgroup criterion that fails.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from dxval.pipeline import lock_protocol, run_validation
from dxval.report import render_bundle_reports

RUN_ID = "20260102T030405Z-abc123"
SITES = (("site-a", "Site A", "Scanner One"), ("site-b", "Site B", "Scanner Two"))
PROTOCOL = """\
dxval: 1
id: RPT-TEST
title: Report test protocol <with markup & symbols>
version: "2.1"
device:
  name: Test Classifier
  version: 1.2.3
  intended_use: Test only; flags images for review. Not a medical device.
predictions:
  path: predictions.csv
  case_id: case_id
  score: score
  failure_reason: failure
  operating_point: 0.5
test_sets:
  - {id: site-a, site: Site A, manifest: site-a.csv}
  - {id: site-b, site: Site B, manifest: site-b.csv}
truth: {column: label, positive: "1", negative: "0", reference_standard: Two-reader consensus}
attributes:
  sex: {column: sex, label: Sex}
  age: {column: age, bins: [18, 50, 70, 100], label: Age (years)}
  scanner: {column: scanner, label: Scanner model}
statistics:
  bootstrap: {replicates: 200, seed: 7}
  calibration: {bins: 5}
  minimum: {positives: 10, negatives: 10}
qc: {max_failed_fraction: 0.05}
requirements:
  - id: PERF-001
    text: Sensitivity, lower 95% confidence bound, at least 0.60.
    criteria:
      - {metric: sensitivity, population: all, bound: lower, op: ">=", value: 0.60}
  - id: PERF-002
    text: ROC AUC lower bound at least 0.70 at each site.
    criteria:
      - {metric: auc, population: {each: site}, bound: lower, op: ">=", value: 0.70}
  - id: GEN-001
    text: Sensitivity differs by no more than 0.30 between sites.
    criteria:
      - metric: sensitivity
        population: {each: site}
        spread: max_minus_min
        op: "<="
        value: 0.30
  - id: SUB-001
    text: Specificity at least 0.99 in each age band.
    criteria:
      - {metric: specificity, population: {each: age}, bound: point, op: ">=", value: 0.99}
"""


def write_protocol(folder: Path, *, cases_per_site: int = 60) -> Path:
    """Write the protocol, manifests and predictions into ``folder``; lock it; return its path."""
    generator = np.random.default_rng(11)
    folder.mkdir(parents=True, exist_ok=True)
    predictions = ["case_id,score,failure"]
    for test_set, _, scanner in SITES:
        rows = ["case_id,label,sex,age,scanner"]
        for index in range(cases_per_site):
            case_id = f"{test_set.upper()}-{index:03d}"
            truth = index % 3 == 0
            rows.append(
                f"{case_id},{int(truth)},{'FM'[index % 2]},{generator.integers(20, 91)},{scanner}"
            )
            if test_set == "site-b" and index == 5:
                predictions.append(f"{case_id},,unreadable: truncated file")
                continue
            score = min(max(generator.normal(0.68 if truth else 0.3, 0.2), 0.0), 1.0)
            predictions.append(f"{case_id},{score:.4f},")
        (folder / f"{test_set}.csv").write_text("\n".join(rows) + "\n")
    (folder / "predictions.csv").write_text("\n".join(predictions) + "\n")
    path = folder / "protocol.yaml"
    path.write_text(PROTOCOL)
    lock_protocol(path)
    return path


@pytest.fixture(scope="session")
def sealed_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle written by ``run_validation`` (the renderings, if any, are not relied on)."""
    root = tmp_path_factory.mktemp("report-bundle")
    protocol = write_protocol(root / "protocol")
    result = run_validation(protocol, out=root / "evidence", run_id=RUN_ID)
    return result.bundle


@pytest.fixture(scope="session")
def rendered_bundle(sealed_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the bundle with freshly rendered reports (shared, read-only in tests).

    The manifest is removed first: validate renders the reports before it seals the bundle.
    """
    folder = tmp_path_factory.mktemp("rendered") / "bundle"
    shutil.copytree(sealed_bundle, folder)
    (folder / "MANIFEST.sha256").unlink()
    render_bundle_reports(folder)
    return folder


@pytest.fixture
def bundle_copy(sealed_bundle: Path, tmp_path: Path) -> Path:
    """A private copy of the sealed bundle that a test may change."""
    folder = tmp_path / "bundle"
    shutil.copytree(sealed_bundle, folder)
    return folder
