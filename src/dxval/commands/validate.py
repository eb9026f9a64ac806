"""``dxval validate PROTOCOL`` (also the ``validate`` console script).

Runs the protocol (:func:`dxval.pipeline.run_validation`), prints the
requirements table and the bundle path on stdout (or the JSON summary with
``--json``), progress on stderr, and optionally writes JUnit XML and appends
a Markdown summary to ``$GITHUB_STEP_SUMMARY``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from dxval.errors import UsageError, exit_codes_help

if TYPE_CHECKING:
    from dxval.inference.options import InferenceOptions

#: ``--device`` choices.
DEVICES = ("cpu", "cuda", "tensorrt")
#: ``--executor`` choices (as :data:`dxval.inference.options.EXECUTORS`; importing that
#: here would import the inference package for ``dxval --help``).
EXECUTORS = ("local", "ray")


def _progress(message: str) -> None:
    print(f"validate: {message}", file=sys.stderr, flush=True)


def _write_text(path: Path, content: bytes, *, what: str, append: bool = False) -> None:
    try:
        with path.open("ab" if append else "wb") as handle:
            handle.write(content)
    except OSError as error:
        raise UsageError(f"{path}: cannot write {what} ({error.strerror})") from error


def inference_options(args: argparse.Namespace) -> InferenceOptions:
    """The run options: explicit command-line options, then ``--run-options``, then defaults."""
    from dxval.inference.options import InferenceOptions, read_run_options

    chosen = {} if args.run_options is None else read_run_options(Path(args.run_options))
    for name in ("device", "workers", "batch_size", "executor", "ray_address", "gpus_per_worker"):
        value = getattr(args, name)
        if value is not None:
            chosen[name] = value
    batch_size = chosen.get("batch_size", 16)
    if batch_size < 1:
        raise UsageError(f"--batch-size: got {batch_size}, expected a positive integer")
    workers = chosen.get("workers")
    if workers is not None and workers < 0:
        raise UsageError(f"--workers: got {workers}, expected 0 or more (0: no workers)")
    if chosen.get("device", "cpu") not in DEVICES:
        raise UsageError(f"device: got {chosen['device']!r}, expected one of " + ", ".join(DEVICES))
    inference = InferenceOptions(
        **chosen,
        use_cache=not args.no_cache,
        cache_dir=None if args.cache_dir is None else Path(args.cache_dir),
    )
    inference.check()
    return inference


def _validate(args: argparse.Namespace) -> int:
    from dxval.pipeline import run_validation
    from dxval.report.run_summaries import (
        RunSummary,
        json_summary,
        junit_xml,
        markdown_summary,
        requirements_table,
    )

    inference = inference_options(args)
    result = run_validation(
        args.protocol,
        out=args.out,
        progress=_progress,
        inference=inference,
        reports=not args.no_report,
        templates=args.templates,
    )
    run = RunSummary(
        protocol_id=result.protocol_id,
        run_id=result.run_id,
        bundle=result.bundle,
        exit_code=int(result.exit_code),
        status=result.status,
        requirements=result.requirements,
        summary=result.summary,
        cases=result.cases,
        message=result.message,
        evidence_digest=result.evidence_digest,
    )
    if args.junit is not None:
        _write_text(Path(args.junit), junit_xml(run), what="JUnit XML")
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_path:
        _write_text(
            Path(summary_path), markdown_summary(run).encode(), what="step summary", append=True
        )
    if args.json:
        print(json.dumps(json_summary(run), indent=2))
    else:
        print(requirements_table(run), end="")
    if result.message:
        print(f"validate: {result.message}", file=sys.stderr)
    return int(result.exit_code)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``validate`` subcommand."""
    parser = subparsers.add_parser(
        "validate",
        help="run a validation protocol and write its evidence bundle",
        description="Run the validation a protocol specifies: check the locks, read the "
        "cases, score them, compute every metric with its confidence interval, evaluate the "
        "acceptance criteria and write the evidence bundle to OUT/<protocol-id>/<run-id>/.",
        epilog=exit_codes_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("protocol", metavar="PROTOCOL", help="the protocol YAML file")
    parser.add_argument(
        "--out",
        default="evidence",
        metavar="DIR",
        help="evidence root folder (default: %(default)s)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the run summary as JSON on stdout"
    )
    parser.add_argument(
        "--junit", metavar="FILE", help="also write JUnit XML, one testcase per criterion"
    )
    parser.add_argument(
        "--no-report",
        action="store_true",
        help="skip rendering report.pdf/report.html (faster CI gates); "
        "`dxval report BUNDLE` renders them later",
    )
    parser.add_argument(
        "--templates",
        metavar="DIR",
        default=None,
        help="report templates used over the shipped ones (start from a copy of templates/); "
        "default: the protocol's report.templates",
    )
    model = parser.add_argument_group("model protocols (ignored for predictions protocols)")
    model.add_argument(
        "--device",
        choices=DEVICES,
        default=None,
        help="where the model runs (default: cpu)",
    )
    model.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="decode/preprocess worker processes (default: all cores; 0: in this process)",
    )
    model.add_argument(
        "--batch-size",
        type=int,
        default=None,
        metavar="N",
        help="cases per model call; never changes a score (default: 16)",
    )
    model.add_argument(
        "--executor",
        choices=EXECUTORS,
        default=None,
        help="local: decode in worker processes, score here (default); ray: decode and "
        "score on a Ray cluster (needs the extra: pip install 'dxval[ray]')",
    )
    model.add_argument(
        "--ray-address",
        metavar="ADDR",
        default=None,
        help="the Ray cluster to join (with --executor ray; default: start a local Ray "
        "with this machine's cores)",
    )
    model.add_argument(
        "--gpus-per-worker",
        type=float,
        metavar="N",
        default=None,
        help="GPUs per Ray scoring actor (with --executor ray; default: 0)",
    )
    model.add_argument(
        "--run-options",
        metavar="FILE",
        default=None,
        help="YAML file of run options (executor, ray_address, gpus_per_worker, device, "
        "workers, batch_size): where and how the run happens, never what is validated; "
        "options given on the command line win",
    )
    model.add_argument(
        "--no-cache",
        action="store_true",
        help="score every case afresh instead of reusing verified cached predictions",
    )
    model.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="prediction cache folder (default: OUT/.dxval-cache)",
    )
    parser.set_defaults(handler=_validate)
