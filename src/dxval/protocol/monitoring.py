"""``monitor.yaml``: the alert thresholds of post-market monitoring (pydantic at the edge).

The protocol package owns every schema; the pipeline turns the validated
configuration into the plain :class:`~dxval.analysis.monitoring.AlertThresholds`
(:func:`dxval.pipeline.monitor.alert_thresholds`).

Schema ``monitor: 1``; every key optional, unknown keys are errors, types
strict. The defaults (``DEFAULT_CONFIG``) are stated in the README section
"Post-market monitoring" together with their false-alarm behaviour::

    monitor: 1
    window: week                # day | week | month | all (--window overrides)
    score_range: [0.0, 1.0]     # a score outside is excluded (reason score_out_of_range)
    min_window_n: 100           # smaller windows: drift rules not applied (new levels still are)
    score_drift: {psi_bins: 10, psi_max: 0.25, ks_alpha: 0.001, ks_min_statistic: 0.1,
                  wasserstein_max: null}
    positive_rate: {max_difference: 0.10}
    attributes: {new_levels: true, chi2_alpha: 0.001, cramers_v_min: 0.1,
                 ks_alpha: 0.001, ks_min_statistic: 0.1}
    performance: {below_validated: true, criteria: false}
    data_quality: {max_excluded_fraction: 0.01}

A threshold set to ``null`` switches its rule off.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dxval.data.limits import MAX_PROTOCOL_BYTES, read_input_bytes
from dxval.errors import InputError
from dxval.monitor.production import Window
from dxval.protocol.loader import plain_yaml, read_yaml_document


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ScoreDrift(_Section):
    """Score-drift rules."""

    psi_bins: int = Field(default=10, ge=2, le=100)
    psi_max: float | None = Field(default=0.25, gt=0.0)
    ks_alpha: float | None = Field(default=0.001, gt=0.0, lt=1.0)
    ks_min_statistic: float = Field(default=0.1, ge=0.0, le=1.0)
    wasserstein_max: float | None = Field(default=None, gt=0.0)


class PositiveRate(_Section):
    """Positive-rate rule."""

    max_difference: float | None = Field(default=0.10, gt=0.0, lt=1.0)


class Attributes(_Section):
    """Input-drift rules."""

    new_levels: bool = True
    chi2_alpha: float | None = Field(default=0.001, gt=0.0, lt=1.0)
    cramers_v_min: float = Field(default=0.1, ge=0.0, le=1.0)
    ks_alpha: float | None = Field(default=0.001, gt=0.0, lt=1.0)
    ks_min_statistic: float = Field(default=0.1, ge=0.0, le=1.0)


class Performance(_Section):
    """Performance rules on the adjudicated rows."""

    below_validated: bool = True
    criteria: bool = False


class DataQuality(_Section):
    """Excluded-row rule."""

    max_excluded_fraction: float | None = Field(default=0.01, ge=0.0, lt=1.0)


class MonitorConfig(_Section):
    """The whole ``monitor.yaml``."""

    monitor: int = 1
    window: Window = Window.WEEK
    score_range: tuple[float, float] = (0.0, 1.0)
    min_window_n: int = Field(default=100, ge=1)
    score_drift: ScoreDrift = ScoreDrift()
    positive_rate: PositiveRate = PositiveRate()
    attributes: Attributes = Attributes()
    performance: Performance = Performance()
    data_quality: DataQuality = DataQuality()

    @model_validator(mode="after")
    def _check(self) -> MonitorConfig:
        if self.monitor != 1:
            raise ValueError(f"monitor: got {self.monitor} expected 1 (schema version)")
        low, high = self.score_range
        if not low < high:
            raise ValueError(f"score_range: got [{low}, {high}] expected low < high")
        return self


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    """The validated configuration, the bytes it came from (None: defaults) and its path."""

    config: MonitorConfig
    raw_bytes: bytes | None
    path: Path | None


def _location(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(document)"
    return f"{where}: {first['msg']}"


def load_config(path: str | Path | None) -> LoadedConfig:
    """Read and validate ``monitor.yaml``; None gives the defaults.

    Raises
    ------
    InputError, ProtocolError
        The file cannot be read, is not a regular file of at most 1 MiB, is
        not YAML, expands past the YAML value limit, or breaks the schema
        (the message names the file and the field): exit 2.
    """
    if path is None:
        return LoadedConfig(MonitorConfig(), None, None)
    path = Path(path)
    raw = read_input_bytes(path, what="monitoring configuration", limit=MAX_PROTOCOL_BYTES)
    document: Any = plain_yaml(read_yaml_document(path, raw), path)
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise InputError(f"{path}: expected a mapping of settings, got {type(document).__name__}")
    if isinstance(document.get("score_range"), list):
        document["score_range"] = tuple(document["score_range"])
    if isinstance(document.get("window"), str):
        try:
            document["window"] = Window(document["window"])
        except ValueError as error:
            raise InputError(
                f"{path}: window: got {document['window']!r} expected day, week, month or all"
            ) from error
    try:
        config = MonitorConfig.model_validate(document)
    except ValidationError as error:
        raise InputError(f"{path}: {_location(error)}") from error
    return LoadedConfig(config, raw, path)
