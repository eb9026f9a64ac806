"""``dxval qms soup`` and ``dxval qms check``: dxval's own quality records in ``qms/``."""

from __future__ import annotations

import argparse

from dxval.stats.wording import plural


def _soup(args: argparse.Namespace) -> int:
    from dxval.qms.soup import write_soup

    soup = write_soup(args.pyproject, args.out)
    direct = sum(1 for item in soup.items if item.requirement is not None)
    print(
        f"{args.out}: {len(soup.items)} SOUP items ({direct} declared, "
        f"{len(soup.items) - direct} transitive); dependencies sha256 {soup.dependencies_sha256}"
    )
    return 0


def _check(args: argparse.Namespace) -> int:
    from dxval.qms.check import qms_problems

    problems = qms_problems(args.qms, tests=args.tests, pyproject=args.pyproject)
    for problem in problems:
        print(problem)
    print(
        f"{args.qms}: {plural(len(problems), 'problem')}" if problems else f"{args.qms}: consistent"
    )
    return 1 if problems else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``qms`` command group with ``soup`` and ``check``."""
    parser = subparsers.add_parser(
        "qms",
        help="dxval's own quality records: regenerate the SOUP list, check the records",
        description="Maintain dxval's quality records (requirements, risks, SOUP list).",
    )
    actions = parser.add_subparsers(dest="qms_command", metavar="ACTION", required=True)
    soup = actions.add_parser(
        "soup",
        help="regenerate the SOUP list from pyproject.toml and the installed distributions",
        description="Write the SOUP list (IEC 62304 8.1.2): every runtime dependency and its "
        "runtime dependencies as installed, with version, licence, purpose, risk class and "
        "verification, and the digest of pyproject.toml's dependency list.",
    )
    soup.add_argument("--pyproject", default="pyproject.toml", help="(default: %(default)s)")
    soup.add_argument("--out", default="qms/soup.yaml", help="(default: %(default)s)")
    soup.set_defaults(handler=_soup)
    check = actions.add_parser(
        "check",
        help="check requirements, risks, test links and the SOUP list (exit 1 on a problem)",
        description="Check that requirements are in EARS wording, risk controls name known "
        "requirements, every requirement has a test marked @pytest.mark.req and every marker "
        "a known requirement, and the SOUP list matches pyproject.toml. Exit 0 when "
        "consistent, 1 when a problem is found.",
    )
    check.add_argument("--qms", default="qms", help="records folder (default: %(default)s)")
    check.add_argument("--tests", default="tests", help="test folder (default: %(default)s)")
    check.add_argument("--pyproject", default="pyproject.toml", help="(default: %(default)s)")
    check.set_defaults(handler=_check)
