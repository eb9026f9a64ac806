"""The failure-mode section states the family the p-values were adjusted over (K defined tests)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from dxval.evidence.format import BundleData, ErrorFamilyRecord, read_bundle
from dxval.report.views_results import build_failure_modes


@pytest.fixture(scope="module")
def bundle(sealed_bundle: Path) -> BundleData:
    return read_bundle(sealed_bundle)


def _with_family(bundle: BundleData, family: ErrorFamilyRecord | None) -> BundleData:
    modes = bundle.metrics.failure_modes
    analysis = modes.false_negative.model_copy(update={"multiplicity": family})
    changed = modes.model_copy(update={"false_negative": analysis})
    return replace(bundle, metrics=bundle.metrics.model_copy(update={"failure_modes": changed}))


@pytest.mark.req("DXV-ANAL-008")
def test_the_section_names_k_and_the_undefined_tests_left_out(bundle: BundleData) -> None:
    recorded = bundle.metrics.failure_modes.false_negative.multiplicity
    assert recorded is not None  # written by this version of the analysis
    defined = sum(
        group.fisher_exact.status == "ok"
        for group in bundle.metrics.failure_modes.false_negative.groups
    )
    assert (recorded.method, recorded.family_size) == ("holm", defined)
    family = ErrorFamilyRecord(method="holm", family_size=3, undefined_tests=1)
    section = build_failure_modes(_with_family(bundle, family), figure_number=9).sections[0]
    assert section.family == (
        "Holm adjustment over K = 3 defined tests; 1 undefined test left out of the family."
    )
    single = ErrorFamilyRecord(method="bonferroni", family_size=1, undefined_tests=0)
    section = build_failure_modes(_with_family(bundle, single), figure_number=9).sections[0]
    assert section.family == "Bonferroni adjustment over K = 1 defined test."
    older = build_failure_modes(_with_family(bundle, None), figure_number=9).sections[0]
    assert older.family == ""  # a bundle written before the family was recorded
