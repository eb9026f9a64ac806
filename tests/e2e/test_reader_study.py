"""A protocol with a reader study: lock, validate, mrmc.json, criteria on mrmc_* metrics."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from tests.reference import mrmc_published as published

from dxval.cli import main

READS = Path(__file__).resolve().parents[1] / "data" / "VanDyke.csv"
READER_STUDY = """
reader_study:
  reads: data/reads.csv
  columns: {modality: treatment, score: rating}
  reference: "1"
  test: "2"
  threshold: 3
  plan: {readers: 10, effect: -0.043800322, cases: 165}
"""
REQUIREMENTS = """
  - id: MRMC-001
    text: Reading with modality 2 is not inferior to modality 1 by more than 0.05 AUC.
    criteria:
      - {metric: mrmc_auc_difference, bound: lower, op: ">=", value: -0.05}
  - id: MRMC-002
    text: Reader-averaged sensitivity improves by at least 0.05.
    criteria:
      - {metric: mrmc_sensitivity_difference, op: ">=", value: 0.05}
  - id: MRMC-003
    text: Reader-averaged specificity does not drop (lower bound at least 0).
    criteria:
      - {metric: mrmc_specificity_difference, bound: lower, op: ">=", value: 0.0}
"""


@pytest.fixture
def study(example: Path) -> Path:
    shutil.copy2(READS, example.parent / "data" / "reads.csv")
    text = example.read_text()
    text = text.replace("\nrequirements:\n", READER_STUDY + "\nrequirements:\n" + REQUIREMENTS)
    example.write_text(text)
    return example


def _validate(protocol: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["validate", str(protocol), "--out", str(out), "--no-report"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.req("DXV-MRMC-011")
def test_reader_study_protocol_end_to_end(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lock", str(study)]) == 0
    capsys.readouterr()
    assert "sha256:" in study.read_text().split("reader_study:")[1].split("reference:")[0]
    code, output = _validate(study, tmp_path / "ev", capsys)
    assert code == 1, output  # the example's own failing criteria and MRMC-003
    (bundle,) = sorted(path for path in (tmp_path / "ev").glob("*/*") if path.is_dir())
    mrmc = json.loads((bundle / "mrmc.json").read_text())
    assert mrmc["schema"] == "dxval-mrmc/1"
    assert (mrmc["test"], mrmc["reference"]) == ("2", "1")
    assert math.isclose(mrmc["p_value"], published.JACKKNIFE_RRRC_P_RJAFROC, rel_tol=1e-8)
    assert math.isclose(mrmc["difference"]["estimate"], 0.04380032, rel_tol=1e-6)
    assert len(mrmc["roc"]["1"]["fpr"]) == 101
    # power with the modalities in the other order: the effect's sign does not matter
    assert math.isclose(
        mrmc["sample_size"]["power_at_cases"], published.POWER["rrrc"][2], rel_tol=1e-6
    )
    criteria = json.loads((bundle / "criteria.json").read_text())
    verdicts = {item["id"]: item["verdict"] for item in criteria["requirements"]}
    assert verdicts["MRMC-001"] == "pass"
    assert verdicts["MRMC-002"] == "pass"
    assert verdicts["MRMC-003"] == "fail"
    first = next(item for item in criteria["requirements"] if item["id"] == "MRMC-001")
    observed = first["criteria"][0]["observed"]
    assert math.isclose(observed, -published.IOWA_RRRC["high"], abs_tol=5e-6)
    lock = json.loads((bundle / "lock.json").read_text())
    assert lock["reader_study"]["reads"] == "data/reads.csv"


@pytest.mark.req("DXV-MRMC-011")
def test_changed_reads_file_is_an_integrity_error(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lock", str(study)]) == 0
    reads = study.parent / "data" / "reads.csv"
    reads.write_text(reads.read_text().replace('"1","1","1",0,1', '"1","1","1",0,2', 1))
    capsys.readouterr()
    code, output = _validate(study, tmp_path / "ev", capsys)
    assert code == 3
    assert "reader study reads file" in output
    assert not (tmp_path / "ev").exists() or not any((tmp_path / "ev").glob("*/*"))


@pytest.mark.parametrize(
    "change",
    [
        ("  threshold: 3\n", "", "reader_study.threshold to be set for this metric"),
        ('  test: "2"\n', '  test: "1"\n', "a modality other than reference"),
        (
            "mrmc_auc_difference, bound: lower",
            "mrmc_auc_difference, population: {site: Site F}, bound: lower",
            "'all' (a reader-study metric is over all readers and cases)",
        ),
    ],
)
@pytest.mark.req("DXV-MRMC-011")
def test_reader_study_protocol_errors(
    study: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: tuple[str, str, str],
) -> None:
    old, new, expected = change
    study.write_text(study.read_text().replace(old, new))
    code, output = _validate(study, tmp_path / "ev", capsys)
    assert code == 2
    assert expected in output
    assert "Traceback" not in output


@pytest.mark.req("DXV-MRMC-012")
def test_report_and_510k_summary_show_the_reader_study(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dxval.errors import InputError
    from dxval.evidence import read_bundle
    from dxval.report.render import SCREEN, render_html
    from dxval.report.summary import build_summary_view, render_summary_markdown
    from dxval.report.views import build_report_view

    assert main(["lock", str(study)]) == 0
    code, _ = _validate(study, tmp_path / "ev", capsys)
    assert code == 1
    (bundle,) = sorted(path for path in (tmp_path / "ev").glob("*/*") if path.is_dir())
    assert main(["verify", str(bundle)]) == 0
    data = read_bundle(bundle)
    assert data.mrmc is not None
    assert "mrmc.json" in [entry.name for entry in data.files]
    view = build_report_view(data)
    study_view = view.reader_study
    assert study_view is not None
    assert [row.reader for row in study_view.readers] == ["1", "2", "3", "4", "5"]
    assert study_view.test == "F(1, 15.26) = 4.4563, p = 0.0517"
    assert study_view.roc.number + 1 == study_view.forest.number
    assert study_view.sample_size is not None
    assert "165 cases give power 0.805" in study_view.sample_size
    assert view.failure_modes.figure.number == study_view.forest.number + 1
    html = render_html(view, SCREEN)
    assert "4.5 Reader study (MRMC)" in html
    assert "Per-reader AUC" in html
    assert "Variance components" in html
    trace = [row for row in view.trace if row.requirement_id == "MRMC-001"]
    assert [link.file for link in trace[0].evidence] == ["criteria.json", "mrmc.json"]
    markdown = render_summary_markdown(build_summary_view(data))
    assert "### Reader study" in markdown
    assert "The difference 2 − 1 was 0.0438" in markdown
    # mrmc.json is read through evidence.format's MrmcRecord: a broken one is named.
    document = json.loads((bundle / "mrmc.json").read_text())
    del document["difference"]
    (bundle / "mrmc.json").write_text(json.dumps(document))
    with pytest.raises(InputError, match=r"mrmc\.json.*difference"):
        read_bundle(bundle)


@pytest.mark.req("DXV-MRMC-013")
def test_protocol_u_test_reaches_the_analysis_options(study: Path) -> None:
    from dxval.pipeline.plan import plan_run
    from dxval.stats.mrmc import UStatisticTest

    default = plan_run(study).reader_study
    assert default is not None
    assert default.options.u_test is UStatisticTest.BDG
    study.write_text(
        study.read_text().replace("  threshold: 3\n", "  threshold: 3\n  u_test: normal\n")
    )
    chosen = plan_run(study).reader_study
    assert chosen is not None
    assert chosen.options.u_test is UStatisticTest.NORMAL
