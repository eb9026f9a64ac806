"""``dxval self-validate``: installation and operational qualification of this dxval.

Runs, in order: installation qualification (installed versions against the
SOUP list), the known-answer tests, the end-to-end run on generated DICOM,
and the tamper test of its signed bundle; writes the tool-validation report
(HTML and JSON) and keeps the signed end-to-end bundle beside it as
evidence. The run passes only when every check passes.
"""

from __future__ import annotations

import getpass
import platform
import shutil
import socket
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path

from dxval import __version__
from dxval.data.hashing import sha256_file
from dxval.errors import UsageError
from dxval.evidence.audit import utc_now
from dxval.qms.soup import (
    QualificationResult,
    installation_qualification,
    load_soup,
    packaged_soup_path,
)
from dxval.selfval.checks import CheckResult, compare_exact
from dxval.selfval.end_to_end import end_to_end_checks
from dxval.selfval.known_answers import known_answer_checks
from dxval.selfval.report import write_report
from dxval.selfval.tamper import tamper_checks

IQ_GROUP = "installation qualification"
DEFAULT_CASES_PER_SITE = 10

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class SelfValidation:
    """The outcome of :func:`self_validate`."""

    checks: tuple[CheckResult, ...]
    report: Path
    record: Path
    bundle: Path
    drift: tuple[dict[str, str], ...] = field(default=())

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(check.passed for check in self.checks)

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        """The checks that failed."""
        return tuple(check for check in self.checks if not check.passed)


def _quiet(message: str) -> None:
    """Default progress sink: report nothing."""


def version_drift(results: Sequence[QualificationResult]) -> tuple[dict[str, str], ...]:
    """The installed items whose version differs from the SOUP list (name, listed, installed)."""
    return tuple(
        {"name": result.name, "listed": result.expected, "installed": str(result.installed)}
        for result in results
        if result.drifted
    )


def _package_data_check() -> CheckResult:
    """The data files an installed dxval reads at run time are present in the package."""
    from dxval.report.render import TEMPLATES

    needed = {
        "SOUP list": Path(str(resources.files("dxval.qms").joinpath("soup.yaml"))),
        "report template": TEMPLATES / "report.html",
        "report font": TEMPLATES / "fonts" / "DejaVuSans.ttf",
    }
    missing = [f"{label} {path}" for label, path in needed.items() if not path.is_file()]
    return CheckResult(
        IQ_GROUP,
        "package data installed (" + ", ".join(needed) + ")",
        "present",
        "present" if not missing else "missing: " + ", ".join(missing),
        not missing,
        str(Path(str(resources.files("dxval")))),
    )


def installation_checks(
    soup_path: Path, *, strict: bool, results: Sequence[QualificationResult] | None = None
) -> list[CheckResult]:
    """IQ: dxval's own distribution and package data, then every SOUP item's installed version.

    ``results`` are the SOUP item qualifications when already computed.
    """
    try:
        installed = metadata.version("dxval")
    except metadata.PackageNotFoundError:
        installed = "not installed as a distribution"
    checks = [
        compare_exact(
            IQ_GROUP, "dxval distribution matches the imported package", __version__, installed
        ),
        _package_data_check(),
    ]
    if results is None:
        results = installation_qualification(load_soup(soup_path), strict=strict)
    for result in results:
        requirement = f" ({result.requirement})" if result.requirement else ""
        checks.append(
            CheckResult(
                IQ_GROUP,
                result.name,
                f"{result.expected}{requirement}",
                f"{result.installed or 'missing'}: {result.note}",
                result.passed,
                str(soup_path),
            )
        )
    return checks


def _prepare(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"--out {out}: exists and is not an empty folder; expected a new folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--out {out}: cannot create ({error.strerror})") from error


def _header(soup_path: Path) -> dict[str, str]:
    return {
        "dxval": __version__,
        "date (UTC)": utc_now(),
        "user": getpass.getuser(),
        "host": socket.gethostname(),
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "SOUP list": f"{soup_path} (sha256 {sha256_file(soup_path)})",
    }


def _drift_note(drift: Sequence[dict[str, str]], *, strict: bool) -> str:
    if not drift:
        return "Installed versions: every SOUP item is installed at the version the list records."
    listed = "; ".join(
        f"{item['name']} {item['installed']} (listed {item['listed']})" for item in drift
    )
    consequence = (
        "these fail IQ (--strict-versions)"
        if strict
        else "these pass the default IQ (the requirement is met) but fail --strict-versions"
    )
    return (
        f"Installed versions that differ from the SOUP list ({len(drift)}): {listed}; "
        f"{consequence}. Regenerate the list (dxval qms soup) and re-verify, or install the "
        "listed versions, before a release."
    )


def _notes(asah: Path | None, drift: Sequence[dict[str, str]], *, strict: bool) -> list[str]:
    notes = [
        _drift_note(drift, strict=strict),
        "End to end: the model is the self-validation reference model, an ONNX graph "
        "computing max - mean of the preprocessed image (not a diagnostic model); the DICOM "
        "test sets are generated by dxval demo's generator with one file damaged on purpose.",
    ]
    if asah is None:
        notes.append(
            "Known answers on pROC's aSAH data (AUC, DeLong, paired tests, counts, average "
            "precision, calibration): not run; pass --asah with the aSAH CSV (GPL-3 data, "
            "not shipped with dxval) to include them."
        )
    return notes


def self_validate(
    out: str | Path,
    *,
    soup: str | Path | None = None,
    asah: str | Path | None = None,
    strict_versions: bool = False,
    cases_per_site: int = DEFAULT_CASES_PER_SITE,
    progress: Progress = _quiet,
) -> SelfValidation:
    """Qualify this dxval installation; write the report to the new folder ``out``.

    Parameters
    ----------
    out:
        New (or empty) folder for ``tool-validation.pdf``/``.html``/``.json`` and the
        signed end-to-end bundle.
    soup:
        The SOUP list the installation is checked against; by default the one
        shipped with this dxval (:func:`dxval.qms.soup.packaged_soup_path`).
    asah:
        pROC's aSAH CSV, to add the aSAH known-answer tests.
    strict_versions:
        Fail IQ when an installed version differs from the SOUP list.
    cases_per_site:
        Size of the generated DICOM set (three sites).

    Raises
    ------
    UsageError
        ``out`` exists and is not empty, or cannot be created.
    InputError
        The SOUP list or the aSAH file cannot be read.
    """
    out = Path(out)
    soup_path = packaged_soup_path() if soup is None else Path(soup)
    asah_path = None if asah is None else Path(asah)
    _prepare(out)
    progress("installation qualification")
    results = installation_qualification(load_soup(soup_path), strict=strict_versions)
    drift = version_drift(results)
    checks = installation_checks(soup_path, strict=strict_versions, results=results)
    progress("known-answer tests")
    checks += known_answer_checks(asah_path)
    with tempfile.TemporaryDirectory(prefix="dxval-self-validate-") as temporary:
        work = Path(temporary)
        end_to_end = end_to_end_checks(work, cases_per_site=cases_per_site, progress=progress)
        checks += end_to_end.checks
        progress("tamper tests")
        tampered, signed = tamper_checks(end_to_end.bundle, work)
        checks += tampered
        bundle = out / "end-to-end-bundle"
        shutil.copytree(signed, bundle)
    report, record = write_report(
        out,
        checks,
        header=_header(soup_path),
        notes=_notes(asah_path, drift, strict=strict_versions),
        version_drift=drift,
    )
    return SelfValidation(tuple(checks), report, record, bundle, drift)
