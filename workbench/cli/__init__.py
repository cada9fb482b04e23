"""The ``workbench`` command: the top-level parser and ``main``; each command group registers its own
subcommands (``workspace``: init and demo; ``catalogue``; ``governance``: people, projects, access, owner, dp
and audit; ``review``: output checking; ``service``: serve and API tokens; ``lab``), with what they share in
``common``.

Errors print one clear line on stderr and exit with status 1 (2 for a malformed command line).
"""

from __future__ import annotations

import argparse
import os
import sys

from workbench.cli import catalogue, governance, lab, review, service, workspace
from workbench.errors import WorkbenchError

GROUPS = (workspace, catalogue, governance, review, service, lab)
"""The command groups, in the order ``workbench --help`` lists their commands."""


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: ``--home`` and every group's commands."""
    parser = argparse.ArgumentParser(
        prog="workbench", description="Analyst workbench and trusted research environment.")
    parser.add_argument("--home", help="workspace folder (default: $WORKBENCH_HOME or ./.workbench)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit status (a refusal prints one line and exits 1)."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not hasattr(args, "passed_through"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if hasattr(args, "passed_through"):  # `workbench lab --ServerApp.token=x`: options of the program it starts
        args.passed_through = [word for word in extra if word != "--"]
    try:
        return args.func(args)
    except WorkbenchError as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`workbench ... | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
