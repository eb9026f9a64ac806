"""Errors that reach the user, each carrying its documented exit code.

The exit codes are stable. :data:`EXIT_CODE_MEANINGS` is the one table of
them: ``dxval --help`` and ``validate --help`` print it
(:func:`exit_codes_help`) and a test keeps the README's table equal to it.

A crash must never look like a failed gate, and a failed gate never like a
crash: only :class:`DxvalError` subclasses map to codes 2-4; anything else is
an internal error (70).
"""

from __future__ import annotations

import textwrap
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes of every dxval command."""

    OK = 0
    CRITERIA_NOT_MET = 1
    USAGE = 2
    INTEGRITY = 3
    INCOMPLETE = 4
    INTERNAL = 70


#: What each exit code means (Markdown: the README's table shows it verbatim).
EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "run complete, every acceptance criterion met",
    ExitCode.CRITERIA_NOT_MET: (
        "run complete, at least one criterion not met or undefined (evidence written)"
    ),
    ExitCode.USAGE: (
        "usage error, invalid protocol, unreadable input, input past a documented limit, "
        "output that cannot be written (disk full, read-only, permissions); nothing written"
    ),
    ExitCode.INTEGRITY: (
        "integrity: a pinned digest differs (nothing written), or `verify` found a changed, "
        "missing or extra file or a broken audit chain"
    ),
    ExitCode.INCOMPLETE: (
        "run incomplete: non-evaluable cases beyond `qc.max_failed_fraction` "
        "(evidence written, marked incomplete)"
    ),
    ExitCode.INTERNAL: "internal error (a bug): message plus where the traceback was saved",
}


def exit_codes_help() -> str:
    """The exit-code table as a ``--help`` epilog: plain text, wrapped at 79 columns."""
    lines = ["exit codes:"]
    for code, meaning in EXIT_CODE_MEANINGS.items():
        text = f"  {int(code):<3} {meaning.replace('`', '')}"
        lines.append(textwrap.fill(text, width=79, subsequent_indent=" " * 6))
    return "\n".join(lines) + "\n"


class DxvalError(Exception):
    """Base of every error that is the user's to fix; never shown with a traceback."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(DxvalError):
    """Wrong command-line use: a bad option value, a missing file argument."""

    exit_code = ExitCode.USAGE


class InputError(DxvalError):
    """Input data that cannot be used: a missing column, a non-numeric score."""

    exit_code = ExitCode.USAGE


class ProtocolError(DxvalError):
    """An invalid validation protocol; the message names file, line and field."""

    exit_code = ExitCode.USAGE


class IntegrityError(DxvalError):
    """A pinned digest differs, or an evidence bundle was changed."""

    exit_code = ExitCode.INTEGRITY


class IncompleteRunError(DxvalError):
    """Failed cases exceed the protocol's QC tolerance; evidence is marked incomplete."""

    exit_code = ExitCode.INCOMPLETE
