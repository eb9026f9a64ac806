"""Two case limits and a validate that fits 10,000,000 cases in 4 GB (issue 18, DXV-SCALE7).

A predictions protocol whose manifests name no files is read, analysed and
written as columns; it may have ``MAX_CASES`` (10,000,000) cases. Every path
that still builds one object per case (a file read row by row, a run with a
model, files, DICOM attributes, ...) keeps the lower ``MAX_ROW_CASES``. The
limits are scaled down here (monkeypatched) so that the aSAH example's 113
cases (72 + 41) cross them. The memory side is checked as behaviour: the
run's tables are gone when the report renders, ``cases.csv`` is read whole
once (to be parsed) and hashed in chunks, and the score histogram
gets arrays, not floats as objects.
"""

from __future__ import annotations

import gc
import hashlib
import re
import tracemalloc
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dxval.cli import main
from dxval.data import limits
from dxval.data import manifest as manifest_module
from dxval.data.predictions import (
    align_predictions,
    check_coverage,
    read_prediction_columns,
)
from dxval.errors import InputError
from dxval.evidence import format as bundle_format
from dxval.pipeline import validate as validate_module
from dxval.report import plots


def _lower_limits(monkeypatch: pytest.MonkeyPatch, *, rows: int, cases: int = 10_000) -> None:
    """``MAX_ROW_CASES`` = ``rows`` and ``MAX_CASES`` = ``cases`` wherever they are read."""
    monkeypatch.setattr(limits, "MAX_ROW_CASES", rows)
    monkeypatch.setattr(limits, "MAX_CASES", cases)
    monkeypatch.setattr(manifest_module, "MAX_ROW_CASES", rows)
    monkeypatch.setattr(manifest_module, "MAX_CASES", cases)


def _error_lines(err: str) -> list[str]:
    assert "Traceback" not in err
    assert "internal error" not in err
    return [line for line in err.splitlines() if line.startswith("dxval: error:")]


def _validate(protocol: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["validate", str(protocol), "--out", str(out), "--no-report"])
    return code, "\n".join(_error_lines(capsys.readouterr().err))


def _name_files(protocol: Path) -> None:
    """Give both manifests of the example a ``path`` column naming one small file per case."""
    for site in ("site-f", "site-m"):
        manifest = protocol.parent / "data" / "asah" / site / "manifest.csv"
        lines = manifest.read_text(encoding="utf-8").splitlines()
        (manifest.parent / "images").mkdir()
        rows = [f"{lines[0]},path"]
        for line in lines[1:]:
            case_id = line.split(",")[0]
            (manifest.parent / "images" / f"{case_id}.txt").write_text(case_id)
            rows.append(f"{line},images/{case_id}.txt")
        manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.mark.req("DXV-SCALE7-001")
def test_a_columnar_run_past_the_row_limit_completes(
    example: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _lower_limits(monkeypatch, rows=50, cases=200)  # 113 cases, 72 in one manifest
    code, errors = _validate(example, tmp_path / "out", capsys)
    assert code in (0, 1), errors
    (cases,) = (tmp_path / "out").glob("*/*/cases.csv")
    assert len(cases.read_text(encoding="utf-8").splitlines()) == 1 + 113  # none dropped
    # past MAX_CASES a columnar run is refused with the usual message, no row-by-row wording
    _lower_limits(monkeypatch, rows=50, cases=100)
    code, errors = _validate(example, tmp_path / "out2", capsys)
    assert code == 2
    assert errors.endswith(
        "got 113 cases in the test sets together expected at most 100 (documented input limit)"
    )
    assert not (tmp_path / "out2").exists()


@pytest.mark.req("DXV-SCALE7-002")
def test_a_run_read_row_by_row_keeps_the_lower_limit(
    example: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _name_files(example)
    assert main(["lock", str(example)]) == 0
    capsys.readouterr()
    _lower_limits(monkeypatch, rows=100)  # each manifest fits, the run's 113 cases do not
    from dxval.pipeline import lock as lock_module

    hashed: list[str] = []
    lock_test_set = lock_module.lock_test_set

    def counted(manifest: Any, *, test_set: str) -> Any:
        hashed.append(test_set)
        return lock_test_set(manifest, test_set=test_set)

    monkeypatch.setattr(lock_module, "lock_test_set", counted)
    code, errors = _validate(example, tmp_path / "out", capsys)
    assert code == 2
    assert hashed == ["site-f"]  # refused as soon as the cases read pass the limit
    assert len(errors.splitlines()) == 1
    assert errors.endswith(
        "asah-example.yaml: got 113 cases in the test sets together expected at most 100 for "
        "a run read row by row (a manifest naming files) (documented input limit; a "
        "predictions protocol whose manifests name no files is read as columns, up to "
        "10000 cases)"
    )
    _lower_limits(monkeypatch, rows=60)  # site-f's 72 rows: its row reader stops at row 61
    code, errors = _validate(example, tmp_path / "out", capsys)
    assert code == 2
    assert re.search(
        r"site-f/manifest\.csv:62: got more than 60 rows expected at most that many cases per "
        r"file read row by row \(documented input limit; .* up to 10000 rows",
        errors,
    ), errors
    assert not (tmp_path / "out").exists()
    _lower_limits(monkeypatch, rows=200)
    code, errors = _validate(example, tmp_path / "out", capsys)
    assert code in (0, 1), errors


@pytest.mark.req("DXV-SCALE7-002")
def test_the_fallback_row_reader_gives_its_message_within_its_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file the column reader declines is re-read row by row: exact message or the limit."""
    _lower_limits(monkeypatch, rows=5)
    path = tmp_path / "predictions.csv"

    def read(rows: list[str]) -> None:
        path.write_text("case_id,score\n" + "".join(rows), encoding="utf-8")
        read_prediction_columns(path, case_id_column="case_id", score_column="score")

    scores = [f"c{index},0.{index}\n" for index in range(9)]
    read(scores)  # 9 rows > 5: read as columns, accepted
    with pytest.raises(InputError, match=r"csv:5 case_id: got duplicate 'c1' \(first on line 3"):
        read([*scores[:3], "c1,0.5\n", *scores[3:]])  # a problem within the row limit
    with pytest.raises(
        InputError, match=r"csv:7: got more than 5 rows expected at most that many cases per file"
    ):
        read([*scores, "c1,0.5\n"])  # a problem past it: the limit, named, never a MemoryError


@pytest.mark.req("DXV-SCALE7-003")
def test_the_run_tables_are_released_before_the_report_renders(
    example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dxval.pipeline import columnar

    arrays: list[weakref.ref[np.ndarray[Any, Any]]] = []
    scored_columns = columnar.scored_columns

    def watched(*args: Any) -> Any:
        table, rows = scored_columns(*args)
        arrays.extend(weakref.ref(a) for a in (table.case_ids, table.scores, rows.reasons))
        arrays.extend(weakref.ref(level) for level in table.levels.values())
        return table, rows

    alive: list[int] = []

    def renderer(templates: object) -> Any:
        def render(folder: Path) -> list[Path]:
            gc.collect()
            alive.append(sum(ref() is not None for ref in arrays))
            assert (folder / "cases.csv").is_file()
            return []

        return render

    monkeypatch.setattr(validate_module, "scored_columns", watched)
    monkeypatch.setattr(validate_module, "_renderer", renderer)
    result = validate_module.run_validation(example, out=tmp_path / "out")
    assert len(arrays) == 5  # IDs, scores, reasons and both attributes' levels were watched
    assert alive == [0]  # every one of them was freed when the report started
    assert result.cases["total"] == 113


@pytest.mark.req("DXV-SCALE7-003")
def test_the_report_reads_cases_csv_whole_once_and_hashes_in_chunks(
    example: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, errors = _validate(example, tmp_path / "out", capsys)
    assert code in (0, 1), errors
    (folder,) = (tmp_path / "out").glob("*/*/")
    whole: list[str] = []
    read_bytes = Path.read_bytes

    def recorded(self: Path) -> bytes:
        whole.append(self.name)
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", recorded)
    bundle = bundle_format.read_bundle(folder)
    monkeypatch.undo()
    assert whole.count("cases.csv") == 1  # read to be parsed; hashed from the file in chunks
    content = (folder / "cases.csv").read_bytes()
    (listed,) = (item for item in bundle.files if item.name == "cases.csv")
    assert (listed.sha256, listed.size) == (hashlib.sha256(content).hexdigest(), len(content))
    assert len(bundle.cases) == 113
    # the digests are read in chunks: a 24 MiB file never allocates a copy of itself
    big = folder / "big.bin"
    big.write_bytes(bytes(range(256)) * (24 * 2**12))
    tracemalloc.start()
    try:
        (entry,) = bundle_format._evidence_files(folder, ["big.bin"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert entry.sha256 == hashlib.sha256(big.read_bytes()).hexdigest()
    assert peak < 4 * 2**20, peak  # measured ~1 MiB: one chunk


@pytest.mark.req("DXV-SCALE7-003")
def test_score_histograms_take_arrays_and_draw_the_same_figure() -> None:
    rng = np.random.default_rng(18)
    scores = np.round(rng.random(5_000), 4)
    truth = rng.random(5_000) < 0.3
    as_tuples = [
        plots.ScorePanel(
            "All cases", tuple(scores[truth].tolist()), tuple(scores[~truth].tolist())
        ),
        plots.ScorePanel("Site A", (), ()),
    ]
    as_arrays = [
        plots.ScorePanel("All cases", scores[truth], scores[~truth]),
        plots.ScorePanel("Site A", np.zeros(0), np.zeros(0)),
    ]
    assert plots.score_figure(as_arrays, threshold=0.5) == plots.score_figure(
        as_tuples, threshold=0.5
    )


@pytest.mark.req("DXV-SCALE7-004")
@pytest.mark.parametrize("change", ["missing", "extra", "both", "many missing"])
def test_coverage_refusals_from_columns_equal_the_row_by_row_check(
    tmp_path: Path, change: str
) -> None:
    from dxval.data.predictions import PredictionColumns

    cases = np.array([f"case-{index:03d}" for index in range(40)], dtype=np.str_)
    predicted = list(cases.tolist())
    if change in ("missing", "both"):
        predicted.remove("case-007")
    if change in ("extra", "both"):
        predicted.append("zz-unlisted")
    if change == "many missing":
        predicted = predicted[::3]
    predicted.reverse()  # not in manifest order: the sorted path
    columns = PredictionColumns(
        np.array(predicted, dtype=np.str_),
        np.zeros(len(predicted)),
        np.full(len(predicted), "", dtype=np.str_),
    )
    where = tmp_path / "predictions.csv"
    with pytest.raises(InputError) as expected:
        check_coverage(where, predicted, cases.tolist())
    with pytest.raises(InputError) as got:
        align_predictions(where, columns, cases)
    assert str(got.value) == str(expected.value)


@pytest.mark.req("DXV-SCALE7-005")
def test_case_input_digests_look_files_up_in_one_mapping_per_test_set(example: Path) -> None:
    from dxval.data import build_cases, case_input_digest, sha256_file
    from dxval.pipeline.lock import read_sources
    from dxval.pipeline.plan import plan_run

    _name_files(example)
    assert main(["lock", str(example)]) == 0
    plan = plan_run(example)
    sources = read_sources(plan)
    for source in sources:
        assert source.lock is not None
        # one mapping per lock, not a new dict of every file per case (quadratic at 1e6 files)
        assert source.lock.file_sha256() is source.lock.file_sha256()
    cases = build_cases(sources, plan.truth, attributes=plan.attribute_sources)
    assert len(cases) == 113
    for case in cases[::20]:
        (file,) = case.files
        expected = case_input_digest([(f"images/{file.name}", sha256_file(file))])
        assert case.input_sha256 == expected
