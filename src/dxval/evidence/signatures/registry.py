"""The signer registry: who may sign, with which key, in which roles, when.

21 CFR 11.100(a) wants each electronic signature unique to one individual
and 11.100(b) the individual's identity verified before a signature is
assigned. A key file only carries the name its holder typed at ``keygen``;
the registry, a YAML file kept under version control (example:
``qms/signers.yaml``), is where an organisation states whose key is whose::

    signers:
      - name: Rita Approver            # printed name shown with the signature
        roles: [approver, reviewer]    # author → authored, reviewer → reviewed, approver → approved
        public_key: keys/rita.key.pub  # written by dxval keygen, relative to this file
        valid_from: 2026-01-01
        valid_until: 2027-12-31        # optional

A signature is judged by its key alone: TRUSTED when the key is registered,
its meaning is one of the person's roles and it was made within the entry's
validity; otherwise UNKNOWN SIGNER, ROLE NOT ALLOWED or OUTSIDE VALIDITY.
The name shown is the registry's, never the one typed into the key file.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from dxval.errors import UsageError
from dxval.evidence.signatures.keys import read_public_identity

#: Largest registry file read (a registry lists people, not data).
MAX_REGISTRY_BYTES = 1 << 20
ROLE_MEANINGS = {"author": "authored", "reviewer": "reviewed", "approver": "approved"}


class Verdict(str, Enum):
    """The identity check of one signature against the registry."""

    TRUSTED = "TRUSTED"
    UNKNOWN_SIGNER = "UNKNOWN SIGNER"
    ROLE_NOT_ALLOWED = "ROLE NOT ALLOWED"
    OUTSIDE_VALIDITY = "OUTSIDE VALIDITY"


@dataclass(frozen=True, slots=True)
class Signer:
    """One registry entry: a person, the meanings they may sign, their key and its validity."""

    name: str
    meanings: frozenset[str]
    key_id: str
    valid_from: date
    valid_until: date | None

    @property
    def identity(self) -> str:
        """The person, for separation of duties: the registry's name, normalised.

        Two entries with the same name are one person with two keys (a key
        rotation); the key decides the entry, the entry decides the person.
        """
        return " ".join(unicodedata.normalize("NFKC", self.name).casefold().split())


@dataclass(frozen=True, slots=True)
class SignerRegistry:
    """The signers of a registry file, by key ID."""

    path: Path
    signers: dict[str, Signer]

    def judge(self, key_id: str, meaning: str, signed_utc: str) -> tuple[Verdict, Signer | None]:
        """The verdict on a signature by ``key_id`` with ``meaning`` made at ``signed_utc``."""
        signer = self.signers.get(key_id)
        if signer is None:
            return Verdict.UNKNOWN_SIGNER, None
        if meaning not in signer.meanings:
            return Verdict.ROLE_NOT_ALLOWED, signer
        try:
            day = datetime.strptime(signed_utc[:10], "%Y-%m-%d").date()
        except ValueError:
            return Verdict.OUTSIDE_VALIDITY, signer
        if day < signer.valid_from or (signer.valid_until is not None and day > signer.valid_until):
            return Verdict.OUTSIDE_VALIDITY, signer
        return Verdict.TRUSTED, signer


def _date(value: Any, *, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as error:
        raise UsageError(f"{where}: got {value!r}, expected a date YYYY-MM-DD") from error


def _signer(entry: Any, *, path: Path, index: int) -> Signer:
    where = f"{path} signers[{index}]"
    if not isinstance(entry, dict):
        raise UsageError(f"{where}: expected a mapping with name, roles, public_key, valid_from")
    unknown = set(entry) - {"name", "roles", "public_key", "valid_from", "valid_until"}
    missing = {"name", "roles", "public_key", "valid_from"} - set(entry)
    if unknown or missing:
        noun = "field" if len(unknown) == 1 else "fields"
        detail = f"unknown {noun} {sorted(unknown)}" if unknown else f"missing {sorted(missing)}"
        raise UsageError(f"{where}: {detail}")
    name = " ".join(str(entry["name"]).split())
    roles = entry["roles"]
    if not name or not isinstance(roles, list) or not roles:
        raise UsageError(f"{where}: expected a non-empty name and a non-empty list of roles")
    bad = [role for role in roles if role not in ROLE_MEANINGS]
    if bad:
        raise UsageError(f"{where}.roles: got {bad}, expected some of {sorted(ROLE_MEANINGS)}")
    identity = read_public_identity(path.parent / str(entry["public_key"]))
    valid_from = _date(entry["valid_from"], where=f"{where}.valid_from")
    until = entry.get("valid_until")
    valid_until = None if until is None else _date(until, where=f"{where}.valid_until")
    if valid_until is not None and valid_until < valid_from:
        raise UsageError(f"{where}: valid_until {valid_until} is before valid_from {valid_from}")
    meanings = frozenset(ROLE_MEANINGS[role] for role in roles)
    return Signer(name, meanings, identity.key_id, valid_from, valid_until)


def load_registry(path: str | Path) -> SignerRegistry:
    """Read and check the signer registry at ``path``.

    Raises
    ------
    UsageError
        The file is missing, too large or not YAML, an entry is malformed, a
        public key file does not verify, or one key is listed twice (exit 2).
    """
    path = Path(path)
    try:
        if path.stat().st_size > MAX_REGISTRY_BYTES:
            raise UsageError(f"{path}: larger than {MAX_REGISTRY_BYTES} bytes; not a registry")
        document = YAML(typ="safe", pure=True).load(path.read_bytes())
    except OSError as error:
        raise UsageError(f"--signers {path}: cannot read ({error.strerror})") from error
    except (YAMLError, ValueError, RecursionError) as error:
        raise UsageError(f"{path}: not a YAML signer registry ({error})") from error
    entries = document.get("signers") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise UsageError(f"{path}: expected a mapping with a list 'signers'")
    signers: dict[str, Signer] = {}
    for index, entry in enumerate(entries):
        signer = _signer(entry, path=path, index=index)
        if signer.key_id in signers:
            raise UsageError(
                f"{path} signers[{index}]: key {signer.key_id[:16]} is already registered "
                f"for {signers[signer.key_id].name}; one key belongs to one person"
            )
        signers[signer.key_id] = signer
    return SignerRegistry(path, signers)
