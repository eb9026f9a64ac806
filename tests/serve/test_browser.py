"""The auditor's path through the web view in a real browser (headless Chromium via Playwright).

Open the root, search for a requirement and open it, open a run, follow an
evidence link, then change one byte of the bundle and see the run shown as
FAILED VERIFY; markup in user data stays text, no script runs and the
browser reports no Content-Security-Policy violation.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from tests.serve.browser import browser_page, chromium_path
from tests.serve.conftest import CASE_PREFIX, HOSTILE_RUN, RUN_1, EvidenceRoot, Server


def _browser_available() -> None:
    """Skip outside CI when Chromium or Playwright is missing; in CI, a missing one fails."""
    missing = []
    if chromium_path() is None:
        missing.append("chromium (Debian package)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (dev extra)")
    if missing:
        message = f"browser test needs {', '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def page() -> Iterator[Any]:
    _browser_available()
    with browser_page() as opened:
        yield opened


@pytest.mark.req("DXV-SERVE-001")
@pytest.mark.req("DXV-SERVE-002")
@pytest.mark.req("DXV-SERVE-006")
def test_an_auditor_follows_a_requirement_to_its_evidence_and_sees_tampering(
    served: tuple[Server, EvidenceRoot], page: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    server, evidence = served
    problems: list[str] = []
    page.on("console", lambda message: problems.append(f"console: {message.text}"))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss())
    )
    shots = tmp_path_factory.mktemp("screenshots")

    page.goto(server.url)
    assert page.locator("h1").inner_text() == "Protocols"
    header = page.locator("header").evaluate("element => getComputedStyle(element).backgroundColor")
    assert header == "rgb(20, 50, 77)"  # the stylesheet loaded under the policy
    page.screenshot(path=str(shots / "protocols.png"))

    page.fill("input[name=q]", "PERF-001")
    page.click("nav button")
    page.get_by_role("link", name="PERF-001", exact=True).click()
    assert page.locator("h1").inner_text() == "Requirement PERF-001"
    assert page.locator("svg polyline.criterion").count() >= 1
    assert page.get_by_text("SUSPECT", exact=True).count() >= 1
    page.screenshot(path=str(shots / "requirement.png"), full_page=True)

    page.get_by_role("link", name=RUN_1).first.click()
    assert page.locator("h1").inner_text().startswith(f"Run {RUN_1}")
    assert page.locator("h1 .badge").inner_text() == "VERIFIED"
    page.screenshot(path=str(shots / "run.png"), full_page=True)

    page.get_by_role("link", name="criteria.json").first.click()
    shown = json.loads(page.locator("body").inner_text())
    assert shown == json.loads((evidence.run_1 / "criteria.json").read_text())
    page.go_back()

    path = evidence.run_1 / "metrics.json"
    content = bytearray(path.read_bytes())
    content[500] ^= 0x01
    path.write_bytes(bytes(content))
    page.reload()
    assert page.locator("h1 .badge").inner_text() == "FAILED VERIFY"
    assert page.get_by_text("changed: metrics.json").count() >= 1
    page.screenshot(path=str(shots / "tampered.png"))

    page.goto(f"{server.url}runs/ASAH-HOSTILE/{HOSTILE_RUN}")
    assert page.get_by_text(CASE_PREFIX, exact=False).count() >= 1  # shown as text
    assert page.locator("script").count() == 0
    page.goto(f"{server.url}matrix")
    assert page.locator("table.matrix").count() == 2
    assert problems == []
