"""Cross-field checks of ``model.output.kind`` (issue 16 item 5).

A model's output declaration says what the artifact returns: ``score`` (one
score per case; classification, the default), ``mask`` (a label map or
per-class probability maps; segmentation) or ``boxes`` (detection; declared
in the vocabulary but not run by this version). The kind must fit the
protocol's task, and the mask fields must describe an output dxval can turn
into a label map on the truth's voxel grid. Each problem is reported at its
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

    Yields (location, got, expected): a kind that does not fit the task, a
    detection model (``kind: boxes`` is not run by this version), mask fields
    on a score output, an incomplete mask declaration, and a segmentation
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
    if output.kind == "boxes":
        yield (
            ("model", "output", "kind"),
            "'boxes' (box-output models are not run by this version)",
            "the marks as predictions: (a CSV of boxes and scores)",
        )
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
