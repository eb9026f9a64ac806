"""Writing pins into a protocol: comments, key order and layout are kept."""

from __future__ import annotations

import stat
from pathlib import Path

from dxval.data import PinUpdate, replace_file, rewrite_pins

PROTOCOL = """\
# Leading comment
dxval: 1
id: VAL-X   # trailing comment
predictions:
  path: preds.csv   # the file
  operating_point: 0.2
test_sets:
  - {id: a, site: A, manifest: a.csv}
  - id: b
    site: B
    manifest: b.csv
    sha256: null

# before truth
truth: {column: outcome}
"""


def test_rewrite_changes_only_the_pins() -> None:
    updates = [
        PinUpdate(("predictions",), "sha256", "path", None, "1" * 64),
        PinUpdate(("test_sets", 0), "sha256", "manifest", None, "a" * 64),
        PinUpdate(("test_sets", 1), "sha256", "manifest", None, "b" * 64),
    ]
    result = rewrite_pins(PROTOCOL.encode(), updates).decode()
    expected = (
        PROTOCOL.replace(
            "  path: preds.csv   # the file\n",
            f"  path: preds.csv   # the file\n  sha256: '{'1' * 64}'\n",
        )
        .replace("manifest: a.csv}", f"manifest: a.csv, sha256: {'a' * 64}}}")
        .replace("sha256: null", f"sha256: {'b' * 64}")
    )
    assert result == expected


def test_inserted_key_keeps_following_blank_lines_and_comments_below() -> None:
    text = "a:\n  - id: x\n    manifest: m   # inline\n\n# next\nb: 1\n"
    result = rewrite_pins(
        text.encode(), [PinUpdate(("a", 0), "sha256", "manifest", None, "c" * 64)]
    )
    assert result.decode() == (
        f"a:\n  - id: x\n    manifest: m   # inline\n    sha256: {'c' * 64}\n\n# next\nb: 1\n"
    )


def test_field_name() -> None:
    assert (
        PinUpdate(("test_sets", 2), "sha256", "manifest", None, "x").field == "test_sets[2].sha256"
    )


def test_replace_file_keeps_mode_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "protocol.yaml"
    path.write_text("old\n")
    path.chmod(0o640)
    replace_file(path, b"new\n")
    assert path.read_bytes() == b"new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["protocol.yaml"]
