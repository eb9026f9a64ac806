"""``dxval schema``: print the JSON Schema of the protocol (``dxval: 1``)."""

from __future__ import annotations

import argparse


def _schema(args: argparse.Namespace) -> int:
    from dxval.protocol import json_schema_text

    print(json_schema_text(), end="")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``schema`` subcommand."""
    parser = subparsers.add_parser(
        "schema",
        help="print the protocol's JSON Schema",
        description="Print the JSON Schema (draft 2020-12) of validation protocols, for "
        "editors and linters that check a protocol as it is typed.",
    )
    parser.set_defaults(handler=_schema)
