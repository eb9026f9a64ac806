"""Fixtures shared across test folders: the small detection and segmentation bundles."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.task_bundles import write_detection, write_segmentation

from dxval.cli import main


@pytest.fixture
def segmentation_protocol(tmp_path: Path) -> Path:
    """The locked segmentation protocol with its cases in ``tmp_path`` (free to alter)."""
    return write_segmentation(tmp_path)


@pytest.fixture(scope="session")
def task_bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Sealed detection and segmentation bundles with their reports, validated once.

    Read only: a test that changes a bundle works on a copy.
    """
    bundles = {}
    writers = (
        ("detection", write_detection, "DET-E2E"),
        ("segmentation", write_segmentation, "SEG-E2E"),
    )
    for task, write, protocol_id in writers:
        folder = tmp_path_factory.mktemp(task)
        protocol = write(folder)
        code = main(["validate", str(protocol), "--out", str(folder / "evidence")])
        assert code in (0, 1)  # the detection example fails DET-002 at Site A by design
        (bundle,) = (folder / "evidence" / protocol_id).iterdir()
        bundles[task] = bundle
    return bundles
