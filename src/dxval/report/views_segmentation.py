"""View of the segmentation section: aggregates per population, distributions, worst cases.

Built from ``segmentation.json`` only (:class:`~dxval.evidence.format.SegmentationRecord`).
"""

from __future__ import annotations

from dataclasses import dataclass

from dxval.evidence.format import EstimateRecord, SegmentationRecord
from dxval.report import formatting as fmt
from dxval.report.elements import FigureView, figure_view
from dxval.report.plots_tasks import DistributionPanel, distribution_figure

#: (metric, statistic, heading) of the aggregate table, in column order.
SEGMENTATION_COLUMNS = (
    ("dice", "mean", "Dice, mean"),
    ("dice", "median", "Dice, median"),
    ("hd95", "median", "HD95 mm, median"),
    ("assd", "mean", "ASSD mm, mean"),
    ("nsd", "mean", "NSD, mean"),
)


@dataclass(frozen=True, slots=True)
class AggregateLine:
    """One population's row for one structure."""

    label: str
    cases: int
    values: tuple[str, ...]
    undefined: str


@dataclass(frozen=True, slots=True)
class StructureView:
    """One structure: its label value, aggregate rows and worst cases."""

    name: str
    label: int
    lines: tuple[AggregateLine, ...]
    worst: tuple[tuple[str, str, str, str, str], ...]


@dataclass(frozen=True, slots=True)
class SegmentationView:
    """Everything the segmentation section prints."""

    tolerance: str
    level: str
    headings: tuple[str, ...]
    structures: tuple[StructureView, ...]
    figure: FigureView
    not_scored: int


def _value(metrics: dict[str, dict[str, object]], metric: str, statistic: str) -> str:
    return fmt.estimate_text(EstimateRecord.model_validate(metrics[metric][statistic]), digits=3)


def _structure(record: SegmentationRecord, name: str, label: int) -> StructureView:
    lines = []
    for population in record.populations:
        metrics = population.structures[name]
        undefined = metrics["hd95"]["cases_undefined"]
        lines.append(
            AggregateLine(
                population.label,
                population.cases,
                tuple(_value(metrics, m, s) for m, s, _ in SEGMENTATION_COLUMNS),
                str(undefined),
            )
        )
    cases = [case for case in record.cases if case["structure"] == name]
    cases.sort(key=lambda c: (c["dice"] is not None, c["dice"] or 0.0, c["case_id"]))
    worst = tuple(
        (
            case["case_id"],
            case["site"],
            fmt.number(case["dice"], digits=3),
            fmt.number(case["hd95"], digits=2),
            case["reason"] or "",
        )
        for case in cases[:8]
    )
    return StructureView(name, label, tuple(lines), worst)


def _panels(record: SegmentationRecord) -> list[DistributionPanel]:
    sites = list(dict.fromkeys(case["site"] for case in record.cases))
    panels = []
    for name in record.structures:
        for metric, title in (("dice", "Dice"), ("hd95", "HD95 (mm)")):
            groups = tuple(
                (
                    site,
                    tuple(
                        case[metric]
                        for case in record.cases
                        if case["structure"] == name
                        and case["site"] == site
                        and case[metric] is not None
                    ),
                )
                for site in sites
            )
            panels.append(DistributionPanel(f"{name}: {title}", groups))
    return panels


def build_segmentation(record: SegmentationRecord, *, figure_number: int) -> SegmentationView:
    """The segmentation section's view from ``segmentation.json``."""
    level = fmt.level_text(record.confidence_level)
    figure = figure_view(
        figure_number,
        "segmentation-distributions",
        title="Dice and HD95 per site",
        caption="Per-case Dice and HD95 of each structure by site (box: quartiles; dots: "
        "cases). Cases where a metric does not exist (one mask empty) or that could not be "
        "scored are not drawn; they are counted in the tables.",
        alt="Box plots of per-case Dice and HD95 by site for each structure",
        svg=distribution_figure(_panels(record)),
    )
    return SegmentationView(
        tolerance=f"{record.nsd_tolerance_mm:g} mm",
        level=level,
        headings=tuple(heading for _, _, heading in SEGMENTATION_COLUMNS),
        structures=tuple(_structure(record, n, label) for n, label in record.structures.items()),
        figure=figure,
        not_scored=len({c["case_id"] for c in record.cases if c["status"] == "error"}),
    )
