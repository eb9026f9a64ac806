"""Results and failure-mode views: 2×2 tables, ROC, forest plots, subgroups, calibration.

Every estimate and interval is read from ``metrics.json`` (at the protocol's
nominal confidence level); cell counts of a 2×2 table are the numerators and
denominators recorded with sensitivity and specificity. Criteria over a
family of populations use multiplicity-adjusted levels, which are recorded in
``criteria.json`` and listed here. A population below the protocol's minimum
cell size carries the flag ``†`` with the reason recorded by the analysis.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from dxval.evidence.format import (
    BundleData,
    ErrorAnalysis,
    ErrorGroupRecord,
    EstimateRecord,
    PopulationRecord,
)
from dxval.report import formatting as fmt
from dxval.report import plots
from dxval.report.case_columns import case_columns, pair_counts, present
from dxval.report.elements import FigureView, figure_view
from dxval.report.insufficiency import FLAG, Insufficiency, flagged_text, insufficiency

FOREST_METRICS = (
    ("sensitivity", "Sensitivity"),
    ("specificity", "Specificity"),
    ("auc", "ROC AUC"),
)
FOREST_ROWS_PER_FIGURE = 34


@dataclass(frozen=True, slots=True)
class RateRow:
    """A proportion of a 2×2 table: n/N, percent with interval, method."""

    name: str
    fraction: str
    percent: str
    method: str


@dataclass(frozen=True, slots=True)
class TwoByTwoView:
    """Device decision against the reference standard for one population."""

    title: str
    cells: tuple[tuple[str, ...], ...]
    rates: tuple[RateRow, ...]
    note: str


@dataclass(frozen=True, slots=True)
class SubgroupRow:
    """One population of the subgroup table (or a group header)."""

    label: str
    header: bool
    cases: str
    positives: str
    negatives: str
    sensitivity: str
    specificity: str
    auc: str
    note: bool = False


@dataclass(frozen=True, slots=True)
class CalibrationRow:
    """Calibration summary of one population."""

    population: str
    n: str
    brier: str
    log_loss: str
    ece: str
    mce: str
    slope: str
    intercept: str


@dataclass(frozen=True, slots=True)
class BinRow:
    """One bin of the reliability diagram, as printed beside it."""

    interval: str
    count: str
    mean_predicted: str
    observed: str


@dataclass(frozen=True, slots=True)
class CalibrationView:
    """Calibration section: a table and a reliability diagram, or why there is none."""

    rows: tuple[CalibrationRow, ...]
    reason: str
    bins: str
    figure: FigureView | None
    bin_rows: tuple[BinRow, ...] = ()


@dataclass(frozen=True, slots=True)
class ResultsView:
    """The results section."""

    level: str
    proportion_method: str
    two_by_two: tuple[TwoByTwoView, ...]
    roc: FigureView | None
    roc_note: str
    forest: tuple[FigureView, ...]
    subgroups: tuple[SubgroupRow, ...]
    flags: tuple[str, ...]
    multiplicity: tuple[str, ...]
    calibration: CalibrationView


@dataclass(frozen=True, slots=True)
class ErrorGroupRow:
    """A group's error rate compared with the rest."""

    label: str
    errors: str
    rate: str
    odds_ratio: str
    p_value: str
    p_adjusted: str
    enriched: bool


@dataclass(frozen=True, slots=True)
class ConfidentRow:
    """One of the most confident errors."""

    case_id: str
    site: str
    score: str


@dataclass(frozen=True, slots=True)
class ErrorSection:
    """False negatives or false positives."""

    title: str
    overall: str
    groups: tuple[ErrorGroupRow, ...]
    confident_title: str
    confident: tuple[ConfidentRow, ...]
    #: The family the p-values were adjusted over (empty for bundles that did not record it).
    family: str = ""


@dataclass(frozen=True, slots=True)
class ScoreRow:
    """Score quartiles of one truth class in one population."""

    population: str
    truth: str
    n: str
    minimum: str
    q1: str
    median: str
    q3: str
    maximum: str


@dataclass(frozen=True, slots=True)
class FailureModesView:
    """The failure-mode section."""

    method: str
    enriched_rule: str
    enriched: tuple[str, ...]
    sections: tuple[ErrorSection, ...]
    figure: FigureView
    scores: tuple[ScoreRow, ...]


def _metric(population: PopulationRecord | None, name: str) -> EstimateRecord | None:
    return None if population is None else population.metrics.get(name)


def _two_by_two(population: PopulationRecord) -> TwoByTwoView:
    sensitivity, specificity = population.metrics["sensitivity"], population.metrics["specificity"]
    tp, positives = sensitivity.numerator or 0, sensitivity.denominator or 0
    tn, negatives = specificity.numerator or 0, specificity.denominator or 0
    fn, fp = positives - tp, negatives - tn
    cells = (
        ("Device positive", str(tp), str(fp), str(tp + fp)),
        ("Device negative", str(fn), str(tn), str(fn + tn)),
        ("Total", str(positives), str(negatives), str(positives + negatives)),
    )
    rates = tuple(
        RateRow(label, fmt.fraction(record), fmt.estimate_text(record), record.method)
        for label, record in (
            ("Sensitivity", sensitivity),
            ("Specificity", specificity),
            ("PPV", population.metrics["ppv"]),
            ("NPV", population.metrics["npv"]),
        )
    )
    note = (
        f"{fmt.plural(population.non_evaluable, 'non-evaluable case')} excluded"
        if population.non_evaluable
        else ""
    )
    return TwoByTwoView(population.label, cells, rates, note)


def _interval(record: EstimateRecord | None) -> plots.Interval | None:
    if record is None:
        return None
    return plots.Interval(record.estimate, record.low, record.high)


def _point_mark(label: str, population: PopulationRecord) -> plots.PointMark | None:
    sensitivity, specificity = population.metrics["sensitivity"], population.metrics["specificity"]
    if sensitivity.estimate is None or specificity.estimate is None:
        return None
    return plots.PointMark(
        label=label,
        false_positive_rate=1.0 - specificity.estimate,
        true_positive_rate=sensitivity.estimate,
        fpr_low=None if specificity.high is None else 1.0 - specificity.high,
        fpr_high=None if specificity.low is None else 1.0 - specificity.low,
        tpr_low=sensitivity.low,
        tpr_high=sensitivity.high,
    )


def _roc(bundle: BundleData, operating_point: float) -> tuple[FigureView | None, str]:
    records = bundle.metrics.roc_curves
    if not records:
        return None, (
            "This bundle's metrics.json holds no ROC curve points (roc_curves); it was "
            "written by a dxval version before they were added. Re-run validate to obtain them."
        )
    curves, notes = [], []
    for record in records:
        if record.curve is None:
            notes.append(f"{record.label}: no ROC curve ({record.reason})")
            continue
        auc = _metric(bundle.metrics.population(record.population), "auc")
        curves.append(
            (
                record,
                plots.Curve(
                    f"{record.label}, AUC {fmt.estimate_text(auc)}",
                    tuple(record.curve["false_positive_rate"]),
                    tuple(record.curve["true_positive_rate"]),
                ),
            )
        )
    overall = next(((r, c) for r, c in curves if r.population == "all"), None)
    band = overall[0].band if overall is not None else None
    all_cases = bundle.metrics.population("all")
    plot = plots.RocPlot(
        overall=overall[1] if overall is not None else None,
        band=None
        if band is None
        else plots.Band(
            f"{fmt.level_text(band.confidence_level)} pointwise band",
            tuple(1.0 - specificity for specificity in band.specificity),
            tuple(band.low),
            tuple(band.high),
        ),
        overall_point=None
        if all_cases is None
        else _point_mark(f"Operating point (score ≥ {operating_point:g})", all_cases),
        sites=tuple(curve for record, curve in curves if record.population != "all"),
        site_points=tuple(
            mark
            for record, _ in curves
            if record.population != "all"
            and (population := bundle.metrics.population(record.population)) is not None
            and (mark := _point_mark(record.label, population)) is not None
        ),
    )
    caption = (
        "Empirical ROC curves (evaluable cases). Left: all cases with the "
        + (band.method if band is not None else "no confidence band")
        + "; the operating point shows sensitivity and specificity with their intervals "
        "(protocol's proportion method). Right: each site with its operating point. "
        "Where the bootstrap interval is undefined (every replicate equal) the band is not drawn."
    )
    svg = partial(plots.roc_figure, plot)  # drawn when first needed
    alt = "ROC curves of all cases and of each site with the operating point"
    figure = figure_view(1, "roc", title="ROC curves", caption=caption, alt=alt, svg=svg)
    return figure, "; ".join(notes)


def _coinciding(bundle: BundleData) -> dict[str, str]:
    """Attributes whose levels are the sites one for one (same cases), with a note naming the pairs.

    Their populations repeat the site rows estimate for estimate (a demo
    manufacturer per site); the report says so once instead of repeating them.
    """
    columns = case_columns(bundle)
    sites = present(columns.sites)
    notes = {}
    for name in bundle.attributes:
        pairs = set(pair_counts(columns.sites, columns.levels[name]))
        levels = {level for _, level in pairs}
        if len(sites) > 1 and len(pairs) == len(sites) == len(levels):
            joined = "; ".join(
                f"{level}: {site}" for site, level in sorted(pairs, key=lambda p: p[1])
            )
            notes[name] = (
                f"one {_label(bundle, name).lower()} per site ({joined}): as the Site rows"
            )
    return notes


def _label(bundle: BundleData, name: str) -> str:
    attribute = bundle.loaded.protocol.attributes.get(name)
    return attribute.label if attribute is not None and attribute.label else name


def _groups(bundle: BundleData) -> list[tuple[str, list[PopulationRecord], str]]:
    """Populations in report order, grouped under a heading (site, each attribute, site ×).

    The third item is a note replacing the rows of an attribute that coincides
    with the sites (its populations are left out: they repeat the Site rows).
    """
    coinciding = _coinciding(bundle)
    groups: dict[str, list[PopulationRecord]] = {}
    notes: dict[str, str] = {}
    for population in bundle.metrics.populations:
        if population.kind == "all":
            heading = "Overall"
        elif population.kind in ("site", "test_set"):
            heading = "Site" if population.kind == "site" else "Test set"
        elif population.kind == "attribute":
            heading = _label(bundle, population.attribute or "")
            if (population.attribute or "") in coinciding:
                notes[heading] = coinciding[population.attribute or ""]
                groups.setdefault(heading, [])
                continue
        else:
            heading = f"Site × {_label(bundle, population.attribute or '')}"
        groups.setdefault(heading, []).append(population)
    return [(heading, members, notes.get(heading, "")) for heading, members in groups.items()]


def _short_label(population: PopulationRecord) -> str:
    if population.kind == "attribute":
        return population.level or population.label
    if population.kind == "site_attribute":
        return f"{population.site}: {population.level}"
    return population.label


def _thresholds(bundle: BundleData) -> dict[tuple[str, str], float]:
    """Acceptance thresholds of criteria on a forest metric, by (population key, metric)."""
    found = {}
    for requirement in bundle.criteria.requirements:
        for criterion in requirement.criteria:
            if criterion.spread is not None:
                continue  # a spread is judged on a difference, not on one population's estimate
            for outcome in criterion.populations:
                found[(outcome.population, criterion.metric)] = criterion.value
    return found


def _forest_row(
    population: PopulationRecord, flags: Insufficiency, thresholds: dict[tuple[str, str], float]
) -> plots.ForestRow:
    values = tuple(_interval(_metric(population, name)) for name, _ in FOREST_METRICS)
    cell_flags = tuple(
        flags.flagged(population, name) and value is not None and value.estimate is not None
        for (name, _), value in zip(FOREST_METRICS, values, strict=True)
    )
    return plots.ForestRow(
        _short_label(population) + (f" {FLAG}" if any(cell_flags) else ""),
        values,
        flags=cell_flags,
        thresholds=tuple(thresholds.get((population.key, name)) for name, _ in FOREST_METRICS),
    )


def _forest(bundle: BundleData, *, first: int) -> tuple[FigureView, ...]:
    flags, thresholds = insufficiency(bundle), _thresholds(bundle)
    rows: list[plots.ForestRow] = []
    for heading, populations, note in _groups(bundle):
        rows.append(plots.ForestRow(heading, (), header=True))
        if note:
            rows.append(plots.ForestRow("same cases as the Site rows", ()))
        rows += [_forest_row(p, flags, thresholds) for p in populations]
    overall = bundle.metrics.population("all")
    references = tuple(
        (record.estimate if (record := _metric(overall, name)) is not None else None)
        for name, _ in FOREST_METRICS
    )
    chunks = [
        rows[start : start + FOREST_ROWS_PER_FIGURE]
        for start in range(0, len(rows), FOREST_ROWS_PER_FIGURE)
    ]
    level = fmt.level_text(bundle.metrics.settings["confidence_level"])
    figures = []
    for index, chunk in enumerate(chunks, start=1):
        plot = plots.ForestPlot(tuple(t for _, t in FOREST_METRICS), tuple(chunk), references)
        part = f" (part {index} of {len(chunks)})" if len(chunks) > 1 else ""
        caption = (
            f"Point estimates with {level} intervals (unadjusted) by population{part}. "
            "Dashed grey line: all cases. Vermilion mark across a row: the acceptance threshold "
            "of a criterion judged on that population (criteria.json). Hollow grey markers and "
            f"{FLAG}: fewer cases of the class the estimate needs than the protocol's minimum."
        )
        alt = "Forest plot of sensitivity, specificity and ROC AUC by site and subgroup"
        key = "forest" if len(chunks) == 1 else f"forest-{index}"
        svg = partial(plots.forest_figure, plot)
        title = f"Forest plot{part}"
        figures.append(
            figure_view(first + index - 1, key, title=title, caption=caption, alt=alt, svg=svg)
        )
    return tuple(figures)


def _subgroups(bundle: BundleData) -> tuple[tuple[SubgroupRow, ...], tuple[str, ...]]:
    rows, notes = [], []
    flags = insufficiency(bundle)
    for heading, populations, note in _groups(bundle):
        rows.append(SubgroupRow(heading, True, "", "", "", "", "", ""))
        if note:
            rows.append(
                SubgroupRow(
                    note[0].upper() + note[1:] + ".", False, "", "", "", "", "", "", note=True
                )
            )
        for p in populations:
            cells = {}
            for name in ("sensitivity", "specificity", "auc"):
                record = _metric(p, name)
                flagged = (
                    flags.flagged(p, name) and record is not None and record.estimate is not None
                )
                cells[name] = flagged_text(fmt.estimate_text(record), flagged)
                if flagged:
                    notes.append(
                        f"{p.label}, {name.replace('auc', 'ROC AUC')}: {flags.reason(p, name)}"
                    )
            rows.append(
                SubgroupRow(
                    label=_short_label(p),
                    header=False,
                    cases=str(p.cases),
                    positives=str(p.positives),
                    negatives=str(p.negatives),
                    sensitivity=cells["sensitivity"],
                    specificity=cells["specificity"],
                    auc=cells["auc"],
                )
            )
    return tuple(rows), tuple(notes)


def _multiplicity(bundle: BundleData) -> tuple[str, ...]:
    lines = []
    for requirement in bundle.criteria.requirements:
        for criterion in requirement.criteria:
            record = criterion.multiplicity
            if record.method == "none":
                continue
            lines.append(
                f"{criterion.name} ({criterion.description}): "
                f"{fmt.multiplicity_name(record.method)} over "
                f"{record.family_size} populations, intervals at "
                f"{fmt.level_text(record.adjusted_confidence_level)} for a family level of "
                f"{fmt.level_text(record.family_confidence_level)}"
                + (f" ({record.note})" if record.note else "")
            )
    return tuple(lines)


def _calibration(bundle: BundleData, *, number: int) -> CalibrationView:
    rows, overall_points = [], None
    for population in bundle.metrics.populations:
        record = population.calibration
        if record is None or population.kind not in ("all", "site"):
            continue
        slope = EstimateRecord.model_validate(record["calibration_slope"])
        intercept = EstimateRecord.model_validate(record["calibration_in_the_large"])
        rows.append(
            CalibrationRow(
                population=population.label,
                n=str(record["n"]),
                brier=fmt.number(record["brier"]),
                log_loss=fmt.number(record["log_loss"]),
                ece=fmt.number(record["ece"]),
                mce=fmt.number(record["mce"]),
                slope=fmt.estimate_text(slope),
                intercept=fmt.estimate_text(intercept),
            )
        )
        if population.kind == "all":
            overall_points = record
    overall = bundle.metrics.population("all")
    brier = _metric(overall, "brier")
    reason = "" if rows else (brier.reason if brier is not None and brier.reason else "")
    if overall_points is None:
        return CalibrationView(tuple(rows), reason or "no calibration recorded", "", None)
    points = [plots.ReliabilityPoint(**point) for point in overall_points["reliability"]]
    bins = f"{overall_points['bins']} equal-width bins, {overall_points['bin_convention']}"
    svg = partial(plots.reliability_figure, points, title="All cases")
    caption = f"Reliability diagram of all evaluable cases ({bins}); lower panel: cases per bin."
    figure = figure_view(
        number, "reliability", title="Reliability diagram", caption=caption, alt=caption, svg=svg
    )
    bin_rows = tuple(
        BinRow(
            f"[{point.lower:g}, {point.upper:g}{']' if point.upper >= 1.0 else ')'}",
            str(point.count),
            fmt.number(point.mean_predicted) if point.count else fmt.DASH,
            fmt.number(point.observed_fraction) if point.count else fmt.DASH,
        )
        for point in points
    )
    return CalibrationView(tuple(rows), reason, bins, figure, bin_rows)


def build_results(bundle: BundleData) -> ResultsView:
    """The results section: 2×2 tables, ROC, forest plots, subgroups, calibration."""
    protocol = bundle.loaded.protocol
    roc, roc_note = _roc(bundle, protocol.operating_point)
    subgroups, flags = _subgroups(bundle)
    forest = _forest(bundle, first=2 if roc is not None else 1)
    two_by_two = tuple(
        _two_by_two(p) for p in bundle.metrics.populations if p.kind in ("all", "site")
    )
    return ResultsView(
        level=fmt.level_text(bundle.metrics.settings["confidence_level"]),
        proportion_method=two_by_two[0].rates[0].method if two_by_two else fmt.DASH,
        two_by_two=two_by_two,
        roc=roc,
        roc_note=roc_note,
        forest=forest,
        subgroups=subgroups,
        flags=flags,
        multiplicity=_multiplicity(bundle),
        calibration=_calibration(bundle, number=forest[-1].number + 1),
    )


def _uninformative(group: ErrorGroupRecord) -> bool:
    """Whether the group's test against the rest is undefined (an empty row or column).

    With an empty margin (a group of no cases, a group holding every case, no
    error or nothing but errors) Fisher's test compares nothing; the analysis
    records it as undefined with no p-value, and the report shows it as
    undefined, never as a p-value.
    """
    return group.fisher_exact.status == "undefined"


def _p_text(value: float | None, *, undefined: bool) -> str:
    return fmt.UNDEFINED if undefined else fmt.p_value(value)


def _family_text(analysis: ErrorAnalysis) -> str:
    """Which tests the adjusted p-values were adjusted over: the defined ones, K of them."""
    family = analysis.multiplicity
    if family is None:
        return ""
    if family.method == "none":
        adjustment = "No multiplicity adjustment"
    else:
        adjustment = f"{fmt.multiplicity_name(family.method)} adjustment over K = " + fmt.plural(
            family.family_size, "defined test"
        )
    if family.undefined_tests:
        adjustment += (
            f"; {fmt.plural(family.undefined_tests, 'undefined test')} left out of the family"
        )
    return adjustment + "."


def _error_section(analysis: ErrorAnalysis, *, false_negative: bool, alpha: float) -> ErrorSection:
    overall = analysis.overall
    groups = tuple(
        ErrorGroupRow(
            label=group.label,
            errors=f"{group.errors}/{group.cases}",
            rate=fmt.estimate_text(group.rate),
            odds_ratio=fmt.estimate_text(group.fisher_exact.effect),
            p_value=_p_text(group.fisher_exact.p_value, undefined=_uninformative(group)),
            p_adjusted=_p_text(group.p_value_adjusted, undefined=_uninformative(group)),
            enriched=not _uninformative(group)
            and group.p_value_adjusted is not None
            and group.p_value_adjusted < alpha
            and group.rate.estimate is not None
            and overall.rate.estimate is not None
            and group.rate.estimate > overall.rate.estimate,
        )
        for group in analysis.groups
    )
    return ErrorSection(
        title="False negatives (missed positive cases)"
        if false_negative
        else "False positives (negative cases called positive)",
        overall=f"{overall.errors}/{overall.cases}, {fmt.estimate_text(overall.rate)}",
        groups=groups,
        confident_title="Lowest-scoring false negatives"
        if false_negative
        else "Highest-scoring false positives",
        confident=tuple(
            ConfidentRow(error.case_id, error.site, fmt.number(error.score))
            for error in analysis.most_confident
        ),
        family=_family_text(analysis),
    )


def _score_panels(bundle: BundleData) -> list[plots.ScorePanel]:
    columns = case_columns(bundle)
    has_score = ~np.isnan(columns.scores)
    sites = [p.site or p.label for p in bundle.metrics.populations if p.kind == "site"]
    panels = []
    for title, site in [("All cases", None), *((s, s) for s in sites)]:
        chosen = has_score if site is None else has_score & columns.at_site(site)
        panels.append(
            plots.ScorePanel(
                title,
                columns.scores[chosen & columns.truth],  # arrays: 10,000,000 floats as objects
                columns.scores[chosen & ~columns.truth],  # would be ~0.6 GiB (issue 18)
            )
        )
    return panels


def build_failure_modes(bundle: BundleData, *, figure_number: int) -> FailureModesView:
    """The failure-mode section: enriched groups, most confident errors, score distributions.

    ``figure_number`` is the number of its score-distribution figure.
    """
    modes = bundle.metrics.failure_modes
    settings = bundle.metrics.settings
    alpha = 1.0 - settings["confidence_level"]
    sections = (
        _error_section(modes.false_negative, false_negative=True, alpha=alpha),
        _error_section(modes.false_positive, false_negative=False, alpha=alpha),
    )
    enriched = tuple(
        f"{section.title.split(' (')[0]}: {row.label} ({row.errors}, {row.rate}; adjusted "
        f"p = {row.p_adjusted})"
        for section in sections
        for row in section.groups
        if row.enriched
    )
    threshold = bundle.loaded.protocol.operating_point
    svg = partial(plots.score_figure, _score_panels(bundle), threshold=threshold)
    caption = (
        "Scores of evaluable cases by reference standard, all cases and each site; "
        f"dashed line: operating point {threshold:g} (positive call when score ≥ {threshold:g})."
    )
    figure = figure_view(
        figure_number,
        "scores",
        title="Score distributions",
        caption=caption,
        alt="Histograms of scores by reference standard",
        svg=svg,
    )
    return FailureModesView(
        method=modes.method,
        enriched_rule=(
            f"A group is flagged as enriched when its error rate exceeds the overall rate and "
            f"its {fmt.multiplicity_name(settings['multiplicity'])}-adjusted p-value is below "
            f"{alpha:.4g}."
        ),
        enriched=enriched,
        sections=sections,
        figure=figure,
        scores=tuple(
            ScoreRow(
                s.label,
                s.truth,
                str(s.n),
                fmt.number(s.min),
                fmt.number(s.q1),
                fmt.number(s.median),
                fmt.number(s.q3),
                fmt.number(s.max),
            )
            for s in modes.score_distributions
        ),
    )
