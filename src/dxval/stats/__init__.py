"""dxval.stats: pure statistical functions over numpy arrays, frozen results.

Imports only numpy and scipy. Truth arrays are booleans (True = positive),
scores finite floats, and a positive call is score ≥ threshold. Every result
says how it was made (method, confidence level, n) and reports a quantity that
does not exist as ``Status.UNDEFINED`` with a reason, never as NaN.

Names are imported from their modules on first use (PEP 562): a command that
needs the AUC does not import the sample-size, drift or segmentation modules
and the parts of scipy they use, and importing a light submodule such as
:mod:`dxval.stats.wording` imports no numpy at all.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dxval.stats.binary import (
        BinaryMetrics,
        ConfusionCounts,
        balanced_accuracy,
        binary_metrics,
        confusion_counts,
        f1_score,
        likelihood_ratios,
        matthews_correlation,
        predictive_values_at_prevalence,
        youden_index,
    )
    from dxval.stats.bootstrap import (
        BinaryMetricName,
        BootstrapInterval,
        bootstrap_auc,
        bootstrap_binary_metric,
    )
    from dxval.stats.contingency import fisher_exact_test
    from dxval.stats.delong import (
        AucComparison,
        StructuralComponents,
        auc_delong,
        auc_margin_test,
        delong_paired_test,
        delong_unpaired_test,
        structural_components,
    )
    from dxval.stats.drift import (
        DriftResult,
        chi_square_homogeneity,
        ks_two_sample,
        population_stability_index,
        psi_bin_edges,
        wasserstein_distance,
    )
    from dxval.stats.multiplicity import (
        MultiplicityMethod,
        adjust_p_values,
        adjusted_confidence_level,
    )
    from dxval.stats.operating_point import (
        OperatingPoint,
        OperatingPointCriterion,
        select_operating_point,
    )
    from dxval.stats.paired import (
        McNemarMethod,
        PairedTable,
        mcnemar_test,
        paired_difference,
        paired_margin_test,
        paired_table,
    )
    from dxval.stats.paired_score import DecisionFlips, decision_flips, tango_difference
    from dxval.stats.precision_recall import (
        PrecisionRecallCurve,
        average_precision,
        average_precision_logit,
        precision_recall_curve,
    )
    from dxval.stats.proportion import ProportionMethod, proportion_ci
    from dxval.stats.reliability import (
        BinConvention,
        CalibrationResult,
        ReliabilityBin,
        calibration,
    )
    from dxval.stats.results import Estimate, MarginHypothesis, MarginTest, Status, TestResult
    from dxval.stats.roc import (
        RocCurve,
        partial_auc,
        roc_curve,
        sensitivity_at_specificity,
        sensitivity_band,
        specificity_at_sensitivity,
    )
    from dxval.stats.sample_size import (
        AucSampleSizeMethod,
        SampleSize,
        auc_sample_size_for_width,
        auc_sample_size_vs_chance,
        sensitivity_sample_size,
    )

_HOMES = {
    # The calibration function lives in ``reliability`` so that no module shadows its name.
    "BinConvention": "dxval.stats.reliability",
    "CalibrationResult": "dxval.stats.reliability",
    "ReliabilityBin": "dxval.stats.reliability",
    "calibration": "dxval.stats.reliability",
    "AucComparison": "dxval.stats.delong",
    "AucSampleSizeMethod": "dxval.stats.sample_size",
    "BinaryMetricName": "dxval.stats.bootstrap",
    "BinaryMetrics": "dxval.stats.binary",
    "BootstrapInterval": "dxval.stats.bootstrap",
    "ConfusionCounts": "dxval.stats.binary",
    "DecisionFlips": "dxval.stats.paired_score",
    "DriftResult": "dxval.stats.drift",
    "Estimate": "dxval.stats.results",
    "MarginHypothesis": "dxval.stats.results",
    "MarginTest": "dxval.stats.results",
    "McNemarMethod": "dxval.stats.paired",
    "MultiplicityMethod": "dxval.stats.multiplicity",
    "OperatingPoint": "dxval.stats.operating_point",
    "OperatingPointCriterion": "dxval.stats.operating_point",
    "PairedTable": "dxval.stats.paired",
    "PrecisionRecallCurve": "dxval.stats.precision_recall",
    "ProportionMethod": "dxval.stats.proportion",
    "RocCurve": "dxval.stats.roc",
    "SampleSize": "dxval.stats.sample_size",
    "Status": "dxval.stats.results",
    "StructuralComponents": "dxval.stats.delong",
    "TestResult": "dxval.stats.results",
    "adjust_p_values": "dxval.stats.multiplicity",
    "adjusted_confidence_level": "dxval.stats.multiplicity",
    "auc_delong": "dxval.stats.delong",
    "auc_margin_test": "dxval.stats.delong",
    "auc_sample_size_for_width": "dxval.stats.sample_size",
    "auc_sample_size_vs_chance": "dxval.stats.sample_size",
    "average_precision": "dxval.stats.precision_recall",
    "average_precision_logit": "dxval.stats.precision_recall",
    "balanced_accuracy": "dxval.stats.binary",
    "binary_metrics": "dxval.stats.binary",
    "bootstrap_auc": "dxval.stats.bootstrap",
    "bootstrap_binary_metric": "dxval.stats.bootstrap",
    "chi_square_homogeneity": "dxval.stats.drift",
    "confusion_counts": "dxval.stats.binary",
    "decision_flips": "dxval.stats.paired_score",
    "delong_paired_test": "dxval.stats.delong",
    "delong_unpaired_test": "dxval.stats.delong",
    "f1_score": "dxval.stats.binary",
    "fisher_exact_test": "dxval.stats.contingency",
    "ks_two_sample": "dxval.stats.drift",
    "likelihood_ratios": "dxval.stats.binary",
    "matthews_correlation": "dxval.stats.binary",
    "mcnemar_test": "dxval.stats.paired",
    "paired_difference": "dxval.stats.paired",
    "paired_margin_test": "dxval.stats.paired",
    "paired_table": "dxval.stats.paired",
    "partial_auc": "dxval.stats.roc",
    "population_stability_index": "dxval.stats.drift",
    "precision_recall_curve": "dxval.stats.precision_recall",
    "predictive_values_at_prevalence": "dxval.stats.binary",
    "proportion_ci": "dxval.stats.proportion",
    "psi_bin_edges": "dxval.stats.drift",
    "roc_curve": "dxval.stats.roc",
    "select_operating_point": "dxval.stats.operating_point",
    "sensitivity_at_specificity": "dxval.stats.roc",
    "sensitivity_band": "dxval.stats.roc",
    "sensitivity_sample_size": "dxval.stats.sample_size",
    "specificity_at_sensitivity": "dxval.stats.roc",
    "structural_components": "dxval.stats.delong",
    "tango_difference": "dxval.stats.paired_score",
    "wasserstein_distance": "dxval.stats.drift",
    "youden_index": "dxval.stats.binary",
}

__all__ = [
    "AucComparison",
    "AucSampleSizeMethod",
    "BinConvention",
    "BinaryMetricName",
    "BinaryMetrics",
    "BootstrapInterval",
    "CalibrationResult",
    "ConfusionCounts",
    "DecisionFlips",
    "DriftResult",
    "Estimate",
    "MarginHypothesis",
    "MarginTest",
    "McNemarMethod",
    "MultiplicityMethod",
    "OperatingPoint",
    "OperatingPointCriterion",
    "PairedTable",
    "PrecisionRecallCurve",
    "ProportionMethod",
    "ReliabilityBin",
    "RocCurve",
    "SampleSize",
    "Status",
    "StructuralComponents",
    "TestResult",
    "adjust_p_values",
    "adjusted_confidence_level",
    "auc_delong",
    "auc_margin_test",
    "auc_sample_size_for_width",
    "auc_sample_size_vs_chance",
    "average_precision",
    "average_precision_logit",
    "balanced_accuracy",
    "binary_metrics",
    "bootstrap_auc",
    "bootstrap_binary_metric",
    "calibration",
    "chi_square_homogeneity",
    "confusion_counts",
    "decision_flips",
    "delong_paired_test",
    "delong_unpaired_test",
    "f1_score",
    "fisher_exact_test",
    "ks_two_sample",
    "likelihood_ratios",
    "matthews_correlation",
    "mcnemar_test",
    "paired_difference",
    "paired_margin_test",
    "paired_table",
    "partial_auc",
    "population_stability_index",
    "precision_recall_curve",
    "predictive_values_at_prevalence",
    "proportion_ci",
    "psi_bin_edges",
    "roc_curve",
    "select_operating_point",
    "sensitivity_at_specificity",
    "sensitivity_band",
    "sensitivity_sample_size",
    "specificity_at_sensitivity",
    "structural_components",
    "tango_difference",
    "wasserstein_distance",
    "youden_index",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
