"""Every dxval requirement has a verifying test, and every req marker names a requirement.

The markers are found by reading the whole test suite with ast
(:func:`dxval.trace.scan_markers`), so this test sees every module, whether
or not it is collected in this session.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dxval.qms import load_requirements
from dxval.qms.check import link_problems
from dxval.qms.markers import requirement_tests, scan_markers


@pytest.mark.req("DXV-QMS-001")
def test_every_requirement_is_verified_and_every_marker_is_known(repository: Path) -> None:
    requirements = load_requirements(repository / "qms" / "requirements.yaml")
    marked = scan_markers(repository / "tests")
    problems = link_problems(requirements, marked)
    assert problems == [], "\n".join(problems)


@pytest.mark.req("DXV-QMS-001")
def test_the_link_check_fails_on_a_missing_test_or_an_unknown_marker(
    repository: Path, tmp_path: Path
) -> None:
    requirements = load_requirements(repository / "qms" / "requirements.yaml")
    marked = scan_markers(repository / "tests")
    first = requirements[0].id
    without_first = [test for test in marked if first not in test.requirements]
    assert link_problems(requirements, without_first) == [
        f'{first} ({requirements[0].title}): no test carries @pytest.mark.req("{first}")'
    ]
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_typo.py").write_text(
        'import pytest\n\n\n@pytest.mark.req("DXV-TYPO-001")\ndef test_typo():\n    pass\n'
    )
    stray = scan_markers(tmp_path / "tests")
    assert link_problems(requirements, [*marked, *stray]) == [
        "tests/test_typo.py:5 test_typo: marker names unknown requirement 'DXV-TYPO-001'"
    ]


@pytest.mark.req("DXV-QMS-001")
def test_every_exit_code_has_a_requirement(repository: Path) -> None:
    requirements = load_requirements(repository / "qms" / "requirements.yaml")
    codes = {code for requirement in requirements for code in requirement.exit_codes}
    assert {0, 1, 2, 3, 4, 70} <= codes
    index = requirement_tests(scan_markers(repository / "tests"))
    exit_requirements = [r.id for r in requirements if r.id.startswith("DXV-EXIT-")]
    assert all(index.get(identifier) for identifier in exit_requirements)
