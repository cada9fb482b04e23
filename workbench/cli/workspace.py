"""``workbench init`` and ``workbench demo``: create a workspace, empty or full of synthetic demo data."""

from __future__ import annotations

import argparse
from typing import Any

from workbench.cli.common import command, open_workspace
from workbench.config import current_user, resolve_home
from workbench.demo import build_demo
from workbench.errors import WorkbenchError
from workbench.workspace import exists


def cmd_init(args: argparse.Namespace) -> int:
    home = resolve_home(args.home)
    if exists(home):
        raise WorkbenchError(f"A workspace already exists at {home}; use it, or choose another --home.")
    with open_workspace(args, create=True) as ws:
        name = args.name or current_user()
        ws.people.add(ws.user, name, roles=["admin"])
        print(f"Created a workspace at {ws.home}; {ws.user} is its admin.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    summary = build_demo(args.home, persons=args.scale, seed=args.seed, force=args.force,
                         progress=None if args.quiet else lambda message: print(message, flush=True))
    print(summary)
    return 0


def register(commands: Any) -> None:
    """Add ``init`` and ``demo`` to the top-level subparsers."""
    p = command(commands, "init", "create an empty workspace with you as its admin", cmd_init)
    p.add_argument("--name", help="your full name (default: your user name)")

    p = command(commands, "demo", "build a demo workspace of synthetic departments and datasets", cmd_demo)
    p.add_argument("--scale", type=int, default=200_000, metavar="PERSONS",
                   help="size of the synthetic population (default 200000; up to 5000000)")
    p.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    p.add_argument("--force", action="store_true", help="rebuild an existing demo workspace from scratch")
    p.add_argument("--quiet", action="store_true", help="print only the summary")
