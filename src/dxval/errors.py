"""Errors that reach the user, each carrying its documented exit code.

The exit codes are stable and documented in the README and ``dxval --help``:

====  ==============================================================
code  meaning
====  ==============================================================
0     run complete, every acceptance criterion met
1     run complete, at least one criterion not met (evidence written)
2     usage error, invalid protocol, unreadable input, input past a documented
      limit, output that cannot be written (disk full, read-only, permissions)
3     integrity: lock mismatch, or ``verify`` found a changed file
4     run incomplete: failed cases beyond the protocol's QC tolerance
70    internal error (a bug): message plus where the traceback was saved
====  ==============================================================

A crash must never look like a failed gate, and a failed gate never like a
crash: only :class:`DxvalError` subclasses map to codes 2-4; anything else is
an internal error (70).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes of every dxval command."""

    OK = 0
    CRITERIA_NOT_MET = 1
    USAGE = 2
    INTEGRITY = 3
    INCOMPLETE = 4
    INTERNAL = 70


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
