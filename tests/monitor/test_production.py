"""Reading the production log: reason codes, counts, windows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dxval.errors import InputError
from dxval.monitor.production import (
    AttributeRule,
    TruthLabels,
    Window,
    encode_attributes,
    read_production,
    split_windows,
    window_starts,
)

MODEL = "a" * 64
LABELS = TruthLabels(frozenset({"1"}), frozenset({"0"}))
HEADER = "timestamp,score,model_sha256,manufacturer,age,truth\n"


def _read(path: Path, text: str) -> object:
    path.write_text(text)
    return read_production(
        path,
        model_sha256=MODEL,
        score_range=(0.0, 1.0),
        truth_labels=LABELS,
        attributes=["manufacturer", "age", "site"],
    )


@pytest.mark.req("DXV-MON-003")
def test_every_bad_row_is_reason_coded_counted_and_listed(tmp_path: Path) -> None:
    rows = [
        f"2027-01-04T10:00:00Z,0.2,{MODEL},A,50,1",  # used
        f"2027-01-04T11:00:00+02:00,0.3,{MODEL.upper()},A,50,0",  # used (digest case-insensitive)
        f"2027-01-05,0.4,{MODEL},A,50,",  # used: date only, UTC midnight
        f"not a time,0.4,{MODEL},A,50,",  # timestamp_unparsable
        f"2027-02-30T10:00:00Z,0.4,{MODEL},A,50,",  # timestamp_unparsable (no such day)
        f",0.4,{MODEL},A,50,",  # timestamp_unparsable (empty)
        f"2027-01-04T10:00:00Z,,{MODEL},A,50,",  # score_missing
        f"2027-01-04T10:00:00Z,high,{MODEL},A,50,",  # score_not_a_number
        f"2027-01-04T10:00:00Z,1.5,{MODEL},A,50,",  # score_out_of_range
        f"2027-01-04T10:00:00Z,-0.1,{MODEL},A,50,",  # score_out_of_range
        f"2027-01-04T10:00:00Z,inf,{MODEL},A,50,",  # score_out_of_range
        f"2027-01-04T10:00:00Z,0.5,{'b' * 64},A,50,",  # model_sha256_mismatch
        f"2027-01-04T10:00:00Z,0.5,{MODEL},A,50,maybe",  # used, truth unrecognised
    ]
    log = _read(tmp_path / "prod.csv", HEADER + "\n".join(rows) + "\n")
    assert log.rows == 13
    assert log.used == 4
    assert dict(log.excluded) == {
        "model_sha256_mismatch": 1,
        "timestamp_unparsable": 3,
        "score_missing": 1,
        "score_not_a_number": 1,
        "score_out_of_range": 3,
    }
    assert log.used + sum(log.excluded.values()) == log.rows
    assert log.excluded_lines[0] == (5, "timestamp_unparsable")
    assert (13, "model_sha256_mismatch") in log.excluded_lines
    assert log.truth_unrecognised == 1
    assert log.truth.tolist() == [1, 0, -1, -1]
    assert log.other_digests == {"b" * 64: 1}
    listing = log.exclusion_csv().decode().splitlines()
    assert listing[0] == "line,reason_code,reason"
    assert len(listing) == 1 + 9
    assert "high" not in log.exclusion_csv().decode()  # never a value, only the reason


@pytest.mark.req("DXV-MON-002")
def test_a_log_of_another_model_is_refused(tmp_path: Path) -> None:
    text = HEADER + f"2027-01-04T10:00:00Z,0.2,{'c' * 64},A,50,1\n"
    with pytest.raises(InputError, match=r"model_sha256: no row names the baseline model a{64}"):
        _read(tmp_path / "prod.csv", text)


def test_missing_columns_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing column model_sha256"):
        _read(tmp_path / "prod.csv", "timestamp,score\n2027-01-04,0.1\n")
    with pytest.raises(InputError, match="empty; expected a header row"):
        _read(tmp_path / "empty.csv", "")
    with pytest.raises(InputError, match="production log"):
        read_production(
            tmp_path,
            model_sha256=MODEL,
            score_range=(0.0, 1.0),
            truth_labels=LABELS,
            attributes=[],
        )
    with pytest.raises(InputError, match="not found"):
        read_production(
            tmp_path / "absent.csv",
            model_sha256=MODEL,
            score_range=(0.0, 1.0),
            truth_labels=LABELS,
            attributes=[],
        )


def test_window_starts_are_utc_days_iso_weeks_and_months() -> None:
    stamps = np.array(
        [
            "2027-01-03T23:59:59",
            "2027-01-04T00:00:00",
            "2027-01-10T23:00:00",
            "2027-02-01T00:00:00",
        ],
        dtype="datetime64[ns]",
    ).astype(np.int64)

    def as_text(values: np.ndarray) -> list[str]:
        return [str(v)[:10] for v in values.astype("datetime64[ns]")]

    assert as_text(window_starts(stamps, Window.DAY)) == [
        "2027-01-03",
        "2027-01-04",
        "2027-01-10",
        "2027-02-01",
    ]
    # 2027-01-04 is the Monday of ISO week 2027-W01; 2027-01-03 belongs to 2026-W53
    assert as_text(window_starts(stamps, Window.WEEK)) == [
        "2026-12-28",
        "2027-01-04",
        "2027-01-04",
        "2027-02-01",
    ]
    assert as_text(window_starts(stamps, Window.MONTH)) == [
        "2027-01-01",
        "2027-01-01",
        "2027-01-01",
        "2027-02-01",
    ]


@pytest.mark.req("DXV-MON-004")
def test_split_windows_bands_binned_attributes_and_flags_values_outside(tmp_path: Path) -> None:
    rows = [
        f"2027-01-04T10:00:00Z,0.2,{MODEL},A,50,1",
        f"2027-01-05T10:00:00Z,0.3,{MODEL},B,17,0",  # age below the bins
        f"2027-01-12T10:00:00Z,0.4,{MODEL},,070Y,",  # next week; DICOM age; no manufacturer
    ]
    log = _read(tmp_path / "prod.csv", HEADER + "\n".join(rows) + "\n")
    rules = [
        AttributeRule("manufacturer", "categorical"),
        AttributeRule("age", "binned", (18.0, 40.0, 65.0, 100.0)),
    ]
    windows = split_windows(
        log, encode_attributes(log, rules), Window.WEEK, criteria_attributes=["age"]
    )
    assert [w.label for w in windows] == ["2027-W01", "2027-W02"]
    assert [w.start for w in windows] == ["2027-01-04T00:00:00Z", "2027-01-11T00:00:00Z"]
    assert windows[0].end == "2027-01-11T00:00:00Z"
    assert windows[0].categorical["age"] == {"[40, 65)": 1, "outside the validated bins": 1}
    assert windows[1].categorical == {"manufacturer": {"missing": 1}, "age": {"[65, 100]": 1}}
    assert windows[0].levels["age"].tolist() == ["[40, 65)", "outside the validated bins"]
    assert windows[0].sites.tolist() == ["missing", "missing"]
    (everything,) = split_windows(
        log, encode_attributes(log, rules), Window.ALL, criteria_attributes=[]
    )
    assert (everything.label, everything.scores.size) == ("all", 3)
    assert everything.start == "2027-01-04T10:00:00Z"
