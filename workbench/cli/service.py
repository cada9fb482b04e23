"""``workbench serve`` and ``workbench token create|list|revoke``: the workbench as a service for many people.

The service answers the REST API only; each person calls it with their own API token, which these commands
create (shown once), list (never the token itself) and revoke, as the user named by the environment.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from workbench.cli.common import add_format, command, group, open_workspace, show

SERVICE_URL_HINT = "http://<service host>:8585/"


def cmd_token_create(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        created = ws.tokens.create(args.username, label=args.label, expires=args.expires)
    token = created["token"]
    if args.quiet:
        print(token)
        return 0
    until = f", valid through {created['expires']} (UTC)" if created["expires"] else ", valid until revoked"
    url = os.environ.get("WORKBENCH_URL") or SERVICE_URL_HINT
    print(f"Created API token {created['id']} for {created['username']} ({created['label']}{until}).\n"
          "It is shown only this once; keep it like a password (revoke it with "
          f"`workbench token revoke {created['id']} --reason ...` if it leaks).\n\n"
          f"    {token}\n\n"
          "Connect a kernel to the workbench service with it:\n\n"
          f"    export WORKBENCH_URL={url}\n"
          f"    export WORKBENCH_TOKEN={token}\n\n"
          "or call the REST API with the header `Authorization: token <token>`.")
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    import pandas as pd  # lazy: pandas is heavy and `workbench --help` needs none of it

    with open_workspace(args) as ws:
        frame = ws.tokens.list(args.username)
    if args.format == "table":
        def when(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
            return "never" if value is None or pd.isna(value) else pd.Timestamp(value).strftime(fmt)

        frame = frame.assign(expires=frame["expires"].map(lambda v: when(v, "%Y-%m-%d")),
                             created_at=frame["created_at"].map(when), last_used_at=frame["last_used_at"].map(when))
    show(frame, args.format, ["id", "username", "label", "status", "expires", "created_by", "created_at",
                              "last_used_at"], empty="No API tokens.")
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        revoked = ws.tokens.revoke(args.token_id, reason=args.reason)
    print(f"Revoked API token {revoked['id']} of {revoked['username']} ({revoked['label']}); it no longer works.")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from workbench.server.service import run  # lazy: the Jupyter server takes a second to import

    return run(args.serve_home or args.home, ip=args.ip, port=args.port, hub=args.hub, log_level=args.log_level,
               max_body_mib=args.max_body_mib)


def register(commands: Any) -> None:
    """Add ``serve`` and ``token`` to the top-level subparsers."""
    p = command(commands, "serve", "serve the workbench REST API to many people (no kernels, files or terminals)",
                cmd_serve,
                description="Serve the workspace's REST API until stopped (SIGTERM or Ctrl-C). The first line on "
                            "standard output is 'Workbench service at URL'. Standalone, people call it with their "
                            "own API token (workbench token create); with --hub, with tokens JupyterHub issues.")
    p.add_argument("--home", dest="serve_home", metavar="HOME",
                   help="the workspace folder (default: $WORKBENCH_HOME); it must exist already")
    p.add_argument("--ip", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8585; 0 picks a free one)")
    p.add_argument("--hub", action="store_true",
                   help="run as a JupyterHub service: address, prefix and identities come from the hub")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARN", "ERROR", "CRITICAL"])
    p.add_argument("--max-body-mib", type=int, metavar="MIB",
                   help="the largest request a kernel may send, DataFrames included (default 64); a larger one "
                        "is refused with 413 before it is read")

    sub = group(commands, "token", "API tokens for the workbench service")
    p = command(sub, "create", "a new token for a person (yours, or anyone's for admins); shown once", cmd_token_create)
    p.add_argument("username")
    p.add_argument("--label", required=True, help="what it is for, e.g. 'laptop kernel'")
    p.add_argument("--expires", help="last day it works, YYYY-MM-DD (default: until revoked)")
    p.add_argument("--quiet", action="store_true", help="print only the token, for scripts")
    p = command(sub, "list", "tokens of a person (default: yours; admins: everyone's), never the token",
                cmd_token_list)
    p.add_argument("username", nargs="?")
    add_format(p)
    p = command(sub, "revoke", "stop a token working now", cmd_token_revoke)
    p.add_argument("token_id", type=int)
    p.add_argument("--reason", required=True)
