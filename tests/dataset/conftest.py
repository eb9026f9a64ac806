"""Fixtures for dataset tests: small manifests with image files in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def image_set(tmp_path: Path) -> Path:
    """A manifest naming two files and one series folder; returns the manifest path."""
    folder = tmp_path / "site"
    (folder / "images" / "series-3").mkdir(parents=True)
    (folder / "images" / "case-1.dcm").write_bytes(b"first file")
    (folder / "images" / "case-2.dcm").write_bytes(b"second file")
    (folder / "images" / "series-3" / "b.dcm").write_bytes(b"slice b")
    (folder / "images" / "series-3" / "a.dcm").write_bytes(b"slice a")
    manifest = folder / "manifest.csv"
    manifest.write_text(
        "case_id,path,label,sex\n"
        "c1,images/case-1.dcm,1,F\n"
        "c2,images/case-2.dcm,0,M\n"
        "c3,images/series-3,1,\n",
        encoding="utf-8",
    )
    return manifest
