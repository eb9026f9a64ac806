"""The metric vocabulary: every metric name dxval computes, defined once.

The protocol's ``metric:`` choices (:data:`dxval.protocol.MetricName`), the
analysis (:mod:`dxval.analysis.metrics`), the protocol checks and ``dxval
metrics`` all derive their lists from these tuples, so a name cannot be
accepted by one layer and unknown to another.
"""

from __future__ import annotations

__all__ = [
    "ALL_METRICS",
    "CALIBRATION_METRICS",
    "CRITERION_METRICS",
    "DECISION_METRICS",
    "DETECTION_METRICS",
    "DIFFERENCE_METRICS",
    "LATENCY_METRICS",
    "PRECISION_METRICS",
    "RANKING_METRICS",
    "READER_STUDY_METRICS",
    "RESAMPLED_DECISION_METRICS",
    "RUN_METRICS",
    "SEGMENTATION_METRICS",
    "SEGMENTATION_STATISTICS",
]

#: Metrics of the decisions at the operating point (positive ⇔ score ≥ threshold).
DECISION_METRICS = (
    "sensitivity",
    "specificity",
    "ppv",
    "npv",
    "accuracy",
    "balanced_accuracy",
    "f1",
    "mcc",
    "youden_j",
    "lr_positive",
    "lr_negative",
    "ppv_at_prevalence",
    "npv_at_prevalence",
)
#: Decision metrics that :func:`~dxval.stats.bootstrap_binary_metric` resamples.
RESAMPLED_DECISION_METRICS = DECISION_METRICS[:9]
#: Threshold-free metrics of the scores' ranking.
RANKING_METRICS = ("auc", "average_precision")
#: Calibration of probability scores.
CALIBRATION_METRICS = ("brier", "log_loss", "ece", "calibration_slope", "calibration_intercept")
#: Properties of the run rather than of the scores.
RUN_METRICS = ("failed_fraction",)
#: Every metric computed for a population of the standalone cases, in report order.
ALL_METRICS = (*DECISION_METRICS, *RANKING_METRICS, *CALIBRATION_METRICS, *RUN_METRICS)
#: Metrics of the protocol's reader study (``reader_study:``), each the reader-averaged
#: test − reference difference over readers and cases (:mod:`dxval.stats.mrmc`).
READER_STUDY_METRICS = (
    "mrmc_auc_difference",
    "mrmc_sensitivity_difference",
    "mrmc_specificity_difference",
)
#: Lesion- and case-level metrics of a ``task: detection`` protocol
#: (:data:`dxval.stats.detection.DETECTION_STATISTICS`, same names and order).
DETECTION_METRICS = (
    "lesion_sensitivity",
    "fp_per_image",
    "fp_per_normal_image",
    "froc_cpm",
    "afroc_fom",
    "wafroc_fom",
    "case_sensitivity",
    "case_specificity",
)
#: Per-case, per-structure metrics of a ``task: segmentation`` protocol
#: (:data:`dxval.stats.segmentation.SEGMENTATION_METRICS`, same names and order).
SEGMENTATION_METRICS = ("dice", "iou", "hd", "hd95", "assd", "nsd", "volume_difference_ml")
#: How a segmentation criterion summarises the per-case values of a population.
SEGMENTATION_STATISTICS = ("mean", "median")
#: Paired differences candidate − reference on the same cases; a criterion on one names
#: its reference with ``against:`` (a comparator model, issue 13). ``flip_fraction`` is
#: the share of cases whose call differs between the two.
DIFFERENCE_METRICS = (
    "auc_difference",
    "sensitivity_difference",
    "specificity_difference",
    "flip_fraction",
)
#: Precision of the scores over repeated acquisitions (protocol ``precision:``, issue 19):
#: within-group SD, ICC(1,1)/(2,1)/(3,1), and decision agreement across the repeats.
PRECISION_METRICS = (
    "within_group_sd",
    "icc1_1",
    "icc2_1",
    "icc3_1",
    "all_agree_fraction",
    "fleiss_kappa",
)
#: Per-case wall time of a model run, in seconds (protocol ``latency:``, issue 19): the
#: nearest-rank 50th and 95th percentiles and the maximum over the cases timed in the run,
#: on the hardware and for the stage the protocol states (:mod:`dxval.stats.quantile`).
LATENCY_METRICS = ("latency_p50", "latency_p95", "latency_max")
#: Every metric a protocol criterion may name: the standalone ones, the reader study's, the
#: detection and segmentation tasks' (which task admits which: dxval.protocol.tasks), the
#: paired differences, precision over repeated acquisitions, then latency.
CRITERION_METRICS = (
    *ALL_METRICS,
    *READER_STUDY_METRICS,
    *DETECTION_METRICS,
    *SEGMENTATION_METRICS,
    *DIFFERENCE_METRICS,
    *PRECISION_METRICS,
    *LATENCY_METRICS,
)
