"""``workbench catalogue search|show|import|export|draft|register``: find, read and exchange catalogue entries, and
register a dataset with its data from a file or a database."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from workbench.cli.common import add_format, command, group, open_workspace, show

NO_MATCH = "No entries match."


def cmd_search(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        frame = ws.catalogue.search(" ".join(args.text), department=args.department, mission=args.mission,
                                    theme=args.theme, security_classification=args.classification,
                                    access_rights=args.access, limit=args.limit)
    frame = frame.assign(missions=frame["missions"].map(lambda m: ",".join(map(str, m))))
    show(frame, args.format, ["id", "title", "department", "missions", "access_rights", "rows"], empty=NO_MATCH)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
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
                             ("Legal gateways", ", ".join(r.get("legalGateway", [])) or "none"),
                             ("Data held", entry.storage_summary or "no data")):
            print(f"{label:>15}: {value}")
        if r.get("columns"):
            print()
            show(entry.schema, "table", ["name", "type", "role", "completeness"], empty=NO_MATCH)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        for path in args.files:
            for result in ws.catalogue.import_file(path, kind=args.kind, dataset_id=args.id):
                print(f"{result['action']} {result['kind']} {result['id']} (from {path})")
                for warning in result.get("warnings", []):
                    print(f"warning: {result['id']}: {warning}", file=sys.stderr)
    return 0


def _source(args: argparse.Namespace) -> Any:
    """``--data`` (a path, or an SQLAlchemy URL with ``--table`` or ``--query``) as what the catalogue reads."""
    from workbench.catalogue.sources import Source  # lazy: DuckDB and friends load only for commands that read data

    if args.table is not None or args.query is not None:
        return Source.database(args.data, table=args.table, query=args.query)
    return args.data


def cmd_draft(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        text = ws.catalogue.draft(_source(args))
    if args.output:
        out = Path(args.output)
        if out.exists() and not args.force:
            print(f"error: {out} exists; give --force to replace it, or another -o.", file=sys.stderr)
            return 2
        out.write_text(text, encoding="utf-8")
        print(f"Wrote {out}: complete its '<TO COMPLETE: ...>' fields and check each column's type and role, then "
              f"`workbench catalogue register {out} --data ...`.")
    else:
        print(text, end="")
    return 0


def cmd_register(args: argparse.Namespace) -> int:
    from workbench.catalogue.service import read_entry  # lazy, as in _source

    if args.data is None and (args.table is not None or args.query is not None):
        print("error: --table and --query say what to read from the database URL given as --data.", file=sys.stderr)
        return 2
    record = read_entry(args.entry)
    with open_workspace(args) as ws:
        entry = ws.catalogue.register(record, data=_source(args) if args.data is not None else None,
                                      dataset_id=args.id, mode=args.mode)
    rows = entry.record.get("rowCount")
    where = " in place (nothing copied)" if args.mode == "in-place" else ""
    print(f"registered {entry.id}{where}" + (f" with {rows:,} rows" if rows is not None and args.data else ""))
    for warning in entry.warnings:
        print(f"warning: {entry.id}: {warning}", file=sys.stderr)
    return 0


def _data_options(p: argparse.ArgumentParser, required: bool) -> None:
    p.add_argument("--data", required=required, metavar="SOURCE",
                   help="a CSV file, a Parquet file or folder of Parquet files, or an SQLAlchemy database URL "
                        "(with --table or --query; a password is best kept in ~/.pgpass, not on the command line)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--table", help="with a database URL: the table to read, 'name' or 'schema.name'")
    which.add_argument("--query", help="with a database URL: one read-only SELECT (or WITH ... SELECT) to read")


def cmd_export(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        text = ws.catalogue.export(args.dataset_id)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"Wrote {args.output}")
    else:
        print(text)
    return 0


def register(commands: Any) -> None:
    """Add ``catalogue`` and its actions to the top-level subparsers."""
    sub = group(commands, "catalogue", "search, show, import, export, draft and register catalogue entries",
                dest="action",
                metavar="ACTION")
    p = command(sub, "search", "ranked free-text search with filters", cmd_search)
    p.add_argument("text", nargs="*", help="words to search for (none: list everything)")
    p.add_argument("--department", help="slug or abbreviation, e.g. DHSC")
    p.add_argument("--mission", type=int, choices=range(1, 6), help="mission number 1-5")
    p.add_argument("--theme", help="theme label or URI, e.g. Health")
    p.add_argument("--classification", help="security classification, e.g. OFFICIAL")
    p.add_argument("--access", help="access rights: OPEN, INTERNAL or COMMERCIAL")
    p.add_argument("--limit", type=int, default=50, help="at most this many results (default 50)")
    add_format(p)

    p = command(sub, "show", "show one entry", cmd_show)
    p.add_argument("dataset_id", help="local dataset id, e.g. dhsc.hes_apc")
    add_format(p, ["text", "yaml", "json", "jsonld"])

    p = command(sub, "import", "import YAML (UK metadata model) or DCAT JSON-LD files", cmd_import,
                description="Import catalogue records. Each file is imported whole or not at all; "
                            "a record whose identifier is already catalogued updates that entry.")
    p.add_argument("files", nargs="+", help=".yaml/.yml or .jsonld/.json files")
    p.add_argument("--kind", choices=["Dataset", "Distribution", "ContactPoint"],
                   help="what the files describe (default: from their type field)")
    p.add_argument("--id", help="local dataset id for a file holding one dataset")

    p = command(sub, "export", "export DCAT 3 JSON-LD of one entry or the whole catalogue", cmd_export)
    p.add_argument("dataset_id", nargs="?", help="local dataset id (default: the whole catalogue)")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")

    p = command(sub, "draft", "draft an entry (UK metadata model YAML) from the data, for its owner to complete",
                cmd_draft, description="Profile the data and write an entry skeleton: columns with types, categories "
                                       "for text with few values, suggested roles and the period date columns "
                                       "cover. Fields only the owner knows are '<TO COMPLETE: ...>'; registering "
                                       "refuses the entry until each is completed.")
    _data_options(p, required=True)
    p.add_argument("-o", "--output", help="write to this file instead of standard output")
    p.add_argument("--force", action="store_true", help="replace the --output file if it exists")

    p = command(sub, "register", "register one dataset entry (YAML), its data copied into the vault or read in place",
                cmd_register, description="Register (or update, by identifier) the dataset an entry file describes. "
                                          "With --data the data is checked against its columns, streamed into the "
                                          "vault as Parquet, and its rows and completeness computed; nothing is "
                                          "registered if anything is refused.")
    p.add_argument("entry", help="a .yaml file holding one dataset entry (e.g. from `workbench catalogue draft`)")
    _data_options(p, required=False)
    p.add_argument("--id", help="local dataset id (default: the entry's localId, or made from its identifier)")
    p.add_argument("--mode", choices=["copy", "in-place"], default="copy",
                   help="copy: stream the data into the vault (default); in-place: check and measure it but leave "
                        "it at its source, read at each load (a database's login is kept in the workspace's "
                        "protected credentials, never shown)")
