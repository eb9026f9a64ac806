"""Scores for a ``model:`` protocol: PHI and decoder checks, then the locked harness.

:func:`score_with_model` is what :func:`dxval.pipeline.run_validation` calls
for a protocol that names a frozen model. Before any case is decoded it reads
every DICOM header once to

* scan for PHI (DICOM PS3.15 Annex E, :mod:`dxval.dicom.phi`): under
  ``qc.phi: refuse`` any finding stops the run with exit 2 and a summary that
  names attributes and counts, never values; under ``warn`` the findings go
  into the bundle (``phi.json``);
* check the pinned pixel decoders (``model.decoders``): a file that another
  decoder would decode is a lock mismatch (exit 3).

Then the harness (:func:`dxval.inference.score_cases`) decodes, preprocesses
and scores every case; a case that fails is kept with its reason code.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dxval.data import Case
from dxval.errors import UsageError
from dxval.inference.options import InferenceOptions
from dxval.pipeline.cases import case_loader
from dxval.pipeline.plan import RunPlan

if TYPE_CHECKING:  # the DICOM stack is imported only when a case is read
    from dxval.dicom.loader import CaseLoader
    from dxval.inference.outputs import MaskStore
    from dxval.inference.timing import CaseTiming


@dataclass(frozen=True, slots=True)
class ModelScores:
    """Per-case outcomes of a model run and what the evidence must record about it."""

    scores: dict[str, float | None]
    failures: dict[str, tuple[str, str]]
    decoders: dict[str, str]
    preprocessing_digest: str
    runner: dict[str, Any]
    cache: dict[str, Any]
    cache_hit_case_ids: tuple[str, ...]
    golden: dict[str, Any] | None
    environment: dict[str, Any]
    phi_findings: tuple[dict[str, str | None], ...] = field(default_factory=tuple)
    masks: dict[str, str] = field(default_factory=dict)
    """A ``kind: mask`` model: case ID → SHA-256 of its label map in :attr:`mask_store`."""
    mask_store: MaskStore | None = None
    boxes: dict[str, tuple[float, ...]] = field(default_factory=dict)
    """A ``kind: boxes`` model: case ID → its raw output row (``N * 5`` values)."""
    #: Per-case wall times of this run (None: a cache hit, not timed); latency study (issue 19).
    timings: dict[str, CaseTiming | None] = field(default_factory=dict)


def preflight(plan: RunPlan, cases: Sequence[Case]) -> tuple[dict[str, Any], ...]:
    """PHI scan and decoder-pin check over every case's files, headers only.

    Files that cannot be read here are left to the harness, which records
    them as failed cases with their reason code.

    Returns
    -------
    tuple of dict
        PHI findings (attribute, case ID, kind, tag; never the value), when
        the protocol's policy is ``warn``.

    Raises
    ------
    UsageError
        PHI found and ``qc.phi`` is ``refuse`` (exit 2).
    IntegrityError
        A file would be decoded by a decoder other than the pinned one (exit 3).
    """
    from dxval.dicom import CaseFailure
    from dxval.dicom.decoders import check_decoder_pin, decoder_for
    from dxval.dicom.notes import DxvalNotice, ReaderNote, notes_summary
    from dxval.dicom.phi import PhiFinding, phi_summary, scan_file

    pinned = None if plan.model is None else plan.model.decoders
    allow = plan.dicom_keywords
    findings: list[PhiFinding] = []
    noted: dict[str, set[str]] = {}
    for case in cases:
        for path in _case_files(case):
            notes: list[ReaderNote] = []
            try:
                findings.extend(scan_file(path, case_id=case.case_id, allow=allow, notes=notes))
                if pinned:
                    where = f"case {case.case_id} ({path.name})"
                    check_decoder_pin(decoder_for(path), pinned, where=where)
            except CaseFailure:
                continue
            finally:
                for note in notes:
                    noted.setdefault(note.text(), set()).add(case.case_id)
    if noted:  # re-emitted as tags and reason codes: the library's messages quote values
        warnings.warn(notes_summary(noted), DxvalNotice, stacklevel=2)
    if findings and plan.phi_policy == "refuse":
        summary = phi_summary(findings).replace("\n", ";")
        raise UsageError(
            f"{plan.path}: qc.phi is 'refuse' and the test data holds PHI "
            f"(DICOM PS3.15 Annex E): {summary}; de-identify the files, list attributes the "
            "de-identification replaced in qc.phi_retained (with a justification), or set "
            "qc.phi: warn"
        )
    return tuple(finding.to_dict() for finding in findings)


def _case_files(case: Case) -> list[Path]:
    files: list[Path] = []
    for path in case.files:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.is_file()))
        else:
            files.append(path)
    return files


def score_with_model(
    plan: RunPlan,
    cases: Sequence[Case],
    *,
    options: InferenceOptions,
    default_cache_dir: Path,
    loader: CaseLoader | None = None,
    work_dir: Path | None = None,
) -> ModelScores:
    """Run the protocol's frozen model over every case (see the module docstring).

    Parameters
    ----------
    plan:
        The plan of a protocol with a ``model:`` section.
    cases:
        Every case of every test set, in manifest order.
    options:
        Device, workers, batch size and cache use.
    default_cache_dir:
        Where the prediction cache lives unless ``options.cache_dir`` says.
    loader:
        A loader other than the protocol's (a robustness level's perturbed
        loader, :mod:`dxval.pipeline.robustness`); its digest keys the cache.
        The PHI scan and decoder check ran with the unperturbed run and are
        not repeated.
    work_dir:
        Folder for the results file (and a mask output's label maps when no cache is
        used); it must outlive the returned record when the masks are read later.
        Default: a temporary folder removed before returning.

    Raises
    ------
    UsageError
        Model file unusable, signature mismatch, device absent, PHI refused (exit 2).
    IntegrityError
        Golden check beyond tolerance or decoder mismatch (exit 3).
    """
    from dxval.inference import CaseInput, CaseStatus, score_cases

    if plan.model is None:
        raise UsageError(f"{plan.path}: no model section to score with")
    phi_findings = preflight(plan, cases) if loader is None else ()
    model = plan.model.config
    loader = case_loader(plan) if loader is None else loader
    inputs = [
        CaseInput(case.case_id, case.files, (case.input_sha256,) if case.input_sha256 else ())
        for case in cases
    ]
    with tempfile.TemporaryDirectory(prefix="dxval-scores-") as work:
        result = score_cases(
            model,
            loader,
            inputs,
            results_path=(work_dir or Path(work)) / "predictions.jsonl",
            preprocessing_digest=loader.digest,
            options=replace(options, cache_dir=options.cache_dir or default_cache_dir),
        )
        scores: dict[str, float | None] = {}
        failures: dict[str, tuple[str, str]] = {}
        decoders: dict[str, str] = {}
        hits: list[str] = []
        masks: dict[str, str] = {}
        boxes: dict[str, tuple[float, ...]] = {}
        keep_rows = model.output.boxes is not None
        for case_result in result.iter_results():
            if keep_rows and case_result.outputs is not None:
                boxes[case_result.case_id] = case_result.outputs
            if case_result.mask_sha256 is not None:
                masks[case_result.case_id] = case_result.mask_sha256
        timings: dict[str, CaseTiming | None] = {}
        for case_result in result.iter_results():
            timings[case_result.case_id] = case_result.timing
            if case_result.cache_hit:
                hits.append(case_result.case_id)
            scores[case_result.case_id] = (
                case_result.score if case_result.status is CaseStatus.SCORED else None
            )
            if case_result.status is not CaseStatus.SCORED:
                failures[case_result.case_id] = (
                    case_result.reason_code or "failed",
                    case_result.reason or "",
                )
            if case_result.decoder:
                decoders[case_result.case_id] = case_result.decoder
    return ModelScores(
        scores=scores,
        failures=failures,
        decoders=decoders,
        preprocessing_digest=loader.digest,
        runner=result.runner.to_dict(),
        cache=result.cache.to_dict(),
        cache_hit_case_ids=tuple(sorted(hits)),
        golden=None if result.golden is None else result.golden.to_dict(),
        environment=dict(result.environment),
        phi_findings=phi_findings,
        masks=masks,
        mask_store=result.mask_store,
        boxes=boxes,
        timings=timings,
    )
