"""Protocol ``comparators:`` and ``pccp:`` checks (src/dxval/protocol/comparators.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dxval.errors import ProtocolError
from dxval.protocol import load_protocol

WriteProtocol = Callable[[str], Path]

PREDICTIONS = "predictions: {path: old.csv, operating_point: 0.5}"
MODEL = (
    "model: {path: old.onnx, runtime: onnxruntime, input: {name: image, shape: [null, 1, 8, 8]}, "
    "output: {name: score}, operating_point: 0.5}"
)


def _with_comparators(protocol: str, *comparators: str) -> str:
    block = "comparators:\n" + "".join(f"  - {item}\n" for item in comparators)
    return protocol.replace("requirements:", block + "requirements:")


def test_valid_comparators_and_pccp_load(
    write_protocol: WriteProtocol, valid_protocol: str
) -> None:
    text = _with_comparators(
        valid_protocol,
        f"{{id: original, role: original, {PREDICTIONS}}}",
        f"{{id: v1.3, role: last_released, {MODEL}}}",
    )
    text += "pccp: {id: PCCP-MOD-1, modification: retrained, method_refs: [PCCP 4.2]}\n"
    protocol = load_protocol(write_protocol(text)).protocol
    assert [c.id for c in protocol.comparators] == ["original", "v1.3"]
    assert [c.operating_point for c in protocol.comparators] == [0.5, 0.5]
    assert protocol.pccp is not None
    assert protocol.pccp.method_refs == ["PCCP 4.2"]


@pytest.mark.req("DXV-PCCP-001")
@pytest.mark.parametrize(
    ("comparators", "expected"),
    [
        (
            (f"{{id: a, role: original, {PREDICTIONS}}}", f"{{id: a, role: other, {PREDICTIONS}}}"),
            r"comparators\[1\]\.id: got duplicate ID 'a' expected a unique comparator ID",
        ),
        (("{id: a, role: original}",), r"comparators\[0\]: got neither model nor predictions"),
        (
            (f"{{id: a, role: original, {PREDICTIONS}, {MODEL}}}",),
            r"comparators\[0\]: got both model and predictions expected exactly one",
        ),
        (
            (f"{{id: a, role: original, {PREDICTIONS}, preprocessing: [{{op: monochrome2}}]}}",),
            r"comparators\[0\]\.preprocessing: got preprocessing for a predictions comparator",
        ),
        (
            (f"{{id: a, role: shipped, {PREDICTIONS}}}",),
            r"comparators\[0\]\.role",
        ),
        (
            (f"{{id: 'a b', role: original, {PREDICTIONS}}}",),
            r"comparators\[0\]\.id",
        ),
    ],
)
def test_comparator_checks(
    write_protocol: WriteProtocol,
    valid_protocol: str,
    comparators: tuple[str, ...],
    expected: str,
) -> None:
    path = write_protocol(_with_comparators(valid_protocol, *comparators))
    with pytest.raises(ProtocolError, match=expected):
        load_protocol(path)
