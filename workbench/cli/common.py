"""What every ``workbench`` command group shares: opening the workspace, printing tables, declaring subcommands.

The command groups import this module and nothing of each other, so each group reads on its own.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from workbench.workspace import Workspace, connect

FORMATS = ("table", "csv", "json")
"""How a command that lists things may print them (``--format``); the first is the default."""

Command = Callable[[argparse.Namespace], int]


def open_workspace(args: argparse.Namespace, create: bool = False) -> Workspace:
    """The workspace at ``--home`` (or ``$WORKBENCH_HOME``), as the user named by the environment."""
    return connect(args.home, create=create)


def show(frame: Any, fmt: str = "table", columns: list[str] | None = None, empty: str = "Nothing to show.") -> None:
    """Print a DataFrame as JSON records, CSV, or a readable table of ``columns`` (``empty`` when it has no rows)."""
    if fmt == "json":
        print(frame.to_json(orient="records", indent=2, date_format="iso"))
    elif fmt == "csv":
        frame.to_csv(sys.stdout, index=False)
    elif frame.empty:
        print(empty)
    else:
        import pandas as pd  # lazy: pandas is heavy and `workbench --help` needs none of it

        shown = frame[columns] if columns else frame
        with pd.option_context("display.max_colwidth", 60, "display.width", 200):
            print(shown.to_string(index=False))


def comma_list(text: str | None) -> list[str] | None:
    """``"a, b,"`` -> ``["a", "b"]``; None for no text."""
    return [part.strip() for part in text.split(",") if part.strip()] if text else None


def group(commands: Any, name: str, text: str, *, dest: str = "sub", metavar: str = "COMMAND") -> Any:
    """Add the command ``name`` whose subcommands follow it (``workbench NAME COMMAND ...``); its subparsers."""
    return commands.add_parser(name, help=text).add_subparsers(dest=dest, required=True, metavar=metavar)


def command(sub: Any, name: str, text: str, func: Command, formats: Sequence[str] | None = None,
            **options: Any) -> argparse.ArgumentParser:
    """Add the subcommand ``name`` that runs ``func``, with ``--format`` first among its options when given."""
    p = sub.add_parser(name, help=text, **options)
    p.set_defaults(func=func)
    if formats:
        add_format(p, formats)
    return p


def add_format(p: argparse.ArgumentParser, formats: Sequence[str] = FORMATS) -> None:
    """``--format`` with these choices, the first one the default."""
    p.add_argument("--format", choices=list(formats), default=formats[0])
