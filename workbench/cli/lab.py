"""``workbench lab``: start JupyterLab on the workspace, as one person's server."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from workbench.cli.common import command
from workbench.config import resolve_home
from workbench.errors import WorkbenchError
from workbench.workspace import exists


def cmd_lab(args: argparse.Namespace) -> int:
    home = resolve_home(args.home)
    if not exists(home):
        raise WorkbenchError(f"No workspace at {home}; run `workbench demo` (or `workbench init`) first.")
    env = {**os.environ, "WORKBENCH_HOME": str(home)}
    # One person's server: whoever holds its token is the workbench user of this environment, so the REST API
    # (and the lab panels) act as them; under JupyterHub the hub names the user instead.
    jupyter = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={Path.cwd()}",
               f"--ServerApp.port={args.port}", f"--ServerApp.ip={args.ip}",
               "--ServerApp.identity_provider_class=workbench.server.identity.WorkspaceUserIdentityProvider"]
    if args.no_browser:
        jupyter.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        jupyter.append("--allow-root")
    welcome = Path("notebooks/welcome.ipynb")
    if welcome.exists():
        jupyter.append(str(welcome))
    jupyter.extend(args.lab_args)
    print(f"Starting JupyterLab on the workspace {home}", flush=True)
    os.execve(sys.executable, jupyter, env)
    return 0  # pragma: no cover - execve does not return


def register(commands: Any) -> None:
    """Add ``lab`` to the top-level subparsers."""
    p = command(commands, "lab", "start JupyterLab on the workspace", cmd_lab)
    p.add_argument("--port", type=int, default=8888)
    p.add_argument("--ip", default="127.0.0.1")
    p.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    p.add_argument("lab_args", nargs=argparse.REMAINDER, help="further options passed to jupyter lab")
