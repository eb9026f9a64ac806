"""Set-up: ``make test`` installs the Debian peers it needs; ``make demo`` the runtime only.

``.ci/debian-deps`` reads ``.ci/debian-packages`` and installs what is
missing (as root) or prints the exact command (as another user); these
tests point it at a list holding one installed and one missing package.
The Makefile is checked with ``make -n`` (nothing is run).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "debian-deps"
MISSING = "dxval-no-such-package"

pytestmark = pytest.mark.skipif(
    shutil.which("dpkg-query") is None, reason="Debian-only set-up script (no dpkg-query)"
)


def _deps(*arguments: str, as_user: bool = False) -> subprocess.CompletedProcess[str]:
    # A folder that the unprivileged user can read (pytest's tmp_path is private to root).
    folder = Path(tempfile.mkdtemp(prefix="dxval-debian-deps-"))
    folder.chmod(0o755)
    packages = folder / "packages"
    packages.write_text(
        f"# a comment\n[runtime]\ncoreutils   # installed everywhere\n\n[test]\n{MISSING}\n"
    )
    packages.chmod(0o644)
    command = [str(SCRIPT), *arguments]
    if as_user and os.geteuid() == 0:
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    environment = {**os.environ, "DXVAL_DEBIAN_PACKAGES": str(packages)}
    try:
        return subprocess.run(
            command, check=False, env=environment, capture_output=True, text=True, timeout=60
        )
    finally:
        shutil.rmtree(folder)


@pytest.mark.req("DXV-SETUP-004")
def test_the_dry_run_names_only_the_missing_packages() -> None:
    completed = _deps("--dry-run")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == [
        f"debian-deps: missing: {MISSING}",
        "debian-deps: would run: apt-get update && apt-get install -y "
        f"--no-install-recommends {MISSING}",
    ]


@pytest.mark.req("DXV-SETUP-004")
def test_the_runtime_section_alone_is_installed_for_the_demo() -> None:
    completed = _deps("--dry-run", "--runtime")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "debian-deps: installed: coreutils\n"


@pytest.mark.req("DXV-SETUP-004")
def test_a_user_who_is_not_root_is_told_the_exact_command() -> None:
    completed = _deps(as_user=True)
    assert completed.returncode == 1
    assert f"missing Debian packages: {MISSING}" in completed.stderr
    assert (
        f"  sudo sh -c 'apt-get update && apt-get install -y --no-install-recommends {MISSING}'"
        in completed.stderr.splitlines()
    )


@pytest.mark.req("DXV-SETUP-004")
def test_an_unreadable_list_is_an_error_not_an_empty_list(tmp_path: Path) -> None:
    environment = {**os.environ, "DXVAL_DEBIAN_PACKAGES": str(tmp_path / "absent")}
    completed = subprocess.run(
        [str(SCRIPT)], env=environment, capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 2
    assert completed.stderr == (
        f"debian-deps: {tmp_path / 'absent'}: cannot read the list of Debian packages\n"
    )


@pytest.mark.req("DXV-SETUP-004")
def test_the_committed_list_is_installed_here() -> None:
    completed = subprocess.run(
        [str(SCRIPT), "--dry-run"], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    installed = completed.stdout.removeprefix("debian-deps: installed: ").split()
    assert set(installed) >= {
        "dcmtk",
        "dicom3tools",
        "poppler-utils",
        "qpdf",
        "libpango-1.0-0",
        "libpangoft2-1.0-0",
        "libharfbuzz-subset0",
    }


def _make_n(target: str) -> list[str]:
    completed = subprocess.run(
        [
            "make",
            "-n",
            "--no-print-directory",
            "-C",
            str(ROOT),
            target,
            "VENV=.venv-probe",
            "DEV=.venv-dev-probe",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return completed.stdout.splitlines()


@pytest.mark.req("DXV-SETUP-004")
@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_test_installs_the_debian_peers_first_and_writes_junit_xml() -> None:
    lines = _make_n("test")
    assert lines[0] == ".ci/debian-deps"
    assert lines.index(".ci/debian-deps") < min(i for i, x in enumerate(lines) if "venv" in x)
    (pytest_line,) = (line for line in lines if " -m pytest" in line)
    assert pytest_line.endswith("--junitxml=junit.xml")
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert [line for line in ci if line and not line.startswith("#")][-1] == "make test"


@pytest.mark.req("DXV-SETUP-003")
@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_demo_installs_the_runtime_only_pinned_to_the_soup_list() -> None:
    lines = _make_n("demo")
    assert lines[0] == ".ci/debian-deps --runtime"
    (install,) = (line for line in lines if "pip install" in line and " -e " in line)
    assert install.endswith("-e .")
    assert "-c .venv-probe/soup-constraints.txt" in install
    assert not any("[dev]" in line for line in lines)
    assert any("dxval verify $bundle" in line for line in lines)
