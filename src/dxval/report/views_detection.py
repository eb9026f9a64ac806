"""View of the detection section: localisation rule, statistics per population, FROC, cases.

Built from ``detection.json`` only (:class:`~dxval.evidence.format.DetectionRecord`).
"""

from __future__ import annotations

from dataclasses import dataclass

from dxval.evidence.format import DetectionRecord, EstimateRecord
from dxval.report import formatting as fmt
from dxval.report.elements import FigureView, figure_view
from dxval.report.plots_tasks import FrocLine, FrocPlot, froc_figure

#: Statistic name → heading in the report, in table order.
DETECTION_HEADINGS = {
    "lesion_sensitivity": "Lesion sensitivity",
    "fp_per_image": "FPs / image",
    "fp_per_normal_image": "FPs / normal image",
    "froc_cpm": "FROC CPM (1/8–8)",
    "wafroc_fom": "wAFROC FOM",
    "case_sensitivity": "Case sensitivity",
    "case_specificity": "Case specificity",
}
LOCALISATION_TEXT = {
    "iou": "a mark hits a lesion when the boxes' intersection over union is at least {t:g}",
    "distance": "a mark hits a lesion when the centres are at most {t:g} mm apart "
    "(pixel spacing from the truth file)",
    "inside": "a mark hits a lesion when the mark's centre lies inside the lesion's box",
}


@dataclass(frozen=True, slots=True)
class PopulationLine:
    """One population's row: label, counts and each statistic as (estimate, ``(low – high)``).

    Estimate and interval are printed on two lines so that eight columns fit a page.
    """

    label: str
    counts: str
    values: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class DetectionCaseLine:
    """A case with missed lesions or false positives at the operating point."""

    case_id: str
    site: str
    lesions: int
    found: int
    false_positives: int
    case_score: str


@dataclass(frozen=True, slots=True)
class DetectionView:
    """Everything the detection section prints."""

    localisation: str
    matching: str
    operating_point: str
    level: str
    headings: tuple[str, ...]
    populations: tuple[PopulationLine, ...]
    figure: FigureView
    worst: tuple[DetectionCaseLine, ...]
    missed_lesions: int
    total_lesions: int


def _froc_line(label: str, froc: dict[str, object]) -> FrocLine:
    x = froc["fp_per_image"]
    y = froc["sensitivity"]
    assert isinstance(x, list)
    assert isinstance(y, list)
    return FrocLine(label, tuple(x), tuple(0.0 if v is None else v for v in y))


def _operating(record: DetectionRecord) -> tuple[float, float] | None:
    overall = record.populations[0].statistics
    sensitivity, fps = overall["lesion_sensitivity"].estimate, overall["fp_per_image"].estimate
    return None if sensitivity is None or fps is None else (fps, sensitivity)


def _two_lines(record: EstimateRecord | None) -> tuple[str, str]:
    """``fmt.estimate_text`` split into the estimate and its parenthesised interval."""
    text = fmt.estimate_text(record, digits=3)
    estimate, _, interval = text.partition(" (")
    return estimate, f"({interval}" if interval else ""


def build_detection(record: DetectionRecord, *, figure_number: int) -> DetectionView:
    """The detection section's view from ``detection.json``."""
    level = fmt.level_text(record.confidence_level)
    lines = []
    for population in record.populations:
        lines.append(
            PopulationLine(
                population.label,
                f"{population.cases} / {population.abnormal_cases} / {population.lesions}",
                tuple(_two_lines(population.statistics[name]) for name in DETECTION_HEADINGS),
            )
        )
    overall = record.populations[0]
    band = overall.froc["band"]
    plot = FrocPlot(
        overall=_froc_line("All cases", overall.froc),
        band_rates=tuple(band["rates"]),
        band_low=tuple(band["low"]),
        band_high=tuple(band["high"]),
        sites=tuple(_froc_line(p.label, p.froc) for p in record.populations if p.kind == "site"),
        operating=_operating(record),
        level=level,
    )
    figure = figure_view(
        figure_number,
        "froc",
        title="FROC curves",
        caption=f"FROC curve of all cases with its {level} pointwise bootstrap band "
        "(cases resampled within abnormal and normal strata) and the operating point; "
        "right: one curve per site.",
        alt="Lesion-level sensitivity against false positives per image, all cases and by site",
        svg=froc_figure(plot),
    )
    cases = [
        DetectionCaseLine(
            case["case_id"],
            case["site"],
            case["lesions"],
            case["lesions_found"],
            case["false_positives"],
            fmt.number(case["case_score"], digits=3),
        )
        for case in record.cases
        if case["lesions_found"] < case["lesions"] or case["false_positives"] > 0
    ]
    cases.sort(key=lambda c: (-(c.lesions - c.found), -c.false_positives, c.case_id))
    criterion = record.localisation["criterion"]
    return DetectionView(
        localisation=LOCALISATION_TEXT[criterion].format(t=record.localisation["threshold"]),
        matching=record.localisation["matching"],
        operating_point=f"{record.operating_point:g}",
        level=level,
        headings=tuple(DETECTION_HEADINGS.values()),
        populations=tuple(lines),
        figure=figure,
        worst=tuple(cases[:15]),
        missed_lesions=sum(c["lesions"] - c["lesions_found"] for c in record.cases),
        total_lesions=sum(c["lesions"] for c in record.cases),
    )
