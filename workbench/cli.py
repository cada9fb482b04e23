"""The ``workbench`` command: create workspaces, build the demo, use the catalogue, start JupyterLab
(people, projects, access, owner and audit commands are in ``cli_governance``; output checking in ``cli_review``;
the service and its API tokens in ``cli_service``).

Errors print one clear line on stderr and exit with status 1 (2 for a malformed command line).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError


def _connect(args: argparse.Namespace, create: bool = False) -> Any:
    from workbench.workspace import connect

    return connect(args.home, create=create)


def cmd_init(args: argparse.Namespace) -> int:
    from workbench.config import current_user, resolve_home
    from workbench.workspace import exists

    home = resolve_home(args.home)
    if exists(home):
        raise WorkbenchError(f"A workspace already exists at {home}; use it, or choose another --home.")
    with _connect(args, create=True) as ws:
        name = args.name or current_user()
        ws.people.add(ws.user, name, roles=["admin"])
        print(f"Created a workspace at {ws.home}; {ws.user} is its admin.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from workbench.demo import build_demo

    summary = build_demo(args.home, persons=args.scale, seed=args.seed, force=args.force,
                         progress=None if args.quiet else lambda message: print(message, flush=True))
    print(summary)
    return 0


def _print_frame(frame: Any, fmt: str, columns: list[str] | None = None) -> None:
    if fmt == "json":
        print(frame.to_json(orient="records", indent=2, date_format="iso"))
    elif fmt == "csv":
        frame.to_csv(sys.stdout, index=False)
    else:
        import pandas as pd

        shown = frame[columns] if columns else frame
        if shown.empty:
            print("No entries match.")
            return
        with pd.option_context("display.max_colwidth", 60, "display.width", 200):
            print(shown.to_string(index=False))


def cmd_search(args: argparse.Namespace) -> int:
    with _connect(args) as ws:
        frame = ws.catalogue.search(" ".join(args.text), department=args.department, mission=args.mission,
                                    theme=args.theme, security_classification=args.classification,
                                    access_rights=args.access, limit=args.limit)
    frame = frame.assign(missions=frame["missions"].map(lambda m: ",".join(map(str, m))))
    _print_frame(frame, args.format, ["id", "title", "department", "missions", "access_rights", "rows"])
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with _connect(args) as ws:
        entry = ws.catalogue[args.dataset_id]
    if args.format == "yaml":
        print(entry.to_yaml(), end="")
    elif args.format == "jsonld":
        print(entry.to_jsonld())
    elif args.format == "json":
        print(json.dumps(entry.record, indent=2))
    else:
        r = entry.record
        print(f"{r['title']}  [{entry.id}]\n")
        for warning in entry.warnings:
            print(f"warning: {warning}\n")
        print(r["description"], "\n")
        for label, value in (("Identifier", r["identifier"]), ("Department", entry.department_name),
                             ("Data owner", f"{entry.owner_name} ({entry.owner})" if entry.owner else "unassigned"),
                             ("Missions", ", ".join(map(str, r.get("mission", []))) or "none"),
                             ("Access rights", r["accessRights"]),
                             ("Classification", r["securityClassification"]),
                             ("Rows", r.get("rowCount", "unknown")), ("Updated", r["updateFrequency"]),
                             ("Legal gateways", ", ".join(r.get("legalGateway", [])) or "none")):
            print(f"{label:>15}: {value}")
        if r.get("columns"):
            print()
            _print_frame(entry.schema, "table", ["name", "type", "role", "completeness"])
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    with _connect(args) as ws:
        for path in args.files:
            for result in ws.catalogue.import_file(path, kind=args.kind, dataset_id=args.id):
                print(f"{result['action']} {result['kind']} {result['id']} (from {path})")
                for warning in result.get("warnings", []):
                    print(f"warning: {result['id']}: {warning}", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    with _connect(args) as ws:
        text = ws.catalogue.export(args.dataset_id)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"Wrote {args.output}")
    else:
        print(text)
    return 0


def cmd_lab(args: argparse.Namespace) -> int:
    from workbench.config import resolve_home
    from workbench.workspace import exists

    home = resolve_home(args.home)
    if not exists(home):
        raise WorkbenchError(f"No workspace at {home}; run `workbench demo` (or `workbench init`) first.")
    env = {**os.environ, "WORKBENCH_HOME": str(home)}
    # One person's server: whoever holds its token is the workbench user of this environment, so the REST API
    # (and the lab panels) act as them; under JupyterHub the hub names the user instead.
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={Path.cwd()}",
               f"--ServerApp.port={args.port}", f"--ServerApp.ip={args.ip}",
               "--ServerApp.identity_provider_class=workbench.server.identity.WorkspaceUserIdentityProvider"]
    if args.no_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    welcome = Path("notebooks/welcome.ipynb")
    if welcome.exists():
        command.append(str(welcome))
    command.extend(args.lab_args)
    print(f"Starting JupyterLab on the workspace {home}", flush=True)
    os.execve(sys.executable, command, env)
    return 0  # pragma: no cover - execve does not return


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench", description="Analyst workbench and trusted research environment.")
    parser.add_argument("--home", help="workspace folder (default: $WORKBENCH_HOME or ./.workbench)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("init", help="create an empty workspace with you as its admin")
    p.add_argument("--name", help="your full name (default: your user name)")
    p.set_defaults(func=cmd_init)

    p = commands.add_parser("demo", help="build a demo workspace of synthetic departments and datasets")
    p.add_argument("--scale", type=int, default=200_000, metavar="PERSONS",
                   help="size of the synthetic population (default 200000; up to 5000000)")
    p.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    p.add_argument("--force", action="store_true", help="rebuild an existing demo workspace from scratch")
    p.add_argument("--quiet", action="store_true", help="print only the summary")
    p.set_defaults(func=cmd_demo)

    catalogue = commands.add_parser("catalogue", help="search, show, import and export catalogue entries")
    sub = catalogue.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = sub.add_parser("search", help="ranked free-text search with filters")
    p.add_argument("text", nargs="*", help="words to search for (none: list everything)")
    p.add_argument("--department", help="slug or abbreviation, e.g. DHSC")
    p.add_argument("--mission", type=int, choices=range(1, 6), help="mission number 1-5")
    p.add_argument("--theme", help="theme label or URI, e.g. Health")
    p.add_argument("--classification", help="security classification, e.g. OFFICIAL")
    p.add_argument("--access", help="access rights: OPEN, INTERNAL or COMMERCIAL")
    p.add_argument("--limit", type=int, default=50, help="at most this many results (default 50)")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("show", help="show one entry")
    p.add_argument("dataset_id", help="local dataset id, e.g. dhsc.hes_apc")
    p.add_argument("--format", choices=["text", "yaml", "json", "jsonld"], default="text")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("import", help="import YAML (UK metadata model) or DCAT JSON-LD files",
                       description="Import catalogue records. Each file is imported whole or not at all; "
                                   "a record whose identifier is already catalogued updates that entry.")
    p.add_argument("files", nargs="+", help=".yaml/.yml or .jsonld/.json files")
    p.add_argument("--kind", choices=["Dataset", "Distribution", "ContactPoint"],
                   help="what the files describe (default: from their type field)")
    p.add_argument("--id", help="local dataset id for a file holding one dataset")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="export DCAT 3 JSON-LD of one entry or the whole catalogue")
    p.add_argument("dataset_id", nargs="?", help="local dataset id (default: the whole catalogue)")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")
    p.set_defaults(func=cmd_export)

    from workbench.cli_governance import add_commands
    from workbench.cli_review import add_commands as add_review_commands
    from workbench.cli_service import add_commands as add_service_commands

    add_commands(commands, ["table", "csv", "json"])
    add_review_commands(commands, ["table", "csv", "json"])
    add_service_commands(commands, ["table", "csv", "json"])

    p = commands.add_parser("lab", help="start JupyterLab on the workspace")
    p.add_argument("--port", type=int, default=8888)
    p.add_argument("--ip", default="127.0.0.1")
    p.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    p.add_argument("lab_args", nargs=argparse.REMAINDER, help="further options passed to jupyter lab")
    p.set_defaults(func=cmd_lab)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
