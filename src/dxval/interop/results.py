"""The validated results an export carries, read from a verified evidence bundle.

Exports never recompute anything: the score and the decision of each case are
those of the bundle's ``cases.csv``, the model identity that of ``run.json``
and ``lock.json``. The bundle must verify first (:func:`dxval.evidence.verify_bundle`);
a changed bundle is an :class:`~dxval.errors.IntegrityError` (exit 3).

For exports that reference the source images (DICOM SR), each case's files
are found through the test-set manifests of the protocol that ran, and their
digest must equal the case's ``input_sha256``: the report points at exactly
the bytes that were scored.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from dxval.data.hashing import sha256_file
from dxval.data.locks import case_input_digest
from dxval.data.manifest import read_manifest
from dxval.errors import InputError, IntegrityError
from dxval.protocol import load_protocol
from dxval.stats.wording import plural

__all__ = ["BundleResults", "CaseResult", "ModelIdentity", "load_results"]


@dataclass(frozen=True, slots=True)
class ModelIdentity:
    """The device's model as the bundle names it.

    ``artifact`` is ``"model"`` (``sha256`` of the model file) or
    ``"predictions"`` (``sha256`` of the predictions file of a
    bring-your-own-predictions protocol).
    """

    name: str
    version: str
    manufacturer: str | None
    sha256: str
    artifact: str


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One case of ``cases.csv`` with its score as written (shortest round-trip text)."""

    case_id: str
    test_set: str
    site: str
    score_text: str
    decision: str
    status: str
    input_sha256: str
    files: tuple[Path, ...] = ()

    @property
    def score(self) -> float | None:
        """The score as a float (None for a case that was not scored)."""
        return float(self.score_text) if self.score_text else None


@dataclass(frozen=True, slots=True)
class BundleResults:
    """What an export needs from one bundle."""

    folder: Path
    run_id: str
    finished_utc: str
    protocol_id: str
    protocol_version: str
    protocol_title: str
    model: ModelIdentity
    operating_point: float
    cases: tuple[CaseResult, ...]

    @property
    def scored(self) -> tuple[CaseResult, ...]:
        """Cases with a score (the others failed and are reported, not exported)."""
        return tuple(case for case in self.cases if case.score is not None)

    @property
    def unscored(self) -> tuple[CaseResult, ...]:
        """Cases without a score: failed to read or score."""
        return tuple(case for case in self.cases if case.score is None)


def _verified(folder: Path) -> None:
    from dxval.evidence import verify_bundle

    report = verify_bundle(folder)
    if not report.intact:
        findings = "; ".join(str(problem) for problem in report.problems[:3])
        raise IntegrityError(
            f"{folder}: bundle does not verify ({plural(len(report.problems), 'problem')}: "
            f"{findings}); nothing exported"
        )


def _cases(folder: Path) -> list[dict[str, str]]:
    content = (folder / "cases.csv").read_bytes().decode("utf-8")
    return list(csv.DictReader(io.StringIO(content)))


def _model_identity(lock: dict[str, object], device: dict[str, object]) -> ModelIdentity:
    model, predictions = lock.get("model"), lock.get("predictions")
    source, artifact = (model, "model") if isinstance(model, dict) else (predictions, "predictions")
    if not isinstance(source, dict) or not source.get("sha256"):
        raise InputError("lock.json: neither model nor predictions has a sha256")
    return ModelIdentity(
        name=str(device.get("name", "")),
        version=str(device.get("version", "")),
        manufacturer=str(device["manufacturer"]) if device.get("manufacturer") else None,
        sha256=str(source["sha256"]),
        artifact=artifact,
    )


def _recorded_protocol_path(folder: Path) -> str:
    try:
        document = json.loads((folder / "run.json").read_bytes())
        return str(document["protocol"]["path"])
    except (OSError, ValueError, KeyError, TypeError):
        return ""


_Located = dict[tuple[str, str], tuple[tuple[Path, ...], tuple[str, ...]]]


def _case_files(protocol: Path | None, recorded: str, digest: str) -> _Located:
    """(test set, case ID) → (files, names relative to the manifest) from the protocol."""
    path = protocol if protocol is not None else Path(recorded)
    if (not recorded and protocol is None) or not path.is_file():
        raise InputError(
            f"{path}: the protocol that ran is not here; give its current path with --protocol "
            "(its test-set manifests locate the source images)"
        )
    loaded = load_protocol(path)
    if loaded.digest != digest:
        raise IntegrityError(
            f"{path}: sha256 {loaded.digest} differs from the bundle's protocol ({digest}); "
            "give the protocol that ran with --protocol"
        )
    located: _Located = {}
    for test_set in loaded.protocol.test_sets:
        manifest = read_manifest(loaded.resolve(test_set.manifest), label=f"test set {test_set.id}")
        if not manifest.has_paths:
            raise InputError(
                f"{manifest.path}: test set {test_set.id} names no image files; an SR export "
                "needs the source images"
            )
        for row in manifest.rows:
            located[(test_set.id, row.case_id)] = (row.files, row.names)
    return located


def _check_digest(
    row: dict[str, str], files: tuple[Path, ...], names: tuple[str, ...], where: str
) -> None:
    actual = case_input_digest(
        (name, sha256_file(path)) for path, name in zip(files, names, strict=True)
    )
    if actual != row.get("input_sha256"):
        raise IntegrityError(
            f"{where}: case {row['case_id']}: source files now hash to {actual}, the bundle "
            f"scored {row.get('input_sha256') or 'no recorded digest'}; nothing exported"
        )


def load_results(
    folder: str | Path, *, images: bool = False, protocol: Path | None = None
) -> BundleResults:
    """Verify the bundle at ``folder`` and read the results an export carries.

    Parameters
    ----------
    folder:
        The evidence bundle.
    images:
        Also locate each scored case's source files (for the SR export) and
        check them against the case's ``input_sha256``.
    protocol:
        The protocol that ran, where it is now (default: the path ``run.json`` records).

    Raises
    ------
    IntegrityError
        The bundle does not verify, or a source image differs from what was scored (exit 3).
    InputError
        The bundle or the protocol's manifests cannot be read (exit 2).
    """
    from dxval.evidence import read_bundle

    folder = Path(folder)
    _verified(folder)
    data = read_bundle(folder)
    rows = _cases(folder)
    located: _Located = {}
    if images:
        located = _case_files(protocol, _recorded_protocol_path(folder), data.run.protocol.sha256)
    cases = []
    for number, row in enumerate(rows, start=2):
        key = (row["test_set"], row["case_id"])
        files: tuple[Path, ...] = ()
        if images and row.get("score"):
            files, names = located.get(key, ((), ()))
            if not files:
                raise InputError(
                    f"{folder / 'cases.csv'}:{number}: case {row['case_id']} is in no test-set "
                    "manifest of the protocol"
                )
            _check_digest(row, files, names, f"{folder / 'cases.csv'}:{number}")
        cases.append(
            CaseResult(
                case_id=row["case_id"],
                test_set=row["test_set"],
                site=row["site"],
                score_text=row["score"],
                decision=row["decision"],
                status=row["status"],
                input_sha256=row.get("input_sha256", ""),
                files=files,
            )
        )
    return BundleResults(
        folder=folder,
        run_id=data.run.run_id,
        finished_utc=data.run.finished_utc,
        protocol_id=data.run.protocol.id,
        protocol_version=data.run.protocol.version,
        protocol_title=data.run.protocol.title,
        model=_model_identity(data.lock, data.run.device),
        operating_point=data.loaded.protocol.operating_point,
        cases=tuple(cases),
    )
