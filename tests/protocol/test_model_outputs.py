"""``model.output.kind``: the kind fits the task and a mask is fully declared (exit 2 at load)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dxval.errors import ProtocolError
from dxval.inference.config import ModelConfig
from dxval.inference.outputs import MaskEncoding, OutputKind
from dxval.protocol import load_protocol

WriteProtocol = Callable[[str], Path]

MODEL = """\
model:
  path: model.onnx
  runtime: onnxruntime
  input: {name: image, shape: [null, 16, 48, 48]}
  output: {name: labels, kind: mask, shape: [null, 16, 48, 48], transpose: [1, 2, 0]}
  operating_point: 0.5
"""

SEGMENTATION = f"""\
dxval: 1
id: SEG-MODEL-001
title: Segmentation model protocol
version: "1.0"
task: segmentation
device: {{name: Test device, version: 0.1.0, intended_use: testing}}
{MODEL}segmentation:
  structures: {{liver: 1, lesion: 2}}
  nsd_tolerance_mm: 2.0
test_sets:
  - {{id: site-a, site: Site A, manifest: a/manifest.csv}}
requirements:
  - id: SEG-001
    text: Liver Dice.
    criteria:
      - {{metric: dice, statistic: mean, structure: liver, op: ">=", value: 0.9}}
"""

CLASSIFICATION = f"""\
dxval: 1
id: CLS-MODEL-001
title: Classification model protocol
version: "1.0"
device: {{name: Test device, version: 0.1.0, intended_use: testing}}
{MODEL.replace("kind: mask, shape: [null, 16, 48, 48], transpose: [1, 2, 0]", "kind: score")}\
test_sets:
  - {{id: site-a, site: Site A, manifest: a/manifest.csv}}
truth: {{column: label, positive: 1, negative: 0, reference_standard: biopsy}}
requirements:
  - id: PERF-001
    text: Sensitivity.
    criteria:
      - {{metric: sensitivity, op: ">=", value: 0.8}}
"""

DETECTION = """\
dxval: 1
id: DET-MODEL-001
title: Detection model protocol
version: "1.0"
task: detection
device: {name: Test device, version: 0.1.0, intended_use: testing}
model:
  path: model.onnx
  runtime: onnxruntime
  input: {name: image, shape: [null, 1, 64, 64]}
  output: {name: boxes, kind: boxes}
  operating_point: 0.5
detection: {truth: lesions.csv, localisation: {iou: 0.3}}
test_sets:
  - {id: site-a, site: Site A, manifest: a/manifest.csv}
requirements:
  - id: DET-001
    text: Lesion sensitivity.
    criteria:
      - {metric: lesion_sensitivity, op: ">=", value: 0.8}
"""


@pytest.mark.req("DXV-TASKMODEL-001")
def test_a_mask_model_loads_into_a_mask_declaration(write_protocol: WriteProtocol) -> None:
    loaded = load_protocol(write_protocol(SEGMENTATION))
    assert loaded.protocol.model is not None
    config = ModelConfig.from_mapping(loaded.protocol.model.model_dump(), folder=Path())
    assert config.output.kind is OutputKind.MASK
    assert config.output.mask is not None
    assert config.output.mask.encoding is MaskEncoding.LABELS
    assert config.output.mask.case_shape == (16, 48, 48)
    assert config.output.mask.transpose == (1, 2, 0)
    classification = load_protocol(write_protocol(CLASSIFICATION))
    assert classification.protocol.model is not None
    assert classification.protocol.model.output.kind == "score"


@pytest.mark.req("DXV-TASKMODEL-001")
@pytest.mark.parametrize(
    ("text", "old", "new", "expected"),
    [
        (
            SEGMENTATION,
            "kind: mask, shape: [null, 16, 48, 48], transpose: [1, 2, 0]",
            "kind: score",
            r":11:\d+ model\.output\.kind: got 'score' for task: segmentation expected 'mask'",
        ),
        (
            CLASSIFICATION,
            "kind: score",
            "kind: mask, shape: [null, 48, 48]",
            r"model\.output\.kind: got 'mask' for task: classification expected 'score'",
        ),
        (
            DETECTION,
            "",
            "",
            r"model\.output: got no score_floor for kind: boxes expected score_floor:",
        ),
        (
            SEGMENTATION,
            "shape: [null, 16, 48, 48], ",
            "",
            r"model\.output: got no shape for kind: mask expected shape: the output's shape",
        ),
        (
            SEGMENTATION,
            "transpose: [1, 2, 0]",
            "transpose: [1, 1, 0]",
            r"model\.output\.transpose: got \[1, 1, 0\] expected a permutation of \[0, 1, 2\]",
        ),
        (
            SEGMENTATION,
            "kind: mask, shape: [null, 16, 48, 48]",
            "kind: mask, shape: [null, 3, 16, 48, 48], encoding: probabilities, "
            "channel_labels: [0, 1]",
            r"model\.output\.channel_labels: got 2 labels expected one per output channel \(3",
        ),
        (
            CLASSIFICATION,
            "kind: score",
            "kind: score, transpose: [0, 1]",
            r"model\.output\.transpose: got transpose expected none for kind: score",
        ),
        (
            SEGMENTATION,
            "  operating_point: 0.5\n",
            "  operating_point: 0.5\n  reference: {input: r.npy, expected: [1.0]}\n",
            r"model\.reference\.expected: got expected values for a mask output expected "
            r"expected_sha256",
        ),
        (
            SEGMENTATION,
            "  operating_point: 0.5\n",
            "  operating_point: 0.5\n  reference: {input: r.npy}\n",
            r"model\.reference: got neither of expected and expected_sha256 expected exactly one",
        ),
        (
            SEGMENTATION,
            "nsd_tolerance_mm: 2.0",
            "nsd_tolerance_mm: 2.0\n  prediction: prediction_mask",
            r"segmentation\.prediction: got a prediction column beside a model expected none",
        ),
    ],
)
def test_a_misfit_output_declaration_is_refused_at_its_line(
    write_protocol: WriteProtocol, text: str, old: str, new: str, expected: str
) -> None:
    with pytest.raises(ProtocolError, match=expected):
        load_protocol(write_protocol(text.replace(old, new)))
