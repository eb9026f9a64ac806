"""Reports of detection and segmentation bundles: sections, figures, worst cases, 510(k) text.

The bundles are the session fixture ``task_bundles`` (tests/conftest.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from dxval.cli import main
from dxval.report.task_report import build_task_report
from dxval.stats.detection import CaseMatch, FrocData, froc_band


@pytest.mark.req("DXV-TASK-011")
def test_detection_report_has_froc_band_worst_cases_and_510k_text(
    task_bundles: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = task_bundles["detection"]  # tests/task_bundles.py: the hand-built example
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


@pytest.mark.req("DXV-TASK-011")
def test_segmentation_report_view_lists_per_site_distributions_and_lowest_dice(
    task_bundles: dict[str, Path],
) -> None:
    view = build_task_report(task_bundles["segmentation"])
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
