"""``dxval keygen --name NAME --out KEY``: create a passphrase-protected Ed25519 signing key.

The passphrase is read from ``$DXVAL_KEY_PASSPHRASE`` when set (automation),
else prompted for twice without echo.
"""

from __future__ import annotations

import argparse

from dxval.evidence.signatures import (
    PASSPHRASE_VARIABLE,
    generate_key,
    key_fingerprint,
    read_passphrase,
)


def _keygen(args: argparse.Namespace) -> int:
    passphrase = read_passphrase(confirm=True, prompt=f"New passphrase for {args.out}: ")
    path, key_id = generate_key(args.name, args.out, passphrase=passphrase)
    print(f"{path}: Ed25519 signing key of {' '.join(args.name.split())}")
    print(f"key ID {key_id} ({key_fingerprint(key_id)})")
    print(
        f"public identity: {path}.pub (list it in the signer registry, e.g. qms/signers.yaml, "
        "so that verify --signers can tell whose key this is)"
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``keygen`` subcommand."""
    parser = subparsers.add_parser(
        "keygen",
        help="create a passphrase-protected Ed25519 key for signing evidence bundles",
        description="Create an Ed25519 signing key bound to a printed name. The private key "
        "is stored encrypted with a passphrase (PKCS #8); key file and passphrase are the two "
        "identification components of an electronic signature (21 CFR 11.200). The passphrase "
        f"is prompted for, or read from ${PASSPHRASE_VARIABLE} when set (automation).",
    )
    parser.add_argument(
        "--name", required=True, help="the signer's printed name, shown with each signature"
    )
    parser.add_argument(
        "--out", required=True, metavar="KEY", help="key file to create (never overwritten)"
    )
    parser.set_defaults(handler=_keygen)
