"""Reporting checklists, item by item: CLAIM 2024, STARD 2015 and TRIPOD+AI.

Each item names the report section that addresses it (``where``, a key of
:data:`SECTIONS`) and, where the evidence can answer it, a filler key
(``fill``, see :mod:`dxval.report.views_checklists`). Items neither of which
applies are "to be completed by the manufacturer".

Item texts are short paraphrases of the published item titles, not the
published wording (CLAIM's checklist carries no open licence; the others are
paraphrased the same way for one voice). Check the item numbers against the
published lists when citing them. Sources:

* CLAIM 2024: Tejani AS, Klontzas ME, Gatti AA, et al. Checklist for
  Artificial Intelligence in Medical Imaging (CLAIM): 2024 Update. Radiol
  Artif Intell. 2024;6(4):e240300. doi:10.1148/ryai.240300 (44 items).
* STARD 2015: Bossuyt PM, Reitsma JB, Bruns DE, et al. STARD 2015: an updated
  list of essential items for reporting diagnostic accuracy studies. BMJ.
  2015;351:h5527. doi:10.1136/bmj.h5527 (30 items, 34 with sub-items). Its AI
  extension, STARD-AI (Sounderajah V, et al. Nat Med. 2025.
  doi:10.1038/s41591-025-03953-8, 40 items), is published, but its item list
  has not been transcribed here; the STARD 2015 items stand until it is.
* TRIPOD+AI: Collins GS, Moons KGM, Dhiman P, et al. TRIPOD+AI statement:
  updated guidance for reporting clinical prediction models that use
  regression or machine learning methods. BMJ. 2024;385:e078378.
  doi:10.1136/bmj-2023-078378 (27 items, 52 with sub-items).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Section key → (HTML anchor, section title as printed in the report).
SECTIONS: dict[str, tuple[str, str]] = {
    "cover": ("cover", "Cover: device and intended use"),
    "summary": ("summary", "1 Summary of results"),
    "trace": ("trace", "2 Traceability matrix"),
    "test_data": ("test-data", "3 Test data"),
    "flow": ("test-data", "3.3 Flow of cases"),
    "results": ("results", "4 Results"),
    "two_by_two": ("two-by-two", "4.1 Device decisions against the reference standard"),
    "subgroups": ("subgroups", "4.3 Sites and subgroups"),
    "calibration": ("calibration", "4.4 Calibration"),
    "failure_modes": ("failure-modes", "5 Failure-mode analysis"),
    "methods": ("methods", "6 Methods"),
    "model_input": ("model-input", "7 Model input and preprocessing"),
    "provenance": ("data-provenance", "8.1 Data provenance per test set"),
    "truth_process": ("reference-process", "8.2 Reference-standard process"),
    "independence": ("reference-process", "8.2 Independence of the test data"),
    "sample_size": ("sample-size", "8.3 Sample-size justification"),
    "reuse": ("test-set-reuse", "8.4 Test-set reuse"),
    "limitations": ("limitations", "9.1 Limitations"),
    "deviations": ("deviations", "9.2 Deviations from the protocol"),
    "model_card": ("model-card", "10 Model card"),
    "environment": ("appendix-environment", "Appendix B Software environment"),
}


@dataclass(frozen=True, slots=True)
class Item:
    """One checklist item: its ID, a paraphrase of its title, where and how it is answered."""

    id: str
    text: str
    where: str | None = None
    fill: str | None = None


@dataclass(frozen=True, slots=True)
class Checklist:
    """A published reporting checklist."""

    key: str
    name: str
    source: str
    items: tuple[Item, ...]


_MANUFACTURER = None  # readability: items only a person can answer carry no section

CLAIM_2024 = Checklist(
    key="claim",
    name="CLAIM 2024",
    source="Tejani AS, Klontzas ME, Gatti AA, et al. Radiol Artif Intell. 2024;6(4):e240300.",
    items=(
        Item("1", "Title identifies an AI study and the kind of technology", _MANUFACTURER),
        Item("2", "Summary of design, methods, results and conclusions", "summary", "outcome"),
        Item("3", "Background, intended use and role of the AI", "cover", "intended_use"),
        Item("4", "Aims, objectives and hypotheses", "summary", "requirements"),
        Item("5", "Prospective or retrospective design", "provenance"),
        Item("6", "Study goal", "summary", "study_goal"),
        Item("7", "Sources of the data", "provenance", "sites"),
        Item("8", "Inclusion and exclusion criteria", "provenance", "eligibility"),
        Item("9", "Pre-processing of the data", "model_input", "preprocessing"),
        Item("10", "Selection of subsets of the data", "provenance", "test_sets"),
        Item("11", "De-identification", "methods", "phi"),
        Item("12", "Handling of missing data", "methods", "non_evaluable"),
        Item("13", "Image acquisition protocol", "provenance", "devices"),
        Item("14", "How the reference standard was obtained", "truth_process", "reference"),
        Item("15", "Why this reference standard", _MANUFACTURER),
        Item("16", "Source and qualification of the annotators", "truth_process", "truthers"),
        Item("17", "How the test set was annotated", "truth_process", "truth_process"),
        Item("18", "Inter- and intra-rater variability", "truth_process", "agreement"),
        Item("19", "Assignment of data to partitions", "independence", "independence"),
        Item("20", "Level at which partitions are disjoint", "independence", "independence"),
        Item("21", "Intended sample size", "sample_size", "sample_size"),
        Item("22", "Description of the model (inputs, outputs, structure)", "model_input", "model"),
        Item("23", "Software libraries and frameworks", "environment", "software"),
        Item("24", "Initialisation of model parameters", _MANUFACTURER),
        Item("25", "Training approach", _MANUFACTURER),
        Item("26", "How the final model was selected", _MANUFACTURER),
        Item("27", "Ensembling", _MANUFACTURER),
        Item("28", "Performance metrics", "methods", "metrics"),
        Item("29", "Statistical significance and uncertainty", "methods", "uncertainty"),
        Item("30", "Robustness or sensitivity analysis", "subgroups", "subgroups"),
        Item("31", "Explainability or interpretability methods", _MANUFACTURER),
        Item("32", "Evaluation on internal data", _MANUFACTURER),
        Item("33", "Testing on external data", "provenance", "sites"),
        Item("34", "Clinical trial registration", _MANUFACTURER),
        Item("35", "Numbers of cases included and excluded", "flow", "flow"),
        Item("36", "Demographic and clinical characteristics per partition", "test_data", "demo"),
        Item("37", "Performance with measures of uncertainty", "results", "performance"),
        Item("38", "Diagnostic performance estimates and their precision", "results", "accuracy"),
        Item("39", "Failure analysis of misclassified cases", "failure_modes", "failures"),
        Item("40", "Limitations", "limitations", "limitations"),
        Item("41", "Implications for practice, intended use, clinical role", "cover"),
        Item("42", "Where the full protocol can be found", "trace", "protocol"),
        Item("43", "Availability of software, model and data", _MANUFACTURER),
        Item("44", "Funding and the role of funders", _MANUFACTURER),
    ),
)

STARD_2015 = Checklist(
    key="stard",
    name="STARD 2015",
    source="Bossuyt PM, Reitsma JB, Bruns DE, et al. BMJ. 2015;351:h5527.",
    items=(
        Item("1", "Identified as a diagnostic accuracy study with an accuracy measure", "summary"),
        Item("2", "Structured summary", "summary", "outcome"),
        Item(
            "3",
            "Background, intended use and clinical role of the index test",
            "cover",
            "intended_use",
        ),
        Item("4", "Objectives and hypotheses", "summary", "requirements"),
        Item(
            "5",
            "Data collection planned before (prospective) or after (retrospective)",
            "provenance",
        ),
        Item("6", "Eligibility criteria", "provenance", "eligibility"),
        Item("7", "How potentially eligible participants were identified", "provenance", "setting"),
        Item("8", "Where and when participants were identified", "provenance", "periods"),
        Item("9", "Consecutive, random or convenience series", "provenance", "setting"),
        Item("10a", "Index test in enough detail to replicate", "model_input", "model"),
        Item(
            "10b", "Reference standard in enough detail to replicate", "truth_process", "reference"
        ),
        Item("11", "Rationale for the reference standard", _MANUFACTURER),
        Item(
            "12a", "Index-test positivity threshold, pre-specified or not", "methods", "threshold"
        ),
        Item("12b", "Reference-standard positivity definition", "test_data", "truth_labels"),
        Item(
            "13a",
            "Information available to those performing the index test",
            "model_input",
            "index_blinding",
        ),
        Item(
            "13b",
            "Information available to the reference-standard assessors",
            "truth_process",
            "blinding",
        ),
        Item("14", "Methods to estimate or compare accuracy", "methods", "uncertainty"),
        Item("15", "Handling of indeterminate results", "methods", "non_evaluable"),
        Item("16", "Handling of missing data", "methods", "non_evaluable"),
        Item("17", "Analyses of variability in accuracy", "subgroups", "subgroups"),
        Item("18", "Intended sample size and how it was determined", "sample_size", "sample_size"),
        Item("19", "Flow of participants (diagram)", "flow", "flow"),
        Item("20", "Baseline demographic and clinical characteristics", "test_data", "demo"),
        Item("21a", "Severity of disease in those with the target condition", _MANUFACTURER),
        Item("21b", "Alternative diagnoses in those without the target condition", _MANUFACTURER),
        Item(
            "22", "Time and interventions between index test and reference standard", _MANUFACTURER
        ),
        Item(
            "23",
            "Index-test results cross-tabulated by reference standard",
            "two_by_two",
            "two_by_two",
        ),
        Item("24", "Accuracy estimates and their precision", "results", "accuracy"),
        Item("25", "Adverse events from the tests", _MANUFACTURER),
        Item(
            "26", "Limitations: bias, uncertainty, generalisability", "limitations", "limitations"
        ),
        Item("27", "Implications for practice", "cover"),
        Item("28", "Registration number and registry", _MANUFACTURER),
        Item("29", "Where the full protocol can be found", "trace", "protocol"),
        Item("30", "Funding and the role of funders", _MANUFACTURER),
    ),
)

TRIPOD_AI = Checklist(
    key="tripod-ai",
    name="TRIPOD+AI",
    source="Collins GS, Moons KGM, Dhiman P, et al. BMJ. 2024;385:e078378.",
    items=(
        Item("1", "Title: development or evaluation, target population, outcome", _MANUFACTURER),
        Item("2", "Abstract (TRIPOD+AI for Abstracts)", "summary", "outcome"),
        Item("3a", "Healthcare context and rationale", "cover", "intended_use"),
        Item("3b", "Target population, intended purpose and users", "cover", "intended_use"),
        Item("3c", "Known health inequalities between groups", _MANUFACTURER),
        Item("4", "Objectives: development and/or evaluation", "summary", "study_goal"),
        Item("5a", "Data sources, rationale and representativeness", "provenance", "sites"),
        Item("5b", "Dates of the collected data", "provenance", "periods"),
        Item("6a", "Setting, number and location of centres", "provenance", "sites"),
        Item("6b", "Eligibility criteria", "provenance", "eligibility"),
        Item("6c", "Treatments received and their handling", _MANUFACTURER),
        Item("7", "Data pre-processing and quality checking", "model_input", "preprocessing"),
        Item("8a", "Definition and assessment of the outcome", "truth_process", "reference"),
        Item("8b", "Qualifications of outcome assessors", "truth_process", "truthers"),
        Item("8c", "Blinding of outcome assessment", "truth_process", "blinding"),
        Item("9a", "Choice of initial predictors", _MANUFACTURER),
        Item("9b", "Definition and measurement of predictors", "model_input", "model"),
        Item("9c", "Qualifications of predictor assessors", _MANUFACTURER),
        Item("10", "Sample size and its justification", "sample_size", "sample_size"),
        Item("11", "Handling of missing data", "methods", "non_evaluable"),
        Item("12a", "How the data were used and partitioned", "independence", "independence"),
        Item("12b", "Handling of predictors in the analyses", "model_input", "preprocessing"),
        Item("12c", "Model type, building steps, tuning, internal validation", _MANUFACTURER),
        Item("12d", "Heterogeneity across clusters (sites)", "subgroups", "subgroups"),
        Item("12e", "Performance measures and plots", "methods", "metrics"),
        Item("12f", "Model updating after evaluation", "model_card", "update_plan"),
        Item("12g", "How predictions were calculated in the evaluation", "model_input", "model"),
        Item("13", "Class imbalance methods", _MANUFACTURER),
        Item("14", "Approaches to model fairness", "subgroups", "subgroups"),
        Item("15", "Model output and classification thresholds", "methods", "threshold"),
        Item(
            "16",
            "Differences between development and evaluation data",
            "independence",
            "independence",
        ),
        Item("17", "Ethics approval and consent", _MANUFACTURER),
        Item("18a", "Funding", _MANUFACTURER),
        Item("18b", "Conflicts of interest", _MANUFACTURER),
        Item("18c", "Where the protocol can be accessed", "trace", "protocol"),
        Item("18d", "Registration", _MANUFACTURER),
        Item("18e", "Availability of the study data", _MANUFACTURER),
        Item("18f", "Availability of the analytical code", "environment", "software"),
        Item("19", "Patient and public involvement", _MANUFACTURER),
        Item("20a", "Flow of participants with and without the outcome", "flow", "flow"),
        Item("20b", "Characteristics overall and per data source", "test_data", "demo"),
        Item("20c", "Comparison with the development data", _MANUFACTURER),
        Item("21", "Participants and events in each analysis", "results", "counts"),
        Item("22", "Full model specification and access", "model_input", "model"),
        Item(
            "23a",
            "Performance with confidence intervals, incl. subgroups",
            "results",
            "performance",
        ),
        Item("23b", "Heterogeneity of performance across clusters", "subgroups", "subgroups"),
        Item("24", "Results of model updating", "model_card", "update_plan"),
        Item("25", "Overall interpretation, incl. fairness", "summary", "outcome"),
        Item("26", "Limitations", "limitations", "limitations"),
        Item("27a", "Handling of poor-quality or unavailable input", "methods", "non_evaluable"),
        Item("27b", "User interaction and expertise required", _MANUFACTURER),
        Item("27c", "Next steps for research, applicability", _MANUFACTURER),
    ),
)

CHECKLISTS = (CLAIM_2024, STARD_2015, TRIPOD_AI)
