"""The sample-size justification of a run: required cases from the protocol, met or not.

The protocol's ``sample_size`` block states the assumed performance, the
limit to exceed (or the AUC interval margin), alpha and power; this stage
computes the required numbers of positive and negative cases with
:mod:`dxval.stats.sample_size` and compares them with the evaluable
positives and negatives of the run (population ``all`` of ``metrics.json``).
The result is ``sample_size.json`` in the bundle, so the report reads it
and never computes a statistic itself.

Designs:

* sensitivity (sizes positives) and specificity (sizes negatives): exact
  binomial search for the smallest n whose lower confidence bound exceeds
  the limit with the required power (Flahault, Cadilhac & Thomas 2005,
  J Clin Epidemiol 58:859-862);
* AUC: smallest n for the two-sided interval half-width to reach the margin
  with the Hanley & McNeil (1982) variance (Radiology 143:29-36).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dxval.stats.sample_size import (
    SampleSize,
    auc_sample_size_for_width,
    sensitivity_sample_size,
)

#: ``schema`` of ``sample_size.json``.
SAMPLE_SIZE_SCHEMA = "dxval-sample-size/1"


def plan_values(sample_size: Any, *, default_method: str) -> dict[str, Any] | None:
    """The protocol's ``sample_size`` block as plain values (``None`` when absent)."""
    if sample_size is None:
        return None
    values: dict[str, Any] = sample_size.model_dump()
    values["method"] = values.get("method") or default_method
    return values


def _design(
    name: str, assumption: Mapping[str, Any], values: Mapping[str, Any]
) -> tuple[SampleSize, dict[str, Any]]:
    level = 1.0 - float(values["alpha"])
    if name == "auc":
        size = auc_sample_size_for_width(
            assumption["assumed"],
            assumption["margin"],
            confidence_level=level,
            negatives_per_positive=assumption["negatives_per_positive"],
        )
        return size, {"positives": size.n_positive, "negatives": size.n_negative}
    size = sensitivity_sample_size(
        assumption["assumed"],
        assumption["lower_limit"],
        power=values["power"],
        confidence_level=level,
        method=values["method"],
    )
    # the same binomial design sizes negatives for specificity
    key = "positives" if name == "sensitivity" else "negatives"
    return size, {key: size.n_positive}


def sample_size_document(
    values: Mapping[str, Any] | None, metrics_document: Mapping[str, Any]
) -> dict[str, Any] | None:
    """``sample_size.json``: each design's inputs, required cases, observed cases, met.

    Parameters
    ----------
    values
        :func:`plan_values` of the protocol (``None``: no document).
    metrics_document
        the run's ``metrics.json`` document (its population ``all`` gives the
        evaluable positives and negatives).

    Raises
    ------
    ValueError
        a design that no sample size up to the search limit satisfies.
    """
    if values is None:
        return None
    overall = next(p for p in metrics_document["populations"] if p["key"] == "all")
    observed = {"positives": int(overall["positives"]), "negatives": int(overall["negatives"])}
    designs = []
    for name in ("sensitivity", "specificity", "auc"):
        assumption = values.get(name)
        if assumption is None:
            continue
        size, required = _design(name, assumption, values)
        designs.append(
            {
                "quantity": name,
                "assumptions": dict(assumption),
                "required": required,
                "observed": {key: observed[key] for key in required},
                "met": all(observed[key] >= count for key, count in required.items()),
                "design": size.to_dict(),
            }
        )
    return {
        "schema": SAMPLE_SIZE_SCHEMA,
        "alpha": values["alpha"],
        "power": values["power"],
        "method": values["method"],
        "rationale": values.get("rationale"),
        "designs": designs,
        "met": all(design["met"] for design in designs),
    }
