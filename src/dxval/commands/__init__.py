"""Subcommands of the ``dxval`` command line.

Each module here defines ``register(subparsers)``, which adds one subcommand
(or a group) whose parser sets ``handler``: a function taking the parsed
arguments and returning an exit code. :mod:`dxval.cli` discovers the modules,
so adding a command never edits a shared list. Handlers only parse options,
call one library function and print its result; errors are raised as
:class:`dxval.errors.DxvalError` and mapped to exit codes by the CLI.
"""
