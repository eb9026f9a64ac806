"""Every public statistics function documents itself in numpydoc with a runnable example.

``pytest --doctest-modules src/dxval/stats`` (in the pytest configuration, so
``make test`` runs it) executes the examples; this test makes sure there is
one for each public function and that it passes, so a function added without
an example, or an example that no longer holds, fails here by name.
"""

from __future__ import annotations

import doctest
import inspect

import pytest

import dxval.stats

PUBLIC_FUNCTIONS = sorted(
    name for name in dxval.stats.__all__ if inspect.isfunction(getattr(dxval.stats, name))
)


def test_the_public_api_has_functions() -> None:
    assert len(PUBLIC_FUNCTIONS) >= 30


@pytest.mark.req("DXV-ARCH-002")
@pytest.mark.parametrize("name", PUBLIC_FUNCTIONS)
def test_public_function_has_a_numpydoc_example_that_runs(name: str) -> None:
    function = getattr(dxval.stats, name)
    docstring = inspect.getdoc(function) or ""
    assert "\nExamples\n--------\n>>> " in docstring, f"{name}: no numpydoc Examples section"
    for google_style in ("Args:", "Returns:", "Raises:"):
        assert f"\n{google_style}\n" not in docstring, f"{name}: Google-style {google_style}"
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in finder.find(function, name, globs={}):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0
    assert result.failed == 0, f"{name}: {result.failed} example(s) failed"
