"""Write pinned digests into a protocol file, keeping its comments, order and layout.

The protocol is edited with ruamel.yaml's round-trip mode (comments, key
order, quoting and flow/block style survive); only the ``sha256`` fields
change, and a missing one is inserted after the path it pins. The file is
replaced atomically (temporary file in the same folder, then rename).
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.tokens import CommentToken
from ruamel.yaml.util import load_yaml_guess_indent

from dxval.errors import InputError


@dataclass(frozen=True, slots=True)
class PinUpdate:
    """One digest to write: the mapping that holds it, the key, after which key, the values."""

    location: tuple[str | int, ...]
    key: str
    after: str
    old: str | None
    new: str

    @property
    def field(self) -> str:
        """Dotted protocol field, e.g. ``test_sets[0].sha256``."""
        text = ""
        for part in (*self.location, self.key):
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
        return text


def _mapping_indent(text: str) -> int:
    """Smallest indentation of a nested mapping key (ruamel guesses sequences only)."""
    indents = [
        len(line) - len(line.lstrip(" "))
        for line in text.splitlines()
        if line.startswith(" ") and line.strip() and line.lstrip()[0] not in "-#"
    ]
    return min(indents, default=2)


def _round_trip_yaml(text: str) -> YAML:
    _, sequence_indent, offset = load_yaml_guess_indent(text)
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long line the user wrote on one line
    yaml.indent(mapping=_mapping_indent(text), sequence=sequence_indent or 2, offset=offset or 0)
    yaml.representer.add_representer(
        type(None),
        lambda representer, _: representer.represent_scalar("tag:yaml.org,2002:null", "null"),
    )
    return yaml


def _set_pin(document: Any, update: PinUpdate) -> None:
    node = document
    for part in update.location:
        node = node[part]
    if update.key in node:
        node[update.key] = update.new
        return
    keys = list(node)
    after = update.after if update.after in keys else keys[-1]
    node.insert(keys.index(after) + 1, update.key, update.new)
    _move_following_lines(node, after, update.key)


def _move_following_lines(node: Any, after: str, key: str) -> None:
    """Keep blank lines and full-line comments below the inserted key, not above it.

    ruamel attaches the lines after a value to that key's comment token; the
    inline comment (first line) stays with ``after``, the rest moves to ``key``.
    """
    tokens = node.ca.items.get(after)
    if not tokens or len(tokens) < 3 or tokens[2] is None:
        return
    token = tokens[2]
    first, separator, rest = token.value.partition("\n")
    if not rest:
        return
    token.value = first + separator
    node.ca.items[key] = [None, None, CommentToken("\n" + rest, token.start_mark, None), None]


def rewrite_pins(raw_bytes: bytes, updates: Sequence[PinUpdate]) -> bytes:
    """Return the protocol text ``raw_bytes`` with every ``updates`` digest written in.

    Comments, key order, quoting and flow/block style are kept; indentation is
    guessed from the file. Raises nothing for a valid protocol (the caller
    loaded it already).
    """
    text = raw_bytes.decode("utf-8")
    yaml = _round_trip_yaml(text)
    document = yaml.load(text)
    for update in updates:
        _set_pin(document, update)
    stream = io.StringIO()
    yaml.dump(document, stream)
    return stream.getvalue().encode("utf-8")


def replace_file(path: Path, content: bytes) -> None:
    """Atomically replace ``path`` with ``content`` (same folder, then rename), keeping its mode.

    Raises
    ------
    InputError
        The folder is not writable.
    """
    try:
        mode = path.stat().st_mode & 0o7777
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as error:
        raise InputError(f"{path}: cannot write ({error.strerror})") from error
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
