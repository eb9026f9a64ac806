"""Limitations and deviations views.

Limitations: the statements ``dxval summary`` derives from what the test set
covered (:func:`dxval.report.summary.proposed_limitations`, reused, not
copied), then the manufacturer's own (protocol field ``limitations``).
Deviations: the protocol's recorded deviations (``deviations``: ID,
description, impact, minor/major), then what the run itself departed from
(non-evaluable cases, undefined criteria).
"""

from __future__ import annotations

from dataclasses import dataclass

from dxval.evidence.format import BundleData


@dataclass(frozen=True, slots=True)
class DeviationRow:
    """One recorded deviation from the protocol."""

    id: str
    description: str
    impact: str
    classification: str


@dataclass(frozen=True, slots=True)
class LimitationsView:
    """Section "Limitations and deviations"."""

    generated: tuple[str, ...]
    stated: tuple[str, ...]
    deviations: tuple[DeviationRow, ...]
    deviations_note: str


def generated_limitations(bundle: BundleData) -> tuple[str, ...]:
    """The coverage-derived limitation statements of ``dxval summary``."""
    # imported here: summary imports the report views, which import this module
    from dxval.report.summary import proposed_limitations

    return proposed_limitations(bundle)


def deviation_rows(bundle: BundleData) -> tuple[DeviationRow, ...]:
    """The protocol's recorded deviations, in protocol order."""
    return tuple(
        DeviationRow(d.id, d.description, d.impact, d.classification)
        for d in bundle.loaded.protocol.deviations
    )


def deviations_summary(bundle: BundleData) -> str:
    """One sentence: how many deviations the protocol records, and how many are major."""
    deviations = bundle.loaded.protocol.deviations
    if not deviations:
        return (
            "The protocol records no deviation (field 'deviations'). dxval executes the "
            "protocol as written; deviations decided outside dxval must be documented in the "
            "submission."
        )
    major = sum(1 for d in deviations if d.classification == "major")
    noun = "deviation" if len(deviations) == 1 else "deviations"
    return (
        f"The protocol records {len(deviations)} {noun} from the protocol "
        f"({major} major, {len(deviations) - major} minor), listed with their assessed impact "
        "in section 9.2."
    )


def build_limitations(bundle: BundleData) -> LimitationsView:
    """Section "Limitations and deviations"."""
    return LimitationsView(
        generated=generated_limitations(bundle),
        stated=tuple(bundle.loaded.protocol.limitations),
        deviations=deviation_rows(bundle),
        deviations_note=deviations_summary(bundle),
    )
