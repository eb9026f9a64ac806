"""Consistency of dxval's quality records with each other and with the test suite.

:func:`link_problems` is the StrictDoc-style link check of ``STYLE.md``:
every requirement has at least one verifying test and every
``@pytest.mark.req`` marker names a known requirement. :func:`qms_problems`
adds the risk file's requirement links and the SOUP list's freshness
(``dxval qms check``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from dxval.qms.markers import MarkedTest, requirement_tests, scan_markers
from dxval.qms.records import SoftwareRequirement, load_requirements, load_risks
from dxval.qms.soup import soup_problems

REQUIREMENTS_FILE = "requirements.yaml"
RISKS_FILE = "risks.yaml"
SOUP_FILE = "soup.yaml"


def link_problems(
    requirements: Iterable[SoftwareRequirement], marked: Iterable[MarkedTest]
) -> list[str]:
    """Requirements without a verifying test, and markers naming an unknown requirement."""
    known = {requirement.id: requirement for requirement in requirements}
    by_requirement = requirement_tests(marked)
    problems = [
        f"{identifier} ({known[identifier].title}): no test carries "
        f'@pytest.mark.req("{identifier}")'
        for identifier in known
        if identifier not in by_requirement
    ]
    for identifier, tests in sorted(by_requirement.items()):
        if identifier not in known:
            problems += [
                f"{test.path}:{test.line} {test.name}: marker names unknown requirement "
                f"{identifier!r}"
                for test in tests
            ]
    return problems


def qms_problems(qms: str | Path, *, tests: str | Path, pyproject: str | Path) -> list[str]:
    """Every inconsistency of the records in ``qms`` (empty when all hold).

    Checks: requirements and risks parse (EARS wording, known IDs), every
    requirement is verified by a marked test under ``tests`` and every marker
    is known, and the SOUP list matches ``pyproject``'s dependencies.

    Raises
    ------
    InputError, UsageError
        A record file or ``pyproject.toml`` cannot be read or is invalid.
    """
    folder = Path(qms)
    requirements = load_requirements(folder / REQUIREMENTS_FILE)
    load_risks(folder / RISKS_FILE, (requirement.id for requirement in requirements))
    problems = link_problems(requirements, scan_markers(tests))
    problems += soup_problems(folder / SOUP_FILE, pyproject)
    return problems
