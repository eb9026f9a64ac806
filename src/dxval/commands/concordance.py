"""``dxval concordance PROTOCOL --against X``: the same cases scored twice, and what changed.

Runs the protocol's locked model over its test sets, then the counterpart
named by ``--against`` (another device, another runtime, or another artifact
such as an int8-quantised build), and writes per-case score differences,
decisions that flip at the operating point, and the AUC / sensitivity /
specificity differences with their paired tests
(:func:`dxval.pipeline.concordance.run_concordance`).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def _concordance(args: argparse.Namespace) -> int:
    # Imported here: the protocol, DICOM and stats layers are not needed for `dxval --help`.
    from dxval.inference import InferenceOptions
    from dxval.inference.options import default_batch_size
    from dxval.pipeline.concordance import parse_against, run_concordance
    from dxval.pipeline.concordance_plan import plan_inference

    plan = plan_inference(args.protocol)
    counterpart = parse_against(
        args.against,
        plan.model,
        device=args.device,
        against_device=args.against_device,
        against_sha256=args.against_sha256,
    )
    output = Path(args.output) if args.output else Path("concordance") / plan.protocol_id
    cache_dir = (
        Path(args.cache_dir) if args.cache_dir else plan.protocol_path.parent / ".dxval-cache"
    )
    run = run_concordance(
        plan.model,
        counterpart,
        plan.loader,
        plan.cases,
        plan.truth,
        output=output,
        preprocessing_digest=plan.preprocessing_digest,
        options=InferenceOptions(
            device=args.device,
            workers=args.workers,
            batch_size=(
                default_batch_size(args.device) if args.batch_size is None else args.batch_size
            ),
            threads=args.threads,
            use_cache=not args.no_cache,
            cache_dir=cache_dir,
            progress=not args.quiet,
        ),
    )
    print(run.result.summary())
    print(f"per-case differences: {run.table_path}")
    print(f"summary: {run.summary_path}")
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected an integer >= 1") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"got {value}, expected an integer >= 1")
    return value


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected an integer >= 0") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"got {value}, expected an integer >= 0")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``concordance`` subcommand."""
    parser = subparsers.add_parser(
        "concordance",
        help="score the same cases twice (CPU vs GPU, ONNX vs TorchScript, fp32 vs int8) "
        "and report differences and decision flips",
        description="Run the protocol's locked model over its test sets, then the same cases "
        "with the counterpart named by --against, and write per-case absolute score "
        "differences, decisions that flip at the operating point, and the AUC (DeLong, paired), "
        "sensitivity and specificity (McNemar) differences.",
    )
    parser.add_argument("protocol", metavar="PROTOCOL", help="the protocol YAML file")
    parser.add_argument(
        "--against",
        required=True,
        metavar="RUNNER_OR_DEVICE_OR_ARTIFACT",
        help="cpu | cuda | tensorrt (same artifact, other device); onnxruntime | torch (same "
        "artifact, other runtime); or a model file, optionally RUNTIME:PATH",
    )
    parser.add_argument(
        "--against-device",
        default=None,
        help="device of the comparison artifact (default: --device)",
    )
    parser.add_argument(
        "--against-sha256", default=None, help="pinned SHA-256 of the comparison artifact"
    )
    parser.add_argument("--device", default="cpu", help="reference device (default: cpu)")
    parser.add_argument(
        "--workers",
        type=_workers,
        default=None,
        help="decode worker processes (default: all cores)",
    )
    parser.add_argument(
        "--batch-size",
        type=_positive_int,
        default=None,
        help="cases per model call (default: 16 on cpu, 64 on a GPU)",
    )
    parser.add_argument(
        "--threads", type=_positive_int, default=None, help="runtime threads (default: all cores)"
    )
    parser.add_argument(
        "--output",
        default=None,
        metavar="DIR",
        help="output folder (default: concordance/<protocol id>)",
    )
    parser.add_argument(
        "--cache-dir",
        default=None,
        metavar="DIR",
        help="prediction cache (default: .dxval-cache beside the protocol)",
    )
    parser.add_argument("--no-cache", action="store_true", help="score every case afresh")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(handler=_concordance)
