"""MANIFEST.sha256 in GNU sha256sum format."""

from __future__ import annotations

import pytest

from dxval.evidence import parse_manifest, render_manifest


def test_render_and_parse_round_trip() -> None:
    digests = {"run.json": "b" * 64, "audit.jsonl": "a" * 64, "figures/roc.svg": "c" * 64}
    content = render_manifest(digests)
    assert content == (
        f"{'a' * 64}  audit.jsonl\n{'c' * 64}  figures/roc.svg\n{'b' * 64}  run.json\n".encode()
    )
    parsed = parse_manifest(content)
    assert parsed.entries == digests
    assert parsed.malformed == ()


def test_malformed_and_unsafe_lines() -> None:
    content = (
        f"{'a' * 64}  ok.json\n"
        "not a digest line\n"
        f"{'b' * 64}  /etc/passwd\n"
        f"{'c' * 64}  ../outside\n"
        f"{'d' * 64}  ok.json\n"
        f"{'E' * 64}  upper.json\n"
    ).encode()
    parsed = parse_manifest(content)
    assert parsed.entries == {"ok.json": "a" * 64}
    assert parsed.malformed == (2, 3, 4, 5, 6)


def test_names_sha256sum_cannot_represent_are_refused() -> None:
    with pytest.raises(ValueError, match="not representable"):
        render_manifest({"bad\nname": "a" * 64})
