"""Test-data section views: sites, attribute distributions, reference standard, case flow.

Counts come from ``metrics.json`` (population counts) and from tallies of
``cases.csv`` rows (attribute levels, non-evaluable reasons); percentages are
ratios of those counts. The case flow follows STARD 2015 (Bossuyt et al.,
BMJ 2015;351:h5527, item 19 and its flow diagram): cases in, cases not
analysed with reasons, cases analysed, and the 2×2 outcome of the analysed
cases.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from dxval.evidence.format import BundleData, EstimateRecord, PopulationRecord
from dxval.protocol.sections import Attribute
from dxval.report import formatting as fmt
from dxval.report.case_columns import case_columns, not_scored, pair_counts

INDEPENDENCE_MISSING = (
    "The protocol states no test-set independence statement (field 'independence'). "
    "Independence of the test data from the training and tuning data must be documented "
    "elsewhere in the submission."
)


@dataclass(frozen=True, slots=True)
class SiteRow:
    """Counts of one site (or all cases)."""

    site: str
    test_sets: str
    cases: int
    non_evaluable: int
    evaluable: int
    positives: int
    negatives: int
    prevalence: str


@dataclass(frozen=True, slots=True)
class LevelRow:
    """One attribute level: ``n (%)`` per site and over all cases."""

    level: str
    cells: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AttributeTable:
    """Distribution of one attribute by site."""

    name: str
    label: str
    source: str
    columns: tuple[str, ...]
    rows: tuple[LevelRow, ...]


@dataclass(frozen=True, slots=True)
class ReasonRow:
    """Non-evaluable cases with one reason code."""

    code: str
    example: str
    count: int
    sites: str


@dataclass(frozen=True, slots=True)
class FailedCaseRow:
    """One non-evaluable case: its reference standard and why it was not analysed."""

    case_id: str
    site: str
    truth: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class FlowView:
    """STARD-style flow of cases from the manifests to the 2×2 outcome.

    STARD 2015 item 19 asks for the reference-standard result of the cases
    that did not receive an index-test result: ``non_evaluable_truth`` counts
    them and ``failed`` lists every one (the reason names the file).
    """

    total: int
    test_sets: int
    manifests: str
    per_site: tuple[tuple[str, int], ...]
    non_evaluable: int
    non_evaluable_truth: str
    reasons: tuple[ReasonRow, ...]
    failed: tuple[FailedCaseRow, ...]
    evaluable: int
    positives: int
    negatives: int
    true_positive: str
    false_negative: str
    true_negative: str
    false_positive: str


@dataclass(frozen=True, slots=True)
class TestDataView:
    """The test-data section."""

    __test__ = False  # not a pytest test class despite its name

    sites: tuple[SiteRow, ...]
    total: SiteRow
    attributes: tuple[AttributeTable, ...]
    reference_standard: str
    truth_labels: str
    independence: str
    score_source: str
    flow: FlowView


def _site_row(population: PopulationRecord, label: str, test_sets: str) -> SiteRow:
    return SiteRow(
        site=label,
        test_sets=test_sets,
        cases=population.cases,
        non_evaluable=population.non_evaluable,
        evaluable=population.evaluable,
        positives=population.positives,
        negatives=population.negatives,
        prevalence=fmt.percent(population.positives, population.evaluable),
    )


def _sites(bundle: BundleData) -> tuple[SiteRow, ...]:
    test_sets: dict[str, list[str]] = {}
    for test_set in bundle.loaded.protocol.test_sets:
        test_sets.setdefault(test_set.site, []).append(test_set.id)
    return tuple(
        _site_row(p, p.label, ", ".join(test_sets.get(p.site or "", [])))
        for p in bundle.metrics.populations
        if p.kind == "site"
    )


def _attribute_source(attribute: Attribute | None) -> str:
    if attribute is None:
        return ""
    where = (
        f"DICOM attribute {attribute.dicom}"
        if attribute.dicom is not None
        else f"manifest column '{attribute.column}'"
    )
    if attribute.bins is not None:
        edges = ", ".join(f"{edge:g}" for edge in attribute.bins)
        where += f"; banded at {edges}"
    return where


def _count_cell(count: int, total: int) -> str:
    return f"{count} ({fmt.percent(count, total)})"


def _attribute_tables(bundle: BundleData) -> tuple[AttributeTable, ...]:
    sites = [p.site or p.label for p in bundle.metrics.populations if p.kind == "site"]
    declared = bundle.loaded.protocol.attributes
    tables = []
    for name in bundle.attributes:
        levels = [
            p.level or ""
            for p in bundle.metrics.populations
            if p.kind == "attribute" and p.attribute == name
        ]
        columns = case_columns(bundle)
        counts = Counter(pair_counts(columns.sites, columns.levels[name]))
        totals: Counter[str] = Counter()
        site_sizes: Counter[str] = Counter()
        for (site, level), count in counts.items():
            totals[level] += count
            site_sizes[site] += count
        rows = tuple(
            LevelRow(
                level=level,
                cells=(
                    *(_count_cell(counts[(site, level)], site_sizes[site]) for site in sites),
                    _count_cell(totals[level], columns.size),
                ),
            )
            for level in levels
        )
        attribute = declared.get(name)
        label = attribute.label if attribute is not None and attribute.label else name
        tables.append(
            AttributeTable(name, label, _attribute_source(attribute), (*sites, "All"), rows)
        )
    return tuple(tables)


def _reasons(bundle: BundleData) -> tuple[ReasonRow, ...]:
    failed = not_scored(bundle)
    by_code: dict[str, list[str]] = {}
    examples: dict[str, str] = {}
    for case in failed:
        code = case.reason_code or "unspecified"
        by_code.setdefault(code, []).append(case.site)
        examples.setdefault(code, case.reason or code)
    return tuple(
        ReasonRow(
            code=code,
            example=examples[code],
            count=len(sites),
            sites=", ".join(f"{site}: {n}" for site, n in sorted(Counter(sites).items())),
        )
        for code, sites in sorted(by_code.items())
    )


def _flow(bundle: BundleData) -> FlowView:
    overall = bundle.metrics.population("all")
    sensitivity = overall.metrics.get("sensitivity") if overall is not None else None
    specificity = overall.metrics.get("specificity") if overall is not None else None

    def split(record: EstimateRecord | None) -> tuple[str, str]:
        """(numerator, denominator - numerator) as text: TP and FN, or TN and FP."""
        if record is None or record.numerator is None or record.denominator is None:
            return fmt.DASH, fmt.DASH
        return str(record.numerator), str(record.denominator - record.numerator)

    true_positive, false_negative = split(sensitivity)
    true_negative, false_positive = split(specificity)
    cases = bundle.metrics.cases
    test_sets = len(bundle.loaded.protocol.test_sets)
    failed = tuple(
        FailedCaseRow(
            case.case_id,
            case.site,
            "positive" if case.truth else "negative",
            case.reason_code or "unspecified",
            case.reason or case.reason_code or "unspecified",
        )
        for case in not_scored(bundle)
    )
    failed_positives = sum(1 for row in failed if row.truth == "positive")
    return FlowView(
        total=cases["total"],
        test_sets=test_sets,
        manifests=fmt.plural(test_sets, "test-set manifest"),
        per_site=tuple((p.label, p.cases) for p in bundle.metrics.populations if p.kind == "site"),
        non_evaluable=cases["non_evaluable"],
        non_evaluable_truth=(
            f"reference standard positive {failed_positives} · "
            f"negative {len(failed) - failed_positives}"
        ),
        reasons=_reasons(bundle),
        failed=failed,
        evaluable=cases["evaluable"],
        positives=overall.positives if overall is not None else 0,
        negatives=overall.negatives if overall is not None else 0,
        true_positive=true_positive,
        false_negative=false_negative,
        true_negative=true_negative,
        false_positive=false_positive,
    )


def _score_source(bundle: BundleData) -> str:
    protocol = bundle.loaded.protocol
    if protocol.model is not None:
        return (
            f"Scores computed by dxval from the frozen model {protocol.model.path} "
            f"({protocol.model.runtime}); operating point {protocol.operating_point:g}."
        )
    if protocol.predictions is not None:
        return (
            f"Scores read from the pinned predictions file {protocol.predictions.path} "
            f"(produced outside dxval); operating point {protocol.operating_point:g}."
        )
    return ""


def build_test_data(bundle: BundleData) -> TestDataView:
    """The test-data section of the report."""
    truth = bundle.loaded.protocol.truth
    overall = bundle.metrics.population("all")
    total = (
        _site_row(overall, "All sites", str(len(bundle.loaded.protocol.test_sets)))
        if overall is not None
        else SiteRow("All sites", "", 0, 0, 0, 0, 0, fmt.DASH)
    )
    return TestDataView(
        sites=_sites(bundle),
        total=total,
        attributes=_attribute_tables(bundle),
        reference_standard=fmt.DASH if truth is None else truth.reference_standard,
        truth_labels=fmt.DASH
        if truth is None  # detection/segmentation: truth in the task section (issue 16)
        else (
            f"manifest column '{truth.column}': positive = {', '.join(truth.positive)}; "
            f"negative = {', '.join(truth.negative)}"
        ),
        independence=bundle.loaded.protocol.independence or INDEPENDENCE_MISSING,
        score_source=_score_source(bundle),
        flow=_flow(bundle),
    )
