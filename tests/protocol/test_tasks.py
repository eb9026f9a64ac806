"""Protocol task types: per-task criteria vocabularies and sections, checked at load (exit 2)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dxval.cli import main
from dxval.errors import ProtocolError
from dxval.protocol import load_protocol
from dxval.protocol.tasks import TASK_METRICS

WriteProtocol = Callable[[str], Path]

SEGMENTATION = """\
dxval: 1
id: SEG-TEST-001
title: Segmentation test protocol
version: "1.0"
task: segmentation
device: {name: Test device, version: 0.1.0, intended_use: testing}
segmentation:
  structures: {liver: 1, lesion: 2}
  nsd_tolerance_mm: 2.0
test_sets:
  - {id: site-a, site: Site A, manifest: a/manifest.csv}
requirements:
  - id: SEG-001
    text: Liver Dice.
    criteria:
      - {metric: dice, statistic: mean, structure: liver, bound: lower, op: ">=", value: 0.9}
"""

DETECTION = """\
dxval: 1
id: DET-TEST-001
title: Detection test protocol
version: "1.0"
task: detection
device: {name: Test device, version: 0.1.0, intended_use: testing}
detection:
  truth: lesions.csv
  localisation: {iou: 0.3}
predictions: {path: marks.csv, operating_point: 0.5}
test_sets:
  - {id: site-a, site: Site A, manifest: a/manifest.csv}
requirements:
  - id: DET-001
    text: Lesion sensitivity.
    criteria:
      - {metric: lesion_sensitivity, op: ">=", value: 0.8}
"""
CRITERION = '{metric: dice, statistic: mean, structure: liver, bound: lower, op: ">=", value: 0.9}'


@pytest.mark.req("DXV-TASK-007")
def test_task_protocols_load_with_their_sections(write_protocol: WriteProtocol) -> None:
    segmentation = load_protocol(write_protocol(SEGMENTATION)).protocol
    assert segmentation.task == "segmentation"
    assert segmentation.segmentation is not None
    assert segmentation.segmentation.structures == {"liver": 1, "lesion": 2}
    assert segmentation.requirements[0].criteria[0].structure == "liver"
    detection = load_protocol(write_protocol(DETECTION)).protocol
    assert detection.detection is not None
    assert detection.detection.localisation.iou == 0.3


@pytest.mark.req("DXV-TASK-007")
@pytest.mark.parametrize(
    ("criterion", "expected"),
    [
        (
            '{metric: auc, op: ">=", value: 0.9}',
            r":16:\d+ requirements\[0\]\.criteria\[0\]\.metric: got 'auc' in a segmentation "
            r"protocol expected a segmentation metric: dice, iou",
        ),
        (
            '{metric: dice, structure: spleen, op: ">=", value: 0.9}',
            r":16:\d+ requirements\[0\]\.criteria\[0\]\.structure: got unknown structure "
            r"'spleen' expected one of liver, lesion \(segmentation\.structures\)",
        ),
        (
            '{metric: dice, op: ">=", value: 0.9}',
            r":16:\d+ requirements\[0\]\.criteria\[0\]: got no structure expected structure: "
            r"one of liver, lesion",
        ),
        (
            '{metric: lesion_sensitivity, op: ">=", value: 0.9}',
            r"criteria\[0\]\.metric: got 'lesion_sensitivity' in a segmentation protocol",
        ),
        (
            '{metric: dice, statistic: mode, structure: liver, op: ">=", value: 0.9}',
            r"criteria\[0\]\.statistic: got 'mode' expected one of 'mean' or 'median'",
        ),
    ],
)
def test_segmentation_criteria_outside_the_vocabulary_are_refused(
    write_protocol: WriteProtocol, criterion: str, expected: str
) -> None:
    path = write_protocol(SEGMENTATION.replace(CRITERION, criterion))
    with pytest.raises(ProtocolError, match=expected):
        load_protocol(path)


@pytest.mark.req("DXV-TASK-007")
@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "{metric: lesion_sensitivity,",
            "{metric: sensitivity,",
            r"criteria\[0\]\.metric: got 'sensitivity' in a detection protocol expected a "
            r"detection metric: lesion_sensitivity, fp_per_image",
        ),
        (
            "{metric: lesion_sensitivity,",
            "{metric: lesion_sensitivity, structure: liver,",
            r"criteria\[0\]\.structure: got 'liver' expected no structure",
        ),
        (
            "localisation: {iou: 0.3}",
            "localisation: {iou: 0.3, inside: true}",
            r"detection\.localisation: got iou, inside expected exactly one of iou, "
            r"distance_mm, inside",
        ),
        (
            "predictions: {path: marks.csv, operating_point: 0.5}\n",
            "",
            r"\(top level\): got neither model nor predictions expected exactly one of them or "
            r"predictions: the marks CSV",
        ),
        (
            "task: detection\n",
            "",
            r"detection: got a detection section expected task: detection",
        ),
        (
            "test_sets:",
            "truth: {column: label, positive: 1, negative: 0, reference_standard: x}\ntest_sets:",
            r"truth: got a truth section in a detection protocol expected the truth in "
            r"detection\.truth",
        ),
        (
            "test_sets:",
            "comparators:\n  - {id: old, role: original, predictions: {path: old.csv, "
            "operating_point: 0.5}}\ntest_sets:",
            r"comparators: got comparator models expected none for task: detection",
        ),
        (
            "test_sets:",
            "precision: {repeat_group: group}\ntest_sets:",
            r"precision: got a precision study expected none for task: detection",
        ),
        (
            "test_sets:",
            "robustness:\n  perturbations:\n    - {perturbation: rotation, parameters: "
            "{degrees: 10}}\ntest_sets:",
            r"robustness: got a robustness study expected none for task: detection",
        ),
    ],
)
def test_detection_sections_and_criteria_are_checked(
    write_protocol: WriteProtocol, old: str, new: str, expected: str
) -> None:
    assert old in DETECTION
    path = write_protocol(DETECTION.replace(old, new))
    with pytest.raises(ProtocolError, match=expected):
        load_protocol(path)


@pytest.mark.req("DXV-TASK-007")
def test_a_classification_protocol_needs_its_truth(
    write_protocol: WriteProtocol, valid_protocol: str
) -> None:
    text = "\n".join(line for line in valid_protocol.splitlines() if not line.startswith("truth:"))
    with pytest.raises(ProtocolError, match="got no truth section expected a truth section"):
        load_protocol(write_protocol(text + "\n"))
    with pytest.raises(ProtocolError, match=r"got 'dice' in a classification protocol"):
        load_protocol(write_protocol(valid_protocol.replace("metric: sensitivity", "metric: dice")))


@pytest.mark.req("DXV-TASK-007")
def test_validate_refuses_a_misfit_criterion_with_one_line(
    write_protocol: WriteProtocol, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write_protocol(SEGMENTATION.replace("metric: dice", "metric: auc"))
    code = main(["validate", str(path), "--out", str(tmp_path / "evidence")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1
    assert err.startswith("dxval: error:")
    assert "got 'auc' in a segmentation protocol" in err
    assert not (tmp_path / "evidence").exists()


def test_every_task_vocabulary_is_disjoint() -> None:
    detection, segmentation = set(TASK_METRICS["detection"]), set(TASK_METRICS["segmentation"])
    assert not detection & segmentation
    assert not (detection | segmentation) & set(TASK_METRICS["classification"])
