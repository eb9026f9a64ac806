"""Electronic signatures of evidence bundles: Ed25519 keys, ``dxval sign``, signature checks.

21 CFR Part 11 asks that a signed electronic record show the signer's
printed name, the date and time and the meaning of the signature (§11.50),
that the signature be linked to its record so it cannot be copied to another
(§11.70), and that a non-biometric signature use two identification
components (§11.200(a)): here the key file (something held) and its
passphrase (something known).

What is signed is the *evidence digest* of the bundle (DESIGN.md, "The
evidence bundle"): the SHA-256 of a ``sha256sum``-format listing of every
file except the rendered reports and their figures (:data:`RENDERED_FILES`,
:data:`RENDERED_FOLDERS`), ``MANIFEST.sha256`` and ``signatures/``. ``audit.jsonl`` enters with its
*sealed part* only, the lines up to and including the ``bundle.sealed``
event: the events appended later record the signing itself, and counting
them would make every signature invalidate the ones before it. Re-rendering
the report to show its signature block therefore never invalidates a
signature, while any change to the evidence does: a signature over an older
evidence digest is reported as no longer valid.

A key file is JSON (:data:`KEY_SCHEMA`) holding the printed name, the raw
public key, a self-signature binding the name to the key, and the private key
as PKCS #8 PEM encrypted with the passphrase (``BestAvailableEncryption``).
"""

from __future__ import annotations

from dxval.evidence.signatures.digest import (
    RENDERED_FILES,
    RENDERED_FOLDERS,
    SIGNATURES_FOLDER,
    evidence_digest,
    evidence_digests,
    is_evidence_file,
    sealed_audit_part,
)
from dxval.evidence.signatures.keys import (
    KEY_SCHEMA,
    MINIMUM_PASSPHRASE_LENGTH,
    PASSPHRASE_VARIABLE,
    SigningKey,
    check_passphrase,
    generate_key,
    key_fingerprint,
    key_id_of,
    load_signing_key,
    read_passphrase,
)
from dxval.evidence.signatures.records import (
    SIGNATURE_SCHEMA,
    SIGNED_ACTION,
    Meaning,
    SignatureRecord,
    check_signatures,
    read_signatures,
)
from dxval.evidence.signatures.sign import SignResult, sign_bundle

__all__ = [
    "KEY_SCHEMA",
    "MINIMUM_PASSPHRASE_LENGTH",
    "PASSPHRASE_VARIABLE",
    "RENDERED_FILES",
    "RENDERED_FOLDERS",
    "SIGNATURES_FOLDER",
    "SIGNATURE_SCHEMA",
    "SIGNED_ACTION",
    "Meaning",
    "SignResult",
    "SignatureRecord",
    "SigningKey",
    "check_passphrase",
    "check_signatures",
    "evidence_digest",
    "evidence_digests",
    "generate_key",
    "is_evidence_file",
    "key_fingerprint",
    "key_id_of",
    "load_signing_key",
    "read_passphrase",
    "read_signatures",
    "sealed_audit_part",
    "sign_bundle",
]
