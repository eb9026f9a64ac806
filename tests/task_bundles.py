"""Small detection and segmentation protocols shared by the pipeline and report tests.

The detection data are the hand-built example of tests/stats/test_detection.py
(expected counts documented there): case E has a lesion and no mark at all
and must count as missed. The segmentation data are three synthetic cases per
site from ``dxval demo generate --task segmentation`` (seed 11), one case at
Site C without a predicted mask. Fixtures using them are in tests/conftest.py.
"""

from __future__ import annotations

from pathlib import Path

from dxval.demo.tasks import generate_task_demo
from dxval.pipeline.lock import lock_protocol

SEGMENTATION_PROTOCOL = """\
dxval: 1
id: SEG-E2E
title: Segmentation end to end
version: "1.0"
task: segmentation
device: {name: Test segmenter, version: 0.1.0, intended_use: testing}
segmentation:
  structures: {liver: 1, lesion: 2}
  nsd_tolerance_mm: 2.0
test_sets:
  - {id: site-a, site: Site A, manifest: data/site-a/manifest.csv}
  - {id: site-b, site: Site B, manifest: data/site-b/manifest.csv}
  - {id: site-c, site: Site C, manifest: data/site-c/manifest.csv}
attributes:
  sex: {column: sex}
statistics: {bootstrap: {replicates: 200, seed: 7}}
qc: {max_failed_fraction: 0.2}
requirements:
  - id: SEG-001
    text: Mean liver Dice at each site.
    criteria:
      - {metric: dice, statistic: mean, structure: liver, population: {each: site},
         op: ">=", value: 0.5}
  - id: SEG-002
    text: Median lesion HD95 upper bound.
    criteria:
      - {metric: hd95, statistic: median, structure: lesion, bound: upper, op: "<=", value: 50}
"""

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
DETECTION_PROTOCOL = """\
dxval: 1
id: DET-E2E
title: Detection end to end
version: "1.0"
task: detection
device: {name: Test detector, version: 0.1.0, intended_use: testing}
detection:
  truth: lesions.csv
  localisation: {iou: 0.5}
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
  - id: DET-002
    text: FPs per image at most 0.5 at each site.
    criteria:
      - {metric: fp_per_image, population: {each: site}, op: "<=", value: 0.5}
"""


def write_segmentation(folder: Path) -> Path:
    """Generate the segmentation cases into ``folder``, write and lock the protocol; its path."""
    generate_task_demo(folder / "data", task="segmentation", cases_per_site=3, seed=11)
    protocol = folder / "protocol.yaml"
    protocol.write_text(SEGMENTATION_PROTOCOL, encoding="utf-8")
    lock_protocol(protocol)
    return protocol


def write_detection(folder: Path, lesions: str = LESIONS, marks: str = MARKS) -> Path:
    """Write the detection truth, marks, manifests and protocol into ``folder``; lock it."""
    (folder / "lesions.csv").write_text(lesions)
    (folder / "marks.csv").write_text(marks)
    (folder / "a.csv").write_text("case_id\nA\nB\nC\n")
    (folder / "b.csv").write_text("case_id\nD\nE\n")
    protocol = folder / "protocol.yaml"
    protocol.write_text(DETECTION_PROTOCOL)
    lock_protocol(protocol)
    return protocol
