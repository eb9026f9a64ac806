"""Whether a demo data folder already holds exactly what a protocol pins.

``dxval demo generate --if-needed`` (what ``make demo`` runs) regenerates the
demo only when this says why it must: a second ``make demo`` then spends its
time on validation alone. The check is the protocol's own lock: each test
set's digest over its manifest and every file it names (the digest ``dxval
lock`` writes and ``validate`` refuses to run without), so data that would
make ``validate`` exit 3 are regenerated instead.
"""

from __future__ import annotations

from pathlib import Path

from dxval.data import lock_test_set, read_manifest
from dxval.errors import InputError, IntegrityError, UsageError
from dxval.protocol import load_protocol


def stale_reason(protocol_path: Path, out_dir: Path) -> str | None:
    """Why ``out_dir`` does not hold the test sets ``protocol_path`` pins; None when it does.

    Raises:
        ProtocolError: the protocol cannot be read.
        UsageError: a test set of the protocol lies outside ``out_dir`` (the
            check would then be about other files than the ones generated).
    """
    loaded = load_protocol(protocol_path)
    if not out_dir.is_dir():
        return f"{out_dir} does not exist"
    root = out_dir.resolve()
    for test_set in loaded.protocol.test_sets:
        manifest = loaded.resolve(test_set.manifest)
        if not manifest.resolve().is_relative_to(root):
            raise UsageError(
                f"--protocol: test set {test_set.id}'s manifest {manifest} is outside --out "
                f"{out_dir}; expected the protocol that validates the generated folder"
            )
        if test_set.sha256 is None:
            return f"test set {test_set.id} has no sha256 pin in {protocol_path}"
        if not manifest.is_file():
            return f"{manifest} is missing"
        try:
            lock = lock_test_set(
                read_manifest(
                    manifest,
                    label=f"test set {test_set.id}",
                    data_root=loaded.data_root(test_set),
                ),
                test_set=test_set.id,
            )
        except (InputError, IntegrityError) as error:
            return error.message
        if lock.digest != test_set.sha256:
            return f"test set {test_set.id}: digest {lock.digest} differs from the pin"
    return None
