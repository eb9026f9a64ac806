"""Provenance, truthing, sample-size, limitation and deviation fields of the protocol (issue 14)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import get_args

import pytest

from dxval.errors import ProtocolError
from dxval.protocol import load_protocol, provenance, sections

WriteProtocol = Callable[[str], Path]

FIELDS = """\
data:
  collection:
    site-a:
      period: 2020-01 to 2020-12
      inclusion: adults
      exclusion: none
      acquisition_devices: [Scanner One]
truth:
  column: label
  positive: 1
  negative: 0
  reference_standard: biopsy
  process:
    truthers: {number: 3, qualification: radiologists}
    blinding: blinded to the device output
    adjudication: majority
    agreement: Fleiss kappa 0.8
sample_size:
  sensitivity: {assumed: 0.9, lower_limit: 0.75}
  auc: {assumed: 0.9, margin: 0.05}
limitations: [Adults only.]
deviations:
  - {id: DEV-1, description: late delivery, impact: none, classification: minor}
"""
TRUTH = "truth: {column: label, positive: 1, negative: 0, reference_standard: biopsy}\n"


def _with_fields(protocol: str, fields: str = FIELDS) -> str:
    return protocol.replace(TRUTH, fields)


def test_local_copies_equal_the_sections_originals() -> None:
    # provenance cannot import protocol.sections (which imports it): the copies must not drift
    assert get_args(provenance.ProportionCiMethod) == get_args(sections.ProportionCiMethod)
    assert provenance.Identifier == sections.Identifier
    assert provenance.Section.model_config == sections.Section.model_config


@pytest.mark.req("DXV-RA-001")
def test_every_new_field_loads(write_protocol: WriteProtocol, valid_protocol: str) -> None:
    protocol = load_protocol(write_protocol(_with_fields(valid_protocol))).protocol
    assert protocol.data is not None
    assert protocol.data.collection["site-a"].acquisition_devices == ["Scanner One"]
    assert protocol.truth.process is not None
    assert protocol.truth.process.truthers is not None
    assert protocol.truth.process.truthers.number == 3
    assert protocol.sample_size is not None
    assert protocol.sample_size.power == 0.8  # default
    assert protocol.limitations == ["Adults only."]
    assert protocol.deviations[0].classification == "minor"


@pytest.mark.req("DXV-RA-001")
def test_every_new_field_is_optional(write_protocol: WriteProtocol, valid_protocol: str) -> None:
    protocol = load_protocol(write_protocol(valid_protocol)).protocol
    assert protocol.data is None
    assert protocol.truth.process is None
    assert protocol.sample_size is None
    assert protocol.limitations == []
    assert protocol.deviations == []


@pytest.mark.req("DXV-RA-001")
@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    site-a:\n",
            "    site-z:\n",
            r":15:\d+ data\.collection\.site-z: got 'site-z' expected one of 'site-a', 'site-b'",
        ),
        (
            "classification: minor}",
            "classification: minor}\n  - {id: DEV-1, description: b, impact: c, "
            "classification: major}",
            r"deviations\[1\]\.id: got 'DEV-1' expected a unique deviation ID",
        ),
        ("classification: minor", "classification: critical", r"deviations\[0\]\.classification"),
        (
            "{assumed: 0.9, lower_limit: 0.75}",
            "{assumed: 0.7, lower_limit: 0.75}",
            r"sample_size\.sensitivity.*assumed \(0\.7\) must exceed lower_limit \(0\.75\)",
        ),
        ("auc: {assumed: 0.9, margin: 0.05}", "auc: {assumed: 0.4, margin: 0.05}", r"auc\.assumed"),
        ("number: 3", "number: 0", r"truth\.process\.truthers\.number"),
        ("    blinding:", "    blinded:", r"truth\.process\.blinded"),
    ],
)
def test_bad_values_are_located(
    write_protocol: WriteProtocol, valid_protocol: str, old: str, new: str, expected: str
) -> None:
    text = _with_fields(valid_protocol).replace(old, new, 1)
    with pytest.raises(ProtocolError, match=expected):
        load_protocol(write_protocol(text))


def test_sample_size_needs_something_to_size(
    write_protocol: WriteProtocol, valid_protocol: str
) -> None:
    fields = "sample_size: {alpha: 0.05, power: 0.8}\n" + TRUTH
    with pytest.raises(ProtocolError, match="state at least one of sensitivity, specificity, auc"):
        load_protocol(write_protocol(_with_fields(valid_protocol, fields)))
