"""dxval.stats: pure statistical functions over numpy arrays, frozen results.

Imports only numpy and scipy. Truth arrays are booleans (True = positive),
scores finite floats, and a positive call is score ≥ threshold. Every result
says how it was made (method, confidence level, n) and reports a quantity that
does not exist as ``Status.UNDEFINED`` with a reason, never as NaN.
"""

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
from dxval.stats.calibration import BinConvention, CalibrationResult, ReliabilityBin, calibration
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
from dxval.stats.multiplicity import MultiplicityMethod, adjust_p_values, adjusted_confidence_level
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
from dxval.stats.results import Estimate, MarginHypothesis, MarginTest, Status, TestResult
from dxval.stats.roc import (
    RocCurve,
    partial_auc,
    roc_curve,
    sensitivity_at_specificity,
    specificity_at_sensitivity,
)
from dxval.stats.sample_size import (
    AucSampleSizeMethod,
    SampleSize,
    auc_sample_size_for_width,
    auc_sample_size_vs_chance,
    sensitivity_sample_size,
)

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
    "sensitivity_sample_size",
    "specificity_at_sensitivity",
    "structural_components",
    "tango_difference",
    "wasserstein_distance",
    "youden_index",
]
