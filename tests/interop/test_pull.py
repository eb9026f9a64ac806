"""``dxval pull`` against a live Orthanc over DICOMweb and DIMSE (tests/interop/conftest.py)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pydicom
import pytest
from tests.interop import orthanc
from tests.interop.conftest import (
    JUSTIFICATION,
    PLANTED_BIRTH_DATE,
    PLANTED_NAME,
    RETAINED_ALWAYS,
    RETAINED_DEMO,
    DemoSet,
    Pacs,
    write_protocol,
)

from dxval.cli import main
from dxval.data.hashing import sha256_file

REPOSITORY = Path(__file__).parents[2]
RETAIN_DEMO = ("--phi-retained", *RETAINED_DEMO, "--phi-justification", JUSTIFICATION)
RETAIN_ALWAYS = ("--phi-retained", *RETAINED_ALWAYS, "--phi-justification", JUSTIFICATION)


def _dicomweb(
    pacs: Pacs, out: Path, key: Path, *selection: str, retain: tuple[str, ...] = RETAIN_DEMO
) -> list[str]:
    return [
        "pull",
        "--dicomweb",
        pacs.server.dicomweb,
        *selection,
        "--out",
        str(out),
        "--key-file",
        str(key),
        *retain,
    ]


def _dimse(
    pacs: Pacs,
    out: Path,
    key: Path,
    *selection: str,
    called: str = orthanc.SERVER_AET,
    retain: tuple[str, ...] = RETAIN_DEMO,
) -> list[str]:
    return [
        "pull",
        "--dimse",
        f"127.0.0.1:{pacs.server.dicom_port}",
        "--aet",
        orthanc.CLIENT_AET,
        "--called-aet",
        called,
        *selection,
        "--out",
        str(out),
        "--key-file",
        str(key),
        *retain,
    ]


def _data_set_bytes(path: Path) -> bytes:
    """The bytes after the File Meta Information (what DIMSE carries)."""
    with path.open("rb") as handle:
        handle.seek(128 + 4)
        meta = pydicom.dcmread(path, stop_before_pixels=True).file_meta
        length = int(meta.FileMetaInformationGroupLength)
        handle.seek(128 + 4 + 12 + length)
        return handle.read()


def _pulled_files(out: Path) -> list[Path]:
    return sorted(out.glob("cases/*/*.dcm"))


@pytest.fixture(scope="module")
def web_pull(
    tmp_path_factory: pytest.TempPathFactory, pacs: Pacs, demo_set: DemoSet, site_key: Path
) -> Path:
    """The demo set pulled over DICOMweb by --studies (truth and sex joined from the CSV)."""
    out = tmp_path_factory.mktemp("web") / "test-set"
    assert main(_dicomweb(pacs, out, site_key, "--studies", str(demo_set.studies_csv))) == 0
    return out


@pytest.fixture(scope="module")
def dimse_pull(
    tmp_path_factory: pytest.TempPathFactory, pacs: Pacs, demo_set: DemoSet, site_key: Path
) -> Path:
    """The demo set pulled over DIMSE by a study query (the 2025 PHI study does not match)."""
    out = tmp_path_factory.mktemp("dimse") / "test-set"
    query = (
        "--query",
        "Modality=CR&StudyDate=20260101-20261231",
        "--join",
        str(demo_set.studies_csv),
    )
    code = main(_dimse(pacs, out, site_key, *query))
    assert code == 0
    return out


@pytest.mark.req("DXV-PACS-001")
def test_dicomweb_pull_gives_the_stored_files_byte_for_byte(
    web_pull: Path, demo_set: DemoSet
) -> None:
    pulled = _pulled_files(web_pull)
    assert len(pulled) == len(demo_set.files) == 8
    for path in pulled:
        uid = str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)
        assert path.read_bytes() == demo_set.by_sop[uid].read_bytes()
    syntaxes = {
        str(pydicom.dcmread(p, stop_before_pixels=True).file_meta.TransferSyntaxUID) for p in pulled
    }
    assert "1.2.840.10008.1.2.5" in syntaxes  # RLE Lossless came back as stored, not transcoded


@pytest.mark.req("DXV-PACS-001")
def test_dimse_pull_gives_the_stored_data_sets_and_the_same_manifest_cases(
    dimse_pull: Path, web_pull: Path, demo_set: DemoSet
) -> None:
    pulled = _pulled_files(dimse_pull)
    assert len(pulled) == len(demo_set.files)
    for path in pulled:
        header = pydicom.dcmread(path, stop_before_pixels=True)
        original = demo_set.by_sop[str(header.SOPInstanceUID)]
        assert _data_set_bytes(path) == _data_set_bytes(original)
        original_syntax = pydicom.dcmread(original, stop_before_pixels=True).file_meta
        assert header.file_meta.TransferSyntaxUID == original_syntax.TransferSyntaxUID
    web_rows = list(csv.DictReader((web_pull / "manifest.csv").open()))
    dimse_rows = list(csv.DictReader((dimse_pull / "manifest.csv").open()))
    assert [r["case_id"] for r in dimse_rows] == [r["case_id"] for r in web_rows]
    assert [r["path"] for r in dimse_rows] == [r["path"] for r in web_rows]
    assert [(r["label"], r["sex"]) for r in dimse_rows] == [
        (r["label"], r["sex"]) for r in web_rows
    ]
    assert {p.relative_to(dimse_pull) for p in pulled} == {
        p.relative_to(web_pull) for p in _pulled_files(web_pull)
    }


@pytest.mark.req("DXV-PACS-001")
def test_the_pulled_manifests_lock_and_validate(
    web_pull: Path, dimse_pull: Path, tmp_path: Path
) -> None:
    scores = {}
    for name, pulled in (("web", web_pull), ("dimse", dimse_pull)):
        protocol = write_protocol(tmp_path / f"{name}.yaml", {name: str(pulled / "manifest.csv")})
        assert main(["lock", str(protocol)]) == 0
        evidence = tmp_path / f"evidence-{name}"
        arguments = ["validate", str(protocol), "--out", str(evidence), "--no-report"]
        code = main([*arguments, "--workers", "1", "--no-cache"])
        assert code in (0, 1)  # evidence written; the criterion's verdict is not the point here
        bundle = next((evidence / "PACS-PULL-TEST").iterdir())
        cases = list(csv.DictReader((bundle / "cases.csv").open()))
        assert len(cases) == 8
        assert {row["status"] for row in cases} == {"scored"}
        scores[name] = {row["case_id"]: row["score"] for row in cases}
    assert scores["web"] == scores["dimse"]  # the same pixels give the same scores


@pytest.mark.req("DXV-PACS-002")
def test_case_ids_are_keyed_hashes_and_the_record_lists_every_file(
    web_pull: Path, demo_set: DemoSet, site_key: Path
) -> None:
    from dxval.interop.pull import load_site_key

    key = load_site_key(site_key)
    rows = list(csv.DictReader((web_pull / "manifest.csv").open()))
    assert {row["case_id"] for row in rows} == {key.case_id(uid) for uid in demo_set.study_uids}
    assert list(rows[0]) == ["case_id", "path", "sha256", "label", "sex"]
    assert all(row["label"] in ("0", "1") and row["sex"] in ("F", "M") for row in rows)
    text = (web_pull / "manifest.csv").read_text() + (web_pull / "pull.json").read_text()
    paths = " ".join(str(p) for p in web_pull.rglob("*"))
    for uid in demo_set.study_uids:
        assert uid not in text
        assert uid not in paths
    assert site_key.read_text().strip() not in text
    record = json.loads((web_pull / "pull.json").read_text())
    assert record["server"] == {"protocol": "DICOMweb", "url": record["server"]["url"]}
    assert record["query"]["mode"] == "studies"
    assert record["query"]["file_sha256"] == sha256_file(demo_set.studies_csv)
    assert record["site_key"]["id"] == key.key_id
    assert record["started_utc"] <= record["finished_utc"]
    listed = {f["path"]: f["sha256"] for case in record["cases"] for f in case["files"]}
    assert listed == {str(p.relative_to(web_pull)): sha256_file(p) for p in _pulled_files(web_pull)}
    other = load_site_key(None, {"DXVAL_SITE_KEY": "ab" * 32})
    assert other.case_id(demo_set.study_uids[0]) != key.case_id(demo_set.study_uids[0])


@pytest.mark.req("DXV-PACS-003")
def test_a_second_pull_retrieves_nothing_and_changes_nothing(
    web_pull: Path,
    pacs: Pacs,
    demo_set: DemoSet,
    site_key: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in web_pull.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert main(_dicomweb(pacs, web_pull, site_key, "--studies", str(demo_set.studies_csv))) == 0
    assert (
        "0 retrieved, 8 already verified (up to date; nothing changed)" in capsys.readouterr().out
    )
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in web_pull.rglob("*") if p.is_file()}
    assert after == before


_SLOW_PULL = """
import sys, time
import dxval.interop.pull as pull
add = pull._Journal.add
def slow_add(self, name, digest):
    add(self, name, digest)
    time.sleep(0.2)
pull._Journal.add = slow_add
from dxval.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.req("DXV-PACS-003")
def test_a_killed_pull_resumes_without_retrieving_verified_files(
    tmp_path: Path, pacs: Pacs, site_key: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "test-set"
    arguments = _dicomweb(pacs, out, site_key, "--query", "StudyDate=20260101-20261231")
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPOSITORY / "src"), str(REPOSITORY)]),
    }
    process = subprocess.Popen(
        [sys.executable, "-c", _SLOW_PULL, *arguments],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    journal = out / ".dxval-pull" / "journal.jsonl"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        if journal.exists() and len(journal.read_text().splitlines()) >= 2:
            break
        time.sleep(0.02)
    process.kill()
    process.wait()
    assert process.returncode != 0, "the pull finished before it could be killed"
    assert not (out / "manifest.csv").exists()
    assert not (out / "pull.json").exists()
    kept = {p: p.stat().st_mtime_ns for p in _pulled_files(out)}
    assert len(kept) >= 2
    capsys.readouterr()
    assert main(arguments) == 0
    summary = capsys.readouterr().out
    assert f"{8 - len(kept)} retrieved, {len(kept)} already verified" in summary
    assert {p: p.stat().st_mtime_ns for p in kept} == kept
    assert len(_pulled_files(out)) == 8


@pytest.mark.req("DXV-PACS-004")
def test_a_study_with_planted_phi_is_refused_naming_attributes_only(
    tmp_path: Path, pacs: Pacs, site_key: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "test-set"
    arguments = _dicomweb(pacs, out, site_key, "--study", pacs.phi_study_uid, retain=RETAIN_ALWAYS)
    assert main(arguments) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("dxval: error: PHI scan on arrival (phi: refuse): 1 of 1")
    assert "PatientName (0010,0010)" in error
    assert "PatientBirthDate (0010,0030)" in error
    for value in (PLANTED_NAME, "Doe", "Jane", PLANTED_BIRTH_DATE, pacs.phi_study_uid):
        assert value not in error
    assert not (out / "manifest.csv").exists()
    assert _pulled_files(out) == []


@pytest.mark.req("DXV-PACS-004")
def test_under_warn_the_findings_are_recorded_without_values(
    tmp_path: Path, pacs: Pacs, site_key: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "test-set"
    study = ("--study", pacs.phi_study_uid)
    arguments = [*_dicomweb(pacs, out, site_key, *study, retain=RETAIN_ALWAYS), "--phi", "warn"]
    assert main(arguments) == 0
    assert "PHI scan (phi: warn)" in capsys.readouterr().err
    record = (out / "pull.json").read_text()
    findings = json.loads(record)["phi"]["findings"]
    assert {"PatientName", "PatientBirthDate"} <= {item["attribute"] for item in findings}
    for value in (PLANTED_NAME, "Doe", PLANTED_BIRTH_DATE, pacs.phi_study_uid):
        assert value not in record
    retained = json.loads(record)["phi"]["retained"]
    assert retained == {"attributes": list(RETAINED_ALWAYS), "justification": JUSTIFICATION}


@pytest.mark.req("DXV-PACS-004")
def test_retained_attributes_need_a_justification_and_real_keywords(
    tmp_path: Path, pacs: Pacs, site_key: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    query = ("--query", "StudyDate=20260101")
    assert main(_dicomweb(pacs, out, site_key, *query, retain=("--phi-retained", "StudyDate"))) == 2
    assert "got no --phi-justification" in capsys.readouterr().err
    wrong = ("--phi-retained", "StudyDat", "--phi-justification", "x")
    assert main(_dicomweb(pacs, out, site_key, *query, retain=wrong)) == 2
    assert "--phi-retained: got ['StudyDat'] expected DICOM keywords" in capsys.readouterr().err
    assert not out.exists()


def _https(pacs: Pacs) -> str:
    return pacs.server.dicomweb.replace("http://", "https://")


@pytest.mark.req("DXV-PACS-005")
@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("web server down", "cannot connect"),
        ("dimse server down", "cannot connect (Connection refused)"),
        ("wrong called AE title", "association rejected"),
        ("TLS error", "TLS error"),
        ("HTTP error", "HTTP 404"),
        ("query matching nothing (web)", "the query matched no study; nothing written"),
        ("query matching nothing (dimse)", "the query matched no study; nothing written"),
        ("unknown study", "the study has no instances on the server"),
    ],
)
def test_pacs_errors_are_one_line_exit_2_and_leave_the_folder_as_it_was(  # noqa: PLR0917 (fixtures)
    case: str,
    expected: str,
    tmp_path: Path,
    pacs: Pacs,
    web_pull: Path,
    site_key: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    down = f"127.0.0.1:{orthanc.free_port()}"
    query = ("--query", "StudyDate=19000101")
    arguments = {
        "web server down": _dicomweb(pacs, tmp_path / "out", site_key, *query),
        "dimse server down": _dimse(pacs, tmp_path / "out", site_key, *query),
        "wrong called AE title": _dimse(pacs, tmp_path / "out", site_key, *query, called="NOPE"),
        "TLS error": _dicomweb(pacs, tmp_path / "out", site_key, *query),
        "HTTP error": _dicomweb(pacs, tmp_path / "out", site_key, *query),
        "query matching nothing (web)": _dicomweb(pacs, web_pull, site_key, *query),
        "query matching nothing (dimse)": _dimse(pacs, web_pull, site_key, *query),
        "unknown study": _dicomweb(pacs, web_pull, site_key, "--study", "1.2.3.4.5"),
    }[case]
    if case == "web server down":
        arguments[2] = f"http://{down}/dicom-web"
    elif case == "dimse server down":
        arguments[2] = down
    elif case == "TLS error":
        arguments[2] = _https(pacs)
    elif case == "HTTP error":
        arguments[2] = pacs.server.url + "/no-such-root"
    before = {p: p.read_bytes() for p in web_pull.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert main(arguments) == 2
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.startswith("dxval: error:")]
    assert len(lines) == 1, captured.err
    assert expected in lines[0]
    assert "Traceback" not in captured.err
    assert not (tmp_path / "out").exists()
    assert {p: p.read_bytes() for p in web_pull.rglob("*") if p.is_file()} == before


@pytest.mark.req("DXV-PACS-002")
def test_a_missing_or_short_site_key_is_a_usage_error(
    tmp_path: Path, pacs: Pacs, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DXVAL_SITE_KEY", raising=False)
    monkeypatch.delenv("DXVAL_SITE_KEY_FILE", raising=False)
    arguments = [
        "pull",
        "--dicomweb",
        pacs.server.dicomweb,
        "--query",
        "StudyDate=20260101",
        "--out",
        str(tmp_path / "out"),
    ]
    assert main(arguments) == 2
    assert "no site key" in capsys.readouterr().err
    short = tmp_path / "short.key"
    short.write_text("abcd")
    assert main([*arguments, "--key-file", str(short)]) == 2
    assert "got a 2-byte key expected at least 32 bytes" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.req("DXV-PACS-002")
def test_a_folder_pulled_with_another_key_is_refused(
    web_pull: Path,
    pacs: Pacs,
    demo_set: DemoSet,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    other = tmp_path / "other.key"
    other.write_text("cd" * 32)
    arguments = _dicomweb(pacs, web_pull, other, "--studies", str(demo_set.studies_csv))
    assert main(arguments) == 2
    assert "expected the key of the earlier pull" in capsys.readouterr().err


@pytest.mark.req("DXV-PACS-005")
def test_a_join_csv_without_a_row_for_a_pulled_study_is_refused_before_retrieval(
    tmp_path: Path,
    pacs: Pacs,
    demo_set: DemoSet,
    site_key: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    join = tmp_path / "truth.csv"
    lines = demo_set.studies_csv.read_text().splitlines()
    join.write_text("\n".join(lines[:-1]) + "\n")  # the last study has no row
    out = tmp_path / "out"
    arguments = _dicomweb(pacs, out, site_key, "--query", "StudyDate=20260101", "--join", str(join))
    assert main(arguments) == 2
    error = capsys.readouterr().err
    assert f"{join}: no row for case P" in error
    assert "expected one row per pulled study" in error
    assert not out.exists()
