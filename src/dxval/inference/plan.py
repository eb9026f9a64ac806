"""From a locked protocol to what the harness needs: model, loader, digest, cases, truth.

Used by ``dxval concordance``. Like ``validate``, it refuses a protocol whose
pins (model, golden-check input, test sets with every file they name) are
unset (exit 2) or differ from the files (exit 3) before any case is scored.
This module imports the protocol, data and DICOM layers; the rest of
:mod:`dxval.inference` does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dxval.data import (
    Pin,
    TestSetSource,
    TruthRule,
    build_cases,
    check_pins,
    file_pin,
    lock_test_set,
    read_manifest,
)
from dxval.dicom.loader import CaseLoader
from dxval.errors import UsageError
from dxval.inference.config import ModelConfig
from dxval.inference.results import CaseInput
from dxval.protocol import LoadedProtocol, load_protocol

__all__ = ["InferencePlan", "plan_inference"]


@dataclass(frozen=True, slots=True)
class InferencePlan:
    """Everything needed to score a protocol's cases with its model."""

    protocol_id: str
    protocol_path: Path
    model: ModelConfig
    loader: CaseLoader
    preprocessing_digest: str
    cases: tuple[CaseInput, ...]
    truth: Mapping[str, bool]


def _sources(loaded: LoadedProtocol) -> tuple[list[TestSetSource], list[Pin]]:
    sources, pins = [], []
    for test_set in loaded.protocol.test_sets:
        manifest = read_manifest(
            loaded.resolve(test_set.manifest),
            label=f"test set {test_set.id}",
            data_root=loaded.data_root(test_set),
        )
        lock = lock_test_set(manifest, test_set=test_set.id)
        sources.append(TestSetSource(test_set.id, test_set.site, manifest, lock))
        pins.append(
            Pin(
                f"test set {test_set.id}",
                manifest.path,
                f"test_sets[{test_set.id}].sha256",
                test_set.sha256,
                lock.digest,
            )
        )
    return sources, pins


def _model_pins(loaded: LoadedProtocol, model: ModelConfig) -> list[Pin]:
    section = loaded.protocol.model
    if section is None:  # checked by the caller
        return []
    pins = [
        Pin(
            "model",
            model.path,
            "model.sha256",
            section.sha256,
            file_pin(model.path, what="model file"),
        )
    ]
    if section.reference is not None and model.reference is not None:
        path = model.reference.input_path
        actual = file_pin(path, what="model reference input")
        pins.append(
            Pin(
                "model reference input",
                path,
                "model.reference.input_sha256",
                section.reference.input_sha256,
                actual,
            )
        )
    return pins


def plan_inference(protocol_path: str | Path) -> InferencePlan:
    """Load and lock-check a model protocol; build its loader and cases.

    Parameters
    ----------
    protocol_path:
        The protocol YAML file.

    Raises
    ------
    ProtocolError
        Invalid protocol (exit 2).
    UsageError
        The protocol has no ``model:`` section (exit 2).
    InputError
        A pin is unset, a manifest or file is unreadable, a truth label is unknown (exit 2).
    IntegrityError
        A pinned digest differs (exit 3).
    """
    loaded = load_protocol(protocol_path)
    protocol = loaded.protocol
    if protocol.model is None:
        raise UsageError(
            f"{loaded.path}: model: section missing; concordance runs a model artifact, "
            "this protocol brings its own predictions"
        )
    model = ModelConfig.from_mapping(protocol.model.model_dump(), folder=loaded.folder)
    sources, test_set_pins = _sources(loaded)
    check_pins([*_model_pins(loaded, model), *test_set_pins])
    rule = TruthRule(
        protocol.truth.column,
        frozenset(protocol.truth.positive),
        frozenset(protocol.truth.negative),
    )
    cases = build_cases(sources, rule)
    loader = CaseLoader(protocol.preprocessing, expected_shape=model.input.case_shape)
    return InferencePlan(
        protocol_id=protocol.id,
        protocol_path=loaded.path,
        model=model,
        loader=loader,
        preprocessing_digest=loader.digest,
        cases=tuple(
            CaseInput(case.case_id, case.files, (case.input_sha256,) if case.input_sha256 else ())
            for case in cases
        ),
        truth={case.case_id: case.truth for case in cases},
    )
