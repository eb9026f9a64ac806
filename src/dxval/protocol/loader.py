"""Load a protocol file: YAML with node positions → validated :class:`Protocol`.

Every problem becomes one :class:`~dxval.errors.ProtocolError` whose message
reads ``file:line:col field.path: got X expected Y`` (several problems are
joined on the same line, the first five shown). Nothing outside the protocol
file is read here; relative paths are resolved against the protocol's folder
by :meth:`LoadedProtocol.resolve`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from dxval.data.limits import MAX_PROTOCOL_BYTES, MAX_YAML_NODES, read_input_bytes
from dxval.errors import ProtocolError
from dxval.protocol.checks import Issue, check_protocol, show_value
from dxval.protocol.locations import Position, allowed_keys, locate
from dxval.protocol.schema import Protocol
from dxval.protocol.sections import TestSet

#: How many problems one error message lists before summarising the rest.
MAX_REPORTED = 5


@dataclass(frozen=True, slots=True)
class LoadedProtocol:
    """A validated protocol with the exact bytes it came from.

    ``path`` is the file as named by the user; ``folder`` is its absolute
    folder, against which relative paths resolve; ``digest`` is the SHA-256
    (hex) of ``raw_bytes``.
    """

    protocol: Protocol
    path: Path
    folder: Path
    raw_bytes: bytes
    digest: str

    def resolve(self, relative: str) -> Path:
        """Resolve a path written in the protocol against the protocol's folder."""
        candidate = Path(relative)
        return candidate if candidate.is_absolute() else self.folder / candidate

    def data_root(self, test_set: TestSet) -> Path | None:
        """The folder ``test_set``'s manifest paths must stay inside; None: the manifest's."""
        return None if test_set.data_root is None else self.resolve(test_set.data_root)


def read_yaml_document(path: Path, raw_bytes: bytes) -> Any:
    """Parse ``raw_bytes`` as round-trip YAML (positions kept); raise ProtocolError with line."""
    try:
        text = raw_bytes.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ProtocolError(
            f"{path}: byte {error.start}: got bytes that are not UTF-8 expected a UTF-8 text file"
        ) from error
    try:
        return YAML(typ="rt").load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        context = f" ({error.context})" if error.context else ""
        raise ProtocolError(f"{where}: YAML syntax error: {error.problem}{context}") from error


def plain_yaml(node: Any, path: Path | None = None) -> Any:
    """Round-trip YAML nodes → plain dict/list/str/int/float/bool (pydantic's strict input).

    At most :data:`~dxval.data.limits.MAX_YAML_NODES` values are produced (an
    alias counts again wherever it is used), so an alias bomb fails fast.

    Raises
    ------
    ProtocolError
        The document expands to more values than the limit.
    """
    budget = [MAX_YAML_NODES]

    def convert(item: Any) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise ProtocolError(
                f"{path or 'protocol'}: got a document expanding to more than {MAX_YAML_NODES} "
                "values (YAML aliases included) expected a protocol within the documented limit"
            )
        if isinstance(item, dict):
            return {convert(key): convert(value) for key, value in item.items()}
        if isinstance(item, list):
            return [convert(element) for element in item]
        for plain_type in (bool, int, float, str):  # bool before int: bool is an int subclass
            if isinstance(item, plain_type):
                return plain_type(item)
        return item

    return convert(node)


def _expected_text(error: ErrorDetails) -> str:
    """What the user should have written, from a pydantic error."""
    context = error.get("ctx") or {}
    kind = error["type"]
    if kind == "literal_error":
        return f"one of {context['expected']}"
    if kind == "union_tag_invalid":
        return f"one of {context['expected_tags']}"
    if kind == "missing":
        return "a value (required)"
    message = str(error["msg"])
    for prefix in ("Input should be ", "Value error, "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message[:1].lower() + message[1:]


def _got_text(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "missing":
        return "nothing"
    if kind == "extra_forbidden":
        return f"unknown key {show_value(error['loc'][-1])}"
    if kind == "union_tag_invalid":
        return show_value((error.get("ctx") or {}).get("tag"))
    value = error.get("input")
    if isinstance(value, dict):
        return "a mapping " + show_value(value)
    if isinstance(value, list):
        return "a list " + show_value(value)
    return show_value(value)


def _pydantic_problems(document: Any, error: ValidationError) -> list[tuple[Position, str, str]]:
    problems: list[tuple[Position, str, str]] = []
    for detail in error.errors(include_url=False):
        location = detail["loc"]
        position = locate(document, location, error_type=detail["type"])
        expected = _expected_text(detail)
        if detail["type"] == "extra_forbidden":
            keys = allowed_keys(Protocol, location[:-1])
            expected = f"one of {', '.join(keys)}" if keys else "no such key"
        problems.append((position, _got_text(detail), expected))
    return problems


def _issue_problems(document: Any, issues: Iterable[Issue]) -> list[tuple[Position, str, str]]:
    return [(locate(document, issue.location), issue.got, issue.expected) for issue in issues]


def _raise_problems(path: Path, problems: Sequence[tuple[Position, str, str]]) -> NoReturn:
    """Merge problems at the same field (union alternatives) and raise one ProtocolError."""
    merged: dict[tuple[int, int, str], tuple[str, list[str]]] = {}
    for position, got, expected in problems:
        key = (position.line, position.column, position.path)
        if key in merged:
            if expected not in merged[key][1]:
                merged[key][1].append(expected)
        else:
            merged[key] = (got, [expected])
    lines = [
        f"{path}:{line}:{column} {field}: got {got} expected {' or '.join(expected)}"
        for (line, column, field), (got, expected) in merged.items()
    ]
    extra = len(lines) - MAX_REPORTED
    message = "; ".join(lines[:MAX_REPORTED]) + (f"; and {extra} more" if extra > 0 else "")
    raise ProtocolError(message)


def _yaml_kind(document: Any) -> str:
    if isinstance(document, list):
        return "list"
    if isinstance(document, bool | int | float):
        return "number or boolean"
    return "text scalar"


def load_protocol(path: str | Path) -> LoadedProtocol:
    """Read, parse and validate the protocol at ``path``.

    Parameters
    ----------
    path:
        A YAML file with ``dxval: 1`` at the top.

    Raises
    ------
    ProtocolError
        The file is missing, unreadable, not a regular file, larger than
        :data:`~dxval.data.limits.MAX_PROTOCOL_BYTES`, is not UTF-8 YAML (duplicate
        keys included), expands past :data:`~dxval.data.limits.MAX_YAML_NODES`, or breaks the
        schema or a cross-field rule; the message reads
        ``file:line:col field.path: got X expected Y``.
    """
    path = Path(path)
    raw_bytes = read_input_bytes(
        path, what="protocol file", limit=MAX_PROTOCOL_BYTES, error_type=ProtocolError
    )
    document = read_yaml_document(path, raw_bytes)
    if not isinstance(document, dict):
        # the type only: a file that is not a protocol may hold anything (never echo it)
        got = "nothing" if document is None else f"a {_yaml_kind(document)}"
        raise ProtocolError(
            f"{path}:1:1 (top level): got {got} expected a mapping starting with 'dxval: 1'"
        )
    plain = plain_yaml(document, path)
    try:
        protocol = Protocol.model_validate(plain)
    except ValidationError as error:
        _raise_problems(path, _pydantic_problems(document, error))
    issues = check_protocol(protocol)
    if issues:
        _raise_problems(path, _issue_problems(document, issues))
    return LoadedProtocol(
        protocol=protocol,
        path=path,
        folder=path.absolute().parent,
        raw_bytes=raw_bytes,
        digest=hashlib.sha256(raw_bytes).hexdigest(),
    )
