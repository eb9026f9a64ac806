"""Signing keys: Ed25519, bound to a printed name, private key encrypted with a passphrase.

A key file is JSON (:data:`KEY_SCHEMA`) holding the printed name, the raw
public key, a self-signature binding the name to the key, and the private key
as PKCS #8 PEM encrypted with the passphrase (``BestAvailableEncryption``).
Key file and passphrase are the two identification components of a
non-biometric electronic signature (21 CFR 11.200(a)(1)). ``keygen`` also
writes ``KEY.pub``, the identity without the private key.
"""

from __future__ import annotations

import base64
import getpass
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from dxval.data.hashing import sha256_bytes
from dxval.errors import IntegrityError, UsageError
from dxval.evidence.audit import utc_now
from dxval.stats.wording import plural

KEY_SCHEMA = "dxval-key/1"
#: Environment variable read instead of prompting for the passphrase (automation, CI).
PASSPHRASE_VARIABLE = "DXVAL_KEY_PASSPHRASE"  # noqa: S105  (a variable name, not a secret)
MINIMUM_PASSPHRASE_LENGTH = 8


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A decrypted signing key and the identity bound to it."""

    name: str
    key_id: str
    private_key: Ed25519PrivateKey

    @property
    def public_bytes(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        return raw_public_bytes(self.private_key.public_key())


def canonical_json(document: Any) -> bytes:
    """Canonical JSON bytes (sorted keys, no spaces, UTF-8) of what is signed."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def raw_public_bytes(public_key: Ed25519PublicKey) -> bytes:
    """The raw 32-byte encoding of an Ed25519 public key (RFC 8032 §5.1.5)."""
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(public_bytes: bytes) -> str:
    """Key ID: SHA-256 (hex) of the raw 32-byte public key."""
    return sha256_bytes(public_bytes)


def key_fingerprint(key_id: str) -> str:
    """Short display form of a key ID: the first 16 hex digits in groups of four."""
    return " ".join(key_id[index : index + 4] for index in range(0, 16, 4))


def _identity_message(identity: dict[str, Any]) -> bytes:
    return b"dxval-key-identity/1\n" + canonical_json(identity)


def _write_new(path: Path, content: bytes, *, mode: int) -> None:
    """Create ``path`` exclusively (never overwrite) with permissions ``mode``."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError as error:
        raise UsageError(f"{path}: file exists; expected a new key file name") from error
    except OSError as error:
        raise UsageError(f"{path}: cannot create key file ({error.strerror})") from error
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)


def check_passphrase(passphrase: str) -> None:
    """Refuse a passphrase shorter than :data:`MINIMUM_PASSPHRASE_LENGTH` characters.

    Raises
    ------
    UsageError
        The passphrase is too short.
    """
    if len(passphrase) < MINIMUM_PASSPHRASE_LENGTH:
        raise UsageError(
            f"passphrase: got {plural(len(passphrase), 'character')}, expected at least "
            f"{MINIMUM_PASSPHRASE_LENGTH}"
        )


def generate_key(name: str, out: str | Path, *, passphrase: str) -> tuple[Path, str]:
    """Create an Ed25519 signing key for the person ``name`` (``dxval keygen``).

    Writes ``out`` (mode 0600: identity and the passphrase-encrypted PKCS #8
    private key) and ``out.pub`` (the identity and public key, to hand to
    whoever checks signatures); neither is ever overwritten.

    Returns the key file path and the key ID.

    Raises
    ------
    UsageError
        Empty name, short passphrase, or ``out`` exists or cannot be written.
    """
    name = " ".join(name.split())
    if not name:
        raise UsageError("--name: got an empty name, expected the signer's printed name")
    check_passphrase(passphrase)
    out = Path(out)
    private_key = Ed25519PrivateKey.generate()
    public_bytes = raw_public_bytes(private_key.public_key())
    identity = {
        "schema": KEY_SCHEMA,
        "name": name,
        "created_utc": utc_now(),
        "key_id": key_id_of(public_bytes),
        "public_key": base64.b64encode(public_bytes).decode(),
    }
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")),
    )
    self_signature = private_key.sign(_identity_message(identity))
    document = {
        **identity,
        "identity_signature": base64.b64encode(self_signature).decode(),
        "private_key": pem.decode("ascii"),
    }
    public_path = out.with_name(out.name + ".pub")
    if public_path.exists():
        raise UsageError(f"{public_path}: file exists; expected a new key file name")
    _write_new(out, (json.dumps(document, indent=2) + "\n").encode(), mode=0o600)
    public = {**identity, "identity_signature": document["identity_signature"]}
    _write_new(public_path, (json.dumps(public, indent=2) + "\n").encode(), mode=0o644)
    return out, str(identity["key_id"])


def _read_key_document(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_bytes())
    except FileNotFoundError as error:
        raise UsageError(f"{path}: key file not found") from error
    except OSError as error:
        raise UsageError(f"{path}: cannot read key file ({error.strerror})") from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(
            f"{path}: got a file that is not JSON, expected a dxval key file"
        ) from error
    fields = ("name", "created_utc", "key_id", "public_key", "identity_signature", "private_key")
    if (
        not isinstance(document, dict)
        or document.get("schema") != KEY_SCHEMA
        or not all(isinstance(document.get(field), str) for field in fields)
    ):
        raise UsageError(f"{path}: expected a dxval key file (schema {KEY_SCHEMA}) from keygen")
    return document


@dataclass(frozen=True, slots=True)
class PublicIdentity:
    """A ``KEY.pub`` file from ``dxval keygen``: the name typed at keygen and the public key."""

    name: str
    key_id: str
    public_bytes: bytes


def read_public_identity(path: str | Path) -> PublicIdentity:
    """Read and check a ``.pub`` file written by :func:`generate_key`.

    The key ID must be the SHA-256 of the public key and the self-signature
    must verify, so an edited name or key is refused.

    Raises
    ------
    UsageError
        Missing, unreadable or malformed file, or an identity that does not verify.
    """
    path = Path(path)
    try:
        document = json.loads(path.read_bytes())
    except FileNotFoundError as error:
        raise UsageError(f"{path}: public key file not found") from error
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        raise UsageError(f"{path}: expected a .pub file from dxval keygen ({error})") from error
    fields = ("schema", "name", "created_utc", "key_id", "public_key", "identity_signature")
    if not isinstance(document, dict) or not all(
        isinstance(document.get(field), str) for field in fields
    ):
        raise UsageError(f"{path}: expected a .pub file from dxval keygen (schema {KEY_SCHEMA})")
    try:
        public_bytes = base64.b64decode(document["public_key"], validate=True)
        public_key = Ed25519PublicKey.from_public_bytes(public_bytes)
        identity = {key: document[key] for key in fields[:-1]}
        public_key.verify(
            base64.b64decode(document["identity_signature"], validate=True),
            _identity_message(identity),
        )
    except (ValueError, InvalidSignature) as error:
        raise UsageError(
            f"{path}: the public identity does not verify (name or key altered after keygen)"
        ) from error
    if document["schema"] != KEY_SCHEMA or document["key_id"] != key_id_of(public_bytes):
        raise UsageError(f"{path}: key_id is not the SHA-256 of the public key")
    return PublicIdentity(document["name"], document["key_id"], public_bytes)


def load_signing_key(path: str | Path, *, passphrase: str) -> SigningKey:
    """Decrypt the key file at ``path`` with ``passphrase`` and check its identity binding.

    Raises
    ------
    UsageError
        Missing or malformed key file, or a wrong passphrase (the second
        identification component, 21 CFR 11.200(a)(1)).
    IntegrityError
        The name or public key in the file was altered after keygen.
    """
    path = Path(path)
    document = _read_key_document(path)
    try:
        private_key = serialization.load_pem_private_key(
            document["private_key"].encode("ascii"), password=passphrase.encode("utf-8")
        )
    except (ValueError, TypeError) as error:
        raise UsageError(
            f"{path}: wrong passphrase (the private key could not be decrypted); signature refused"
        ) from error
    if not isinstance(private_key, Ed25519PrivateKey):
        raise UsageError(f"{path}: got a non-Ed25519 private key, expected an Ed25519 key")
    public_bytes = raw_public_bytes(private_key.public_key())
    identity = {
        key: document[key] for key in ("schema", "name", "created_utc", "key_id", "public_key")
    }
    try:
        private_key.public_key().verify(
            base64.b64decode(document["identity_signature"]), _identity_message(identity)
        )
    except (InvalidSignature, ValueError) as error:
        raise IntegrityError(
            f"{path}: the key file's identity (name or key) was altered"
        ) from error
    if document["public_key"] != base64.b64encode(public_bytes).decode() or document[
        "key_id"
    ] != key_id_of(public_bytes):
        raise IntegrityError(f"{path}: the key file's public key does not match its private key")
    return SigningKey(document["name"], document["key_id"], private_key)


def read_passphrase(*, confirm: bool, prompt: str = "Passphrase: ") -> str:
    """The key passphrase: ``$DXVAL_KEY_PASSPHRASE`` when set (automation), else a prompt.

    The prompt (:func:`getpass.getpass`, not echoed) asks twice when ``confirm``.

    Raises
    ------
    UsageError
        No terminal to prompt on and no variable set, or the two entries differ.
    """
    from_environment = os.environ.get(PASSPHRASE_VARIABLE)
    if from_environment is not None:
        return from_environment
    try:
        passphrase = getpass.getpass(prompt)
        if confirm and getpass.getpass("Repeat passphrase: ") != passphrase:
            raise UsageError("passphrase: the two entries differ")
    except EOFError as error:
        raise UsageError(
            f"passphrase: no terminal to prompt on; set {PASSPHRASE_VARIABLE} for automation"
        ) from error
    return passphrase
