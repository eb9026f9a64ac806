"""The report reads cases.csv as columns (issue 18, DXV-SCALERPT).

The reference below is the row-by-row reader the report used before: one
``csv.DictReader`` row and one :class:`CaseLine` per case. The columnar
reader must return the same rows and the same refusals, and the report,
views and 510(k) summary path must build no per-case object except for the
non-scored cases they list.
"""

from __future__ import annotations

import csv
import io
import random
import tracemalloc
from pathlib import Path

import pytest

from dxval.errors import InputError
from dxval.evidence import format as bundle_format
from dxval.evidence.format import CaseLine, read_bundle, read_case_columns, read_cases
from dxval.report.summary import build_summary_view
from dxval.report.views import build_report_view

HEADER = (
    "case_id,test_set,site,truth_label,truth,score,decision,status,reason_code,reason,"
    "attribute.sex,attribute.age\n"
)


def _reference(content: bytes, where: Path) -> tuple[list[CaseLine], tuple[str, ...]]:
    """The pre-issue-18 reader: one DictReader row, one CaseLine per case."""
    reader = csv.DictReader(io.StringIO(content.decode("utf-8")))
    columns = reader.fieldnames or []
    attributes = tuple(c.removeprefix("attribute.") for c in columns if c.startswith("attribute."))
    lines = []
    for number, row in enumerate(reader, start=2):
        text = row["score"]
        try:
            score = float(text) if text else None
        except ValueError as error:
            raise InputError(f"{where}:{number}: score: got {text!r} expected a number") from error
        lines.append(
            CaseLine(
                case_id=row["case_id"],
                test_set=row["test_set"],
                site=row["site"],
                truth=row["truth"] == "1",
                score=score,
                decision=row["decision"],
                status=row["status"],
                reason_code=row.get("reason_code", ""),
                reason=row.get("reason", ""),
                levels={name: row[f"attribute.{name}"] for name in attributes},
            )
        )
    return lines, attributes


def _hostile_cases(count: int, seed: int, bad_score_row: int | None = None) -> bytes:
    """A cases.csv with quotes, commas, line breaks, non-ASCII text and failed rows."""
    generator = random.Random(seed)  # noqa: S311 - test data, not security
    texts = ["", "a,b", 'say "x"', "two\nlines", "crlf\r\nend", "Zürich ☃", " pad ", "\u2028"]
    buffer = io.StringIO()
    buffer.write(HEADER)
    writer = csv.writer(buffer, lineterminator="\n")
    for index in range(count):
        failed = generator.random() < 0.1
        choices = [0.5, -0.0, 1e17, 1e-7, generator.random()]
        score = "" if failed else repr(generator.choice(choices))
        if index == bad_score_row:
            score = "high"
        writer.writerow(
            [
                f"C-{index}-{generator.choice(['é', 'x', '😀'])}",
                generator.choice(["ts-a", "ts,b"]),
                generator.choice(["Site A", 'Site "B"']),
                generator.choice(["pos", "neg"]),
                generator.choice(["0", "1"]),
                score,
                "" if failed else generator.choice(["positive", "negative"]),
                "failed" if failed else "scored",
                "unreadable" if failed else "",
                generator.choice(texts) if failed else "",
                generator.choice(texts),
                generator.choice(["[18, 50)", "[50, 70)", ""]),
            ]
        )
    return buffer.getvalue().encode("utf-8")


@pytest.mark.req("DXV-SCALERPT-001")
def test_columns_give_the_rows_of_the_row_by_row_reader(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(bundle_format, "_CASE_CHUNK_ROWS", 7)  # many chunks, a partial last one
    where = tmp_path / "cases.csv"
    content = _hostile_cases(300, seed=18)
    expected, attributes = _reference(content, where)
    columns = read_case_columns(content, where=where)
    assert columns.attributes == attributes == ("sex", "age")
    assert len(columns) == 300
    assert list(columns) == expected
    assert columns[-1] == expected[-1]
    assert read_cases(content, where=where) == (tuple(expected), attributes)
    failed = [index for index, line in enumerate(expected) if line.status != "scored"]
    assert failed
    assert columns.where_status_is_not("scored").tolist() == failed
    assert columns.levels["age"].counts() == {
        level: sum(line.levels["age"] == level for line in expected)
        for level in dict.fromkeys(line.levels["age"] for line in expected)
    }


@pytest.mark.req("DXV-SCALERPT-001")
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"case_id,site\nA,x\n", "missing columns test_set, truth, score, decision, status"),
        (HEADER.replace(",status", "").encode(), "missing column status"),
    ],
)
def test_a_missing_column_is_refused_as_before(
    content: bytes, message: str, tmp_path: Path
) -> None:
    where = tmp_path / "cases.csv"
    with pytest.raises(InputError) as columnar:
        read_case_columns(content, where=where)
    assert str(columnar.value) == f"{where}: {message}"


@pytest.mark.req("DXV-SCALERPT-001")
def test_a_bad_score_is_refused_with_its_row_number(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(bundle_format, "_CASE_CHUNK_ROWS", 5)
    where = tmp_path / "cases.csv"
    content = _hostile_cases(40, seed=3, bad_score_row=23)  # row 23 of 40: the fifth chunk
    with pytest.raises(InputError) as reference:
        _reference(content, where)
    with pytest.raises(InputError) as columnar:
        read_case_columns(content, where=where)
    assert str(columnar.value) == str(reference.value)
    assert "score: got 'high' expected a number" in str(columnar.value)


@pytest.mark.req("DXV-SCALERPT-002")
def test_report_and_summary_build_rows_only_for_non_scored_cases(
    sealed_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []

    class Counted(CaseLine):
        __slots__ = ()

        def __init__(self, **fields: object) -> None:
            built.append(str(fields["case_id"]))
            super().__init__(**fields)  # type: ignore[arg-type]

    monkeypatch.setattr(bundle_format, "CaseLine", Counted)
    bundle = read_bundle(sealed_bundle)
    assert built == []
    build_report_view(bundle)
    build_summary_view(bundle)
    assert built  # the flow diagram, reason table and summary list the non-scored case
    assert set(built) == {"SITE-B-005"}  # the bundle's only non-scored case of 120


@pytest.mark.req("DXV-SCALERPT-003")
def test_reading_100k_cases_stays_within_a_memory_bound(tmp_path: Path) -> None:
    lines = [HEADER]
    lines.extend(
        f"CASE-{index:07d},ts-a,Site A,pos,{index % 2},0.{index:06d},positive,scored,,,"
        f'{"FM"[index % 2]},"[{18 + index % 3 * 20}, {38 + index % 3 * 20})"\n'
        for index in range(100_000)
    )
    content = "".join(lines).encode()
    del lines
    tracemalloc.start()
    try:
        columns = read_case_columns(content, where=tmp_path / "cases.csv")
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(columns) == 100_000
    assert columns[99_999].case_id == "CASE-0099999"
    # Kept: 12-byte IDs, int32 codes and float scores, about 50 bytes a case (one CaseLine
    # with its dict and strings is several hundred). Peak: one chunk of parsed rows on top
    # (measured 5.2 MiB kept, 26 MiB peak for a 6.8 MB file).
    assert kept < 8 * 2**20, kept
    assert peak < 40 * 2**20, (peak, len(content))


@pytest.mark.req("DXV-SCALERPT-004")
def test_an_embedded_file_is_compressed_once_with_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import zlib

    import pydyf

    from dxval.report import pdf

    content = b"case_id,score\n" + b"".join(b"C-%d,0.%d\n" % (i, i) for i in range(20_000))
    plain = pydyf.Stream([content], pydyf.Dictionary({"Type": "/EmbeddedFile"}), compress=True)
    once = pydyf.Stream([content], pydyf.Dictionary({"Type": "/EmbeddedFile"}), compress=True)
    expected = plain.data
    passes: list[int] = []
    real = zlib.compressobj

    def counting(*args: object, **kwargs: object) -> object:
        passes.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pydyf.zlib, "compressobj", counting)
    pdf._serialise_once(once)
    assert isinstance(once, pydyf.Stream)
    assert once.data == expected
    assert once.data == expected  # pydyf asks twice per write (file, then /ID digest)
    assert len(passes) == 1
    assert plain.data == expected
    assert len(passes) == 2  # an ordinary stream compresses on every call


@pytest.mark.req("DXV-SCALERPT-004")
def test_an_attachment_reaches_weasyprint_as_its_bytes_and_media_type() -> None:
    from weasyprint import urls

    from dxval.report import pdf

    content = b"case_id,score\nC-1,0.5\n"
    source = pdf._attachment_source("cases.csv", content, "text/csv")
    if "url_fetcher" not in source:  # WeasyPrint < 66: the data: URL
        assert source["url"].startswith("data:text/csv;base64,")
        return
    with urls.fetch(source["url_fetcher"], source["url"]) as response:
        assert response.read() == content
        assert response.content_type == "text/csv"


@pytest.mark.req("DXV-SCALERPT-002")
def test_pair_counts_from_codes_equal_a_counter_in_sorted_order(tmp_path: Path) -> None:
    from collections import Counter

    from dxval.report.case_columns import pair_counts, present

    content = _hostile_cases(500, seed=5)
    rows, _ = _reference(content, tmp_path / "cases.csv")
    columns = read_case_columns(content, where=tmp_path / "cases.csv")
    expected = Counter((row.site, row.levels["sex"]) for row in rows)
    counted = pair_counts(columns.text["site"], columns.levels["sex"])
    assert counted == dict(expected)
    assert list(counted) == sorted(expected)
    assert present(columns.text["site"]) == {row.site for row in rows}
