"""The run's preprocessing contact sheet: one original and one model input per site.

FDA's draft guidance on AI-enabled device software functions (2025, section
X.A) asks that pre-processing be described and validated; a reviewer who
sees one decoded image beside the tensor the model received can check the
window, the MONOCHROME1 inversion and the resize at a glance. For a model
run, the first scored case of each site (manifest order) is drawn by
:func:`dxval.dicom.preview.write_contact_sheet` (the ``dxval preview``
drawing, reused) into ``preprocessing/contact-sheet.png`` of the bundle, at
80 dpi so the report stays small. Predictions runs have no images: no sheet.

Pixels can carry identifying text that no header scan sees, so a case is drawn
only when every one of its files states BurnedInAnnotation ``NO``; a site
without such a case is left out of the sheet, and the protocol's
``report.contact_sheet: false`` turns the sheet off.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from dxval.data import TestSetSource
from dxval.evidence.format import CONTACT_SHEET_NAME
from dxval.evidence.records import CaseRow
from dxval.pipeline.cases import case_loader
from dxval.pipeline.plan import RunPlan

__all__ = ["CONTACT_SHEET_NAME", "contact_sheet_png"]


def contact_sheet_png(
    plan: RunPlan, sources: Sequence[TestSetSource], rows: Sequence[CaseRow]
) -> bytes | None:
    """PNG bytes of the sheet (``None`` for a predictions run or when no case was scored)."""
    from dxval.dicom.preview import PreviewCase, write_contact_sheet

    if plan.model is None or not plan.contact_sheet:
        return None
    scored = {(row.test_set, row.case_id) for row in rows if row.status == "scored"}
    chosen: dict[str, PreviewCase] = {}
    for source in sources:
        if source.site in chosen:
            continue
        for row in source.manifest.rows:
            if (source.test_set, row.case_id) in scored and row.files and _no_burned_in(row.files):
                chosen[source.site] = PreviewCase(row.case_id, source.site, row.files)
                break
    if not chosen:
        return None
    cases = [chosen[site] for site in plan.sites if site in chosen]
    with tempfile.TemporaryDirectory(prefix="dxval-sheet-") as folder:
        path = Path(folder) / "contact-sheet.png"
        title = f"{plan.protocol_id}: first scored case of each site"
        write_contact_sheet(cases, case_loader(plan).steps, path, title=title)
        return path.read_bytes()


def _no_burned_in(files: Sequence[Path]) -> bool:
    """Whether every file declares BurnedInAnnotation NO (an unreadable header: no)."""
    import pydicom

    for path in files:
        try:
            header = pydicom.dcmread(
                path, stop_before_pixels=True, specific_tags=["BurnedInAnnotation"]
            )
        except (OSError, ValueError, pydicom.errors.InvalidDicomError):  # off the sheet
            return False
        if str(header.get("BurnedInAnnotation", "")).strip().upper() != "NO":
            return False
    return True
