"""Reports of detection and segmentation bundles: sections, figures, worst cases, 510(k) text."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from dxval.cli import main
from dxval.demo.tasks import generate_task_demo
from dxval.pipeline.lock import lock_protocol
from dxval.report.task_report import build_task_report
from dxval.stats.detection import CaseMatch, FrocData, froc_band

# The hand-built detection example (tests/stats/test_detection.py documents its counts).
LESIONS = """case_id,lesion_id,x0,y0,x1,y1,width,height
A,L1,0,0,10,10,64,64
A,L2,20,20,30,30,64,64
B,L3,0,0,10,10,64,64
C,,,,,,64,64
D,,,,,,64,64
E,L4,0,0,10,10,64,64
"""
MARKS = """case_id,mark_id,x0,y0,x1,y1,score
A,m1,0,0,10,10,0.9
A,m2,1,1,11,11,0.8
A,m3,50,50,60,60,0.3
B,m4,0,0,10,9,0.5
C,m5,0,0,5,5,0.7
C,m6,5,5,9,9,0.2
"""
DETECTION = """\
dxval: 1
id: DET-REPORT
title: Detection report test
version: "1.0"
task: detection
device: {name: Test detector, version: 0.1.0, intended_use: testing}
detection: {truth: lesions.csv, localisation: {iou: 0.5}}
predictions: {path: marks.csv, operating_point: 0.5}
test_sets:
  - {id: site-a, site: Site A, manifest: a.csv}
  - {id: site-b, site: Site B, manifest: b.csv}
statistics: {bootstrap: {replicates: 200, seed: 7}}
requirements:
  - id: DET-001
    text: Lesion sensitivity at least 0.5.
    criteria:
      - {metric: lesion_sensitivity, op: ">=", value: 0.5}
"""
SEGMENTATION = """\
dxval: 1
id: SEG-REPORT
title: Segmentation report test
version: "1.0"
task: segmentation
device: {name: Test segmenter, version: 0.1.0, intended_use: testing}
segmentation: {structures: {liver: 1, lesion: 2}, nsd_tolerance_mm: 2.0}
test_sets:
  - {id: site-a, site: Site A, manifest: data/site-a/manifest.csv}
  - {id: site-b, site: Site B, manifest: data/site-b/manifest.csv}
  - {id: site-c, site: Site C, manifest: data/site-c/manifest.csv}
statistics: {bootstrap: {replicates: 200, seed: 7}}
requirements:
  - id: SEG-001
    text: Liver Dice.
    criteria:
      - {metric: dice, structure: liver, op: ">=", value: 0.5}
"""


@pytest.mark.req("DXV-TASK-011")
def test_detection_report_has_froc_band_worst_cases_and_510k_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "lesions.csv").write_text(LESIONS)
    (tmp_path / "marks.csv").write_text(MARKS)
    (tmp_path / "a.csv").write_text("case_id\nA\nB\nC\n")
    (tmp_path / "b.csv").write_text("case_id\nD\nE\n")
    protocol = tmp_path / "protocol.yaml"
    protocol.write_text(DETECTION)
    lock_protocol(protocol)
    assert main(["validate", str(protocol), "--out", str(tmp_path / "evidence")]) == 0
    (bundle,) = (tmp_path / "evidence" / "DET-REPORT").iterdir()
    assert (bundle / "report.pdf").read_bytes().startswith(b"%PDF")
    assert "pointwise band" in (bundle / "figures" / "froc.svg").read_text()
    html = (bundle / "report.html").read_text()
    text = re.sub(r"<[^>]+>", " ", html)
    # E (lesion missed, no mark) and A (L2 missed) are listed by ID; the rate wording.
    assert re.search(r"E\s*</td>\s*<td>Site B</td>\s*<td class=\"num\">1</td>", html)
    assert "2 of 4 lesions were not hit by any mark" in text
    assert "lesion-level sensitivity was 0.500" in text
    assert "false positives per image" in text
    assert "intersection over union is at least 0.5" in text
    assert main(["verify", str(bundle)]) == 0
    capsys.readouterr()
    # dxval report re-renders a task bundle (renderings outside the signed set).
    assert main(["report", str(bundle)]) == 0
    assert main(["verify", str(bundle)]) == 0


@pytest.mark.req("DXV-TASK-011")
def test_segmentation_report_view_lists_per_site_distributions_and_lowest_dice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generate_task_demo(tmp_path / "data", task="segmentation", cases_per_site=3, seed=11)
    protocol = tmp_path / "protocol.yaml"
    protocol.write_text(SEGMENTATION)
    lock_protocol(protocol)
    main(["validate", str(protocol), "--out", str(tmp_path / "evidence"), "--no-report"])
    capsys.readouterr()
    (bundle,) = (tmp_path / "evidence" / "SEG-REPORT").iterdir()
    view = build_task_report(bundle)
    assert view.segmentation is not None
    liver = view.segmentation.structures[0]
    assert liver.name == "liver"
    # The case without a predicted mask has the lowest Dice, listed first with its reason.
    assert liver.worst[0][:3] == ("CS003", "Site C", "0.000")
    assert liver.worst[0][4] == "empty_prediction"
    assert [line.label for line in liver.lines][:4] == ["All cases", "Site A", "Site B", "Site C"]
    svg = view.segmentation.figure.svg
    assert "liver: Dice" in svg
    assert "lesion: HD95 (mm)" in svg
    assert any("mean Dice" in paragraph for paragraph in view.summary_510k)


def test_froc_band_contains_the_curve_and_is_seeded() -> None:
    rng = np.random.default_rng(3)
    cases = []
    for index in range(40):
        lesions = rng.uniform(size=index % 3)
        lesions[rng.uniform(size=lesions.size) < 0.3] = -float("inf")
        cases.append(CaseMatch(lesions, np.full(lesions.size, 1.0), rng.uniform(size=2)))
    data = FrocData.from_cases(cases)
    low, high = froc_band(data, [0.25, 1.0, 2.0], replicates=300, seed=5)
    again = froc_band(data, [0.25, 1.0, 2.0], replicates=300, seed=5)
    assert (low.tolist(), high.tolist()) == (again[0].tolist(), again[1].tolist())
    assert all(lo <= hi for lo, hi in zip(low, high, strict=True))
