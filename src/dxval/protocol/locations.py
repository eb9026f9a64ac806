"""Map validation-error locations onto YAML line/column positions and field paths.

Pydantic reports an error at a location such as ``('requirements', 3,
'criteria', 0, 'op')``; union members add tags (``'EachPopulation'``, an op
name) that are not keys of the document. :func:`locate` walks the round-trip
YAML document (ruamel keeps each node's position) along that location,
skipping elements the document does not contain, and returns the 1-based
line and column plus the readable field path ``requirements[3].criteria[0].op``.
:func:`allowed_keys` walks the pydantic model types the same way to list the
keys a mapping accepts, for "unknown key" messages.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from dxval.protocol.preprocessing import OPS


@dataclass(frozen=True, slots=True)
class Position:
    """Where a field is: 1-based line and column, and its dotted/indexed path."""

    line: int
    column: int
    path: str


def format_path(parts: Sequence[str | int]) -> str:
    """``('a', 0, 'b')`` → ``'a[0].b'``; the empty path is ``'(top level)'``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _node_start(node: Any) -> tuple[int, int]:
    lc = getattr(node, "lc", None)
    if lc is None or lc.line is None:
        return (0, 0)
    return (lc.line, lc.col)


def _child_position(node: Any, element: str | int, *, prefer_key: bool) -> tuple[int, int]:
    """Position of ``node[element]``: its value, or its key for collections and unknown keys."""
    lc = node.lc
    if isinstance(node, list):
        line, column = lc.item(element)
    elif prefer_key or isinstance(node[element], (dict, list)):
        line, column = lc.key(element)
    else:
        line, column = lc.value(element)
    return (int(line), int(column))


def locate(document: Any, location: Sequence[str | int], *, error_type: str = "") -> Position:
    """Find ``location`` in a ruamel round-trip ``document``.

    Parameters
    ----------
    document:
        The ``CommentedMap`` loaded by ruamel.yaml's round-trip loader.
    location:
        A pydantic error ``loc`` or a :class:`dxval.protocol.checks.Issue` location.
    error_type:
        The pydantic error type, or ``""`` for a cross-field issue. For
        ``missing`` and for issues the last element may be a key the document
        lacks (a defaulted field); it is kept in the path, positioned at its
        parent mapping. Other elements the document lacks are union tags and
        are skipped.
    """
    node = document
    parts: list[str | int] = []
    position = _node_start(document)
    for index, element in enumerate(location):
        is_last = index == len(location) - 1
        found = (isinstance(node, dict) and element in node) or (
            isinstance(node, list) and isinstance(element, int) and 0 <= element < len(node)
        )
        if found:
            position = _child_position(node, element, prefer_key=error_type == "extra_forbidden")
            node = node[element]
            parts.append(element)
        elif is_last and error_type in ("missing", ""):
            parts.append(element)
            position = _node_start(node)
    return Position(line=position[0] + 1, column=position[1] + 1, path=format_path(parts))


def _unwrap(annotation: Any) -> list[Any]:
    """The alternatives of an annotation: Annotated and Optional removed, unions flattened."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [
            member
            for argument in typing.get_args(annotation)
            if argument is not type(None)
            for member in _unwrap(argument)
        ]
    return [annotation]


def _step(annotation: Any, element: str | int) -> Any | None:
    """The annotation reached from ``annotation`` by one location element, or None."""
    for member in _unwrap(annotation):
        origin = typing.get_origin(member)
        if isinstance(member, type) and issubclass(member, BaseModel):
            if isinstance(element, str) and element in member.model_fields:
                return member.model_fields[element].annotation
            if member.__name__ == element:
                return member
        elif origin is list and isinstance(element, int):
            return typing.get_args(member)[0]
        elif origin is dict and isinstance(element, str):
            return typing.get_args(member)[1]
    if isinstance(element, str) and element in OPS:
        return OPS[element]
    return None


def allowed_keys(root: type[BaseModel], location: Sequence[str | int]) -> list[str]:
    """Keys accepted by the model at ``location`` below ``root`` (empty when not a model).

    Union tags in the location select the member model, so the keys of the
    population form or preprocessing op actually chosen are listed.
    """
    annotation: Any = root
    for element in location:
        following = _step(annotation, element)
        if following is None:
            continue  # a tag or element that does not narrow the type
        annotation = following
    models = [
        member
        for member in _unwrap(annotation)
        if isinstance(member, type) and issubclass(member, BaseModel)
    ]
    return list(models[0].model_fields) if len(models) == 1 else []
