"""The pages, through Starlette's test client: content read from the bundles, safety headers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from tests.serve.conftest import (
    CASE_PREFIX,
    HOSTILE_RUN,
    HOSTILE_TEXT,
    HOSTILE_TITLE,
    RUN_1,
    RUN_2,
    EvidenceRoot,
)

from dxval.serve import EvidenceIndex
from dxval.serve.app import PAGE_POLICY, create_app

PAGES = (
    "/",
    "/protocols/ASAH-EXAMPLE",
    "/protocols/ASAH-HOSTILE",
    f"/runs/ASAH-EXAMPLE/{RUN_1}",
    f"/runs/ASAH-EXAMPLE/{RUN_2}",
    f"/runs/ASAH-HOSTILE/{HOSTILE_RUN}",
    "/requirements/PERF-001",
    "/requirements/QC-001",
    "/matrix",
    "/search?q=PERF-001",
    "/search",
)


@pytest.fixture
def client(index: EvidenceIndex) -> Iterator[TestClient]:
    with TestClient(create_app(index, rescan_seconds=None)) as test_client:
        yield test_client


class _Scripts(HTMLParser):
    """Collects elements and attributes that would run script."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "iframe", "object", "embed"}:
            self.found.append(tag)
        self.found.extend(f"{tag}[{name}]" for name, _ in attrs if name.startswith("on"))
        self.found.extend(f"{tag}[style]" for name, _ in attrs if name == "style")


def _observed(html: str) -> list[float]:
    return [float(value) for value in re.findall(r'<data value="([^"]+)">', html)]


@pytest.mark.req("DXV-SERVE-001")
@pytest.mark.req("DXV-SERVE-006")
def test_every_page_loads_with_the_strict_policy_and_no_script(client: TestClient) -> None:
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 200, page
        assert response.headers["content-security-policy"] == PAGE_POLICY
        assert "script-src" not in PAGE_POLICY
        assert "'unsafe-inline'" not in PAGE_POLICY
        assert response.headers["x-content-type-options"] == "nosniff"
        parser = _Scripts()
        parser.feed(response.text)
        assert parser.found == [], page
    css = client.get("/static/serve.css")
    assert css.headers["content-type"].startswith("text/css")
    assert css.headers["content-security-policy"] == PAGE_POLICY
    head = client.head(f"/runs/ASAH-EXAMPLE/{RUN_1}")
    assert head.status_code == 200
    assert head.content == b""


@pytest.mark.req("DXV-SERVE-001")
def test_the_requirement_page_shows_each_runs_observed_values_from_criteria_json(
    client: TestClient, evidence_copy: EvidenceRoot
) -> None:
    html = client.get("/requirements/PERF-002").text
    expected = []
    for bundle in (evidence_copy.run_2, evidence_copy.hostile, evidence_copy.run_1):
        document = json.loads((bundle / "criteria.json").read_text())
        (requirement,) = [r for r in document["requirements"] if r["id"] == "PERF-002"]
        expected.extend(criterion["observed"] for criterion in requirement["criteria"])
    # groups are sorted by protocol ID; runs newest first within a group
    assert sorted(_observed(html)) == sorted(expected)
    assert f"{expected[0]:.4f}" in html


@pytest.mark.req("DXV-SERVE-001")
def test_the_run_page_shows_run_criteria_files_reports_and_the_audit_chain(
    client: TestClient, evidence_copy: EvidenceRoot
) -> None:
    html = client.get(f"/runs/ASAH-EXAMPLE/{RUN_1}").text
    run = json.loads((evidence_copy.run_1 / "run.json").read_text())
    criteria = json.loads((evidence_copy.run_1 / "criteria.json").read_text())
    observed = [c["observed"] for r in criteria["requirements"] for c in r["criteria"]]
    assert _observed(html) == observed
    assert run["started_utc"] in html
    assert f"<tr><th>exit code</th><td>{run['exit_code']}</td></tr>" in html
    assert "VERIFIED" in html
    assert "chain unbroken" in html
    for name in ("report.pdf", "report.html", "cases.csv", "figures/roc.svg", "MANIFEST.sha256"):
        assert f'href="/files/ASAH-EXAMPLE/{RUN_1}/{name}"' in html
    lock = json.loads((evidence_copy.run_1 / "lock.json").read_text())
    assert lock["predictions"]["sha256"] in html


@pytest.mark.req("DXV-SERVE-007")
def test_a_run_whose_requirement_text_changed_is_suspect_and_the_trend_has_the_criterion_line(
    client: TestClient,
) -> None:
    html = client.get("/requirements/PERF-001").text
    example = html.split("In protocol")[1]  # ASAH-EXAMPLE sorts first
    assert "ROC AUC, pooled over all sites, at least 0.70." in example
    rows = example.split("<tbody>")[1].split("</tr>")
    run_2_row = next(row for row in rows if RUN_2 in row)
    run_1_row = next(row for row in rows if RUN_1 in row)
    assert "SUSPECT" not in run_2_row
    assert "SUSPECT" in run_1_row
    assert "text changed since this run" in run_1_row
    assert example.count('<polyline class="criterion"') == 1
    assert example.count("<circle class=") == 2
    assert "<svg" in example


@pytest.mark.req("DXV-SERVE-002")
def test_a_bundle_with_one_changed_byte_shows_failed_verify_on_its_pages(
    client: TestClient, evidence_copy: EvidenceRoot
) -> None:
    path = evidence_copy.run_1 / "cases.csv"
    content = bytearray(path.read_bytes())
    content[200] ^= 0x01
    path.write_bytes(bytes(content))
    run_page = client.get(f"/runs/ASAH-EXAMPLE/{RUN_1}").text
    assert "FAILED VERIFY" in run_page
    assert "changed: cases.csv" in run_page
    protocol_page = client.get("/protocols/ASAH-EXAMPLE").text
    row = next(r for r in protocol_page.split("</tr>") if RUN_1 in r)
    assert "FAILED VERIFY" in row
    other = next(r for r in protocol_page.split("</tr>") if RUN_2 in r)
    assert "FAILED VERIFY" not in other
    requirement = client.get("/requirements/PERF-001").text
    assert requirement.count("FAILED VERIFY") == 1
    matrix = client.get("/matrix").text
    assert matrix.count("FAILED VERIFY") == 1


@pytest.mark.req("DXV-SERVE-006")
def test_markup_in_protocol_text_and_case_ids_is_escaped(client: TestClient) -> None:
    pages = [
        client.get(page).text
        for page in (
            "/",
            "/protocols/ASAH-HOSTILE",
            f"/runs/ASAH-HOSTILE/{HOSTILE_RUN}",
            "/requirements/PERF-001",
            "/matrix",
        )
    ]
    joined = "\n".join(pages)
    assert "<script" not in joined
    assert "<img" not in joined
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in pages[0]
    assert HOSTILE_TITLE.replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;") in pages[0]
    escaped_case = CASE_PREFIX.replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;")
    assert escaped_case in pages[2]  # most confident errors list case IDs
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in pages[3]
    assert HOSTILE_TEXT not in joined


@pytest.mark.req("DXV-SERVE-004")
def test_methods_other_than_get_and_head_are_refused_everywhere(client: TestClient) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        for path in ("/", f"/runs/ASAH-EXAMPLE/{RUN_1}", "/no/such/page"):
            response = client.request(method, path)
            assert response.status_code == 405, (method, path)
            assert response.headers["allow"] == "GET, HEAD"
            assert response.headers["content-security-policy"] == PAGE_POLICY


@pytest.mark.req("DXV-SERVE-005")
def test_bundle_files_are_served_with_a_sandbox_and_nothing_else_is(
    client: TestClient, evidence_copy: EvidenceRoot, tmp_path: Path
) -> None:
    base = f"/files/ASAH-EXAMPLE/{RUN_1}"
    criteria = client.get(f"{base}/criteria.json")
    assert criteria.content == (evidence_copy.run_1 / "criteria.json").read_bytes()
    assert criteria.headers["content-type"] == "text/plain; charset=utf-8"
    assert criteria.headers["content-security-policy"].endswith("sandbox")
    report = client.get(f"{base}/report.html")
    assert report.headers["content-type"] == "text/html; charset=utf-8"
    assert "sandbox" in report.headers["content-security-policy"]
    assert "script-src" not in report.headers["content-security-policy"]
    assert client.get(f"{base}/report.pdf").headers["content-type"] == "application/pdf"
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the evidence root")
    (evidence_copy.run_1 / "figures" / "link.svg").symlink_to(secret)
    (evidence_copy.run_1 / "linked").symlink_to(tmp_path, target_is_directory=True)
    for path in (
        f"{base}/figures/link.svg",
        f"{base}/linked/secret.txt",
        f"{base}/figures",
        f"{base}/figures/",
        f"{base}/%2e%2e/{RUN_2}/run.json",
        f"{base}/figures/%2E%2E/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        f"{base}/..%2f..%2f..%2f..%2fetc%2fpasswd",
        f"{base}/.%2fcriteria.json",
        f"{base}/figures%5c..%5ccriteria.json",
        "/files/ASAH-EXAMPLE/no-such-run/criteria.json",
        "/files/ASAH-EXAMPLE",
        "/files/",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "outside the evidence root" not in response.text
        assert "root:" not in response.text
    # the index never lists a file outside: a symlink is shown, not linked
    html = client.get(f"/runs/ASAH-EXAMPLE/{RUN_1}").text
    assert "symbolic link (not served)" in html
    assert 'href="/files/ASAH-EXAMPLE/' + RUN_1 + '/figures/link.svg"' not in html


@pytest.mark.req("DXV-SERVE-001")
def test_unknown_pages_and_paging_out_of_range(client: TestClient) -> None:
    for path in ("/protocols/NOPE", "/runs/ASAH-EXAMPLE/nope", "/requirements/NOPE-1", "/x"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-security-policy"] == PAGE_POLICY
    assert client.get("/protocols/ASAH-EXAMPLE?page=999").status_code == 200
    assert client.get("/protocols/ASAH-EXAMPLE?page=-1").status_code == 200
