"""The report's reader-study view built from mrmc.json documents of both analysis methods."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dxval.analysis.reader_study import (
    AnalysisMethod,
    ReadColumns,
    ReaderStudyOptions,
    analyse_reader_study,
    mrmc_document,
    read_reads,
)
from dxval.report.views_reader_study import build_reader_study, summary_paragraph

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.req("DXV-MRMC-012")
def test_u_statistic_document_gives_a_forest_without_reader_intervals() -> None:
    columns = ReadColumns(reader="readerID", case="caseID", modality="modalityID")
    reads = read_reads(DATA / "dfMRMC_example.csv", columns=columns, reference="testA")
    report = analyse_reader_study(reads, ReaderStudyOptions(method=AnalysisMethod.U_STATISTIC))
    document = json.loads(json.dumps(mrmc_document(report, reads="x.csv", sha256="0" * 64)))
    assert (document["test"], document["reference"]) == ("testB", "testA")
    view = build_reader_study(document, figure_number=7)
    assert (view.roc.number, view.forest.number) == (7, 8)
    assert view.test.startswith("t(30; BDG df 30.37) = 1.8129, two-sided p = 0.0799")
    assert all(row.difference == "—" for row in view.readers)
    assert "<svg" in view.forest.svg
    assert "The difference testB − testA was 0.0727" in summary_paragraph(document)


def test_reader_averaged_roc_runs_from_0_to_1() -> None:
    reads = read_reads(
        DATA / "VanDyke.csv", columns=ReadColumns(modality="treatment", score="rating")
    )
    report = analyse_reader_study(reads, ReaderStudyOptions())
    roc = mrmc_document(report, reads="x.csv", sha256="0" * 64)["roc"]
    for curve in roc.values():
        assert curve["tpr"][-1] == 1.0
        assert curve["tpr"] == sorted(curve["tpr"])
