"""Subcommands of the ``dxval`` command line.

Each module here defines ``register(subparsers)``, which adds one subcommand
(or a group) whose parser sets ``handler``: a function taking the parsed
arguments and returning an exit code. :mod:`dxval.cli` discovers the modules,
so adding a command never edits a shared list. Handlers only parse options,
call one library function and print its result; errors are raised as
:class:`dxval.errors.DxvalError` and mapped to exit codes by the CLI.
"""

from __future__ import annotations

import argparse
import math

from dxval.data.limits import MAX_BOOTSTRAP_REPLICATES


def confidence_level(text: str) -> float:
    """argparse type: a confidence level strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected a number in (0, 1)")
    return value


def finite_number(text: str) -> float:
    """argparse type: a finite number (thresholds, effect sizes)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"got {text!r}, expected a finite number")
    return value


def bootstrap_replicates(text: str) -> int:
    """argparse type: 0 (no bootstrap) or a replicate count within the documented limit."""
    if not text.isdigit() or not (int(text) == 0 or 2 <= int(text) <= MAX_BOOTSTRAP_REPLICATES):
        raise argparse.ArgumentTypeError(
            f"got {text!r}, expected 0 (no bootstrap) or an integer from 2 to "
            f"{MAX_BOOTSTRAP_REPLICATES}"
        )
    return int(text)


def seed(text: str) -> int:
    """argparse type: a non-negative integer seed."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"got {text!r}, expected a non-negative integer")
    return int(text)


def add_case_bootstrap_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--confidence-level``, ``--bootstrap-replicates`` and ``--seed`` (case bootstrap)."""
    parser.add_argument(
        "--confidence-level", type=confidence_level, default=0.95, metavar="L",
        help="two-sided confidence level (default 0.95)",
    )  # fmt: skip
    parser.add_argument(
        "--bootstrap-replicates", type=bootstrap_replicates, default=2000, metavar="N",
        help="bootstrap replicates over cases (default 2000)",
    )  # fmt: skip
    parser.add_argument("--seed", type=seed, default=20261126, metavar="N", help="bootstrap seed")
