"""cases.csv from columns: per-chunk distinct scores and one-value columns, same bytes (issue 18).

DXV-FASTVAL-003. ``case_column_chunks`` writes each distinct score's ``repr``
once per chunk (``np.unique`` merges -0.0 with 0.0, so zeros are written
apart) and a column holding one value as one shared cell. The reference is
the row writer ``render_cases`` on the same cases.
"""

from __future__ import annotations

import numpy as np
import pytest

from dxval.evidence import records
from dxval.evidence.records import CaseColumnRows, CaseRow, render_case_columns, render_cases


def _rows(scores: np.ndarray, sites: list[str]) -> tuple[list[CaseRow], CaseColumnRows]:
    size = scores.shape[0]
    failed = np.isnan(scores)
    rows = [
        CaseRow(
            case_id=f"c{i}",
            test_set="ts, one",
            site=sites[i],
            truth_label="Poor" if i % 3 == 0 else "Good",
            truth=i % 3 == 0,
            score=None if failed[i] else float(scores[i]),
            decision=None if failed[i] else bool(scores[i] >= 0.5),
            status="failed" if failed[i] else "scored",
            reason_code="no_prediction" if failed[i] else "",
            reason='said "no"' if failed[i] else "",
            levels={"age": "[0, 50)" if i % 5 else "[50, 70)", "grade": "missing"},
            input_sha256=None,
        )
        for i in range(size)
    ]
    columns = CaseColumnRows(
        case_ids=np.array([row.case_id for row in rows]),
        test_sets=np.array([row.test_set for row in rows]),
        sites=np.array(sites),
        truth_labels=np.array([row.truth_label for row in rows]),
        truth=np.array([row.truth for row in rows]),
        scores=scores,
        reason_code="no_prediction",
        reasons=np.full(size, 'said "no"'),
        levels={name: np.array([row.levels[name] for row in rows]) for name in ("age", "grade")},
        operating_point=0.5,
    )
    return rows, columns


@pytest.mark.req("DXV-FASTVAL-003")
@pytest.mark.parametrize("chunk_rows", [1, 7, 25_000])
def test_distinct_scores_and_one_value_columns_write_the_row_writers_bytes(
    chunk_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "_CHUNK_ROWS", chunk_rows)
    generator = np.random.default_rng(18)
    pool = [0.0, -0.0, 0.5, 0.1 + 0.2, 1e-7, 1e17, 5e-324, 0.25, np.nan]
    scores = np.array(generator.choice(pool, size=300), dtype=np.float64)
    scores[:14] = [0.0, -0.0, -0.0, 0.0, np.nan, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.0, -0.0]
    scores[200:230] = 0.75  # a chunk of one score, all scored, at 7 rows a chunk
    sites = ["Site, A"] * 150 + ["Site B"] * 150  # one quoted value per chunk, then another
    rows, columns = _rows(scores, sites)
    expected = render_cases(rows, ["age", "grade"])
    assert b"-0.0," in expected
    assert b",0.0," in expected
    assert render_case_columns(columns, ["age", "grade"]) == expected


@pytest.mark.req("DXV-FASTVAL-003")
def test_all_failed_and_all_continuous_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records, "_CHUNK_ROWS", 50)
    generator = np.random.default_rng(3)
    scores = generator.random(200)
    scores[50:100] = np.nan
    rows, columns = _rows(scores, ["Site A"] * 200)
    assert render_case_columns(columns, ["age", "grade"]) == render_cases(rows, ["age", "grade"])
