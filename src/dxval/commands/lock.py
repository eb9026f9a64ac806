"""``dxval lock PROTOCOL``: compute the model and test-set digests and pin them in the protocol."""

from __future__ import annotations

import argparse


def _lock(args: argparse.Namespace) -> int:
    from dxval.pipeline import lock_protocol

    result = lock_protocol(args.protocol)
    for update in result.updates:
        state = "unchanged" if update.old == update.new else "written"
        print(f"{update.field}: {update.new} ({state})")
    verb = "updated" if result.changed else "already locked; not changed"
    print(f"{result.path}: {verb}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``lock`` subcommand."""
    parser = subparsers.add_parser(
        "lock",
        help="pin the SHA-256 of the model, predictions and test sets in a protocol",
        description="Hash the model or predictions file and every test-set manifest with the "
        "files it names, and write the digests into the protocol's sha256 fields, keeping its "
        "comments and key order. A locked protocol refuses to run on changed inputs (exit 3).",
    )
    parser.add_argument("protocol", metavar="PROTOCOL", help="the protocol YAML file")
    parser.set_defaults(handler=_lock)
