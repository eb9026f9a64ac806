"""Scanning tests for @pytest.mark.req markers: functions, classes, modules, node IDs."""

from __future__ import annotations

from pathlib import Path

import pytest

from dxval.errors import InputError
from dxval.qms.markers import requirement_tests, scan_markers

MODULE = """
import pytest
from pytest import mark

pytestmark = [pytest.mark.req("DXV-A-001"), pytest.mark.slow]


@pytest.mark.req("DXV-B-001", "DXV-B-002")
@pytest.mark.parametrize("x", [1, 2])
def test_function(x):
    pass


def test_module_marker_only():
    pass


def helper_is_not_a_test():
    pass


@mark.req("DXV-C-001")
class TestGroup:
    @pytest.mark.req("DXV-C-002")
    def test_method(self):
        pass

    def test_other(self):
        pass
"""


def _tree(tmp_path: Path, source: str = MODULE) -> Path:
    folder = tmp_path / "tests" / "area"
    folder.mkdir(parents=True)
    (folder / "test_thing.py").write_text(source)
    (folder / "helpers.py").write_text(
        '@pytest.mark.req("DXV-Z-999")\ndef test_not_collected(): ...\n'
    )
    return tmp_path / "tests"


@pytest.mark.req("DXV-QMS-001")
def test_markers_on_functions_classes_and_modules(tmp_path: Path) -> None:
    marked = scan_markers(_tree(tmp_path))
    found = {(test.classname, test.name): test.requirements for test in marked}
    assert found == {
        ("tests.area.test_thing", "test_function"): ("DXV-A-001", "DXV-B-001", "DXV-B-002"),
        ("tests.area.test_thing", "test_module_marker_only"): ("DXV-A-001",),
        ("tests.area.test_thing.TestGroup", "test_method"): ("DXV-A-001", "DXV-C-001", "DXV-C-002"),
        ("tests.area.test_thing.TestGroup", "test_other"): ("DXV-A-001", "DXV-C-001"),
    }
    method = next(test for test in marked if test.name == "test_method")
    assert method.node_id == "tests/area/test_thing.py::TestGroup::test_method"
    assert method.path == "tests/area/test_thing.py"
    assert method.line == MODULE.splitlines().index("    def test_method(self):") + 1
    index = requirement_tests(marked)
    assert [test.name for test in index["DXV-C-001"]] == ["test_method", "test_other"]


@pytest.mark.req("DXV-QMS-001")
@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "import pytest\n@pytest.mark.req(NAME)\ndef test_x(): ...\n",
            "got a non-literal argument",
        ),
        (
            "import pytest\n@pytest.mark.req()\ndef test_x(): ...\n",
            "got no ID expected at least one",
        ),
        ("def test_x(:\n", "not valid Python"),
    ],
)
def test_bad_markers_and_modules_are_named(tmp_path: Path, source: str, message: str) -> None:
    with pytest.raises(InputError, match=rf"tests/area/test_thing\.py:\d+: .*{message}"):
        scan_markers(_tree(tmp_path, source))


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a folder of tests"):
        scan_markers(tmp_path / "nothing")
