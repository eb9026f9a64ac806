"""``environment.json``: the software and machine a run used (IEC 62304 SOUP record).

The basic record (Python, operating system, CPU, the distributions the run
depends on with their versions) is captured here. The distributions
recorded are dxval's runtime dependency closure (the requirements in the
installed dxval's metadata, followed through each distribution's own
requirements), plus the closure of any optional extra whose distribution the
process has loaded (e.g. torch, for a TorchScript model). Development tools
installed beside dxval (pytest, mypy, ruff, …) are not part of the run and
are not listed; a distribution outside the closure that the process did load
(a test runner calling dxval in-process) is listed apart, under
``loaded_outside_dependencies``. Runtime details (ONNX
Runtime providers, torch and CUDA versions, GPU, determinism flags) are
captured by :func:`dxval.inference.capture_environment`; the pipeline passes
them in (``runtime=``) and they are recorded under ``"runtime"``. The commit
dxval was built from (``dxval_source``) comes from pip's ``direct_url.json``
(PEP 610) for an install from a VCS URL, else from ``git`` in the source
folder dxval was imported from; ``None`` when neither says (a release
wheel). This module imports nothing of dxval beyond its version.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import dxval
from dxval import __version__

#: Optional extras of dxval that hold development tools, never part of a run.
DEVELOPMENT_EXTRAS = frozenset({"dev"})


def _key(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _distribution(name: str) -> metadata.Distribution | None:
    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None


def _requirements(distribution: metadata.Distribution, extras: Iterable[str]) -> list[Any]:
    """The requirements of ``distribution`` that apply here, for no extra or one of ``extras``."""
    from packaging.requirements import InvalidRequirement, Requirement

    found = []
    for text in distribution.requires or []:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": extra}) for extra in ("", *extras)):
            found.append(requirement)
    return found


def dependency_closure(roots: Mapping[str, Iterable[str]]) -> dict[str, metadata.Distribution]:
    """Installed distributions reached from ``roots`` (name → extras) through their requirements.

    Requirements that are not installed are skipped (an optional marker, or a
    platform-specific one): the record states what is, not what should be.
    """
    found: dict[str, metadata.Distribution] = {}
    done: set[tuple[str, str]] = set()
    pending = [(name, tuple(extras)) for name, extras in roots.items()]
    while pending:
        name, extras = pending.pop()
        key = _key(name)
        if all((key, extra) in done for extra in ("", *extras)):
            continue
        done.update((key, extra) for extra in ("", *extras))
        distribution = found.get(key) or _distribution(name)
        if distribution is None:
            continue
        found[key] = distribution
        pending.extend(
            (requirement.name, tuple(requirement.extras))
            for requirement in _requirements(distribution, extras)
        )
    return found


_OWNERS: dict[tuple[tuple[str, int], ...], Mapping[str, list[str]]] = {}


def _module_owners() -> Mapping[str, list[str]]:
    """``metadata.packages_distributions()``, read once per state of the import path.

    It walks every installed distribution's file list (~0.2 s), and a run
    records the environment twice (the harness's record and
    ``environment.json``). The key is each ``sys.path`` folder with its
    modification time, so installing or removing a distribution reads it anew.
    """
    folders = [folder or "." for folder in sys.path]  # "" is the working folder
    key = tuple(
        (folder, os.stat(folder).st_mtime_ns) for folder in folders if os.path.isdir(folder)
    )
    if key not in _OWNERS:
        _OWNERS.clear()
        _OWNERS[key] = metadata.packages_distributions()
    return _OWNERS[key]


def _loaded_distributions() -> set[str]:
    """Normalised names of the distributions whose top-level modules this process imported."""
    owners = _module_owners()
    # Private top-level modules are skipped: a site .pth hook (setuptools'
    # _distutils_hack) imports one at start-up, not the run.
    loaded = {name.partition(".")[0] for name in list(sys.modules) if not name.startswith("_")}
    return {_key(owner) for module in loaded for owner in owners.get(module, [])}


def _loaded_extras(loaded: set[str]) -> list[str]:
    """dxval's optional extras (not development ones) whose distributions the process loaded."""
    from packaging.requirements import InvalidRequirement, Requirement

    dxval = _distribution("dxval")
    if dxval is None:
        return []
    requirements = []
    for text in dxval.requires or []:
        try:
            requirements.append(Requirement(text))
        except InvalidRequirement:
            continue
    extras = []
    for extra in dxval.metadata.get_all("Provides-Extra") or []:
        if extra in DEVELOPMENT_EXTRAS:
            continue
        if any(
            requirement.marker is not None
            and requirement.marker.evaluate({"extra": extra})
            and not requirement.marker.evaluate({"extra": ""})
            and _key(requirement.name) in loaded
            for requirement in requirements
        ):
            extras.append(extra)
    return extras


def _versions(distributions: Iterable[metadata.Distribution]) -> dict[str, str]:
    found = {str(d.metadata["Name"]): str(d.version) for d in distributions if d.metadata["Name"]}
    return dict(sorted(found.items(), key=lambda item: item[0].lower()))


def runtime_distributions() -> tuple[dict[str, str], dict[str, str]]:
    """The distributions a run depends on, and those loaded outside dxval's dependencies.

    Returns ``(dependencies, outside)``: ``dependencies`` is dxval and its
    runtime closure (plus the closure of every non-development extra whose
    distribution this process has loaded), name → version, sorted by
    lower-case name; ``outside`` lists the distributions this process has
    loaded that are not among them (e.g. a test runner), name → version.
    """
    loaded = _loaded_distributions()
    closure = dependency_closure({"dxval": _loaded_extras(loaded)})
    outside = [
        distribution
        for key in sorted(loaded - set(closure))
        if (distribution := _distribution(key)) is not None
    ]
    return _versions(closure.values()), _versions(outside)


def installed_distributions() -> dict[str, str]:
    """The distributions a run depends on (:func:`runtime_distributions`), name → version."""
    return runtime_distributions()[0]


def _git(folder: Path, *arguments: str) -> str | None:
    """Output of ``git -C folder ARGUMENTS``, or None (no git, not a work tree, an error)."""
    executable = shutil.which("git")
    if executable is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603  (fixed arguments, resolved executable)
            [executable, "-C", str(folder), *arguments],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def dxval_source() -> dict[str, Any] | None:
    """The commit dxval was built from: ``{"commit", "modified", "from"}``, or None.

    ``direct_url.json`` (PEP 610) records the commit of a VCS install; for a
    source checkout (editable install, or ``PYTHONPATH``) ``git`` is asked in
    the folder dxval was imported from, and ``modified`` says whether tracked
    files under it differ from that commit.
    """
    distribution = _distribution("dxval")
    text = distribution.read_text("direct_url.json") if distribution is not None else None
    if text:
        try:
            vcs = json.loads(text).get("vcs_info") or {}
        except (ValueError, AttributeError):
            vcs = {}
        if isinstance(vcs, dict) and vcs.get("commit_id"):
            return {"commit": str(vcs["commit_id"]), "modified": None, "from": "direct_url.json"}
    # the package folder this process runs, wherever it was imported from
    folder = Path(dxval.__file__).resolve().parent
    commit = _git(folder, "rev-parse", "HEAD")
    if not commit:
        return None
    changes = _git(folder, "status", "--porcelain", "--untracked-files=no", ".")
    return {
        "commit": commit,
        "modified": None if changes is None else bool(changes),
        "from": "git",
    }


def capture_environment(*, runtime: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The JSON-safe environment record written to ``environment.json``.

    ``runtime`` is the inference harness's description of the runtimes, GPUs
    and determinism flags (:func:`dxval.inference.capture_environment`), passed
    in by the pipeline as a plain value and recorded under ``"runtime"``.
    """
    dependencies, outside = runtime_distributions()
    return {
        "dxval": __version__,
        "dxval_source": dxval_source(),
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "platform": {
            "system": platform.system(),
            "release": platform.release(),
            "machine": platform.machine(),
            "description": platform.platform(),
        },
        "cpu": {"count": os.cpu_count(), "processor": platform.processor()},
        "distributions": dependencies,
        "loaded_outside_dependencies": outside,
        "runtime": None if runtime is None else dict(runtime),
    }
