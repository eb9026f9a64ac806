"""Cross-field checks of ``model.output.kind`` (issue 16 item 5).

A model's output declaration says what the artifact returns: ``score`` (one
score per case; classification, the default), ``mask`` (a label map or
per-class probability maps; segmentation) or ``boxes`` (``[null, N, 5]``
rows of ``x0, y0, x1, y1, score`` in the model input's pixels; detection).
The kind must fit the protocol's task, the mask fields must describe an
output dxval can turn into a label map on the truth's voxel grid, and a box
output needs a preprocessing whose only geometric step is a ``resize`` (so
its boxes map back onto the image's pixel grid). Each problem is reported at its
own field's line (:mod:`dxval.protocol.checks` calls :func:`output_problems`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dxval.protocol.schema import Protocol
    from dxval.protocol.sections import ModelOutput

__all__ = ["KIND_FOR_TASK", "output_problems"]

Problem = tuple[tuple[str | int, ...], str, str]

#: The output kind each task needs.
KIND_FOR_TASK = {"classification": "score", "segmentation": "mask", "detection": "boxes"}

_MASK_FIELDS = ("shape", "encoding", "channel_labels", "transpose")

#: Preprocessing ops that move pixels in a way a box output cannot be mapped back through.
_UNMAPPABLE_OPS = ("crop_or_pad", "resample")


def _step_op(step: object) -> str:
    op = step.get("op") if isinstance(step, dict) else getattr(step, "op", None)
    return str(op)


def _box_problems(protocol: Protocol, output: ModelOutput) -> Iterator[Problem]:
    here = ("model", "output")
    for name in ("encoding", "channel_labels", "transpose"):
        if getattr(output, name) is not None:
            yield ((*here, name), name, "none for kind: boxes")
    if output.score_floor is None:
        yield ((*here,), "no score_floor for kind: boxes", "score_floor: rows below it are padding")
    shape = output.shape
    if shape is None:
        yield ((*here,), "no shape for kind: boxes", "shape: [null, N, 5]")
    elif len(shape) != 3 or shape[0] is not None or shape[1] is None or shape[2] != 5:
        text = "[" + ", ".join("null" if a is None else str(a) for a in shape) + "]"
        yield ((*here, "shape"), text, "[null, N, 5] (N boxes of x0, y0, x1, y1, score)")
    for number, step in enumerate(protocol.preprocessing):
        op = _step_op(step)
        if op in _UNMAPPABLE_OPS:
            yield (
                ("preprocessing", number, "op"),
                f"{op!r} before a box model",
                "no crop_or_pad/resample: boxes are mapped back through a resize only",
            )
    if protocol.predictions is not None:
        yield (
            ("predictions",),
            "a predictions section beside a box model",
            "none: the model's boxes are the marks",
        )


def _mask_problems(output: ModelOutput) -> Iterator[Problem]:
    here = ("model", "output")
    if output.shape is None:
        yield ((*here,), "no shape for kind: mask", "shape: the output's shape, batch axis first")
        return
    probabilities = output.encoding == "probabilities"
    spatial = len(output.shape) - (2 if probabilities else 1)
    if spatial not in (2, 3):
        layout = "[batch, channels, *spatial]" if probabilities else "[batch, *spatial]"
        yield (
            (*here, "shape"),
            f"{len(output.shape)} axes",
            f"{layout} with 2 or 3 spatial axes",
        )
        return
    if output.shape[0] is not None:
        yield ((*here, "shape"), f"a fixed batch axis {output.shape[0]}", "null (dynamic)")
    if any(axis is None for axis in output.shape[1:]):
        yield ((*here, "shape"), "a dynamic non-batch axis", "fixed sizes after the batch axis")
    if output.transpose is not None and sorted(output.transpose) != list(range(spatial)):
        yield (
            (*here, "transpose"),
            repr(output.transpose),
            f"a permutation of {list(range(spatial))} (the {spatial} spatial axes)",
        )
    if probabilities:
        channels = output.shape[1]
        labels = output.channel_labels
        if labels is None:
            yield ((*here,), "no channel_labels", "channel_labels: the label of each channel")
        elif channels is not None and len(labels) != channels:
            yield (
                (*here, "channel_labels"),
                f"{len(labels)} labels",
                f"one per output channel ({channels}, shape axis 1)",
            )
    elif output.channel_labels is not None:
        yield ((*here, "channel_labels"), "channel_labels", "none with encoding: labels")


def output_problems(protocol: Protocol) -> Iterator[Problem]:
    """Problems of the model output declaration of a schema-valid protocol.

    Yields (location, got, expected): a kind that does not fit the task, an
    incomplete box declaration or a preprocessing a box output cannot be mapped
    back through, mask fields on a score output, an incomplete mask declaration, and a segmentation
    ``prediction`` column beside a model that produces the masks.
    """
    model = protocol.model
    if model is None:
        return
    reference = model.reference
    pinned = None if reference is None else (reference.expected, reference.expected_sha256)
    if reference is not None and pinned is not None and (pinned[0] is None) == (pinned[1] is None):
        given = "both" if reference.expected is not None else "neither"
        yield (
            ("model", "reference"),
            f"{given} of expected and expected_sha256",
            "exactly one of them",
        )
    output = model.output
    task = protocol.task
    wanted = KIND_FOR_TASK[task]
    if output.kind != wanted:
        yield (("model", "output", "kind"), f"{output.kind!r} for task: {task}", repr(wanted))
        return
    if output.score_floor is not None and output.kind != "boxes":
        yield (("model", "output", "score_floor"), "score_floor", f"none for kind: {output.kind}")
    if output.kind == "boxes":
        yield from _box_problems(protocol, output)
        return
    if output.kind == "score":
        for name in _MASK_FIELDS:
            if getattr(output, name) is not None:
                yield (("model", "output", name), name, "none for kind: score")
        return
    yield from _mask_problems(output)
    section = protocol.segmentation
    if section is not None and "prediction" in section.model_fields_set:
        yield (
            ("segmentation", "prediction"),
            "a prediction column beside a model",
            "none: the model's masks are the predictions",
        )
    if model.reference is not None and model.reference.expected is not None:
        yield (
            ("model", "reference", "expected"),
            "expected values for a mask output",
            "expected_sha256 (the raw output bytes, compared bit for bit)",
        )
