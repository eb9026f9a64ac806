"""The ``dxval`` and ``validate`` console scripts.

Thin by design: parse the command line, call one library function through a
subcommand handler, and map :class:`~dxval.errors.DxvalError` to its exit
code. A user's mistake prints one line on stderr, never a traceback; any other
exception is a bug (exit 70), reported with the path of the saved traceback.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import pkgutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence

from dxval import __version__, commands
from dxval.dicom.notes import install_guard
from dxval.errors import DxvalError, ExitCode, exit_codes_help

Handler = Callable[[argparse.Namespace], int]

EXIT_CODES_HELP = exit_codes_help()


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that reports usage errors with dxval's exit code 2 and one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        raise SystemExit(_fail(f"{self.prog}: {message}", ExitCode.USAGE))


def _fail(message: str, code: ExitCode) -> int:
    print(f"dxval: error: {message}", file=sys.stderr)
    return int(code)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Build the ``dxval`` parser with every subcommand found in :mod:`dxval.commands`.

    With ``only`` (a subcommand's module name), import and register that one
    alone: a command then does not pay for importing every other command's
    libraries at start-up (``dxval mrmc`` needs neither matplotlib nor pydicom).
    """
    parser = _ArgumentParser(
        prog="dxval",
        description="Validate a medical-imaging AI model against a pre-specified protocol "
        "and write traceable regulatory evidence.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"dxval {__version__}")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_ArgumentParser
    )
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if only is not None and module_info.name != only:
            continue
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        module.register(subparsers)
    return parser


#: OS errors that come from the machine (full or read-only disk, permissions, quota,
#: failing device), not from a bug of dxval: exit 2 with one line, no traceback.
ENVIRONMENT_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.EIO,
        errno.EFBIG,
        errno.EMFILE,
        errno.ENFILE,
    }
)


def _save_traceback() -> str:
    """Write the current exception's traceback to a file and return its path."""
    folder = os.environ.get("DXVAL_CRASH_DIR") or tempfile.gettempdir()
    path = os.path.join(folder, f"dxval-crash-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.txt")
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(f"dxval {__version__}\n{' '.join(sys.argv)}\n\n")
            traceback.print_exc(file=handle)
    except OSError:
        traceback.print_exc()
        return "(could not save; printed above)"
    return path


def _named_command(arguments: list[str]) -> str | None:
    """The module of the subcommand named first on the command line, if it is one."""
    if not arguments or arguments[0].startswith("-"):
        return None
    name = arguments[0].replace("-", "_")
    known = {module_info.name for module_info in pkgutil.iter_modules(commands.__path__)}
    return name if name in known else None


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``dxval`` with ``argv`` (default: the process arguments); return the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = _named_command(arguments)
    parser = build_parser() if command is None else build_parser(command)
    try:
        args = parser.parse_args(arguments)
    except SystemExit as exit_request:
        return int(exit_request.code or 0)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return int(ExitCode.USAGE)
    install_guard()  # library warnings may quote DICOM values: print reason codes only
    return _run_handler(handler, args)


def _run_handler(handler: Handler, args: argparse.Namespace) -> int:
    """Call ``handler`` and map what it raises onto dxval's exit codes."""
    try:
        return handler(args)
    except DxvalError as error:
        return _fail(error.message, error.exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted", ExitCode.USAGE)
    except BrokenPipeError:
        # The reader of stdout went away (``dxval ... | head``): not an error of
        # dxval's. Point stdout at /dev/null so the interpreter's final flush
        # does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return int(ExitCode.OK)
    except OSError as error:
        return _os_error(error)
    except Exception as error:  # any other exception is a bug: exit 70, traceback saved
        return _internal(error)


def _os_error(error: OSError) -> int:
    """Exit 2 with one line for a full/read-only disk or a permission error; else a bug (70)."""
    if error.errno not in ENVIRONMENT_ERRNOS:
        return _internal(error)
    where = f"{error.filename}: " if error.filename else ""
    return _fail(
        f"{where}input/output failed ({error.strerror}; a problem of this machine's files or "
        "disks, not of dxval: free space or fix permissions and run again)",
        ExitCode.USAGE,
    )


def _internal(error: BaseException) -> int:
    """Exit 70 for a bug: message plus the saved traceback's path."""
    path = _save_traceback()
    return _fail(
        f"internal error ({type(error).__name__}: {error}); traceback saved to {path}",
        ExitCode.INTERNAL,
    )


def validate_main(argv: Sequence[str] | None = None) -> int:
    """The ``validate`` console script: the same as ``dxval validate``."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    return main(["validate", *arguments])


def run() -> None:
    """Entry point used by ``python -m dxval``."""
    sys.exit(main())


def validate_run() -> None:
    """Entry point of the ``validate`` console script."""
    sys.exit(validate_main())
