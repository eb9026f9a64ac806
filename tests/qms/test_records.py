"""Loading requirements.yaml and risks.yaml: EARS wording, unique IDs, located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from dxval.errors import InputError
from dxval.qms import EarsPattern, Severity, ears_pattern, load_requirements, load_risks

VALID = """schema: dxval-requirements/1
requirements:
  - id: DXV-ONE-001
    title: One
    area: demo
    exit_codes: [2]
    statement: >-
      If the input is bad, then dxval shall
      refuse it.
"""


@pytest.mark.req("DXV-QMS-001")
@pytest.mark.parametrize(
    ("statement", "pattern"),
    [
        ("dxval shall write a manifest.", EarsPattern.UBIQUITOUS),
        ("When dxval lock is run, dxval shall pin every file.", EarsPattern.EVENT),
        ("If a pin differs, then dxval shall stop.", EarsPattern.UNWANTED),
        ("While a run is in progress, dxval shall show progress.", EarsPattern.STATE),
        ("Where a GPU is present, dxval shall use it.", EarsPattern.OPTIONAL),
        ("The tool should probably work.", None),
        ("If a pin differs dxval shall stop.", None),
        ("dxval will write a manifest.", None),
    ],
)
def test_ears_patterns(statement: str, pattern: EarsPattern | None) -> None:
    assert ears_pattern(statement) is pattern


@pytest.mark.req("DXV-QMS-001")
def test_repository_requirements_are_ears_with_unique_ids(repository: Path) -> None:
    requirements = load_requirements(repository / "qms" / "requirements.yaml")
    assert len(requirements) == len({requirement.id for requirement in requirements}) >= 60
    assert {requirement.pattern for requirement in requirements} >= {
        EarsPattern.UBIQUITOUS,
        EarsPattern.EVENT,
        EarsPattern.UNWANTED,
        EarsPattern.OPTIONAL,
    }


def test_valid_file_loads_with_normalised_statement(tmp_path: Path) -> None:
    path = tmp_path / "requirements.yaml"
    path.write_text(VALID)
    (requirement,) = load_requirements(path)
    assert requirement.statement == "If the input is bad, then dxval shall refuse it."
    assert (requirement.pattern, requirement.exit_codes) == (EarsPattern.UNWANTED, (2,))


@pytest.mark.req("DXV-QMS-001")
@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            (
                "statement: >-\n      If the input is bad, then dxval shall",
                "statement: >-\n      The",
            ),
            r"requirements\.yaml:7:16 requirements\[0\]\.statement: got 'The\s+refuse it\.' "
            r"expected EARS wording",
        ),
        (("id: DXV-ONE-001", "id: DXV-one-1"), r":3:9 requirements\[0\]\.id: got 'DXV-one-1'"),
        (("    area: demo\n", ""), r"requirements\[0\]\.area: got nothing expected field required"),
        (("title: One", "title: One\n    owner: me"), r"requirements\[0\]\.owner: got 'me'"),
        (("requirements-yaml", ""), r"requirements\.yaml:1:9 schema"),
    ],
)
def test_record_errors_name_file_line_and_field(
    tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    path = tmp_path / "requirements.yaml"
    text = VALID.replace(*edit)
    if edit[0] == "requirements-yaml":
        text = text.replace("dxval-requirements/1", "dxval-requirements/2")
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_requirements(path)


def test_duplicate_ids_and_unreadable_files(tmp_path: Path) -> None:
    path = tmp_path / "requirements.yaml"
    duplicate = VALID + VALID.split("requirements:\n", 1)[1]
    path.write_text(duplicate)
    with pytest.raises(InputError, match=r":10:9 requirements\[1\]\.id: got duplicate ID"):
        load_requirements(path)
    with pytest.raises(InputError, match="cannot read"):
        load_requirements(tmp_path / "missing.yaml")
    path.write_text("schema: [unclosed\n")
    with pytest.raises(InputError, match="YAML syntax error"):
        load_requirements(path)


@pytest.mark.req("DXV-QMS-003")
def test_repository_risks_cover_the_tool_hazards(repository: Path) -> None:
    requirements = load_requirements(repository / "qms" / "requirements.yaml")
    hazards = load_risks(repository / "qms" / "risks.yaml", [r.id for r in requirements])
    text = " ".join(hazard.hazard.lower() for hazard in hazards)
    for topic in (
        "confidence interval",
        "silently dropped",
        "altered after the fact",
        "protected health information",
        "different model",
    ):
        assert topic in text, topic
    for hazard in hazards:
        assert hazard.controls
        assert all(control.requirements for control in hazard.controls)
        assert hazard.severity in Severity


@pytest.mark.req("DXV-QMS-003")
def test_a_control_naming_an_unknown_requirement_is_located(
    repository: Path, tmp_path: Path
) -> None:
    text = (repository / "qms" / "risks.yaml").read_text()
    path = tmp_path / "risks.yaml"
    path.write_text(text.replace("DXV-STAT-001", "DXV-STAT-999", 1))
    with pytest.raises(
        InputError,
        match=r"risks\.yaml:\d+:\d+ hazards\[0\]\.controls\[0\]\.requirements\[0\]: "
        r"got unknown requirement 'DXV-STAT-999'",
    ):
        load_risks(path, ["DXV-STAT-001"])
