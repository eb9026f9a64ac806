"""The validation protocol, schema ``dxval: 1``.

The top-level model gathers the sections of :mod:`dxval.protocol.sections`
and the requirements of :mod:`dxval.protocol.criteria`. Checks that relate
fields to each other (exactly one of ``model``/``predictions``, unique IDs,
criteria naming declared sites and attributes) live in
:mod:`dxval.protocol.checks`, so each problem is reported at its own line.
"""

from __future__ import annotations

import json
import math
from typing import Any, Literal

from pydantic import Field

from dxval.protocol.comparators import Comparator, Pccp
from dxval.protocol.criteria import Requirement
from dxval.protocol.latency import Latency
from dxval.protocol.preprocessing import PreprocessingStep
from dxval.protocol.provenance import DataSection, Deviation, SampleSizePlan
from dxval.protocol.sections import (
    Analysis,
    Attribute,
    Device,
    Identifier,
    ModelSection,
    Predictions,
    Qc,
    ReaderStudy,
    Report,
    Section,
    Statistics,
    TestSet,
    Truth,
)
from dxval.protocol.studies import Precision, Robustness
from dxval.protocol.tasks import DetectionSection, SegmentationSection, Task

SCHEMA_VERSION = 1


class Protocol(Section):
    """A pre-specified standalone performance validation of one model version."""

    dxval: Literal[1] = Field(description="Schema version of this protocol; must be 1.")
    id: Identifier = Field(description="Protocol ID; names the evidence folder.")
    title: str = Field(description="Title shown in the report.")
    version: str = Field(description="Protocol document version, e.g. '1.0' (quoted).")
    device: Device = Field(description="The device under validation.")
    task: Task = Field(default="classification", description="What the device outputs per case.")
    detection: DetectionSection | None = Field(default=None, description="task: detection only.")
    segmentation: SegmentationSection | None = Field(
        default=None, description="task: segmentation."
    )
    model: ModelSection | None = Field(
        default=None, description="The model dxval runs (exactly one of model/predictions)."
    )
    predictions: Predictions | None = Field(
        default=None, description="Scores produced elsewhere (exactly one of model/predictions)."
    )
    preprocessing: list[PreprocessingStep] = Field(
        default_factory=list, description="Ordered pixel preprocessing (model protocols only)."
    )
    test_sets: list[TestSet] = Field(min_length=1, description="Test sets, one manifest each.")
    independence: str | None = Field(
        default=None,
        description="How the test data is independent of the data used to develop and tune "
        "the model (other sites, patients, time period, sequestration); stated in the report "
        "as FDA's guidance on CADe performance testing expects.",
    )
    data: DataSection | None = Field(
        default=None, description="Provenance of the test data (collection per test set)."
    )
    truth: Truth | None = Field(default=None, description="Labels (task: classification only).")
    attributes: dict[Identifier, Attribute] = Field(
        default_factory=dict, description="Subgroup attributes by name."
    )
    statistics: Statistics = Field(
        default_factory=Statistics, description="Pre-specified statistical methods."
    )
    qc: Qc = Field(default_factory=Qc, description="Quality-control tolerances.")
    analysis: Analysis = Field(default_factory=Analysis, description="Optional extra analyses.")
    reader_study: ReaderStudy | None = Field(
        default=None,
        description="A multi-reader multi-case study of the device (aided vs unaided reading), "
        "analysed beside the standalone performance; criteria on mrmc_* metrics refer to it.",
    )
    sample_size: SampleSizePlan | None = Field(
        default=None, description="Sample-size justification; dxval computes the required n."
    )
    limitations: list[str] = Field(
        default_factory=list, description="Limitations stated by the manufacturer (free text)."
    )
    deviations: list[Deviation] = Field(
        default_factory=list, description="Recorded deviations from the protocol."
    )
    robustness: Robustness | None = Field(
        default=None,
        description="Robustness study: perturbation levels scored by the same harness and "
        "paired with the unperturbed run (model protocols only).",
    )
    precision: Precision | None = Field(
        default=None,
        description="Precision over repeated acquisitions (manifest column repeat_group): "
        "within-group SD, ICCs, Bland–Altman limits and decision agreement.",
    )
    latency: Latency | None = Field(
        default=None,
        description="Latency study: the hardware and stage latency criteria hold for (issue 19).",
    )
    comparators: list[Comparator] = Field(
        default_factory=list,
        description="Reference models scored on the same cases; difference criteria name "
        "them with `against` (issue 13).",
    )
    pccp: Pccp | None = Field(
        default=None, description="The PCCP modification this run gates (shown on the cover)."
    )
    report: Report = Field(default_factory=Report, description="Report rendering options.")
    requirements: list[Requirement] = Field(
        min_length=1, description="Requirements with acceptance criteria."
    )

    @property
    def sites(self) -> tuple[str, ...]:
        """Site names in the order of first appearance in ``test_sets``."""
        return tuple(dict.fromkeys(test_set.site for test_set in self.test_sets))

    @property
    def operating_point(self) -> float:
        """The frozen decision threshold of the model or of the predictions."""
        source = self.model if self.model is not None else self.predictions
        if source is None:  # a segmentation protocol: predicted masks, no scores
            return math.inf
        return source.operating_point


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of :class:`Protocol`, for editors and CI linters."""
    schema = Protocol.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def json_schema_text() -> str:
    """:func:`json_schema` as indented JSON text with a trailing newline."""
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
