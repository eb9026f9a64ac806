"""``model.output.kind: boxes``: the declaration and its load-time checks (exit 2, one line)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dxval.cli import main
from dxval.errors import ProtocolError
from dxval.inference.config import ModelConfig
from dxval.inference.outputs import BoxSpec, OutputKind
from dxval.protocol import load_protocol

WriteProtocol = Callable[[str], Path]

DETECTION = """\
dxval: 1
id: DET-BOXES-001
title: Box model protocol
version: "1.0"
task: detection
device: {name: Test device, version: 0.1.0, intended_use: testing}
model:
  path: model.onnx
  runtime: onnxruntime
  input: {name: image, shape: [null, 1, 32, 32]}
  output: {name: boxes, kind: boxes, shape: [null, 16, 5], score_floor: 0.25}
  operating_point: 0.5
preprocessing:
  - {op: resize, size: [32, 32]}
detection: {truth: lesions.csv, localisation: {iou: 0.3}}
test_sets:
  - {id: site-a, site: Site A, manifest: a/manifest.csv}
requirements:
  - id: DET-001
    text: Lesion sensitivity.
    criteria:
      - {metric: lesion_sensitivity, op: ">=", value: 0.8}
"""

OUTPUT = "output: {name: boxes, kind: boxes, shape: [null, 16, 5], score_floor: 0.25}"


@pytest.mark.req("DXV-TASKBOX-001")
def test_a_box_model_loads_into_a_box_declaration(write_protocol: WriteProtocol) -> None:
    loaded = load_protocol(write_protocol(DETECTION))
    assert loaded.protocol.model is not None
    config = ModelConfig.from_mapping(loaded.protocol.model.model_dump(), folder=Path())
    assert config.output.kind is OutputKind.BOXES
    assert config.output.boxes == BoxSpec(shape=(None, 16, 5), score_floor=0.25)
    assert config.output.boxes.values_per_case == 80
    assert config.output.mask is None


def _output(fields: str) -> str:
    return DETECTION.replace(OUTPUT, f"output: {{name: boxes, kind: boxes{fields}}}")


@pytest.mark.req("DXV-TASKBOX-001")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_output(", score_floor: 0.25"), r":11:\d+ model\.output: got no shape for kind: boxes"),
        (
            _output(", shape: [null, 16, 4], score_floor: 0.25"),
            r"model\.output\.shape: got \[null, 16, 4\] expected \[null, N, 5\]",
        ),
        (
            _output(", shape: [null, null, 5], score_floor: 0.25"),
            r"model\.output\.shape: got \[null, null, 5\] expected \[null, N, 5\]",
        ),
        (
            _output(", shape: [2, 16, 5], score_floor: 0.25"),
            r"model\.output\.shape: got \[2, 16, 5\] expected \[null, N, 5\]",
        ),
        (
            _output(", shape: [null, 16, 5]"),
            r"model\.output: got no score_floor for kind: boxes expected score_floor:",
        ),
        (
            _output(", shape: [null, 16, 5], score_floor: 0.25, transpose: [1, 0]"),
            r"model\.output\.transpose: got transpose expected none for kind: boxes",
        ),
        (
            DETECTION.replace("{op: resize, size: [32, 32]}", "{op: crop_or_pad, size: [32, 32]}"),
            r"preprocessing\[0\]\.op: got 'crop_or_pad' before a box model expected no crop_or_pad",
        ),
        (
            DETECTION.replace(OUTPUT, "output: {name: boxes, kind: score}"),
            r"model\.output\.kind: got 'score' for task: detection expected 'boxes'",
        ),
        (
            DETECTION + "predictions: {path: marks.csv, operating_point: 0.5}\n",
            r"predictions: got both model and predictions",
        ),
    ],
)
def test_a_misdeclared_box_output_is_refused_at_load(
    write_protocol: WriteProtocol, text: str, expected: str
) -> None:
    with pytest.raises(ProtocolError, match=expected):
        load_protocol(write_protocol(text))


@pytest.mark.req("DXV-TASKBOX-001")
def test_a_score_floor_on_a_mask_output_is_refused(write_protocol: WriteProtocol) -> None:
    text = DETECTION.replace("task: detection", "task: segmentation").replace(
        "detection: {truth: lesions.csv, localisation: {iou: 0.3}}",
        "segmentation: {structures: {liver: 1}, nsd_tolerance_mm: 2.0}",
    )
    mask = "output: {name: m, kind: mask, shape: [null, 4, 4], score_floor: 1}"
    text = text.replace(OUTPUT, mask)
    text = text.replace("lesion_sensitivity, op", "dice, statistic: mean, structure: liver, op")
    with pytest.raises(ProtocolError, match=r"model\.output\.score_floor: got score_floor"):
        load_protocol(write_protocol(text))


@pytest.mark.req("DXV-TASKBOX-001")
def test_validate_refuses_a_misdeclared_box_output_with_one_line(
    write_protocol: WriteProtocol, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = write_protocol(_output(", shape: [null, 16, 6], score_floor: 0.25"))
    out = protocol.parent / "out"
    assert main(["validate", str(protocol), "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1
    assert error[0].startswith("dxval: error: ")
    assert "model.output.shape: got [null, 16, 6] expected [null, N, 5]" in error[0]
    assert not out.exists()
