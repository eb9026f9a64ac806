"""Executors: ordered outcomes, bounded read-ahead, the same results in-process and in workers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from dxval.inference import CaseInput, InlineExecutor, ProcessExecutor
from dxval.inference.executor import describe_decoder, load_case

from .npy_loader import NpyLoader


def _cases(paths: list[Path]) -> list[CaseInput]:
    return [CaseInput(path.stem, (path,)) for path in paths]


def test_process_executor_reads_ahead_a_bounded_number_of_cases(case_paths: list[Path]) -> None:
    pulled: list[str] = []

    def lazily() -> Iterator[CaseInput]:
        for case in _cases(case_paths):
            pulled.append(case.case_id)
            yield case

    executor = ProcessExecutor(2, max_in_flight=4, chunk_size=2)
    outcomes = executor.load(NpyLoader(), lazily())
    first = next(outcomes)
    assert first.case.case_id == "case-0000"
    assert len(pulled) <= 4 + 2  # the window, plus the chunk being refilled
    rest = list(outcomes)
    assert [outcome.case.case_id for outcome in [first, *rest]] == [p.stem for p in case_paths]


def test_inline_and_process_outcomes_are_identical(case_paths: list[Path]) -> None:
    cases = _cases(case_paths[:7])
    inline = list(InlineExecutor().load(NpyLoader(), cases))
    pooled = list(ProcessExecutor(2, chunk_size=3).load(NpyLoader(), cases))
    for one, other in zip(inline, pooled, strict=True):
        assert one.case == other.case
        assert one.array is not None
        assert other.array is not None
        assert np.array_equal(one.array, other.array)
        assert one.decoder == other.decoder == "numpy.load"


def test_load_case_turns_exceptions_into_reasons(tmp_path: Path) -> None:
    bad = tmp_path / "bad-1.npy"
    assert load_case(NpyLoader(), (bad,))[1:4] == (
        "not_dicom",
        "bad-1.npy is not a DICOM file",
        None,
    )


def test_describe_decoder_prefers_library_and_version() -> None:
    class Info:
        library, version, plugin = "pylibjpeg-rle", "2.2.0", "pylibjpeg"

    assert describe_decoder(Info()) == "pylibjpeg-rle 2.2.0 (pylibjpeg)"
    assert describe_decoder("numpy.load") == "numpy.load"


def test_process_executor_needs_a_worker() -> None:
    with pytest.raises(ValueError, match=r"workers: got 0, expected >= 1"):
        ProcessExecutor(0)


def test_unpicklable_loader_is_refused_before_any_worker_starts(case_paths: list[Path]) -> None:
    def local_loader(paths: tuple[Path, ...]) -> np.ndarray:
        return np.zeros(1)

    with pytest.raises(TypeError, match=r"cannot be sent to worker processes .*workers=0"):
        next(ProcessExecutor(1).load(local_loader, _cases(case_paths[:1])))
