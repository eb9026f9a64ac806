"""An installed dxval (a wheel, not the source tree) qualifies itself with ``self-validate``.

The wheel is built from this checkout (``pip wheel --no-deps``) and
installed into a new virtual environment with ``pip --target``; the
environment reaches the third-party dependencies of the interpreter running
the tests through a ``.pth`` file placed after the wheel, so dxval itself
comes from the wheel. The command runs in a folder outside the repository,
with no ``--soup``: the SOUP list must come from the package data.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from .conftest import ROOT


def _run(
    arguments: list[str], *, cwd: Path, timeout: int = 600
) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(
        arguments,
        check=False,
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Python of a fresh virtual environment holding the dxval wheel built from this checkout."""
    work = tmp_path_factory.mktemp("installed")
    wheels = work / "wheels"
    built = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "--wheel-dir",
            str(wheels),
            str(ROOT),
        ],
        cwd=work,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("dxval-*.whl")
    environment = work / "venv"
    created = _run([sys.executable, "-m", "venv", "--without-pip", str(environment)], cwd=work)
    assert created.returncode == 0, created.stderr
    python = environment / "bin" / "python"
    purelib = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=work
    )
    target = Path(purelib.stdout.strip())
    installed = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        cwd=work,
    )
    assert installed.returncode == 0, installed.stderr
    # Third-party dependencies from the running interpreter, after the wheel on sys.path.
    dependencies = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    dependencies.update(path for path in site.getsitepackages() if Path(path).is_dir())
    (target / "zz-dependencies.pth").write_text("\n".join(sorted(dependencies)) + "\n")
    return python


@pytest.mark.req("DXV-SETUP-001")
def test_the_wheel_carries_the_soup_list_unchanged(installed: Path, tmp_path: Path) -> None:
    probe = _run(
        [
            str(installed),
            "-c",
            "import dxval; from dxval.qms.soup import packaged_soup_path; "
            "print(dxval.__file__); print(packaged_soup_path())",
        ],
        cwd=tmp_path,
    )
    assert probe.returncode == 0, probe.stderr
    module, soup = (Path(line) for line in probe.stdout.split())
    prefix = installed.parents[1]
    assert module.is_relative_to(prefix), "dxval must be imported from the installed wheel"
    assert soup.is_relative_to(prefix)
    assert not soup.is_symlink()
    assert soup.read_bytes() == (ROOT / "qms" / "soup.yaml").read_bytes()


@pytest.mark.req("DXV-SETUP-001", "DXV-SELF-001")
@pytest.mark.slow
def test_an_installed_dxval_passes_self_validate_outside_the_source_tree(
    installed: Path, tmp_path: Path
) -> None:
    assert not (tmp_path / "qms").exists()
    completed = _run(
        [
            str(installed),
            "-m",
            "dxval",
            "self-validate",
            "--out",
            "report",
            "--cases-per-site",
            "4",
        ],
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.startswith("PASS: ")
    record = json.loads((tmp_path / "report" / "tool-validation.json").read_text())
    assert record["result"] == "pass"
    assert str(installed.parents[1]) in record["header"]["SOUP list"]
    checks = {check["name"]: check for check in record["checks"]}
    assert checks["dxval distribution matches the imported package"]["result"] == "pass"
    (data,) = (check for name, check in checks.items() if name.startswith("package data"))
    assert data["observed"] == "present"
