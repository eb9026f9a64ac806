"""Multiplicity control: Bonferroni and Holm adjusted p-values and confidence levels.

References:
    Bonferroni CE (1936) Teoria statistica delle classi e calcolo delle
    probabilità. Pubbl R Ist Super Sci Econ Commer Firenze 8:3-62.
    Holm S (1979) A simple sequentially rejective multiple test procedure.
    Scand J Stat 6:65-70.
    FDA (2022) Multiple Endpoints in Clinical Trials, guidance for industry,
    §IV.B (Bonferroni and Holm procedures).
"""

from __future__ import annotations

from enum import Enum

import numpy as np
from numpy.typing import ArrayLike

from dxval.stats._arrays import FloatArray, check_confidence_level, parse_choice


class MultiplicityMethod(str, Enum):
    """Closed vocabulary of family-wise error control methods."""

    NONE = "none"
    BONFERRONI = "bonferroni"
    HOLM = "holm"


def adjust_p_values(
    p_values: ArrayLike, *, method: MultiplicityMethod | str = MultiplicityMethod.HOLM
) -> FloatArray:
    """Family-wise adjusted p-values, in the input order (as R's ``p.adjust``).

    Bonferroni: min(1, K·p). Holm: with p₍₁₎ ≤ … ≤ p₍K₎, the adjusted p₍ᵢ₎ is
    maxⱼ≤ᵢ min(1, (K − j + 1)·p₍ⱼ₎) (Holm 1979).

    Parameters
    ----------
    p_values
        shape (K,), each in [0, 1].
    method
        ``"none"``, ``"bonferroni"`` or ``"holm"``.

    Raises
    ------
    ValueError
        values outside [0, 1], NaN, or an unknown method.

    Examples
    --------
    >>> from dxval.stats import adjust_p_values
    >>> adjust_p_values([0.01, 0.04, 0.03], method='holm').round(4).tolist()
    [0.03, 0.06, 0.06]
    """
    chosen: MultiplicityMethod = parse_choice(MultiplicityMethod, method, name="method")
    values = np.asarray(p_values, dtype=np.float64).reshape(-1)
    if values.size and not ((values >= 0.0) & (values <= 1.0)).all():
        raise ValueError("p_values: expected numbers in [0, 1]")
    count = values.size
    if chosen is MultiplicityMethod.NONE or count == 0:
        return values.copy()
    if chosen is MultiplicityMethod.BONFERRONI:
        return np.minimum(1.0, values * count)
    order = np.argsort(values, kind="stable")
    scaled = np.minimum(1.0, values[order] * (count - np.arange(count)))
    adjusted = np.empty(count)
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted


def adjusted_confidence_level(
    confidence_level: float,
    k: int,
    *,
    method: MultiplicityMethod | str = MultiplicityMethod.BONFERRONI,
) -> float:
    """Confidence level for each of K simultaneous intervals.

    Bonferroni: 1 − (1 − CL)/K. Holm has no interval counterpart; it uses the
    Bonferroni level (the conservative choice; the evidence should record
    that the intervals are Bonferroni-adjusted). ``"none"`` returns CL.

    Parameters
    ----------
    confidence_level
        family level in (0, 1).
    k
        number of intervals in the family, ≥ 1.
    method
        ``"none"``, ``"bonferroni"`` or ``"holm"``.

    Raises
    ------
    ValueError
        a level outside (0, 1), k < 1, an unknown method.

    Examples
    --------
    >>> from dxval.stats import adjusted_confidence_level
    >>> round(adjusted_confidence_level(0.95, 5, method='bonferroni'), 4)
    0.99
    """
    chosen: MultiplicityMethod = parse_choice(MultiplicityMethod, method, name="method")
    level = check_confidence_level(confidence_level)
    if int(k) < 1:
        raise ValueError(f"k: expected at least 1 interval, got {k}")
    if chosen is MultiplicityMethod.NONE:
        return level
    return 1.0 - (1.0 - level) / int(k)
