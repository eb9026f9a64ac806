"""Hostile protocols, manifests and predictions (issue 11, findings 9, 11 and 12).

Each bad input must end in exit 2 with one ``dxval: error:`` line that names
the file and what was expected — never exit 70, never a hang or a machine
exhausted, never a value of a file that is not what was expected.
"""

from __future__ import annotations

import csv
import errno
import io
import os
import time
from pathlib import Path

import pytest
from tests.e2e.test_validate_model import _make_protocol

from dxval.cli import main
from dxval.data import limits, read_manifest
from dxval.data import manifest as manifest_module
from dxval.data.limits import MAX_FIELD_CHARS
from dxval.errors import InputError, ProtocolError
from dxval.protocol import load_protocol
from dxval.report import render as report_render

PROTOCOLS = Path(__file__).parents[2] / "protocols"


def _run(
    protocol: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str]:
    code = main(["validate", str(protocol), "--out", str(out), "--no-report", *extra])
    return code, capsys.readouterr().err


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("dxval: error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert "internal error" not in err
    return lines[0]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


# --- finding 12: non-finite numbers, limits, malformed text --------------------------------


@pytest.mark.req("DXV-INPUT-005")
@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('op: ">=", value: 0.70}', 'op: ">=", value: .nan}'),
        ('op: ">=", value: 0.70}', 'op: ">=", value: -.inf}'),
        ('op: ">=", value: 0.70}', 'op: ">=", value: 1e309}'),
        ("operating_point: 0.205", "operating_point: .nan"),
        ("confidence_level: 0.95", "confidence_level: .nan"),
    ],
)
def test_non_finite_protocol_numbers_are_exit_2_at_load(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str
) -> None:
    _edit(example, old, new)
    code, err = _run(example, tmp_path / "out", capsys)
    assert code == 2  # was 70: "Out of range float values are not JSON compliant"
    assert "finite" in _one_error_line(err)
    assert not (tmp_path / "out").exists()


@pytest.mark.req("DXV-INPUT-006")
def test_yaml_alias_bomb_fails_fast(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("dxval: 1\n" + "\n".join(lines) + "\n")
    started = time.monotonic()
    code, err = _run(bomb, tmp_path / "out", capsys)
    assert code == 2
    assert time.monotonic() - started < 10
    assert "YAML aliases included" in _one_error_line(err)


@pytest.mark.req("DXV-INPUT-006")
@pytest.mark.parametrize("special", ["/dev/zero", "fifo", "folder"])
def test_non_regular_files_are_refused_without_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], special: str
) -> None:
    target = Path(special)
    if special == "fifo":
        target = tmp_path / "pipe.yaml"
        os.mkfifo(target)  # nobody writes: opening it for reading would block
    elif special == "folder":
        target = tmp_path
    started = time.monotonic()
    code, err = _run(target, tmp_path / "out", capsys)
    assert code == 2
    assert time.monotonic() - started < 5
    assert "expected protocol file as a regular file" in _one_error_line(err)


@pytest.mark.req("DXV-INPUT-006")
def test_huge_files_are_refused_by_size(example: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as handle:
        handle.truncate(2 * 1024 * 1024)  # sparse: nothing is written
    with pytest.raises(ProtocolError, match=r"expected protocol file of at most 1 MiB"):
        load_protocol(big)
    manifest = tmp_path / "m.csv"
    with manifest.open("wb") as handle:
        handle.truncate(limits.MAX_CSV_BYTES + 1024 * 1024)  # sparse; the limit moved (issue 18)
    size = f"of at most {limits.MAX_CSV_BYTES // 2**20} MiB"
    with pytest.raises(InputError, match=rf"{size} \(documented input limit\)"):
        read_manifest(manifest, label="test set a")


@pytest.mark.req("DXV-INPUT-006")
def test_bootstrap_replicates_have_a_documented_maximum(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit(example, "replicates: 2000", "replicates: 1000000000")
    code, err = _run(example, tmp_path / "out", capsys)
    assert code == 2
    assert "less than or equal to 100000" in _one_error_line(err)


@pytest.mark.req("DXV-INPUT-006")
def test_case_count_and_bootstrap_work_have_documented_maxima(
    example: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the limits scaled down to the example's 113 cases (72 + 41), so no huge file is needed
    monkeypatch.setattr(limits, "MAX_CASES", 100)
    code, err = _run(example, tmp_path / "out", capsys)
    assert code == 2
    assert "got 113 cases in the test sets together expected at most 100" in _one_error_line(err)
    monkeypatch.setattr(limits, "MAX_CASES", 1000)
    monkeypatch.setattr(limits, "MAX_BOOTSTRAP_DRAWS", 113 * 1999)
    # the draw limit binds a protocol that bootstraps (issue 18: closed-form by default)
    _edit(example, "auc_ci: delong", "auc_ci: delong\n  ap_ci: bootstrap")
    code, err = _run(example, tmp_path / "out", capsys)
    assert code == 2
    assert "at most 1999 replicates for this test set" in _one_error_line(err)
    monkeypatch.setattr(manifest_module, "MAX_CASES", 3)
    with pytest.raises(InputError, match=r"manifest\.csv:5: got more than 3 rows"):
        read_manifest(example.parent / "data" / "asah" / "site-f" / "manifest.csv", label="a")
    assert not (tmp_path / "out").exists()


@pytest.mark.req("DXV-INPUT-006")
def test_long_case_id_is_exit_2(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = example.parent / "data" / "asah" / "site-f" / "manifest.csv"
    _edit(manifest, "asah-001,", "x" * 200_000 + ",")
    code, err = _run(example, tmp_path / "out", capsys)
    assert code == 2  # was 70: "field larger than field limit (131072)"
    line = _one_error_line(err)
    assert "manifest.csv:2" in line
    assert "xxxxxxxxxx" not in line
    _edit(manifest, "x" * 200_000, "y" * (MAX_FIELD_CHARS + 1))
    code, err = _run(example, tmp_path / "out", capsys)
    assert code == 2
    assert f"expected at most {MAX_FIELD_CHARS}" in _one_error_line(err)


@pytest.mark.req("DXV-INPUT-006")
@pytest.mark.parametrize(
    ("target", "content", "expected"),
    [
        ("protocol", b"dxval: 1\nid: \xff\xfe\n", "not UTF-8"),
        ("protocol", b"dxval: 1\ndxval: 1\n", "duplicate key"),
        ("manifest", b"case_id,outcome\n\xff,Good\n", "not UTF-8"),
        (
            "manifest",
            b"case_id,outcome,gender,age,wfns\na,Good,F,042Y,1\na,Poor,F,042Y,1\n",
            "duplicate 'a'",
        ),
        ("predictions", b"case_id,s100b\nasah-001,nan\n", "expected a finite number"),
        ("predictions", b"case_id,s100b\nasah-001,-inf\n", "expected a finite number"),
        ("predictions", b"case_id,s100b\nasah-001,1e309\n", "expected a finite number"),
        ("predictions", b"case_id,s100b\nasah-001,0.1\nasah-001,0.2\n", "duplicate 'asah-001'"),
    ],
)
def test_malformed_text_inputs_are_exit_2(  # noqa: PLR0917 (fixtures and parameters)
    example: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    target: str,
    content: bytes,
    expected: str,
) -> None:
    paths = {
        "protocol": example,
        "manifest": example.parent / "data" / "asah" / "site-f" / "manifest.csv",
        "predictions": example.parent / "data" / "asah" / "predictions.csv",
    }
    paths[target].write_bytes(content)
    code = main(["lock", str(example)])  # the pins would otherwise stop the run first (exit 3)
    err = capsys.readouterr().err
    if code == 0:
        code, err = _run(example, tmp_path / "out", capsys)
    assert code == 2
    assert expected in _one_error_line(err)


@pytest.mark.req("DXV-INPUT-008")
def test_case_ids_with_control_characters_are_refused(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = example.parent / "data" / "asah" / "site-f" / "manifest.csv"
    _edit(manifest, "asah-001,", '"asah\n001",')
    code, err = _run(example, tmp_path / "out", capsys)
    assert code == 2
    assert "control character (U+000A) at position 5" in _one_error_line(err)


def _rename_case_ids(example: Path, rename: dict[str, str]) -> None:
    data = example.parent / "data" / "asah"
    for path in [data / "predictions.csv", *data.glob("site-*/manifest.csv")]:
        rows = list(csv.reader(io.StringIO(path.read_text())))
        for row in rows[1:]:
            row[0] = rename.get(row[0], row[0])
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        path.write_text(buffer.getvalue())


@pytest.mark.req("DXV-INPUT-008")
def test_html_report_escapes_case_ids(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = {f"asah-{n:03d}": f'<script>alert({n})</script>,"{n}' for n in range(1, 200)}
    _rename_case_ids(example, hostile)
    assert main(["lock", str(example)]) == 0
    code, err = _run(example, tmp_path / "out", capsys)
    assert code == 1, err
    (bundle,) = (tmp_path / "out" / "ASAH-EXAMPLE").iterdir()
    cases = list(csv.DictReader((bundle / "cases.csv").open(newline="")))
    assert {row["case_id"] for row in cases} <= set(hostile.values())  # commas round-trip
    view = report_render.build_report_view(report_render.read_bundle(bundle))
    html = report_render.render_html(view, report_render.SCREEN)
    assert "&lt;script&gt;alert(" in html  # the case IDs are shown, escaped
    assert "<script>alert(" not in html


# --- finding 9: identifying subgroup attributes ----------------------------------------------


def _with_attribute(folder: Path, attribute: str) -> Path:
    protocol = _make_protocol(folder)
    _edit(protocol, "  sex: {dicom: PatientSex}\n", f"  sex: {{dicom: PatientSex}}\n{attribute}\n")
    return protocol


@pytest.mark.req("DXV-INPUT-003")
@pytest.mark.parametrize(
    ("attribute", "missing"),
    [
        ("  pname: {dicom: PatientName}", "phi_justification and bins"),
        ("  age: {dicom: PatientAge}", "phi_justification and bins"),
        ("  weight: {dicom: PatientWeight, bins: [0, 50, 300]}", "phi_justification"),
        (
            "  inst: {dicom: InstitutionName, phi_justification: 'site effect is the question'}",
            "bins",
        ),
    ],
)
def test_identifying_subgroup_attributes_are_refused_at_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], attribute: str, missing: str
) -> None:
    protocol = _with_attribute(tmp_path, attribute)
    code, err = _run(protocol, tmp_path / "out", capsys, "--workers", "0")
    assert code == 2  # was 0, with the patient names in cases.csv, metrics.json and the report
    line = _one_error_line(err)
    keyword = attribute.split("dicom: ")[1].split(",", maxsplit=1)[0].rstrip("}")
    assert f"got {keyword} (identifying: PS3.15 Table E.1-1" in line
    assert f"expected a non-identifying attribute, or {missing}" in line
    assert "CompressedSamples" not in err
    assert "Anonymized" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.req("DXV-INPUT-003")
def test_justified_and_binned_use_is_accepted_and_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    justification = "Weight bands test dose-dependent performance (SAP 4.2)"
    protocol = _with_attribute(
        tmp_path,
        "  weight: {dicom: PatientWeight, bins: [0, 50, 300], "
        f"phi_justification: '{justification}'}}\n"
        "  age: {dicom: PatientAge, bins: [0, 50, 150]}",
    )
    assert main(["lock", str(protocol)]) == 0
    code, err = _run(protocol, tmp_path / "out", capsys, "--workers", "0")
    assert code == 0, err
    (bundle,) = (tmp_path / "out" / "MODEL-E2E").iterdir()
    assert justification in (bundle / "protocol.yaml").read_text()
    header = (bundle / "cases.csv").read_text().splitlines()[0]
    assert "attribute.weight" in header
    assert "attribute.age" in header
    for demo in ("demo.yaml", "demo-release-gate.yaml"):
        load_protocol(PROTOCOLS / demo)  # sex and binned age: accepted unchanged


# --- finding 11: paths out of the test set ---------------------------------------------------


def _manifest_with(folder: Path, written: str) -> Path:
    manifest = folder / "manifest.csv"
    manifest.write_text(f"case_id,path,label\nc1,ok.dcm,1\nc2,{written},0\n")
    (folder / "ok.dcm").write_bytes(b"x")
    return manifest


@pytest.mark.req("DXV-INPUT-004")
@pytest.mark.parametrize(
    "kind", ["dotdot", "absolute", "symlink", "symlinked-folder", "inner-link"]
)
def test_paths_out_of_the_manifest_folder_are_refused(tmp_path: Path, kind: str) -> None:
    data = tmp_path / "site"
    data.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("SECRET-CONTENT\n")
    written = {
        "dotdot": "../../../../../../../../etc/passwd",
        "absolute": str(outside / "secret.txt"),
        "symlink": "link.dcm",
        "symlinked-folder": "linked/secret.txt",
        "inner-link": "series",
    }[kind]
    (data / "link.dcm").symlink_to("/etc/hostname")
    (data / "linked").symlink_to(outside)
    (data / "series").mkdir()
    (data / "series" / "1.dcm").write_bytes(b"x")
    (data / "series" / "2.dcm").symlink_to(outside / "secret.txt")
    manifest = _manifest_with(data, written)
    with pytest.raises(InputError) as caught:
        read_manifest(manifest, label="test set a")
    message = caught.value.message
    assert message.startswith(f"{manifest}:3 path: ")
    assert "SECRET-CONTENT" not in message
    assert "root:" not in message


@pytest.mark.req("DXV-INPUT-004")
def test_declared_data_root_admits_paths_inside_it(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    (shared / "images").mkdir(parents=True)
    (shared / "images" / "a.dcm").write_bytes(b"x")
    (shared / "manifests").mkdir()
    manifest = shared / "manifests" / "m.csv"
    manifest.write_text("case_id,path,label\nc1,../images/a.dcm,1\n")
    with pytest.raises(InputError, match="resolves outside"):
        read_manifest(manifest, label="test set a")
    rows = read_manifest(manifest, label="test set a", data_root=shared).rows
    assert rows[0].names == ("../images/a.dcm",)


@pytest.mark.req("DXV-INPUT-004")
def test_a_file_that_is_not_a_manifest_is_never_echoed(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("root:x:0:0:SECRET-NAME:/root:/bin/bash\nline two\n")
    _edit(example, "manifest: data/asah/site-f/manifest.csv", f"manifest: {secret}")
    code, err = _run(example, tmp_path / "out", capsys)
    assert code == 2
    assert "SECRET-NAME" not in err
    assert "root:x" not in err
    for target in (secret, Path("/etc/passwd")):
        with pytest.raises(ProtocolError) as caught:
            load_protocol(target)
        assert "root" not in caught.value.message.split(": ", 1)[1]


# --- finding 12: output that cannot be written ------------------------------------------------


@pytest.mark.req("DXV-INPUT-007")
def test_full_disk_is_exit_2_with_one_line(
    example: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dxval.evidence import bundle as bundle_module

    def full(self: object, name: str, content: bytes) -> str:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "out" / name))

    monkeypatch.setattr(bundle_module.BundleWriter, "write_bytes", full)
    code, err = _run(example, tmp_path / "out", capsys)
    assert code == 2  # was 70
    assert "No space left on device" in _one_error_line(err)
    assert not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]


@pytest.mark.req("DXV-INPUT-007")
def test_read_only_output_is_exit_2(
    example: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dxval.evidence import bundle as bundle_module

    def read_only(*args: object, **kwargs: object) -> str:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(bundle_module.tempfile, "mkdtemp", read_only)
    code, err = _run(example, tmp_path / "out", capsys)
    assert code == 2
    assert "Read-only file system" in _one_error_line(err)
    if os.geteuid() != 0:  # root ignores permission bits
        monkeypatch.undo()
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        code, err = _run(example, locked / "out", capsys)
        assert code == 2
        assert "not writable" in _one_error_line(err)


@pytest.mark.req("DXV-INPUT-006")
def test_metrics_command_has_the_same_limits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["--truth", "label", "--positive", "1", "--score", "score"]
    started = time.monotonic()
    assert main(["metrics", "/dev/zero", *arguments]) == 2
    assert time.monotonic() - started < 5
    assert "expected a CSV file as a regular file" in _one_error_line(capsys.readouterr().err)
    table = tmp_path / "t.csv"
    table.write_text("label,score\n1,0.9\n0,0.1\n")
    assert main(["metrics", str(table), *arguments, "--bootstrap-replicates", "1000000000"]) == 2
    assert "an integer from 2 to 100000" in capsys.readouterr().err
