"""SHA-256 of bytes, files and listings."""

from __future__ import annotations

import hashlib
from pathlib import Path

from dxval.data import digest_listing, sha256_bytes, sha256_file


def test_sha256_of_bytes_matches_fips_180_4_example() -> None:
    # FIPS 180-4 / NIST example "abc".
    assert sha256_bytes(b"abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_sha256_of_a_file_spanning_several_chunks(tmp_path: Path) -> None:
    content = bytes(range(256)) * 9000  # > 2 MiB, several 1 MiB chunks
    path = tmp_path / "big.bin"
    path.write_bytes(content)
    assert sha256_file(path) == hashlib.sha256(content).hexdigest()


def test_listing_digest_is_sha256sum_text_and_order_free() -> None:
    entries = [("b.dcm", "2" * 64), ("a.dcm", "1" * 64)]
    expected = sha256_bytes(f"{'1' * 64}  a.dcm\n{'2' * 64}  b.dcm\n".encode())
    assert digest_listing(entries) == expected
    assert digest_listing(reversed(entries)) == expected
