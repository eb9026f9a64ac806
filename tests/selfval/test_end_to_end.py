"""The end-to-end check: generated DICOM, lock, validate, independent expected values."""

from __future__ import annotations

import json
import os
import platform
from fractions import Fraction
from importlib import metadata

import pytest

from dxval.selfval.end_to_end import exact_auc

from .conftest import SelfValidationRun


@pytest.mark.req("DXV-SELF-001", "DXV-INFER-004", "DXV-LOCK-002")
def test_end_to_end_checks_pass(self_validation: SelfValidationRun) -> None:
    checks = {c["name"]: c for c in self_validation.record["checks"] if c["group"] == "end to end"}
    assert all(check["result"] == "pass" for check in checks.values()), checks
    accounting = checks["every case accounted for: cases in = scored + failed"]
    assert accounting["expected"] == accounting["observed"] == "12 = 11 + 1"
    for changed in ("DICOM", "model"):
        name = f"a changed {changed} file after locking is refused"
        assert checks[name]["observed"] == "refused, exit 3"
    assert checks["validate exit code"]["observed"] == "1"
    assert "overall ROC AUC in the bundle" in checks
    assert "the golden reference input is re-scored within tolerance before any case" in checks
    assert any("reference model" in note for note in self_validation.record["notes"])


def test_exact_auc_counts_ties_as_half() -> None:
    assert exact_auc([0.9, 0.5], [0.5, 0.1]) == Fraction(7, 8)
    assert exact_auc([0.2], [0.2]) == Fraction(1, 2)


@pytest.mark.req("DXV-INFER-006")
def test_the_bundle_records_the_environment(self_validation: SelfValidationRun) -> None:
    environment = json.loads(
        (self_validation.out / "end-to-end-bundle" / "environment.json").read_text()
    )
    assert environment["python"]["version"] == platform.python_version()
    assert environment["platform"]["system"] == platform.system()
    assert environment["cpu"]["count"] == os.cpu_count()
    distributions = {
        name.lower(): version for name, version in environment["distributions"].items()
    }
    for name in ("numpy", "scipy", "pydicom", "cryptography"):
        assert distributions[name] == metadata.version(name)
