"""Mapping validation-error locations onto YAML positions and field paths."""

from __future__ import annotations

from ruamel.yaml import YAML

from dxval.protocol import Protocol
from dxval.protocol.locations import allowed_keys, format_path, locate

DOCUMENT = """\
a:
  b: [1, {c: 2}]
  d: text
"""


def test_format_path() -> None:
    assert format_path(("requirements", 3, "criteria", 0, "op")) == "requirements[3].criteria[0].op"
    assert format_path(()) == "(top level)"


def test_locate_value_key_and_missing() -> None:
    document = YAML(typ="rt").load(DOCUMENT)
    value = locate(document, ("a", "d"))
    assert (value.line, value.column, value.path) == (3, 6, "a.d")
    nested = locate(document, ("a", "b", 1, "c"))
    assert (nested.line, nested.column, nested.path) == (2, 14, "a.b[1].c")
    unknown = locate(document, ("a", "d"), error_type="extra_forbidden")
    assert (unknown.line, unknown.column) == (3, 3)
    missing = locate(document, ("a", "e"), error_type="missing")
    assert (missing.line, missing.column, missing.path) == (2, 3, "a.e")


def test_locate_skips_union_tags() -> None:
    document = YAML(typ="rt").load("p:\n  - {each: x}\n")
    position = locate(document, ("p", 0, "EachPopulation", "each"))
    assert position.path == "p[0].each"


def test_allowed_keys_follow_tags_and_ops() -> None:
    assert allowed_keys(
        Protocol, ("requirements", 0, "criteria", 0, "population", "EachPopulation")
    ) == [
        "each",
        "site",
    ]
    assert allowed_keys(Protocol, ("preprocessing", 0, "resize")) == ["op", "size", "method"]
    assert "device" in allowed_keys(Protocol, ())
