"""The NumPy split of cases.csv equals the csv-module reader (issue 18, DXV-FASTVAL-001).

``read_case_columns`` tries :func:`scan_case_columns` first and keeps the
:mod:`csv` reader (``csv_case_columns``) for every file the scan declines.
The reference here is that csv reader: on every file the scan accepts, every
column, its dtype and its category order must be the same; on every file it
declines, the result (or the refusal) is the csv reader's.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import numpy as np
import pytest

from dxval.errors import InputError
from dxval.evidence import case_scan
from dxval.evidence.case_scan import scan_case_columns
from dxval.evidence.format import CaseColumnsFile, csv_case_columns, read_case_columns
from dxval.evidence.records import CaseColumnRows, render_case_columns

HEADER = [
    "case_id", "test_set", "site", "truth_label", "truth", "score", "decision", "status",
    "reason_code", "reason", "attribute.sex", "attribute.age", "input_sha256",
]  # fmt: skip


def _same(scanned: CaseColumnsFile | None, expected: CaseColumnsFile) -> None:
    assert scanned is not None
    assert scanned.case_ids.dtype == expected.case_ids.dtype
    assert scanned.case_ids.tolist() == expected.case_ids.tolist()
    assert scanned.truth.tolist() == expected.truth.tolist()
    assert scanned.has_score.tolist() == expected.has_score.tolist()
    assert np.array_equal(scanned.scores, expected.scores, equal_nan=True)
    assert np.signbit(scanned.scores).tolist() == np.signbit(expected.scores).tolist()  # -0.0
    assert scanned.attributes == expected.attributes
    for mine, theirs in ((scanned.text, expected.text), (scanned.levels, expected.levels)):
        assert mine.keys() == theirs.keys()
        for name in mine:
            assert mine[name].values == theirs[name].values, name  # first-seen order
            assert mine[name].codes.dtype == theirs[name].codes.dtype == np.int32
            assert mine[name].codes.tolist() == theirs[name].codes.tolist(), name
    assert list(scanned) == list(expected)  # the CaseLine rows too


def _ascii_cases(count: int, seed: int, header: list[str] = HEADER) -> bytes:
    """An ASCII cases.csv as csv.writer writes it: quotes, commas, line feeds, long cells."""
    generator = random.Random(seed)  # noqa: S311 - test data, not security
    texts = ["", "a,b", 'say "x"', '""', "two\nlines", " pad ", "x" * 70, 'q"' * 40, ","]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for index in range(count):
        failed = generator.random() < 0.1
        choices = [0.5, -0.0, 1e17, 1e-7, 5e-324, 1.7976931348623157e308, generator.random()]
        score = "" if failed else repr(generator.choice(choices))
        identifier = generator.choice([f"C-{index}", f'C,"{index}"', f"L{index}" + "y" * 80])
        row = {
            "case_id": identifier,
            "test_set": generator.choice(["ts-a", "ts,b"]),
            "site": generator.choice(["Site A", 'Site "B"', "Site A"]),
            "truth_label": generator.choice(["pos", "neg"]),
            "truth": generator.choice(["0", "1", "1"]),
            "score": score,
            "decision": "" if failed else generator.choice(["positive", "negative"]),
            "status": "failed" if failed else "scored",
            "reason_code": "unreadable" if failed else "",
            "reason": generator.choice(texts) if failed else "",
            "attribute.sex": generator.choice(texts),
            "attribute.age": generator.choice(["[18, 50)", "[50, 70)", "", "12345678", "1234567"]),
            "input_sha256": "",
        }
        writer.writerow([row.get(name, "") for name in header])
    return buffer.getvalue().encode("ascii")


@pytest.mark.req("DXV-FASTVAL-001")
@pytest.mark.parametrize("block_bytes", [64, 4096, 2 << 20])
def test_scan_equals_the_csv_reader_on_what_csv_writer_writes(
    block_bytes: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # 64-byte blocks: most lines are longer than a block, so blocks grow and are cut often.
    monkeypatch.setattr(case_scan, "_BLOCK_BYTES", block_bytes)
    content = _ascii_cases(700, seed=18)
    expected = csv_case_columns(content, where=tmp_path / "cases.csv")
    _same(scan_case_columns(content), expected)
    _same(read_case_columns(content, where=tmp_path / "cases.csv"), expected)


@pytest.mark.req("DXV-FASTVAL-001")
def test_scan_keeps_the_csv_readers_column_rules(tmp_path: Path) -> None:
    # Optional columns absent (empty cells), a repeated name (the last one wins), one row.
    header = [name for name in HEADER if name not in ("reason_code", "reason")]
    header.insert(3, "site")
    content = _ascii_cases(40, seed=3, header=header)
    _same(scan_case_columns(content), csv_case_columns(content, where=tmp_path / "c.csv"))
    one = b"case_id,test_set,site,truth,score,decision,status\nA,t,s,1,0.25,positive,scored\n"
    _same(scan_case_columns(one), csv_case_columns(one, where=tmp_path / "c.csv"))


@pytest.mark.req("DXV-FASTVAL-001")
def test_scan_reads_the_bundle_writers_cases_csv(tmp_path: Path) -> None:
    generator = np.random.default_rng(7)
    count = 5000
    failed = generator.random(count) < 0.05
    scores = np.where(failed, np.nan, np.round(generator.random(count), 4))
    columns = CaseColumnRows(
        case_ids=np.strings.add("c", np.arange(count).astype(str)),
        test_sets=np.full(count, "site-a"),
        sites=np.full(count, "Site A"),
        truth_labels=np.where(generator.random(count) < 0.3, "Poor", "Good"),
        truth=generator.random(count) < 0.3,
        scores=scores,
        reason_code="no_prediction",
        reasons=np.where(failed, "model crashed, twice", ""),
        levels={"age": np.where(generator.random(count) < 0.5, "[0, 50)", "[50, 70)")},
        operating_point=0.5,
    )
    content = render_case_columns(columns, ["age"])
    scanned = scan_case_columns(content)
    _same(scanned, csv_case_columns(content, where=tmp_path / "cases.csv"))


@pytest.mark.req("DXV-FASTVAL-001")
@pytest.mark.parametrize(
    "content",
    [
        b"case_id,test_set,site,truth,score,decision,status\n\xc3\xa9,t,s,1,0.5,p,scored\n",
        b"case_id,test_set,site,truth,score,decision,status\r\nA,t,s,1,0.5,p,scored\r\n",
        b"case_id,test_set,site,truth,score,decision,status\nA\x00,t,s,1,0.5,p,scored\n",
        b"case_id,test_set,site,truth,score,decision,status\nA,t,s,1,0.5,p,scored\n\nB,t,s,0,1,p,s\n",
        b"case_id,test_set,site,truth,score,decision,status\nA,t,s,1,0.5,p\n",
        b"case_id,test_set,site,truth,score,decision,status\nA,t,s,1,0.5,p,scored,extra\n",
        b'case_id,test_set,site,truth,score,decision,status\nA,t,s"x,1,0.5,p,scored\n',
        b'case_id,test_set,site,truth,score,decision,status\nA,t,"s"x,1,0.5,p,scored\n',
        b'case_id,test_set,site,truth,score,decision,status\nA,t,"s,1,0.5,p,scored\n',
        b'case_id,test_set,site,truth,score,decision,status\nA,t,s,"1",0.5,p,scored\n',
        b"case_id,test_set,site,truth,score,decision,status\nA,t,s,1,0.5,p,scored",
        b'"case_id",test_set,site,truth,score,decision,status\nA,t,s,1,0.5,p,scored\n',
        b"case_id,test_set,site,truth,score,decision,status\n",
    ],
)
def test_other_files_go_to_the_csv_reader(content: bytes, tmp_path: Path) -> None:
    assert scan_case_columns(content) is None
    where = tmp_path / "cases.csv"
    _same_or_same_error(content, where)


@pytest.mark.req("DXV-FASTVAL-001")
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"case_id,site\nA,x\n", "missing columns test_set, truth, score, decision, status"),
        (
            b"case_id,test_set,site,truth,score,decision,status\nA,t,s,1,high,p,scored\n",
            "2: score: got 'high' expected a number",
        ),
    ],
)
def test_refusals_are_the_csv_readers(content: bytes, message: str, tmp_path: Path) -> None:
    where = tmp_path / "cases.csv"
    assert scan_case_columns(content) is None
    with pytest.raises(InputError) as raised:
        read_case_columns(content, where=where)
    assert str(raised.value) in (f"{where}: {message}", f"{where}:{message}")


def _same_or_same_error(content: bytes, where: Path) -> None:
    try:
        expected: CaseColumnsFile | str = csv_case_columns(content, where=where)
    except (InputError, csv.Error, UnicodeDecodeError) as error:
        expected = f"{type(error).__name__}: {error}"
    try:
        got: CaseColumnsFile | str = read_case_columns(content, where=where)
    except (InputError, csv.Error, UnicodeDecodeError) as error:
        got = f"{type(error).__name__}: {error}"
    if isinstance(expected, str):
        assert got == expected
    else:
        assert not isinstance(got, str)
        _same(got, expected)
