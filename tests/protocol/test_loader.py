"""Loading protocols: every error names file, line, column, field, what was got and expected."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from dxval.errors import ProtocolError
from dxval.protocol import EachPopulation, load_protocol

WriteProtocol = Callable[[str], Path]


def test_valid_protocol_loads_with_digest_and_folder(
    write_protocol: WriteProtocol, valid_protocol: str
) -> None:
    path = write_protocol(valid_protocol)
    loaded = load_protocol(path)
    assert loaded.protocol.id == "VAL-TEST-001"
    assert loaded.digest == hashlib.sha256(valid_protocol.encode()).hexdigest()
    assert loaded.raw_bytes == valid_protocol.encode()
    assert loaded.folder == path.parent.absolute()
    assert loaded.resolve("a/manifest.csv") == path.parent.absolute() / "a" / "manifest.csv"
    assert loaded.resolve("/abs/file.csv") == Path("/abs/file.csv")
    assert loaded.protocol.truth.positive == ["1"]
    assert loaded.protocol.sites == ("Site A", "Site B")
    assert loaded.protocol.operating_point == 0.5
    population = loaded.protocol.requirements[1].criteria[0].population
    assert isinstance(population, EachPopulation)
    assert population.each == "site"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match=r"nope\.yaml: protocol file not found"):
        load_protocol(tmp_path / "nope.yaml")


def test_yaml_syntax_error_gives_line(write_protocol: WriteProtocol) -> None:
    path = write_protocol("dxval: 1\nid: [unclosed\ntitle: x\n")
    with pytest.raises(ProtocolError, match=r"protocol\.yaml:3:6: YAML syntax error: expected"):
        load_protocol(path)


def test_duplicate_yaml_key_is_a_syntax_error(write_protocol: WriteProtocol) -> None:
    path = write_protocol("dxval: 1\nid: A\nid: B\n")
    with pytest.raises(ProtocolError, match=r"protocol\.yaml:3:1: YAML syntax error: .*duplicate"):
        load_protocol(path)


def test_not_utf8(write_protocol: WriteProtocol) -> None:
    path = write_protocol("")
    path.write_bytes(b"dxval: 1\nid: \xff\n")
    with pytest.raises(ProtocolError, match=r"byte 13: got bytes that are not UTF-8"):
        load_protocol(path)


def test_document_that_is_not_a_mapping(write_protocol: WriteProtocol) -> None:
    path = write_protocol("- just\n- a list\n")
    with pytest.raises(
        ProtocolError, match=r"protocol\.yaml:1:1 \(top level\): got .* expected a mapping"
    ):
        load_protocol(path)


@pytest.mark.req("DXV-PROT-001")
def test_unknown_key_lists_allowed_keys(write_protocol: WriteProtocol, valid_protocol: str) -> None:
    text = valid_protocol.replace("bound: lower,", "bound: lower, popluation: all,")
    path = write_protocol(text)
    with pytest.raises(ProtocolError) as raised:
        load_protocol(path)
    message = raised.value.message
    assert message.startswith(f"{path}:21:62 requirements[0].criteria[0].popluation: ")
    assert "got unknown key 'popluation' expected one of metric, population, bound" in message


def test_unknown_top_level_key(write_protocol: WriteProtocol, valid_protocol: str) -> None:
    path = write_protocol(valid_protocol + "extra_section: 1\n")
    with pytest.raises(
        ProtocolError, match=r":26:1 extra_section: got unknown key 'extra_section'"
    ):
        load_protocol(path)


@pytest.mark.req("DXV-PROT-001")
def test_wrong_type_names_got_and_expected(
    write_protocol: WriteProtocol, valid_protocol: str
) -> None:
    path = write_protocol(valid_protocol.replace("value: 0.8}", 'value: "0.8"}'))
    with pytest.raises(
        ProtocolError,
        match=r":21:\d+ requirements\[0\]\.criteria\[0\]\.value: got '0\.8' expected a valid"
        r" number",
    ):
        load_protocol(path)


def test_version_must_be_text(write_protocol: WriteProtocol, valid_protocol: str) -> None:
    path = write_protocol(valid_protocol.replace('version: "1.0"', "version: 1.0"))
    with pytest.raises(ProtocolError, match=r":4:10 version: got 1\.0 expected a valid string"):
        load_protocol(path)


@pytest.mark.req("DXV-PROT-001")
def test_missing_required_field(write_protocol: WriteProtocol, valid_protocol: str) -> None:
    path = write_protocol(valid_protocol.replace("title: Test protocol\n", ""))
    with pytest.raises(
        ProtocolError, match=r":1:1 title: got nothing expected a value \(required\)"
    ):
        load_protocol(path)


def test_schema_version_must_be_one(write_protocol: WriteProtocol, valid_protocol: str) -> None:
    path = write_protocol(valid_protocol.replace("dxval: 1", "dxval: 2"))
    with pytest.raises(ProtocolError, match=r":1:8 dxval: got 2 expected one of 1"):
        load_protocol(path)


@pytest.mark.req("DXV-PROT-003")
def test_unknown_metric(write_protocol: WriteProtocol, valid_protocol: str) -> None:
    path = write_protocol(valid_protocol.replace("metric: sensitivity", "metric: sensitivty"))
    with pytest.raises(
        ProtocolError,
        match=r":21:\d+ requirements\[0\]\.criteria\[0\]\.metric: got 'sensitivty' expected one of "
        r"'sensitivity', 'specificity'",
    ):
        load_protocol(path)


@pytest.mark.req("DXV-PROT-003")
def test_unknown_operator(write_protocol: WriteProtocol, valid_protocol: str) -> None:
    path = write_protocol(valid_protocol.replace('op: ">=", value: 0.8', 'op: "=>", value: 0.8'))
    with pytest.raises(
        ProtocolError,
        match=r"criteria\[0\]\.op: got '=>' expected one of '>=', '<=', '>' or '<'",
    ):
        load_protocol(path)


@pytest.mark.req("DXV-PROT-003")
def test_unknown_population_form(write_protocol: WriteProtocol, valid_protocol: str) -> None:
    path = write_protocol(valid_protocol.replace("{each: site}", "{every: site}"))
    with pytest.raises(
        ProtocolError,
        match=r"requirements\[1\]\.criteria\[0\]\.population: got a mapping \{'every': 'site'\} "
        r"expected a population: 'all'",
    ):
        load_protocol(path)


@pytest.mark.req("DXV-PROT-002")
def test_unknown_population_attribute(write_protocol: WriteProtocol, valid_protocol: str) -> None:
    path = write_protocol(valid_protocol.replace("{each: site}", "{each: ethnicity}"))
    with pytest.raises(
        ProtocolError,
        match=r":25:\d+ requirements\[1\]\.criteria\[0\]\.population\.each: got 'ethnicity' "
        r"expected one of 'site', 'test_set', 'sex', 'age'",
    ):
        load_protocol(path)


@pytest.mark.req("DXV-PROT-002")
def test_duplicate_requirement_ids(write_protocol: WriteProtocol, valid_protocol: str) -> None:
    path = write_protocol(valid_protocol.replace("id: PERF-002", "id: PERF-001"))
    with pytest.raises(
        ProtocolError,
        match=r":22:9 requirements\[1\]\.id: got duplicate ID 'PERF-001' expected a unique"
        r" requirement ID",
    ):
        load_protocol(path)


@pytest.mark.req("DXV-PROT-002")
def test_both_model_and_predictions(write_protocol: WriteProtocol, valid_protocol: str) -> None:
    model = (
        "model:\n  path: m.onnx\n  runtime: onnxruntime\n"
        "  input: {name: x, shape: [null, 1]}\n  output: {name: y}\n  operating_point: 0.5\n"
    )
    path = write_protocol(valid_protocol.replace("predictions:\n", model + "predictions:\n"))
    with pytest.raises(
        ProtocolError,
        match=r":12:1 predictions: got both model and predictions expected exactly one",
    ):
        load_protocol(path)


def test_neither_model_nor_predictions(write_protocol: WriteProtocol, valid_protocol: str) -> None:
    text = valid_protocol.replace(
        "predictions:\n  path: predictions.csv\n  score: score\n  operating_point: 0.5\n", ""
    )
    path = write_protocol(text)
    with pytest.raises(
        ProtocolError,
        match=r":1:1 \(top level\): got neither model nor predictions expected exactly one",
    ):
        load_protocol(path)


@pytest.mark.req("DXV-DICOM-008")
def test_unknown_preprocessing_op_in_model_protocol(
    write_protocol: WriteProtocol, valid_protocol: str
) -> None:
    model = (
        "model:\n  path: m.onnx\n  runtime: onnxruntime\n"
        "  input: {name: x, shape: [null, 1]}\n  output: {name: y}\n  operating_point: 0.5\n"
        "preprocessing:\n  - {op: modality_lut}\n  - {op: sharpen, amount: 2}\n"
    )
    text = valid_protocol.replace(
        "predictions:\n  path: predictions.csv\n  score: score\n  operating_point: 0.5\n", model
    )
    path = write_protocol(text)
    with pytest.raises(
        ProtocolError,
        match=r":14:5 preprocessing\[1\]: got 'sharpen' expected one of 'modality_lut'",
    ):
        load_protocol(path)


@pytest.mark.req("DXV-DICOM-008")
def test_bad_preprocessing_parameter_is_located(
    write_protocol: WriteProtocol, valid_protocol: str
) -> None:
    model = (
        "model:\n  path: m.onnx\n  runtime: onnxruntime\n"
        "  input: {name: x, shape: [null, 1]}\n  output: {name: y}\n  operating_point: 0.5\n"
        "preprocessing:\n  - {op: window, center: 40, width: 400, widht: 3}\n"
    )
    text = valid_protocol.replace(
        "predictions:\n  path: predictions.csv\n  score: score\n  operating_point: 0.5\n", model
    )
    with pytest.raises(
        ProtocolError,
        match=r":13:\d+ preprocessing\[0\]\.widht: got unknown key 'widht' expected one of op,"
        r" center, "
        "width, function",
    ):
        load_protocol(write_protocol(text))


def test_several_errors_are_reported_on_one_line(
    write_protocol: WriteProtocol, valid_protocol: str
) -> None:
    text = valid_protocol.replace("metric: sensitivity", "metric: x").replace(
        'op: ">=", value: 0.7', 'op: "=", value: 0.7'
    )
    with pytest.raises(ProtocolError) as raised:
        load_protocol(write_protocol(text))
    message = raised.value.message
    assert "\n" not in message
    assert "criteria[0].metric: got 'x'" in message
    assert "requirements[1].criteria[0].op: got '='" in message


def test_many_errors_are_capped(write_protocol: WriteProtocol, valid_protocol: str) -> None:
    text = valid_protocol.replace(
        "test_sets:", "a1: 1\na2: 2\na3: 3\na4: 4\na5: 5\na6: 6\ntest_sets:"
    )
    with pytest.raises(ProtocolError, match=r"; and 1 more$"):
        load_protocol(write_protocol(text))


@pytest.mark.req("DXV-SPEED-002")
def test_average_precision_interval_choice(
    write_protocol: WriteProtocol, valid_protocol: str
) -> None:
    # The default (logit since issue 18) is tested under DXV-SCALESTATS-001.
    asked = valid_protocol + "statistics: {ap_ci: bootstrap}\n"
    assert load_protocol(write_protocol(asked)).protocol.statistics.ap_ci == "bootstrap"
    chosen = valid_protocol + "statistics: {ap_ci: logit}\n"
    assert load_protocol(write_protocol(chosen)).protocol.statistics.ap_ci == "logit"
    with pytest.raises(ProtocolError, match="ap_ci"):
        load_protocol(write_protocol(valid_protocol + "statistics: {ap_ci: wald}\n"))
