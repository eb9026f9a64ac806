"""Rendering defects of issue 14 and the render speed of issue 18 (DXV-RENDER-*).

The report text is checked with ``pdftotext`` on the session's rendered
fixture bundle; cases the fixture does not hold (a 0/0 failure-mode group, a
stratum of positives only, a runner that recorded its threads) are built by
changing one record of the fixture's bundle, so each check can fail.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dxval.evidence import environment as environment_module
from dxval.evidence.format import BundleData, read_bundle
from dxval.report import formatting as fmt
from dxval.report import plots
from dxval.report.insufficiency import FLAG, insufficiency
from dxval.report.summary import build_summary_view
from dxval.report.views_data import build_test_data
from dxval.report.views_methods import _runtime_lines, build_appendix
from dxval.report.views_results import build_failure_modes, build_results

DEVELOPMENT_TOOLS = ("pytest", "mypy", "ruff", "hypothesis", "coverage")


def _text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True
    ).stdout.decode("utf-8")


@pytest.fixture(scope="module")
def bundle(sealed_bundle: Path) -> BundleData:
    return read_bundle(sealed_bundle)


@pytest.fixture(scope="module")
def report_text(rendered_bundle: Path) -> str:
    return _text(rendered_bundle / "report.pdf")


# --- DXV-RENDER-001: one number format, counted nouns -------------------------------------


@pytest.mark.req("DXV-RENDER-001")
def test_numbers_use_the_minus_sign_and_a_spaced_dash_or_to() -> None:
    assert fmt.number(-1.32071) == "\u22121.3207"
    assert fmt.number(-0.00001) == "0.0000"  # rounds to zero: no sign
    assert fmt.bounds(0.7696, 0.8807) == "0.7696\u202f–\u20090.8807"
    assert fmt.bounds(-1.32071, -0.09912) == "\u22121.3207 to \u22120.0991"
    assert fmt.bounds(-0.5, 0.25) == "\u22120.5000 to 0.2500"
    assert fmt.p_value(0.000617) == "0.0006"
    assert fmt.p_value(0.00004) == "< 0.0001"
    assert [fmt.plural(n, "case") for n in (0, 1, 2)] == ["0 cases", "1 case", "2 cases"]
    assert fmt.plural(3, "site") == "3 sites"


@pytest.mark.req("DXV-RENDER-001")
def test_report_text_has_no_plural_s_no_dash_minus_and_four_decimal_intervals(
    report_text: str,
) -> None:
    assert "(s)" not in report_text
    assert "–-" not in report_text
    assert "-–" not in report_text
    # every interval printed beside an estimate has four decimals at both ends
    intervals = re.findall(r"\((−?\d+\.\d+)(?:\s*–\s*| to )(−?\d+\.\d+)\)", report_text)
    assert intervals
    assert all(len(end.split(".")[1]) == 4 for pair in intervals for end in pair)
    assert "holm" not in report_text


@pytest.mark.req("DXV-RENDER-001")
def test_methods_and_summary_say_holm_uses_the_bonferroni_interval_level(
    bundle: BundleData, rendered_bundle: Path
) -> None:
    assert bundle.metrics.settings["multiplicity"] == "holm"
    methods = _text(rendered_bundle / "report.pdf")
    flat = " ".join(methods.split())
    assert "Bonferroni level 1 − (1 − CL)/K" in flat
    assert "has no interval form" in flat
    summary = build_summary_view(bundle)
    assert "Bonferroni level" in summary.methods
    assert "site(s)" not in summary.data_text
    assert "holm" not in summary.methods


# --- DXV-RENDER-002: the dagger follows criteria.json -------------------------------------


def _outcome_cells(bundle: BundleData) -> list[tuple[str, str, bool]]:
    """(population key, metric, insufficient) of criteria.json outcomes on the table's metrics."""
    return [
        (outcome.population, criterion.metric, bool(outcome.insufficient))
        for requirement in bundle.criteria.requirements
        for criterion in requirement.criteria
        for outcome in criterion.populations
        if criterion.metric in ("sensitivity", "specificity", "auc")
    ]


def _with_insufficient(bundle: BundleData, flips: dict[tuple[str, str], list[str]]) -> BundleData:
    """``bundle`` with the ``insufficient`` of the named criteria.json outcomes replaced."""
    requirements = []
    for requirement in bundle.criteria.requirements:
        criteria = []
        for criterion in requirement.criteria:
            populations = [
                outcome.model_copy(
                    update={
                        "insufficient": flips.get(
                            (outcome.population, criterion.metric), outcome.insufficient
                        )
                    }
                )
                for outcome in criterion.populations
            ]
            criteria.append(criterion.model_copy(update={"populations": populations}))
        requirements.append(requirement.model_copy(update={"criteria": criteria}))
    criteria_document = bundle.criteria.model_copy(update={"requirements": requirements})
    return replace(bundle, criteria=criteria_document)


def _table_cells(bundle: BundleData) -> dict[tuple[str, str], str]:
    """The subgroup table's estimate cells by (population label, metric)."""
    results = build_results(bundle)
    cells = {}
    for row in results.subgroups:
        if not row.header and not row.note:
            for metric in ("sensitivity", "specificity", "auc"):
                cells[(row.label, metric)] = getattr(row, metric)
    return cells


def _model_card_cells(bundle: BundleData) -> dict[tuple[str, str], str]:
    from dxval.report.views_data import build_test_data
    from dxval.report.views_limitations import build_limitations
    from dxval.report.views_model_card import build_model_card

    card = build_model_card(bundle, build_test_data(bundle), build_limitations(bundle))
    return {
        (row.population, metric): getattr(row, metric)
        for row in card.performance
        for metric in ("sensitivity", "specificity", "auc")
    }


def _summary_cells(bundle: BundleData) -> dict[tuple[str, str], str]:
    view = build_summary_view(bundle)
    return {
        (row.population, metric): getattr(row, metric)
        for row in (*view.overall, *view.subgroups)
        for metric in ("sensitivity", "specificity", "auc")
    }


@pytest.mark.req("DXV-RENDER-002")
def test_dagger_follows_criteria_json_exactly_in_report_and_summary(bundle: BundleData) -> None:
    outcomes = _outcome_cells(bundle)
    assert outcomes
    # flip every judged cell to the opposite of what the counts say, so that following
    # the counts instead of criteria.json fails
    flags = insufficiency(bundle)
    populations = {p.key: p for p in bundle.metrics.populations}
    flips = {
        (key, metric): [] if flags.short_classes(populations[key], metric) else ["forced"]
        for key, metric, _ in outcomes
    }
    for changed in (bundle, _with_insufficient(bundle, flips)):
        judged = {(key, metric): flag for key, metric, flag in _outcome_cells(changed)}
        report_cells = _table_cells(changed)
        summary_cells = _summary_cells(changed)
        card_cells = _model_card_cells(changed)
        checked = carded = 0
        for (key, metric), flagged in judged.items():
            population = populations[key]
            record = population.metrics.get(metric)
            if record is None or record.estimate is None:
                continue
            label = population.level if population.kind == "attribute" else population.label
            cell = report_cells.get((label or population.label, metric))
            if cell is not None:
                assert cell.endswith(FLAG) == flagged, (key, metric, cell)
                checked += 1
            summary_cell = summary_cells.get((population.label, metric))
            if summary_cell is not None:
                assert summary_cell.endswith(FLAG) == flagged, (key, metric, summary_cell)
            card_cell = card_cells.get((population.label, metric))
            if card_cell is not None:
                assert card_cell.endswith(FLAG) == flagged, (key, metric, card_cell)
                carded += 1
        assert checked
        assert carded


@pytest.mark.req("DXV-RENDER-002")
def test_a_stratum_of_positives_only_has_no_dagger_on_its_sensitivity(bundle: BundleData) -> None:
    flags = insufficiency(bundle)
    population = next(p for p in bundle.metrics.populations if p.kind == "attribute")
    positives_only = population.model_copy(update={"positives": 57, "negatives": 0})
    assert not flags.flagged(positives_only, "sensitivity")
    assert flags.flagged(positives_only, "specificity")
    assert flags.flagged(positives_only, "auc")
    assert flags.reason(positives_only, "auc") == "0 negative cases, minimum 10"


# --- DXV-RENDER-003: no p = 1.0000 for uninformative tests ---------------------------------


@pytest.mark.req("DXV-RENDER-003")
def test_empty_group_prints_undefined_p_values(bundle: BundleData) -> None:
    modes = bundle.metrics.failure_modes
    analysis = modes.false_negative
    group = analysis.groups[0]
    empty = group.model_copy(
        update={
            "errors": 0,
            "cases": 0,
            "fisher_exact": group.fisher_exact.model_copy(
                update={
                    "p_value": None,
                    "status": "undefined",
                    "reason": "a row or column of the table is empty: the test is not informative",
                }
            ),
            "p_value_adjusted": None,
        }
    )
    informative = analysis.groups[1]
    changed_analysis = analysis.model_copy(update={"groups": [empty, informative]})
    changed = replace(
        bundle,
        metrics=bundle.metrics.model_copy(
            update={"failure_modes": modes.model_copy(update={"false_negative": changed_analysis})}
        ),
    )
    view = build_failure_modes(changed, figure_number=9)
    rows = view.sections[0].groups
    assert (rows[0].errors, rows[0].p_value, rows[0].p_adjusted) == (
        "0/0",
        "undefined",
        "undefined",
    )
    assert not rows[0].enriched
    assert rows[1].p_value == fmt.p_value(informative.fisher_exact.p_value)


# --- DXV-RENDER-004: the case flow ---------------------------------------------------------


@pytest.mark.req("DXV-RENDER-004")
def test_flow_lists_every_non_evaluable_case_with_its_reference_standard(
    bundle: BundleData, report_text: str
) -> None:
    flow = build_test_data(bundle).flow
    failed = [case for case in bundle.cases if case.status != "scored"]
    assert failed
    assert [row.case_id for row in flow.failed] == [case.case_id for case in failed]
    positives = sum(case.truth for case in failed)
    assert flow.non_evaluable_truth == (
        f"reference standard positive {positives} · negative {len(failed) - positives}"
    )
    assert flow.manifests == "2 test-set manifests"
    for case in failed:
        assert case.case_id in report_text
        assert case.reason in " ".join(report_text.split())
    assert "reference standard positive" in report_text


# --- DXV-RENDER-005: forest plots ----------------------------------------------------------


@pytest.mark.req("DXV-RENDER-005")
def test_forest_axis_holds_every_interval_end_and_threshold_with_round_ticks() -> None:
    rows = (
        plots.ForestRow("Site", (), header=True),
        plots.ForestRow(
            "A", (plots.Interval(0.9557, 0.9001, 1.0),), thresholds=(0.85,), flags=(False,)
        ),
        plots.ForestRow("B", (plots.Interval(0.62, 0.4763, 0.7489),), flags=(True,)),
    )
    plot = plots.ForestPlot(("ROC AUC",), rows, (0.9154,))
    low, high, step = plots.forest_limits(plot, 0)
    assert low < 0.4763
    assert high > 1.0
    assert step == 0.2  # 0.45 to 1.0 in at most five round ticks
    svg = plots.forest_figure(plot)
    assert "#d55e00" in svg  # the vermilion threshold mark


@pytest.mark.req("DXV-RENDER-005")
def test_forest_rows_carry_the_thresholds_of_criteria_and_drop_coinciding_attributes(
    bundle: BundleData,
) -> None:
    results = build_results(bundle)
    labels = [row.label for row in results.subgroups]
    # the fixture's scanner model is one per site: its rows would repeat the Site rows
    assert "Scanner One" not in labels
    notes = [row.label for row in results.subgroups if row.note]
    assert notes
    assert "Scanner One: Site A" in notes[0]
    assert "Scanner One" not in results.forest[0].svg
    assert "same cases as the Site rows" in results.forest[0].svg
    assert "#d55e00" in results.forest[0].svg  # PERF-001 / PERF-002 thresholds


# --- DXV-RENDER-006: software section and SOUP appendix ------------------------------------


@pytest.mark.req("DXV-RENDER-006")
def test_recorded_runner_threads_are_shown() -> None:
    runtime: dict[str, Any] = {
        "threads": {"OMP_NUM_THREADS": None, "MKL_NUM_THREADS": None},
        "runners": [
            {
                "name": "onnxruntime",
                "threads": {"intra_op_num_threads": 2, "inter_op_num_threads": 1},
            }
        ],
        "executor": {"name": "process-pool", "workers": 2, "start_method": "forkserver"},
    }
    lines = _runtime_lines(runtime)
    assert "Threads, onnxruntime: intra-op threads 2, inter-op threads 1" in lines
    assert "Executor: process-pool, 2 workers (forkserver)" in lines
    assert not any(line.startswith("Thread variables: none set") for line in lines)


@pytest.mark.req("DXV-RENDER-006")
def test_soup_appendix_lists_runtime_distributions_with_licences_and_the_commit(
    bundle: BundleData, report_text: str
) -> None:
    appendix = build_appendix(bundle)
    names = {row.name.lower() for row in appendix.soup}
    assert {"numpy", "weasyprint", "dxval"} <= names
    assert not names & set(DEVELOPMENT_TOOLS)
    numpy = next(row for row in appendix.soup if row.name.lower() == "numpy")
    assert numpy.licence.startswith("BSD")
    fields = {field.label: field.value for field in appendix.environment}
    assert "dxval commit" in fields
    assert "Licence" in report_text
    soup_table = report_text.split("Runtime distributions", 1)[1].split("Also loaded", 1)[0]
    assert "pytest" not in soup_table


@pytest.mark.req("DXV-RENDER-006")
def test_commit_comes_from_direct_url_or_git(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(environment_module, "_distribution", lambda name: None)
    answers = {"rev-parse": "abc123", "status": " M src/dxval/x.py"}
    monkeypatch.setattr(
        environment_module, "_git", lambda folder, *arguments: answers[arguments[0]]
    )
    assert environment_module.dxval_source() == {
        "commit": "abc123",
        "modified": True,
        "from": "git",
    }
    monkeypatch.setattr(environment_module, "_git", lambda folder, *arguments: None)
    assert environment_module.dxval_source() is None


# --- DXV-RENDER-007: one layout for both PDFs (tests/report/test_render_speed.py); progress ---


@pytest.mark.req("DXV-RENDER-007")
def test_progress_lines_only_after_two_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    from dxval.commands.report import PROGRESS_AFTER, _SlowProgress

    assert PROGRESS_AFTER == 2.0
    _SlowProgress()("laying out the pages")
    assert capsys.readouterr().err == ""
    _SlowProgress(after=0.0)("laying out the pages")
    assert capsys.readouterr().err.startswith("dxval report: laying out the pages (")
