"""A real browser for the web view's tests: Playwright driving the Chromium Debian ships.

Browsers cannot be downloaded here, so Playwright is pointed at
``/usr/bin/chromium`` (Debian package ``chromium``; ``.ci/run`` installs it).
Run as a script it takes the README's screenshots of a live server::

    python -m tests.serve.browser http://127.0.0.1:8000/ docs/images \\
        serve-requirement=/requirements/PERF-001 serve-run=/runs/DEMO-NODULE-001/<run-id>
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("DXVAL_CHROMIUM", "/usr/bin/chromium")


def chromium_path() -> str | None:
    """The Chromium executable, or None when it is not installed."""
    return CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")


@contextmanager
def browser_page(width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A fresh page in headless Chromium (the sandbox is off only when running as root)."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if executable is None:
        raise FileNotFoundError("chromium not found; install the Debian package chromium")
    arguments = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=arguments)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page
        finally:
            browser.close()


def take_screenshots(base_url: str, out: Path, shots: list[str]) -> list[Path]:
    """Screenshot each ``NAME=PATH`` of the server at ``base_url`` into ``out/NAME.png``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with browser_page() as page:
        for shot in shots:
            name, _, path = shot.partition("=")
            page.goto(base_url.rstrip("/") + path)
            target = out / f"{name}.png"
            page.screenshot(path=str(target))
            written.append(target)
    return written


if __name__ == "__main__":
    for written_path in take_screenshots(sys.argv[1], Path(sys.argv[2]), sys.argv[3:]):
        print(written_path)
