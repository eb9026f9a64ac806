"""Protocol ``robustness:`` and criteria on its levels: each problem located, exit 2 (issue 19)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.protocol.conftest import WriteProtocol

from dxval.errors import ExitCode, ProtocolError
from dxval.pipeline.plan import plan_run
from dxval.protocol import load_protocol

MODEL = (
    "model:\n  path: m.onnx\n  runtime: onnxruntime\n"
    "  input: {name: x, shape: [null, 1]}\n  output: {name: y}\n  operating_point: 0.5\n"
)
ROBUSTNESS = """\
robustness:
  perturbations:
    - {id: noise_0.02, perturbation: gaussian_noise, parameters: {relative_sd: 0.02}}
    - {perturbation: rotation, parameters: {degrees: 10}, seed: 5}
"""
PREDICTIONS = "predictions:\n  path: predictions.csv\n  score: score\n  operating_point: 0.5\n"


def _protocol(valid_protocol: str, *, robustness: str = ROBUSTNESS, criterion: str = "") -> str:
    text = valid_protocol.replace(PREDICTIONS, MODEL).replace(
        "requirements:", robustness + "requirements:"
    )
    if criterion:
        text += "  - id: ROB-001\n    text: Robust.\n    criteria:\n      - " + criterion + "\n"
    return text


@pytest.mark.req("DXV-ROBUST-003")
def test_levels_and_difference_criteria_are_planned(
    write_protocol: WriteProtocol, valid_protocol: str
) -> None:
    criterion = (
        "{metric: auc_difference, against: unperturbed, population: {perturbation: noise_0.02}, "
        'bound: lower, op: ">", value: -0.03}'
    )
    plan = plan_run(write_protocol(_protocol(valid_protocol, criterion=criterion)))
    assert [level.id for level in plan.robustness] == ["noise_0.02", "rotation_10"]
    assert plan.robustness[0].perturbation.seed == 20261206  # the section's default seed
    assert plan.robustness[1].perturbation.seed == 5
    spec = plan.requirements[-1].criteria[0]
    assert (spec.metric, spec.against, spec.population.form) == (
        "auc_difference",
        "unperturbed",
        "perturbation",
    )
    assert spec.population.describe() == "perturbation noise_0.02"


@pytest.mark.req("DXV-ROBUST-003")
@pytest.mark.parametrize(
    ("criterion", "match"),
    [
        (
            '{metric: auc_difference, population: {perturbation: noise_0.02}, op: ">", value: 0}',
            r"criteria\[0\]\.against: got no against for auc_difference expected against: "
            "<comparator id>",
        ),
        (
            "{metric: flip_fraction, against: released, population: {perturbation: noise_0.02}, "
            'op: "<", value: 0.1}',
            r"criteria\[0\]\.against: got 'released' expected 'unperturbed' on a "
            r"\{perturbation: ID\} population \(comparators are not scored on perturbed inputs\)",
        ),
        (
            '{metric: sensitivity_difference, against: unperturbed, op: ">", value: -0.1}',
            r"criteria\[0\]\.population: got 'all' expected \{perturbation: ID\}",
        ),
        (
            '{metric: auc, against: unperturbed, op: ">", value: 0.5}',
            r"criteria\[0\]\.against: got against on 'auc' expected a difference metric",
        ),
        (
            '{metric: auc, population: {perturbation: blur_1}, op: ">", value: 0.5}',
            r"population\.perturbation: got 'blur_1' expected one of 'noise_0.02', 'rotation_10'",
        ),
    ],
)
def test_bad_difference_criteria_are_exit_2_at_the_field(
    write_protocol: WriteProtocol, valid_protocol: str, criterion: str, match: str
) -> None:
    with pytest.raises(ProtocolError, match=match) as raised:
        load_protocol(write_protocol(_protocol(valid_protocol, criterion=criterion)))
    assert raised.value.exit_code == ExitCode.USAGE


@pytest.mark.req("DXV-ROBUST-005")
@pytest.mark.parametrize(
    ("robustness", "match"),
    [
        (
            "robustness:\n  perturbations:\n    - {perturbation: lateral_flip}\n",
            r"robustness\.perturbations\[0\]\.perturbation: got 'lateral_flip' without "
            r"allow_lateral_flip: true expected no left-right flip: refused because .*lateralised "
            "anatomy",
        ),
        (
            "robustness:\n  allow_lateral_flip: true\n"
            "  perturbations:\n    - {perturbation: lateral_flip}\n",
            r"got allow_lateral_flip: true without a lateral_flip_reason expected a statement",
        ),
        (
            "robustness:\n  perturbations:\n    - {perturbation: mirror}\n",
            r"perturbation: got 'mirror' expected one of 'rotation'",
        ),
        (
            "robustness:\n  perturbations:\n"
            "    - {perturbation: gaussian_noise, parameters: {relative_sd: 2}}\n",
            r"parameters: got relative_sd 2.0 expected a number from 0 to 1",
        ),
        (
            "robustness:\n  perturbations:\n    - {perturbation: jpeg, parameters: {}}\n",
            r"parameters: got parameters no parameters expected quality",
        ),
        (
            "robustness:\n  perturbations:\n"
            "    - {perturbation: gamma, parameters: {gamma: 1}}\n"
            "    - {perturbation: gamma, parameters: {gamma: 1}}\n",
            r"perturbations\[1\]\.id: got 'gamma_1' expected a level ID unique",
        ),
    ],
)
def test_bad_robustness_sections_are_exit_2_at_the_field(
    write_protocol: WriteProtocol, valid_protocol: str, robustness: str, match: str
) -> None:
    with pytest.raises(ProtocolError, match=match):
        load_protocol(write_protocol(_protocol(valid_protocol, robustness=robustness)))


@pytest.mark.req("DXV-ROBUST-001")
def test_robustness_needs_a_model_protocol(
    write_protocol: WriteProtocol, valid_protocol: str
) -> None:
    text = valid_protocol.replace("requirements:", ROBUSTNESS + "requirements:")
    match = r"robustness: got a robustness section in a predictions"
    with pytest.raises(ProtocolError, match=match):
        load_protocol(write_protocol(text))


@pytest.mark.req("DXV-ROBUST-001", "DXV-ROBUST-005")
def test_demo_robustness_protocol_is_valid_and_pinned_like_the_demo() -> None:
    """protocols/demo-robustness.yaml: noise (identity included), rotation ±10°, contrast."""
    protocols = Path(__file__).parents[2] / "protocols"
    plan = plan_run(protocols / "demo-robustness.yaml")
    demo = plan_run(protocols / "demo.yaml")
    names = {level.id: level.perturbation.name.value for level in plan.robustness}
    assert set(names.values()) == {"gaussian_noise", "rotation", "gamma"}
    assert plan.robustness[0].perturbation.is_identity
    degrees = sorted(
        level.perturbation.values["degrees"]
        for level in plan.robustness
        if level.perturbation.name.value == "rotation"
    )
    assert degrees == [-10.0, 10.0]
    assert plan.model is not None
    assert demo.model is not None
    assert plan.model.sha256 == demo.model.sha256
    assert [t.sha256 for t in plan.test_sets] == [t.sha256 for t in demo.test_sets]
    assert plan.preprocessing == demo.preprocessing
