"""Contact sheet: each case's original (its own window) beside the preprocessed model input.

A person looks at it before a run to spot a wrong window, a missing
MONOCHROME1 inversion or a crop that cuts the anatomy. Rendering uses
matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from dxval.dicom import steps as ops
from dxval.dicom.failures import CaseFailure
from dxval.dicom.pipeline import apply_steps
from dxval.dicom.reader import Image, read_case

__all__ = ["PreviewCase", "PreviewResult", "original_view", "write_contact_sheet"]


@dataclass(frozen=True, slots=True)
class PreviewCase:
    """One case to show: its ID, site and files."""

    case_id: str
    site: str
    paths: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class PreviewResult:
    """What the contact sheet holds."""

    path: Path
    shown: int
    failed: tuple[tuple[str, str], ...]


def _middle_2d(values: NDArray[np.generic]) -> NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64)
    while array.ndim > 2:
        array = array[array.shape[0] // 2]
    return array


def original_view(image: Image) -> NDArray[np.float64]:
    """The image as its file says to show it: modality LUT, its own VOI, MONOCHROME1 inverted.

    Uses the file's VOI LUT or first window (PS3.3 C.11.2); without either,
    the image's own minimum to maximum (a min-max window, as viewers do).
    Returns a 2-D array in [0, 1] (middle frame or slice for 3-D data).
    """
    steps: list[ops.Step] = [ops.ModalityLutOp()]
    header = image.header
    has_voi = "VOILUTSequence" in header or (
        header.get("WindowCenter") is not None and header.get("WindowWidth") is not None
    )
    steps.append(ops.VoiLutOp() if has_voi else ops.ScaleOp(source="image"))
    steps.append(ops.Monochrome2Op())
    try:
        return _middle_2d(apply_steps(image, steps))
    except CaseFailure:
        fallback: list[ops.Step] = [ops.ModalityLutOp(), ops.ScaleOp(source="image")]
        return _middle_2d(apply_steps(image, fallback))


def _model_view(tensor: NDArray[np.float32]) -> NDArray[np.float64]:
    return _middle_2d(tensor)


def write_contact_sheet(
    cases: Sequence[PreviewCase], steps: Sequence[ops.Step], out: Path, *, title: str = ""
) -> PreviewResult:
    """Render original | preprocessed pairs, one row per case, to ``out`` (PNG).

    The preprocessed panel is shown with its own minimum/maximum (a colour
    bar gives the values), so model inputs in any range are visible. Cases
    that fail to load appear as a row naming the reason code.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    rows = max(len(cases), 1)
    figure, axes = pyplot.subplots(rows, 2, figsize=(7, 3.2 * rows), squeeze=False)
    failed: list[tuple[str, str]] = []
    for row, case in enumerate(cases):
        left, right = axes[row]
        label = f"{case.case_id} · {case.site}"
        try:
            image = read_case(case.paths)
            original = original_view(image)
            model_input = _model_view(apply_steps(image, steps))
        except CaseFailure as failure:
            failed.append((case.case_id, failure.reason_code.value))
            left.text(0.5, 0.5, f"{label}\n{failure.reason_code.value}", ha="center", va="center")
            left.axis("off")
            right.axis("off")
            continue
        left.imshow(original, cmap="gray", vmin=0.0, vmax=1.0)
        left.set_title(f"{label}\noriginal (own window)", fontsize=8)
        shown = right.imshow(model_input, cmap="gray")
        right.set_title(f"{label}\nmodel input {model_input.shape}", fontsize=8)
        figure.colorbar(shown, ax=right, fraction=0.046)
        left.axis("off")
        right.axis("off")
    top = 1.0
    if title:
        figure.suptitle(title, fontsize=9)
        top -= 0.4 / figure.get_figheight()  # keep 0.4 inch above the panels for the title
    figure.tight_layout(rect=(0.0, 0.0, 1.0, top))
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=80)
    pyplot.close(figure)
    return PreviewResult(path=out, shown=len(cases) - len(failed), failed=tuple(failed))
