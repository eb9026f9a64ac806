"""Re-render the reports of a sealed bundle and rewrite its ``MANIFEST.sha256`` (``dxval report``).

The bundle is verified first: re-rendering must never re-seal altered
evidence. Only the renderings (``report.pdf``, ``report-submission.pdf``,
``report.html``, ``figures/``) and the signature records (``signatures/``,
added after sealing and checked by their own signatures) may differ from the
manifest; any other changed, missing or extra file, a broken audit chain or
an invalid signature (a forged, copied or outdated record is never shown as
signed) stops the command with an integrity error. The manifest keeps every
other entry as it was and lists the new renderings and the signature files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dxval.data.hashing import sha256_file
from dxval.errors import IntegrityError, UsageError
from dxval.evidence import MANIFEST_NAME, parse_manifest, render_manifest, verify_bundle
from dxval.evidence.format import SIGNATURES_FOLDER
from dxval.evidence.manifest import bundle_files
from dxval.evidence.signatures.registry import SignerRegistry
from dxval.report.formatting import plural
from dxval.report.render import (
    FIGURES_FOLDER,
    RENDERED_NAMES,
    Progress,
    no_progress,
    render_bundle_reports,
)
from dxval.report.template_set import check_template_folder
from dxval.report.typesetter import Typesetter


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """What ``dxval report`` rewrote."""

    bundle: Path
    written: tuple[Path, ...]
    manifest: Path


def is_rendering(name: str) -> bool:
    """Whether a bundle path (relative, POSIX) is a rendering of the evidence."""
    return name in RENDERED_NAMES or name.startswith(f"{FIGURES_FOLDER}/")


def _replaceable(name: str) -> bool:
    """Paths that may differ from the manifest before a re-render."""
    return is_rendering(name) or name.startswith(f"{SIGNATURES_FOLDER}/")


def _problem_path(path: str) -> str:
    """The file a verify problem is about (``x or its entry in MANIFEST.sha256`` → ``x``)."""
    return path.split(" or its entry in ", maxsplit=1)[0]


def refresh_reports(
    bundle_dir: str | Path,
    *,
    templates: str | Path | None = None,
    signers: SignerRegistry | None = None,
    progress: Progress = no_progress,
    typesetter: Typesetter | None = None,
) -> RefreshResult:
    """Verify the bundle, re-render its reports and rewrite ``MANIFEST.sha256``.

    ``templates`` is a folder of report templates used over the shipped ones;
    the methods section lists the template set used (``run.json`` keeps the
    one recorded at the run: it is signed evidence). With ``signers`` the
    signature block shows each signature's registry verdict and registered
    name (a signature that is not TRUSTED is shown as such; it does not stop
    the rendering). ``progress`` receives a line per stage. ``typesetter``:
    the child process that typesets the PDFs, if the caller forked it already
    (see :func:`~dxval.report.render.render_bundle_reports`).

    Raises
    ------
    UsageError
        ``bundle_dir`` is not a bundle folder.
    IntegrityError
        A file other than a rendering or a signature record is changed,
        missing or extra, or the audit chain is broken.
    InputError, ProtocolError
        A bundle file the report needs is malformed.
    TemplateError
        A template fails (file and line named); nothing is rewritten.
    """
    bundle = Path(bundle_dir)
    folder = check_template_folder(templates, where="--templates")
    progress("verifying the bundle")
    report = verify_bundle(bundle)
    blocking = [
        problem
        for problem in report.problems
        if problem.kind not in ("changed", "missing", "extra")
        or problem.path == MANIFEST_NAME
        or not _replaceable(_problem_path(problem.path))
    ]
    if blocking:
        raise IntegrityError(
            f"{bundle}: {plural(len(blocking), 'integrity problem')}, first: {blocking[0]}; "
            "refusing to re-render and re-seal altered evidence (run dxval verify)"
        )
    written = render_bundle_reports(
        bundle, templates=folder, signers=signers, progress=progress, typesetter=typesetter
    )
    manifest_path = bundle / MANIFEST_NAME
    entries = {
        name: digest
        for name, digest in parse_manifest(manifest_path.read_bytes()).entries.items()
        if not _replaceable(name)
    }
    entries.update(
        {name: sha256_file(bundle / name) for name in bundle_files(bundle) if _replaceable(name)}
    )
    temporary = manifest_path.with_name(f".{MANIFEST_NAME}.tmp")
    try:
        temporary.write_bytes(render_manifest(entries))
        os.replace(temporary, manifest_path)
    except OSError as error:
        raise UsageError(f"{manifest_path}: cannot write ({error.strerror})") from error
    return RefreshResult(bundle, tuple(written), manifest_path)
