"""Entry points: the OR analysis of AUC and of binary reads (sensitivity, specificity)."""

from __future__ import annotations

import numpy as np

from dxval.stats._arrays import BoolArray, FloatArray, check_confidence_level, parse_choice
from dxval.stats.mrmc.figures import (
    CovarianceMethod,
    auc_covariance,
    check_reads,
    proportion_covariance,
)
from dxval.stats.mrmc.obuchowski_rockette import obuchowski_rockette
from dxval.stats.mrmc.results import Factors, ReaderStudyAnalysis


def _labels(
    modalities: tuple[str, ...] | None, readers: tuple[str, ...] | None, t: int, r: int
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    modality_labels = modalities if modalities is not None else tuple(str(i + 1) for i in range(t))
    reader_labels = readers if readers is not None else tuple(str(j + 1) for j in range(r))
    if len(modality_labels) != t or len(reader_labels) != r:
        raise ValueError(
            f"labels: expected {t} modalities and {r} readers, got {len(modality_labels)} "
            f"and {len(reader_labels)}"
        )
    return tuple(modality_labels), tuple(reader_labels)


def _method_name(figure: str, factors: Factors, covariance: str) -> str:
    ddf = {
        Factors.RRRC: "Hillis (2007) denominator df",
        Factors.FRRC: "chi-square / normal",
        Factors.RRFC: "t with (t-1)(r-1) df",
    }[factors]
    return f"Obuchowski-Rockette {factors.name}, {ddf}, {covariance} covariance, {figure}"


def reader_study_auc(
    scores: FloatArray,
    truth: BoolArray,
    *,
    modalities: tuple[str, ...] | None = None,
    readers: tuple[str, ...] | None = None,
    factors: Factors | str = Factors.RRRC,
    covariance: CovarianceMethod | str = CovarianceMethod.JACKKNIFE,
    confidence_level: float = 0.95,
) -> ReaderStudyAnalysis:
    """Obuchowski–Rockette MRMC analysis of the empirical AUC.

    Args:
        scores: (t, r, n) scores of r readers on n cases in t ≥ 2 modalities
            (fully crossed), higher = more likely positive.
        truth: (n,) booleans (True = positive), at least 2 of each class.
        modalities, readers: labels (default "1", "2", ...).
        factors: RRRC (default), FRRC or RRFC.
        covariance: jackknife (default, as MRMCaov and OR-DBM MRMC), delong or unbiased.
        confidence_level: two-sided level of every interval.

    Returns:
        :class:`ReaderStudyAnalysis`.

    Raises:
        ValueError: bad shapes or labels, fewer than 2 modalities, or fewer
            than 2 readers with random readers.

    Examples:
        >>> import numpy as np
        >>> truth = np.array([False, False, False, True, True, True])
        >>> scores = np.array([[[1, 2, 3, 2, 4, 5], [1, 3, 2, 3, 5, 4]],
        ...                    [[1, 1, 2, 3, 4, 5], [2, 1, 1, 4, 3, 5]]], dtype=float)
        >>> result = reader_study_auc(scores, truth, modalities=("A", "B"))
        >>> round(result.differences[0].estimate.estimate, 4)
        -0.1111
        >>> result.test.df1
        1
    """
    level = check_confidence_level(confidence_level)
    factor = parse_choice(Factors, factors, name="factors")
    method = parse_choice(CovarianceMethod, covariance, name="covariance")
    array, labels = check_reads(scores, truth)
    t, r, n = array.shape
    modality_labels, reader_labels = _labels(modalities, readers, t, r)
    if factor is not Factors.FRRC and r < 2:
        raise ValueError(
            f"readers: a random-reader analysis ({factor.value}) needs at least 2 readers, got {r}"
        )
    figures, matrix = auc_covariance(array, labels, method=method)
    name = _method_name("empirical AUC", factor, method.value)
    result = obuchowski_rockette(
        figures,
        matrix,
        factors=factor,
        confidence_level=level,
        modalities=modality_labels,
        readers=reader_labels,
        method=name,
        n_cases=n,
    )
    return ReaderStudyAnalysis(
        method=name,
        figure_of_merit="empirical AUC",
        factors=factor,
        covariance=method.value,
        confidence_level=level,
        modalities=modality_labels,
        readers=reader_labels,
        n_cases=n,
        n_positive=int(labels.sum()),
        reader_figures=result.reader_figures,
        modality_estimates=result.modality_estimates,
        test=result.test,
        differences=result.differences,
        reader_differences=result.reader_differences,
        components=result.components,
        mean_squares=result.mean_squares,
    )


def reader_study_binary(
    scores: FloatArray,
    truth: BoolArray,
    *,
    threshold: float,
    modalities: tuple[str, ...] | None = None,
    readers: tuple[str, ...] | None = None,
    factors: Factors | str = Factors.RRRC,
    confidence_level: float = 0.95,
) -> tuple[ReaderStudyAnalysis, ReaderStudyAnalysis]:
    """OR analysis of reader-averaged sensitivity and specificity (binary reads).

    A read is a positive call when score ≥ ``threshold``. Sensitivity and
    specificity are proportions; their covariance is the jackknife over
    cases, as MRMCaov does for ``binary_sens`` / ``binary_spec``.

    Returns:
        (sensitivity analysis, specificity analysis).

    Raises:
        ValueError: as :func:`reader_study_auc`, or a non-finite threshold.

    Examples:
        >>> import numpy as np
        >>> truth = np.array([False, False, False, True, True, True])
        >>> calls = np.array([[[0, 0, 1, 0, 1, 1], [0, 1, 0, 1, 1, 1]],
        ...                   [[0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 0, 1]]], dtype=float)
        >>> sensitivity, specificity = reader_study_binary(calls, truth, threshold=1)
        >>> round(sensitivity.differences[0].estimate.estimate, 4)
        0.0
    """
    level = check_confidence_level(confidence_level)
    factor = parse_choice(Factors, factors, name="factors")
    if not np.isfinite(threshold):
        raise ValueError(f"threshold: expected a finite number, got {threshold}")
    array, labels = check_reads(scores, truth)
    t, r, n = array.shape
    modality_labels, reader_labels = _labels(modalities, readers, t, r)
    if factor is not Factors.FRRC and r < 2:
        raise ValueError(
            f"readers: a random-reader analysis ({factor.value}) needs at least 2 readers, got {r}"
        )
    decisions = array >= threshold
    results = []
    for figure, calls, members in (
        ("sensitivity", decisions, labels),
        ("specificity", ~decisions, ~labels),
    ):
        figures, matrix = proportion_covariance(calls, members)
        name = _method_name(f"{figure} (score >= {threshold:g})", factor, "jackknife")
        result = obuchowski_rockette(
            figures,
            matrix,
            factors=factor,
            confidence_level=level,
            modalities=modality_labels,
            readers=reader_labels,
            method=name,
            n_cases=int(members.sum()),
        )
        results.append(
            ReaderStudyAnalysis(
                method=name,
                figure_of_merit=figure,
                factors=factor,
                covariance="jackknife",
                confidence_level=level,
                modalities=modality_labels,
                readers=reader_labels,
                n_cases=n,
                n_positive=int(labels.sum()),
                reader_figures=result.reader_figures,
                modality_estimates=result.modality_estimates,
                test=result.test,
                differences=result.differences,
                reader_differences=result.reader_differences,
                components=result.components,
                mean_squares=result.mean_squares,
            )
        )
    return results[0], results[1]
