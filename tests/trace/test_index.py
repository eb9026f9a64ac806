"""dxval trace REQ-ID and --matrix: every run linked, suspect links by fingerprint."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from dxval.cli import main
from dxval.errors import UsageError
from dxval.trace import trace_matrix, trace_requirement

from .conftest import RUN_IDS


def _links(evidence: Path, requirement: str) -> list[tuple[str, bool]]:
    (trace,) = trace_requirement(requirement, evidence)
    return [(link.run.run_id, link.suspect) for link in trace.links]


@pytest.mark.req("DXV-TRACE-001")
def test_trace_lists_every_run_with_its_identity_and_result(changing_protocol: Path) -> None:
    (trace,) = trace_requirement("PERF-002", changing_protocol)
    assert (trace.protocol_id, trace.requirement_id) == ("ASAH-EXAMPLE", "PERF-002")
    assert [link.run.run_id for link in trace.links] == list(RUN_IDS)
    link = trace.links[0]
    assert link.run.protocol_version == "1.0"
    assert link.run.predictions_sha256 == (
        "ed445323e412b732ec337259de4c6b93a28b6a3cb33760de94291aadc54da701"
    )
    assert link.run.model_sha256 is None
    assert link.run.started_utc.startswith("20")
    assert link.outcome.verdict == "pass"
    assert link.outcome.observed == "0.4812"
    assert link.outcome.required == ">= 0.45"
    assert link.run.intact
    assert not link.suspect


@pytest.mark.req("DXV-TRACE-002")
def test_changed_text_marks_the_earlier_run_suspect(changing_protocol: Path) -> None:
    assert _links(changing_protocol, "PERF-001") == [
        (RUN_IDS[0], True),
        (RUN_IDS[1], False),
        (RUN_IDS[2], False),
    ]
    (trace,) = trace_requirement("PERF-001", changing_protocol)
    assert trace.links[0].suspect_reason == (
        f"the requirement's text changed since this run (latest run {RUN_IDS[2]}); re-verify"
    )
    assert trace.current is not None
    assert trace.current.text == "ROC AUC, pooled over all sites, at least 0.70."


@pytest.mark.req("DXV-TRACE-002")
def test_changed_criteria_and_removed_requirements_are_suspect(changing_protocol: Path) -> None:
    assert _links(changing_protocol, "PERF-003") == [
        (RUN_IDS[0], True),
        (RUN_IDS[1], True),
        (RUN_IDS[2], False),
    ]
    (perf_003,) = trace_requirement("PERF-003", changing_protocol)
    assert perf_003.links[0].suspect_reason is not None
    assert perf_003.links[0].suspect_reason.startswith("the requirement's acceptance criteria")
    (qc_001,) = trace_requirement("QC-001", changing_protocol)
    assert qc_001.current is None
    assert [link.suspect_reason for link in qc_001.links] == [
        "the requirement is no longer in the protocol"
    ] * 2


@pytest.mark.req("DXV-TRACE-002")
def test_a_protocol_file_sets_the_current_definition(changing_protocol: Path) -> None:
    protocol = changing_protocol.parent / "protocols" / "asah-example.yaml"
    text = protocol.read_text().replace("at least 0.45 over all sites", "at least 0.50 overall")
    revised = changing_protocol.parent / "revised.yaml"
    revised.write_text(text)
    (trace,) = trace_requirement("PERF-002", changing_protocol, protocol=revised)
    assert [link.suspect for link in trace.links] == [True, True, True]
    assert trace.current is not None
    assert trace.current.source == f"protocol file {revised}"


@pytest.mark.req("DXV-TRACE-001", "DXV-TRACE-002")
def test_trace_command_prints_the_table(
    changing_protocol: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["trace", "PERF-001", "--evidence", str(changing_protocol)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "PERF-001 (ASAH-EXAMPLE): ROC AUC, pooled over all sites, at least 0.70."
    assert lines[1].split() == [
        "run", "date", "(UTC)", "version", "scored", "by", "observed", "required", "result", "link"
    ]  # fmt: skip
    assert lines[2].startswith(RUN_IDS[0])
    assert lines[2].split()[-6:] == ["ed445323e412", "0.7314", ">=", "0.7", "PASS", "SUSPECT"]
    assert lines[3].endswith("current")
    assert f"  suspect {RUN_IDS[0]}: the requirement's text changed" in out


@pytest.mark.req("DXV-TRACE-001")
def test_a_bundle_that_no_longer_verifies_is_flagged(evidence: Path) -> None:
    bundle = evidence / "ASAH-EXAMPLE" / RUN_IDS[1]
    cases = bundle / "cases.csv"
    cases.write_text(cases.read_text().replace("asah-001", "asah-999"))
    (trace,) = trace_requirement("PERF-002", evidence)
    assert [link.run.intact for link in trace.links] == [True, False, True]
    text = _command_output(["trace", "PERF-002", "--evidence", str(evidence)])
    assert f"warning {RUN_IDS[1]}: the bundle no longer verifies" in text


def _command_output(arguments: list[str]) -> str:
    buffer = io.StringIO()
    from contextlib import redirect_stdout

    with redirect_stdout(buffer):
        assert main(arguments) == 0
    return buffer.getvalue()


@pytest.mark.req("DXV-TRACE-001", "DXV-EXIT-003")
def test_unknown_requirement_and_bad_modes_are_exit_2(
    changing_protocol: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(UsageError, match=r"NOPE-001: no run under .* evaluated it; requirements "):
        trace_requirement("NOPE-001", changing_protocol)
    assert main(["trace", "NOPE-001", "--evidence", str(changing_protocol)]) == 2
    assert "GEN-001, PERF-001" in capsys.readouterr().err
    assert main(["trace", "--evidence", str(changing_protocol)]) == 2
    assert "got no mode; expected exactly one of REQ-ID, --matrix or --self" in (
        capsys.readouterr().err
    )
    assert main(["trace", "PERF-001", "--matrix"]) == 2
    assert "got more than one mode" in capsys.readouterr().err
    assert main(["trace", "--matrix", "--evidence", str(tmp_path / "none")]) == 2
    assert "evidence folder not found" in capsys.readouterr().err


@pytest.mark.req("DXV-TRACE-003")
def test_matrix_as_csv(changing_protocol: Path) -> None:
    text = _command_output(["trace", "--matrix", "--evidence", str(changing_protocol)])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 8 + 8 + 7
    first = rows[0]
    assert (first["requirement_id"], first["run_id"], first["suspect"]) == (
        "PERF-001",
        RUN_IDS[0],
        "yes",
    )
    assert first["result"] == "pass"
    assert first["evidence_intact"] == "yes"
    suspects = {(row["requirement_id"], row["run_id"]) for row in rows if row["suspect"] == "yes"}
    assert suspects == {
        ("PERF-001", RUN_IDS[0]),
        ("PERF-003", RUN_IDS[0]),
        ("PERF-003", RUN_IDS[1]),
        ("QC-001", RUN_IDS[0]),
        ("QC-001", RUN_IDS[1]),
    }


@pytest.mark.req("DXV-TRACE-003")
def test_matrix_as_json_and_html(changing_protocol: Path, tmp_path: Path) -> None:
    document = json.loads(
        _command_output(
            ["trace", "--matrix", "--evidence", str(changing_protocol), "--format", "json"]
        )
    )
    assert document["schema"] == "dxval-trace-matrix/1"
    assert [run["run_id"] for run in document["runs"]] == list(RUN_IDS)
    perf_004 = next(r for r in document["requirements"] if r["requirement_id"] == "PERF-004")
    assert [link["result"] for link in perf_004["links"]] == ["fail"] * 3
    assert perf_004["links"][0]["criteria"][0]["observed"] == pytest.approx(0.6301182118)
    out = tmp_path / "matrix.html"
    arguments = ["trace", "--matrix", "--evidence", str(changing_protocol), "--format", "html"]
    assert _command_output([*arguments, "--out", str(out)]) == f"wrote {out}\n"
    html = out.read_text()
    assert html.count('class="pass suspect"') == 5  # PERF-001 1; PERF-003 1, 2; QC-001 1, 2
    assert html.count('class="fail suspect"') == 0
    assert "PERF-006" in html
    assert "<script" not in html


def test_matrix_of_an_empty_root(tmp_path: Path) -> None:
    matrix = trace_matrix(tmp_path)
    assert (matrix.traces, matrix.runs) == ((), ())
