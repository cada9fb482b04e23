"""``workbench lab``: start JupyterLab on the workspace, as one person's server."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from workbench.cli.common import command
from workbench.config import resolve_home
from workbench.errors import InvalidInput, WorkbenchError
from workbench.workspace import exists

TOKEN_OPTIONS = ("--ServerApp.token", "--IdentityProvider.token", "--NotebookApp.token")
"""Jupyter's own spellings of the login token; an empty one would let anyone who reaches the port in."""


def jupyter_options(args: argparse.Namespace) -> list[str]:
    """The options for JupyterLab that the person gave: ``--token``, and any Jupyter option passed through as is
    (``--ServerApp.token=x``, ``--ServerApp.base_url=/lab/``, a notebook to open ...)."""
    passed = list(getattr(args, "passed_through", []))
    tokens = [] if args.token is None else [("--token", args.token)]
    for at, word in enumerate(passed):
        name, equals, value = word.partition("=")
        if name in TOKEN_OPTIONS:  # `--ServerApp.token=VALUE` or `--ServerApp.token VALUE`
            tokens.append((name, value if equals else (passed[at + 1] if at + 1 < len(passed) else "")))
    for name, value in tokens:
        if not value.strip():
            raise InvalidInput(f"{name}: an empty token lets anyone who reaches the port act as you; give a token "
                               "(`workbench lab --token SECRET`) or leave it out for a random one.", field="token")
    return ([] if args.token is None else [f"--IdentityProvider.token={args.token}"]) + passed


def cmd_lab(args: argparse.Namespace) -> int:
    home = resolve_home(args.home)
    if not exists(home):
        raise WorkbenchError(f"No workspace at {home}; run `workbench demo` (or `workbench init`) first.")
    options = jupyter_options(args)
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
    jupyter.extend(options)
    welcome = Path("notebooks/welcome.ipynb")
    if welcome.exists() and not any(Path(word).exists() for word in options):  # unless a file to open was given
        jupyter.append(str(welcome))
    print(f"Starting JupyterLab on the workspace {home}", flush=True)
    os.execve(sys.executable, jupyter, env)
    return 0  # pragma: no cover - execve does not return


def register(commands: Any) -> None:
    """Add ``lab`` to the top-level subparsers."""
    p = command(commands, "lab", "start JupyterLab on the workspace", cmd_lab,
                usage="workbench lab [--port PORT] [--ip IP] [--no-browser] [--token TOKEN] [JUPYTER OPTION ...]",
                epilog="Any other option goes to JupyterLab as it is, e.g. `workbench lab --ServerApp.token=x "
                       "--ServerApp.base_url=/wb/`; a notebook path opens that notebook.")
    p.add_argument("--port", type=int, default=8888)
    p.add_argument("--ip", default="127.0.0.1")
    p.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    p.add_argument("--token", help="the login token (default: a random one, printed by JupyterLab)")
    p.set_defaults(passed_through=[])
