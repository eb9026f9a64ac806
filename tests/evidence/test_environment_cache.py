"""The module-owner map behind environment.json is read once per state of sys.path (issue 18)."""

from __future__ import annotations

import os
import sys
from importlib import metadata
from pathlib import Path

import pytest

from dxval.evidence import environment


def test_cached_owners_give_the_uncached_record(monkeypatch: pytest.MonkeyPatch) -> None:
    environment._OWNERS.clear()
    calls = []
    read = metadata.packages_distributions

    def counted() -> object:
        calls.append(1)
        return read()

    monkeypatch.setattr(metadata, "packages_distributions", counted)
    first = environment.runtime_distributions()
    second = environment.runtime_distributions()
    assert first == second
    assert len(calls) == 1  # the second record reused the map
    monkeypatch.setattr(metadata, "packages_distributions", read)
    environment._OWNERS.clear()
    assert environment.runtime_distributions() == first


def test_a_changed_import_folder_reads_the_owners_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "path", [*sys.path, str(tmp_path)])
    environment._OWNERS.clear()
    calls = []
    read = metadata.packages_distributions
    monkeypatch.setattr(metadata, "packages_distributions", lambda: calls.append(1) or read())
    environment._loaded_distributions()
    environment._loaded_distributions()
    assert len(calls) == 1
    (tmp_path / "newly_installed.dist-info").mkdir()  # an install changes the folder
    os.utime(tmp_path, ns=(0, tmp_path.stat().st_mtime_ns + 1_000_000_000))
    environment._loaded_distributions()
    assert len(calls) == 2
