"""The SOUP list: current with pyproject.toml, generated from the installed distributions."""

from __future__ import annotations

import shutil
from importlib import metadata
from pathlib import Path

import pytest

from dxval.cli import main
from dxval.errors import UsageError
from dxval.qms import (
    build_soup,
    installation_qualification,
    load_soup,
    read_dependency_specification,
    render_soup,
    soup_problems,
)
from dxval.qms.soup import COPYLEFT_MARKERS, LICENCE_CHOICES

PYPROJECT = """[project]
name = "example"
dependencies = ["numpy>=1.26", "cryptography>=42"]

[project.optional-dependencies]
dev = ["pytest>=8"]
"""


@pytest.mark.req("DXV-QMS-002")
def test_soup_list_is_current_with_pyproject(repository: Path) -> None:
    problems = soup_problems(repository / "qms" / "soup.yaml", repository / "pyproject.toml")
    assert problems == [], "\n".join(problems)


@pytest.mark.req("DXV-QMS-002")
def test_changed_dependencies_make_the_list_stale(repository: Path, tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    text = (repository / "pyproject.toml").read_text()
    pyproject.write_text(text.replace('  "cryptography>=42",\n', '  "cryptography>=43",\n'))
    problems = soup_problems(repository / "qms" / "soup.yaml", pyproject)
    assert len(problems) == 1
    assert "changed since the SOUP list was generated; run `dxval qms soup`" in problems[0]
    pyproject.write_text(text.replace('  "numpy>=1.26",\n', '  "numpy>=1.26",\n  "pytest>=8",\n'))
    problems = soup_problems(repository / "qms" / "soup.yaml", pyproject)
    assert len(problems) == 2
    assert problems[1] == (
        f"{repository / 'qms' / 'soup.yaml'}: dependency 'pytest>=8' is not a SOUP item"
    )


@pytest.mark.req("DXV-QMS-002")
def test_generated_list_has_every_item_with_version_licence_and_purpose(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(PYPROJECT)
    soup = build_soup(pyproject)
    names = [item.name.lower() for item in soup.items]
    assert {"numpy", "cryptography", "cffi", "pycparser"} <= set(names)
    assert "pytest" not in names  # development tools are not SOUP
    cryptography = next(item for item in soup.items if item.name == "cryptography")
    assert cryptography.version == metadata.version("cryptography")
    assert cryptography.requirement == "cryptography>=42"
    assert cryptography.licence
    assert cryptography.risk_class == "high"
    cffi = next(item for item in soup.items if item.name == "cffi")
    assert cffi.requirement is None
    assert cffi.required_by == ("cryptography",)
    assert cffi.purpose == "Runtime dependency of cryptography."
    assert cffi.verification == "Indirectly, through the verification of cryptography."
    path = tmp_path / "soup.yaml"
    path.write_bytes(render_soup(soup))
    assert load_soup(path) == soup
    assert soup_problems(path, pyproject) == []
    assert all(result.passed for result in installation_qualification(soup, strict=True))


@pytest.mark.req("DXV-QMS-002")
def test_soup_command_writes_the_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(PYPROJECT)
    out = tmp_path / "qms" / "soup.yaml"
    assert main(["qms", "soup", "--pyproject", str(pyproject), "--out", str(out)]) == 0
    assert "(2 declared, " in capsys.readouterr().out
    assert load_soup(out).specification == read_dependency_specification(pyproject)


def test_undocumented_or_missing_dependencies_stop_generation(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(PYPROJECT.replace('"numpy>=1.26"', '"pytest>=8"'))
    with pytest.raises(UsageError, match="SOUP item pytest: no purpose, risk class"):
        build_soup(pyproject)
    pyproject.write_text(PYPROJECT.replace('"numpy>=1.26"', '"no-such-distribution-xyz"'))
    with pytest.raises(UsageError, match=r"no-such-distribution-xyz .* is not installed"):
        build_soup(pyproject)
    pyproject.write_text("[tool]\n")
    with pytest.raises(UsageError, match=r"no \[project\] table"):
        build_soup(pyproject)
    pyproject.write_text("[project\n")
    with pytest.raises(UsageError, match="not valid TOML"):
        build_soup(pyproject)


@pytest.mark.req("DXV-SELF-001")
def test_installation_qualification_reports_drift_and_missing_items(
    repository: Path, tmp_path: Path
) -> None:
    text = (repository / "qms" / "soup.yaml").read_text()
    installed = metadata.version("numpy")
    drifted = text.replace(f'version: "{installed}"', 'version: "0.0.1"', 1)
    path = tmp_path / "soup.yaml"
    path.write_text(drifted)
    results = {r.name: r for r in installation_qualification(load_soup(path))}
    assert results["numpy"].passed
    assert results["numpy"].note.startswith("differs from the SOUP list (0.0.1)")
    strict = {r.name: r for r in installation_qualification(load_soup(path), strict=True)}
    assert not strict["numpy"].passed
    shutil.copy(repository / "qms" / "soup.yaml", path)
    missing = path.read_text().replace('name: "scipy"', 'name: "scipy-not-installed"')
    path.write_text(missing)
    results = {r.name: r for r in installation_qualification(load_soup(path))}
    assert not results["scipy-not-installed"].passed
    assert results["scipy-not-installed"].note == "not installed"


@pytest.mark.req("DXV-QMS-002")
def test_no_copyleft_licence_in_the_runtime_path(repository: Path) -> None:
    """Users embed dxval in regulated products: every runtime SOUP item is permissive,
    or offered under a choice of licences resolved to a permissive one."""
    soup = load_soup(repository / "qms" / "soup.yaml")
    offenders = [
        f"{item.name}: {item.licence}"
        for item in soup.items
        if item.extra is None
        and item.name.lower() not in LICENCE_CHOICES
        and any(marker in item.licence for marker in COPYLEFT_MARKERS)
    ]
    assert offenders == []


@pytest.mark.req("DXV-SETUP-002")
def test_an_item_of_an_extra_that_is_not_installed_is_not_in_use(
    repository: Path, tmp_path: Path
) -> None:
    """A fresh runtime venv holds setuptools (seeded by ``python -m venv``) while only the
    torch extra needs it: its version is not dxval's configuration, so it is no drift."""
    text = (repository / "qms" / "soup.yaml").read_text()
    path = tmp_path / "soup.yaml"
    # The torch extra now declares a distribution that is not installed.
    path.write_text(text.replace('  torch:\n    - "torch', '  torch:\n    - "no-such-dist-xyz', 1))
    results = {r.name: r for r in installation_qualification(load_soup(path), strict=True)}
    # networkx: only torch needs it (filelock is shared with the ray extra since issue 17).
    item = next(i for i in load_soup(path).items if i.name == "networkx")
    assert item.extra == "torch"
    networkx = results["networkx"]
    assert networkx.passed
    assert not networkx.in_use
    assert not networkx.drifted
    assert networkx.note.startswith("not in use: only the extra 'torch' needs it")
    # With the extra installed (torch is a dev dependency too), its items are qualified.
    listed = load_soup(repository / "qms" / "soup.yaml")
    intact = {r.name: r for r in installation_qualification(listed)}
    assert intact["torch"].in_use
    assert intact["networkx"].in_use


@pytest.mark.req("DXV-SETUP-003")
def test_every_distribution_a_run_records_is_a_soup_item(repository: Path) -> None:
    """environment.json's runtime closure and the SOUP list agree: requirements with
    extras (weasyprint → fonttools[woff] → brotli, zopfli) are followed by both."""
    from dxval.evidence.environment import runtime_distributions

    soup = {item.name.lower() for item in load_soup(repository / "qms" / "soup.yaml").items}
    recorded = {name.lower() for name in runtime_distributions()[0]} - {"dxval"}
    assert {"brotli", "zopfli"} <= recorded
    assert sorted(recorded - soup) == []
