"""Methods and appendix views: pre-specified settings, methods with references, software.

The method of every estimate is the text recorded with it in
``metrics.json``; references are attached by matching that text against a
fixed table (:data:`REFERENCES`). Software versions come from
``environment.json`` (IEC 62304 SOUP record: every installed distribution
with its version).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dxval.evidence.format import BundleData, EstimateRecord, PopulationRecord
from dxval.report import formatting as fmt
from dxval.report.elements import Field, population_anchor
from dxval.report.insufficiency import Insufficiency, insufficiency
from dxval.report.views_limitations import deviations_summary

#: (text found in a recorded method, reference) — first matches listed first.
REFERENCES: tuple[tuple[str, str], ...] = (
    (
        "Wilson score",
        "Wilson EB. Probable inference, the law of succession, and statistical inference. "
        "J Am Stat Assoc. 1927;22:209-212.",
    ),
    (
        "continuity",
        "Newcombe RG. Two-sided confidence intervals for the single proportion: comparison "
        "of seven methods. Stat Med. 1998;17:857-872.",
    ),
    (
        "Clopper",
        "Clopper CJ, Pearson ES. The use of confidence or fiducial limits illustrated in the "
        "case of the binomial. Biometrika. 1934;26:404-413.",
    ),
    (
        "Agresti",
        "Agresti A, Coull BA. Approximate is better than 'exact' for interval estimation of "
        "binomial proportions. Am Stat. 1998;52:119-126.",
    ),
    (
        "Jeffreys",
        "Brown LD, Cai TT, DasGupta A. Interval estimation for a binomial proportion. "
        "Stat Sci. 2001;16:101-133.",
    ),
    (
        "DeLong",
        "DeLong ER, DeLong DM, Clarke-Pearson DL. Comparing the areas under two or more "
        "correlated receiver operating characteristic curves: a nonparametric approach. "
        "Biometrics. 1988;44:837-845.",
    ),
    (
        "Sun & Xu",
        "Sun X, Xu W. Fast implementation of DeLong's algorithm for comparing the areas under "
        "correlated receiver operating characteristic curves. IEEE Signal Process Lett. "
        "2014;21:1389-1393.",
    ),
    (
        "bootstrap",
        "Efron B, Tibshirani RJ. An Introduction to the Bootstrap. Chapman & Hall; 1993.",
    ),
    (
        "ci.se",
        "Robin X, Turck N, Hainard A, et al. pROC: an open-source package for R and S+ to "
        "analyze and compare ROC curves. BMC Bioinformatics. 2011;12:77.",
    ),
    ("Youden", "Youden WJ. Index for rating diagnostic tests. Cancer. 1950;3:32-35."),
    (
        "Takahashi",
        "Takahashi K, Yamamoto K, Kuchiba A, Koyama T. Confidence interval for micro-averaged "
        "F1 and macro-averaged F1 scores. Appl Intell. 2022;52:4961-4972.",
    ),
    (
        "Simel",
        "Simel DL, Samsa GP, Matchar DB. Likelihood ratios with confidence: sample size "
        "estimation for diagnostic test studies. J Clin Epidemiol. 1991;44:763-770.",
    ),
    (
        "Mercaldo",
        "Mercaldo ND, Lau KF, Zhou XH. Confidence intervals for predictive values with an "
        "emphasis to case-control studies. Stat Med. 2007;26:2170-2183.",
    ),
    (
        "Cox 1958",
        "Cox DR. Two further applications of a model for binary regression. "
        "Biometrika. 1958;45:562-565.",
    ),
    (
        "Brier",
        "Brier GW. Verification of forecasts expressed in terms of probability. "
        "Mon Weather Rev. 1950;78:1-3.",
    ),
    (
        "ECE",
        "Naeini MP, Cooper GF, Hauskrecht M. Obtaining well calibrated probabilities using "
        "Bayesian binning. Proc AAAI Conf Artif Intell. 2015;29:2901-2907.",
    ),
    ("Fisher", "Agresti A. Categorical Data Analysis. 3rd ed. Wiley; 2013. Section 3.5."),
    (
        "holm",
        "Holm S. A simple sequentially rejective multiple test procedure. "
        "Scand J Stat. 1979;6:65-70.",
    ),
    ("bonferroni", "Dunn OJ. Multiple comparisons among means. J Am Stat Assoc. 1961;56:52-64."),
)
GENERAL_REFERENCES = (
    "Bossuyt PM, Reitsma JB, Bruns DE, et al. STARD 2015: an updated list of essential items "
    "for reporting diagnostic accuracy studies. BMJ. 2015;351:h5527.",
    "U.S. Food and Drug Administration. Statistical Guidance on Reporting Results from "
    "Studies Evaluating Diagnostic Tests. March 13, 2007.",
)
METHOD_NAMES = {
    "wilson": "Wilson score",
    "wilson_cc": "Wilson score with continuity correction",
    "clopper_pearson": "Clopper-Pearson (exact)",
    "agresti_coull": "Agresti-Coull",
    "jeffreys": "Jeffreys",
    "delong": "DeLong",
    "logit": "logit (Boyd, Eng & Page 2013)",
    "bootstrap": "bootstrap",
    "percentile": "percentile",
    "bca": "bias-corrected and accelerated (BCa)",
    "holm": "Holm",
    "bonferroni": "Bonferroni",
    "none": "none",
}
KEY_DISTRIBUTIONS = (
    "dxval",
    "numpy",
    "scipy",
    "pandas",
    "pydantic",
    "pydicom",
    "onnxruntime",
    "torch",
    "matplotlib",
    "jinja2",
    "weasyprint",
)


@dataclass(frozen=True, slots=True)
class MethodRow:
    """A metric, the method recorded with it, and reference numbers."""

    metric: str
    method: str
    references: str


@dataclass(frozen=True, slots=True)
class MethodsView:
    """The methods section."""

    settings: tuple[Field, ...]
    methods: tuple[MethodRow, ...]
    handling: str
    failure_method: str
    references: tuple[str, ...]
    software: tuple[Field, ...]
    determinism: tuple[str, ...]
    deviations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MetricLine:
    """One metric of one population in the full tables (method: see the methods table)."""

    metric: str
    estimate: str
    count: str
    note: str


@dataclass(frozen=True, slots=True)
class PopulationTable:
    """Every metric of one population."""

    label: str
    counts: str
    anchor: str
    lines: tuple[MetricLine, ...]


@dataclass(frozen=True, slots=True)
class SoupRow:
    """One runtime distribution of the run with its licence (from dxval's SOUP list)."""

    name: str
    version: str
    licence: str


@dataclass(frozen=True, slots=True)
class AppendixView:
    """The appendix: full metric tables and the environment / SOUP summary."""

    populations: tuple[PopulationTable, ...]
    environment: tuple[Field, ...]
    distributions: tuple[tuple[str, str], ...]
    soup: tuple[SoupRow, ...] = ()
    outside: str = ""


def _name(setting: str) -> str:
    """Readable name of a protocol setting value (``wilson`` → ``Wilson score``)."""
    return METHOD_NAMES.get(setting, setting)


def _settings(bundle: BundleData) -> tuple[Field, ...]:
    settings = bundle.metrics.settings
    prevalence = settings.get("prevalence")
    bins = settings.get("calibration_bins")
    return (
        Field("Operating point", f"score ≥ {settings['operating_point']:g} is a positive call"),
        Field("Confidence level", fmt.level_text(settings["confidence_level"]) + ", two-sided"),
        Field("Proportion intervals", _name(settings["proportion_method"])),
        Field("ROC AUC interval", _name(settings["auc_method"])),
        # bundles written before the choice existed bootstrapped average precision
        Field("Average precision interval", _name(settings.get("ap_method", "bootstrap"))),
        Field(
            "Bootstrap",
            f"{settings['bootstrap_replicates']} replicates, seed {settings['bootstrap_seed']}, "
            f"{_name(settings['bootstrap_interval'])} interval, stratified by truth and site",
        ),
        Field("Multiplicity", _name(settings["multiplicity"])),
        Field("Prevalence for PPV/NPV", fmt.DASH if prevalence is None else f"{prevalence:g}"),
        Field("Calibration", "not requested" if bins is None else f"{bins} equal-width bins"),
        Field(
            "Minimum cell size",
            f"{settings['minimum_positives']} positive and "
            f"{settings['minimum_negatives']} negative cases",
        ),
    )


def _reference_numbers(method: str, numbered: dict[str, int]) -> str:
    keys = [key for key, _ in REFERENCES if key.lower() in method.lower()]
    return ", ".join(f"[{numbered[key]}]" for key in keys)


def _methods(bundle: BundleData) -> tuple[tuple[MethodRow, ...], tuple[str, ...]]:
    overall = bundle.metrics.population("all") or bundle.metrics.populations[0]
    texts = [(name, record.method) for name, record in overall.metrics.items()]
    band = next((r.band for r in bundle.metrics.roc_curves or [] if r.band is not None), None)
    if band is not None:
        texts.append(("ROC band", band.method))
    settings = bundle.metrics.settings
    method = str(settings["multiplicity"])
    texts.append(
        (
            "failure modes",
            "Fisher exact, each group against the rest; p-values adjusted across groups "
            f"({fmt.multiplicity_name(method)})",
        )
    )
    texts.append(("criteria over K populations", fmt.interval_adjustment(method)))
    used = [
        key for key, _ in REFERENCES if any(key.lower() in method.lower() for _, method in texts)
    ]
    numbered = {key: index for index, key in enumerate(used, start=1)}
    rows = tuple(
        MethodRow(name, method, _reference_numbers(method, numbered)) for name, method in texts
    )
    references = tuple(text for key, text in REFERENCES if key in numbered)
    return rows, references + GENERAL_REFERENCES


def _handling(bundle: BundleData) -> str:
    handlings = sorted(
        {
            criterion.non_evaluable
            for requirement in bundle.criteria.requirements
            for criterion in requirement.criteria
        }
    )
    return (
        "Non-evaluable cases are counted in every case flow and in failed_fraction. Metrics "
        "are computed on the evaluable cases; criteria use the handling the protocol states "
        f"({', '.join(handlings)}); metrics.json also holds sensitivity and specificity with "
        "every non-evaluable case counted as a negative call and as a positive call (FDA 2007 "
        "statistical guidance, equivocal results)."
    )


def _software(bundle: BundleData) -> tuple[Field, ...]:
    environment = bundle.environment
    distributions: dict[str, str] = environment.get("distributions", {})
    lower = {name.lower(): version for name, version in distributions.items()}
    python = environment.get("python", {})
    fields = [Field("Python", f"{python.get('version')} ({python.get('implementation')})")]
    fields += [Field(name, lower[name]) for name in KEY_DISTRIBUTIONS if name in lower]
    return tuple(fields)


def _runner_threads(runner: dict[str, Any]) -> str:
    """``onnxruntime: intra-op threads 2, inter-op threads 1, ...`` from a runner's record."""
    threads = runner.get("threads")
    if not isinstance(threads, dict) or not threads:
        return ""
    names = {
        "intra_op_num_threads": "intra-op threads",
        "inter_op_num_threads": "inter-op threads",
        "execution_mode": "execution mode",
        "intra_op_allow_spinning": "spinning",
    }
    parts = [f"{names.get(key, key.replace('_', ' '))} {value}" for key, value in threads.items()]
    return f"{runner.get('name', 'runner')}: {', '.join(parts)}"


def _thread_lines(runtime: dict[str, Any]) -> list[str]:
    """What the runner recorded about threads: each runner's settings, the executor, and the
    thread environment variables (those set, then those not set)."""
    lines = []
    runners = runtime.get("runners")
    for runner in runners if isinstance(runners, list) else []:
        if isinstance(runner, dict) and (text := _runner_threads(runner)):
            lines.append(f"Threads, {text}")
    executor = runtime.get("executor")
    if isinstance(executor, dict) and executor.get("name"):
        workers = executor.get("workers")
        start = executor.get("start_method")
        lines.append(
            f"Executor: {executor['name']}"
            + (f", {fmt.plural(int(workers), 'worker')}" if isinstance(workers, int) else "")
            + (f" ({start})" if start else "")
        )
    variables = runtime.get("threads")
    if isinstance(variables, dict):
        set_variables = [f"{k}={v}" for k, v in variables.items() if v is not None]
        unset = [k for k, v in variables.items() if v is None]
        text = ", ".join(set_variables) if set_variables else "none set"
        if set_variables and unset:
            text += f"; not set: {', '.join(unset)}"
        elif unset:
            text += f" ({', '.join(unset)})"
        lines.append(f"Thread environment variables: {text}")
    return lines


def _runtime_lines(runtime: dict[str, Any]) -> list[str]:
    lines = _thread_lines(runtime)
    onnx = runtime.get("onnxruntime")
    if isinstance(onnx, dict) and onnx.get("available"):
        providers = ", ".join(onnx.get("providers", []))
        lines.append(f"ONNX Runtime {onnx.get('version')} on {onnx.get('device')} ({providers})")
    torch = runtime.get("torch")
    if isinstance(torch, dict) and torch.get("loaded"):
        lines.append("PyTorch: " + ", ".join(f"{k}={v}" for k, v in sorted(torch.items())))
    return lines


def _determinism(bundle: BundleData) -> tuple[str, ...]:
    settings = bundle.metrics.settings
    lines = [
        f"Every resampling interval is seeded (seed {settings['bootstrap_seed']}, "
        f"{settings['bootstrap_replicates']} replicates); metrics.json and criteria.json "
        "contain no time or host and are identical on a rerun with the same inputs.",
        f"The protocol ran as pinned: protocol SHA-256 {bundle.run.protocol.sha256}; model or "
        "predictions and every test set are locked by SHA-256 (lock.json).",
    ]
    runtime = bundle.environment.get("runtime")
    if isinstance(runtime, dict):
        lines += _runtime_lines(runtime)
    return tuple(lines)


def _deviations(bundle: BundleData) -> tuple[str, ...]:
    run, cases = bundle.run, bundle.metrics.cases
    lines = [deviations_summary(bundle)]  # issue 14: the protocol's recorded deviations
    if cases["non_evaluable"]:
        lines.append(
            f"{cases['non_evaluable']} of {cases['total']} cases were non-evaluable "
            "(reasons in the case flow)."
        )
    undefined = bundle.criteria.summary.get("undefined", 0)
    if undefined:
        lines.append(f"{undefined} criterion/criteria could not be evaluated (verdict UNDEFINED).")
    if run.message:
        lines.append(run.message)
    return tuple(lines)


def build_methods(bundle: BundleData) -> MethodsView:
    """The methods section: settings, methods with references, software, determinism."""
    methods, references = _methods(bundle)
    return MethodsView(
        settings=_settings(bundle),
        methods=methods,
        handling=_handling(bundle),
        failure_method=bundle.metrics.failure_modes.method,
        references=references,
        software=_software(bundle),
        determinism=_determinism(bundle),
        deviations=_deviations(bundle),
    )


def _metric_line(name: str, record: EstimateRecord) -> MetricLine:
    return MetricLine(
        metric=name,
        estimate=fmt.estimate_text(record) if record.estimate is not None else fmt.UNDEFINED,
        count=fmt.fraction(record) if record.numerator is not None else str(record.n),
        note=record.reason or "",
    )


def _population_table(population: PopulationRecord, flags: Insufficiency) -> PopulationTable:
    counts = (
        f"{fmt.plural(population.cases, 'case')}, {population.evaluable} evaluable "
        f"({population.positives} positive, {population.negatives} negative)"
    )
    short = flags.short_classes(population, "auc")  # the classes below the minimum
    if short:
        counts += (
            f"; below the protocol's minimum of {flags.minimum_positives} positive and "
            f"{flags.minimum_negatives} negative cases ({' and '.join(short)}): estimates that "
            "need that class are marked † in section 4.3"
        )
    return PopulationTable(
        label=population.label,
        counts=counts,
        anchor=population_anchor(population.key),
        lines=tuple(_metric_line(name, record) for name, record in population.metrics.items()),
    )


def _commit_text(environment: dict[str, Any]) -> str:
    """The commit dxval was built from, as ``environment.json`` records it."""
    if "dxval_source" not in environment:
        return "not recorded (environment.json written before dxval recorded its commit)"
    source = environment["dxval_source"]
    if not isinstance(source, dict) or not source.get("commit"):
        return "not known (installed from a release distribution without VCS information)"
    text = f"{source['commit']} (from {source.get('from')})"
    if source.get("modified"):
        text += "; the source tree had uncommitted changes to tracked files"
    return text


def _environment(bundle: BundleData) -> tuple[Field, ...]:
    environment = bundle.environment
    platform = environment.get("platform", {})
    cpu = environment.get("cpu", {})
    runtime = environment.get("runtime") or {}
    runtime_cpu = runtime.get("cpu", {}) if isinstance(runtime, dict) else {}
    gpus = runtime.get("gpus", {}) if isinstance(runtime, dict) else {}
    devices = gpus.get("devices", []) if isinstance(gpus, dict) else []
    return (
        Field("dxval", str(environment.get("dxval"))),
        Field("dxval commit", _commit_text(environment)),
        Field("Operating system", str(platform.get("description"))),
        Field(
            "CPU",
            f"{runtime_cpu.get('model') or cpu.get('processor') or fmt.DASH}, "
            f"{cpu.get('count')} logical cores",
        ),
        Field("GPU", ", ".join(str(d.get("name", d)) for d in devices) if devices else "none"),
        Field("Python executable", str(environment.get("python", {}).get("executable"))),
    )


def _normal_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _licences() -> dict[str, tuple[str, str]]:
    """Licence and version of each item of the SOUP list shipped with this dxval, by name."""
    from dxval.errors import DxvalError
    from dxval.qms.soup import load_soup, packaged_soup_path

    try:
        soup = load_soup(packaged_soup_path())
    except DxvalError:
        return {}
    return {_normal_name(item.name): (item.licence, item.version) for item in soup.items}


def _soup_rows(distributions: dict[str, Any]) -> tuple[SoupRow, ...]:
    """The run's runtime distributions with the licence dxval's SOUP list records for them."""
    licences = _licences()
    rows = []
    for name, version in distributions.items():
        licence, listed = licences.get(_normal_name(str(name)), ("", ""))
        if str(name).lower() == "dxval":
            licence = "this software"
        elif not licence:
            licence = "not in dxval's SOUP list"
        elif listed != str(version):
            licence += f" (SOUP list: version {listed})"
        rows.append(SoupRow(str(name), str(version), licence))
    return tuple(rows)


def build_appendix(bundle: BundleData) -> AppendixView:
    """The appendix: every metric of every population, and the software environment.

    The SOUP table lists the run's runtime dependency closure
    (``environment.json`` ``distributions``: development tools are not part of
    a run) with each licence as dxval's shipped SOUP list records it.
    """
    distributions = bundle.environment.get("distributions", {})
    outside = bundle.environment.get("loaded_outside_dependencies") or {}
    flags = insufficiency(bundle)
    return AppendixView(
        populations=tuple(_population_table(p, flags) for p in bundle.metrics.populations),
        environment=_environment(bundle),
        distributions=tuple((str(k), str(v)) for k, v in distributions.items()),
        soup=_soup_rows(distributions),
        outside=", ".join(f"{name} {version}" for name, version in outside.items()),
    )
