"""Protocol → :class:`RunPlan`: everything a run needs, as plain values.

:func:`plan_run` is the one place where the pydantic protocol
(:mod:`dxval.protocol`) is turned into the frozen dataclasses the stage
packages take: pins and test-set sources (:mod:`dxval.data`), the truth rule,
the model configuration (:class:`~dxval.inference.ModelConfig`), the
preprocessing steps (plain mappings, validated again by the case loader),
statistics settings, population and requirement specs
(:mod:`dxval.analysis`) and the reader study's reads file and options
(:mod:`dxval.analysis.reader_study`). No stage package sees the protocol itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dxval.analysis import (
    AttributeSpec,
    CriterionSpec,
    PopulationSpec,
    RequirementSpec,
    StatisticsSettings,
)
from dxval.analysis.reader_study import (
    FACTOR_NAMES,
    AnalysisMethod,
    ReaderStudyOptions,
    StudyPlan,
)
from dxval.analysis.reads import ReadColumns
from dxval.data import AttributeSources, TruthRule
from dxval.dicom.steps import Step
from dxval.inference import ModelConfig
from dxval.pipeline.latency import LatencyPlan, latency_plan
from dxval.pipeline.sample_size import plan_values
from dxval.pipeline.task_plan import TaskPlan, task_plan
from dxval.protocol import (
    CellPopulation,
    Criterion,
    EachPopulation,
    LoadedProtocol,
    ModelSection,
    Predictions,
    Protocol,
    SitePopulation,
    TestSetPopulation,
    load_protocol,
)
from dxval.protocol.criteria import PerturbationPopulation
from dxval.protocol.preprocessing import plain_steps
from dxval.protocol.studies import PerturbationLevel, robustness_levels
from dxval.stats.mrmc import CovarianceMethod, UStatisticTest
from dxval.stats.vocabulary import LATENCY_METRICS, PRECISION_METRICS, READER_STUDY_METRICS

__all__ = [
    "AttributePlan",
    "ComparatorPlan",
    "ModelPlan",
    "PredictionsPlan",
    "ReaderStudyPlan",
    "RunPlan",
    "TestSetPlan",
    "plan_from_loaded",
    "plan_run",
]


@dataclass(frozen=True, slots=True)
class TestSetPlan:
    """One test set: its ID, site, manifest (as written and resolved) and pinned digest."""

    __test__ = False  # not a pytest test class despite its name

    id: str
    site: str
    manifest: str
    manifest_path: Path
    sha256: str | None
    data_root: Path | None = None


@dataclass(frozen=True, slots=True)
class AttributePlan:
    """A subgroup attribute: where its value comes from and how it is banded."""

    name: str
    label: str
    column: str | None
    dicom: str | None
    bins: tuple[float, ...] | None


@dataclass(frozen=True, slots=True)
class ModelPlan:
    """The frozen model: its configuration, the path as written, pins and decoder pins."""

    config: ModelConfig
    path: str
    sha256: str | None
    reference_input: str | None
    reference_input_sha256: str | None
    decoders: Mapping[str, str] | None


@dataclass(frozen=True, slots=True)
class PredictionsPlan:
    """A bring-your-own-predictions CSV and its columns."""

    path: str
    resolved: Path
    sha256: str | None
    case_id: str
    score: str
    failure_reason: str | None


@dataclass(frozen=True, slots=True)
class ReaderStudyPlan:
    """The protocol's reader study (``reader_study:``): reads file, pin, modalities, analysis.

    The difference analysed is ``test`` − ``reference``; criteria on the
    ``mrmc_*`` metrics compare its estimates (issue 15).
    """

    reads: str
    resolved: Path
    sha256: str | None
    columns: ReadColumns
    positive: str | None
    test: str
    reference: str
    options: ReaderStudyOptions


@dataclass(frozen=True, slots=True)
class ComparatorPlan:
    """A reference model (protocol ``comparators:``): its scores' source and threshold (issue 13).

    Exactly one of ``model`` / ``predictions``; ``preprocessing`` is its own
    or, when it declares none, the candidate's.
    """

    id: str
    role: str
    description: str | None
    operating_point: float
    model: ModelPlan | None
    predictions: PredictionsPlan | None
    preprocessing: tuple[Step, ...]
    index: int


@dataclass(frozen=True, slots=True)
class RunPlan:
    """Everything a run of one protocol needs, as plain frozen values.

    Built by :func:`plan_run`; read by :mod:`dxval.pipeline.validate`,
    :mod:`~dxval.pipeline.lock`, :mod:`~dxval.pipeline.score` and
    :mod:`~dxval.pipeline.concordance`.
    """

    path: Path
    raw_bytes: bytes
    digest: str
    protocol_id: str
    title: str
    version: str
    device: Mapping[str, Any]
    test_sets: tuple[TestSetPlan, ...]
    truth: TruthRule
    attributes: tuple[AttributePlan, ...]
    model: ModelPlan | None
    predictions: PredictionsPlan | None
    preprocessing: tuple[Step, ...]
    operating_point: float
    statistics: StatisticsSettings
    sites: tuple[str, ...]
    site_by: tuple[str, ...]
    requirements: tuple[RequirementSpec, ...]
    max_failed_fraction: float
    phi_policy: str
    phi_retained: tuple[str, ...]
    max_test_set_uses: int | None
    templates: Path | None
    reader_study: ReaderStudyPlan | None = None
    sample_size: Mapping[str, Any] | None = None
    task: TaskPlan | None = None  # detection or segmentation (issue 16)
    robustness: tuple[PerturbationLevel, ...] = ()
    precision_column: str | None = None
    comparators: tuple[ComparatorPlan, ...] = ()
    pccp: Mapping[str, Any] | None = None
    contact_sheet: bool = True  # report.contact_sheet
    latency: LatencyPlan | None = None  # latency study (issue 19)

    @property
    def folder(self) -> Path:
        """The protocol file's folder: relative paths resolve against it."""
        return self.path.parent

    @property
    def attribute_names(self) -> list[str]:
        """Attribute names in protocol order (the cases.csv columns)."""
        return [attribute.name for attribute in self.attributes]

    @property
    def attribute_sources(self) -> AttributeSources:
        """Where each attribute is read: manifest columns and DICOM keywords."""
        return AttributeSources(
            columns={a.name: a.column for a in self.attributes if a.column is not None},
            dicom={a.name: a.dicom for a in self.attributes if a.dicom is not None},
        )

    @property
    def attribute_specs(self) -> list[AttributeSpec]:
        """Attributes as the population builder takes them."""
        return [AttributeSpec(a.name, a.label, a.bins) for a in self.attributes]

    @property
    def dicom_keywords(self) -> list[str]:
        """DICOM keywords kept on purpose: subgroup attributes and ``qc.phi_retained``."""
        return [a.dicom for a in self.attributes if a.dicom is not None] + list(self.phi_retained)

    def resolve(self, relative: str) -> Path:
        """A path written in the protocol, resolved against its folder."""
        candidate = Path(relative)
        return candidate if candidate.is_absolute() else self.folder / candidate


def plan_run(protocol_path: str | Path) -> RunPlan:
    """Load a protocol and turn it into a :class:`RunPlan` (reads only the protocol file).

    Raises
    ------
    ProtocolError
        Invalid protocol (exit 2), with file, line and field.
    """
    return plan_from_loaded(load_protocol(protocol_path))


def plan_from_loaded(loaded: LoadedProtocol) -> RunPlan:
    """The :class:`RunPlan` of an already loaded protocol."""
    protocol = loaded.protocol
    templates = protocol.report.templates
    return RunPlan(
        path=loaded.path,
        raw_bytes=loaded.raw_bytes,
        digest=loaded.digest,
        protocol_id=protocol.id,
        title=protocol.title,
        version=protocol.version,
        device=protocol.device.model_dump(),
        test_sets=tuple(
            TestSetPlan(
                test_set.id,
                test_set.site,
                test_set.manifest,
                loaded.resolve(test_set.manifest),
                test_set.sha256,
                loaded.data_root(test_set),
            )
            for test_set in protocol.test_sets
        ),
        truth=_truth_rule(protocol),
        attributes=tuple(
            AttributePlan(
                name,
                attribute.label or name,
                attribute.column,
                attribute.dicom,
                None if attribute.bins is None else tuple(attribute.bins),
            )
            for name, attribute in protocol.attributes.items()
        ),
        model=_model_plan(loaded, protocol.model),
        predictions=_predictions_plan(loaded, protocol.predictions),
        preprocessing=plain_steps(protocol.preprocessing),
        operating_point=protocol.operating_point,
        statistics=_settings(loaded),
        sites=tuple(protocol.sites),
        site_by=tuple(_site_by(loaded)),
        requirements=tuple(_requirement_specs(loaded)),
        max_failed_fraction=protocol.qc.max_failed_fraction,
        phi_policy=protocol.qc.phi,
        phi_retained=()
        if protocol.qc.phi_retained is None
        else tuple(protocol.qc.phi_retained.attributes),
        max_test_set_uses=protocol.qc.max_test_set_uses,
        templates=None if templates is None else loaded.resolve(templates),
        reader_study=_reader_study_plan(loaded),
        sample_size=plan_values(
            protocol.sample_size, default_method=protocol.statistics.proportion_ci
        ),
        task=task_plan(loaded, population=_population_spec),
        robustness=robustness_levels(protocol.robustness),
        precision_column=None if protocol.precision is None else protocol.precision.repeat_group,
        comparators=tuple(_comparator_plans(loaded)),
        pccp=None if protocol.pccp is None else protocol.pccp.model_dump(),
        contact_sheet=protocol.report.contact_sheet,
        latency=latency_plan(protocol.latency),
    )


def _truth_rule(protocol: Protocol) -> TruthRule:
    """The label rule; detection and segmentation protocols have none (empty rule)."""
    truth = protocol.truth
    if truth is None:
        return TruthRule("", frozenset(), frozenset())
    return TruthRule(truth.column, frozenset(truth.positive), frozenset(truth.negative))


def _comparator_plans(loaded: LoadedProtocol) -> list[ComparatorPlan]:
    plans = []
    for index, comparator in enumerate(loaded.protocol.comparators):
        steps = comparator.preprocessing
        plans.append(
            ComparatorPlan(
                id=comparator.id,
                role=comparator.role,
                description=comparator.description,
                operating_point=comparator.operating_point,
                model=_model_plan(loaded, comparator.model),
                predictions=_predictions_plan(loaded, comparator.predictions),
                preprocessing=plain_steps(
                    loaded.protocol.preprocessing if steps is None else steps
                ),
                index=index,
            )
        )
    return plans


def _model_plan(loaded: LoadedProtocol, section: ModelSection | None) -> ModelPlan | None:
    if section is None:
        return None
    reference = section.reference
    return ModelPlan(
        config=ModelConfig.from_mapping(section.model_dump(), folder=loaded.folder),
        path=section.path,
        sha256=section.sha256,
        reference_input=None if reference is None else reference.input,
        reference_input_sha256=None if reference is None else reference.input_sha256,
        decoders=None if section.decoders is None else dict(section.decoders),
    )


def _predictions_plan(
    loaded: LoadedProtocol, section: Predictions | None
) -> PredictionsPlan | None:
    if section is None:
        return None
    return PredictionsPlan(
        path=section.path,
        resolved=loaded.resolve(section.path),
        sha256=section.sha256,
        case_id=section.case_id,
        score=section.score,
        failure_reason=section.failure_reason,
    )


def _reader_study_plan(loaded: LoadedProtocol) -> ReaderStudyPlan | None:
    study = loaded.protocol.reader_study
    if study is None:
        return None
    plan = study.plan
    return ReaderStudyPlan(
        reads=study.reads,
        resolved=loaded.resolve(study.reads),
        sha256=study.sha256,
        columns=ReadColumns(**study.columns.model_dump()),
        positive=study.positive,
        test=study.test,
        reference=study.reference,
        options=ReaderStudyOptions(
            method=AnalysisMethod(study.method),
            covariance=CovarianceMethod(study.covariance),
            u_test=UStatisticTest(study.u_test),
            factors=FACTOR_NAMES[study.factors],
            confidence_level=loaded.protocol.statistics.confidence_level,
            threshold=study.threshold,
            plan=None if plan is None else StudyPlan(**plan.model_dump()),
        ),
    )


def _settings(loaded: LoadedProtocol) -> StatisticsSettings:
    protocol = loaded.protocol
    statistics = protocol.statistics
    return StatisticsSettings(
        operating_point=protocol.operating_point,
        confidence_level=statistics.confidence_level,
        proportion_method=statistics.proportion_ci,
        auc_method=statistics.auc_ci,
        ap_method=statistics.ap_ci,
        bootstrap_replicates=statistics.bootstrap.replicates,
        bootstrap_seed=statistics.bootstrap.seed,
        bootstrap_interval=statistics.bootstrap.interval,
        multiplicity=statistics.multiplicity,
        prevalence=statistics.prevalence,
        calibration_bins=None if statistics.calibration is None else statistics.calibration.bins,
        minimum_positives=statistics.minimum.positives,
        minimum_negatives=statistics.minimum.negatives,
        most_confident_errors=protocol.analysis.most_confident_errors,
    )


def _population_spec(criterion: Criterion) -> PopulationSpec:  # noqa: PLR0911  (one per form)
    if criterion.metric in READER_STUDY_METRICS:  # estimated by the reader study (issue 15)
        return PopulationSpec("reader_study")
    if criterion.metric in PRECISION_METRICS:  # over the repeat groups (issue 19)
        return PopulationSpec("precision")
    if criterion.metric in LATENCY_METRICS:  # the cases timed in this run (issue 19)
        return PopulationSpec("latency")
    population = criterion.population
    if isinstance(population, PerturbationPopulation):  # a robustness level (issue 19)
        return PopulationSpec("perturbation", value=population.perturbation)
    if isinstance(population, EachPopulation):
        return PopulationSpec("each", family=population.each, site=population.site)
    if isinstance(population, SitePopulation):
        return PopulationSpec("site", site=population.site)
    if isinstance(population, TestSetPopulation):
        return PopulationSpec("test_set", test_set=population.test_set)
    if isinstance(population, CellPopulation):
        value = population.value
        text = f"{value:g}" if isinstance(value, float) else str(value)
        return PopulationSpec(
            "cell", attribute=population.attribute, value=text, site=population.site
        )
    return PopulationSpec("all")


def _with_stage(spec: PopulationSpec, loaded: LoadedProtocol) -> PopulationSpec:
    """A latency criterion's population names the stage its times are of (issue 19)."""
    section = loaded.protocol.latency
    if spec.form != "latency" or section is None:
        return spec
    return PopulationSpec("latency", value=section.stage)


def _requirement_specs(loaded: LoadedProtocol) -> list[RequirementSpec]:
    return [
        RequirementSpec(
            requirement.id,
            requirement.text,
            tuple(
                CriterionSpec(
                    metric=criterion.metric,
                    population=_with_stage(_population_spec(criterion), loaded),
                    op=criterion.op,
                    value=criterion.value,
                    bound=criterion.bound,
                    spread=criterion.spread,
                    non_evaluable=criterion.non_evaluable,
                    against=criterion.against,
                )
                for criterion in requirement.criteria
            ),
        )
        for requirement in loaded.protocol.requirements
    ]


def _site_by(loaded: LoadedProtocol) -> list[str]:
    """Attributes analysed within each site: ``analysis.site_by`` and those criteria need."""
    names = list(loaded.protocol.analysis.site_by)
    for requirement in loaded.protocol.requirements:
        for criterion in requirement.criteria:
            population = criterion.population
            if isinstance(population, (EachPopulation, CellPopulation)) and population.site:
                attribute = (
                    population.each
                    if isinstance(population, EachPopulation)
                    else population.attribute
                )
                if attribute not in names:
                    names.append(attribute)
    return names
