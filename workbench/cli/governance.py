"""``workbench people|projects|access|owner|dp|audit``: the admin's, requester's and owner's commands.

Each command calls the same services as the kernel API, as the user named by the environment.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from workbench.cli.common import FORMATS, add_format, comma_list, command, group, open_workspace, show


# -- people ---------------------------------------------------------------------------------------------------
def cmd_people_list(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        frame = ws.people.list()
    frame = frame.assign(roles=frame["roles"].map(",".join))
    show(frame, args.format, ["username", "name", "roles", "department", "accreditation", "accredited_until"])
    return 0


def cmd_people_add(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        person = ws.people.add(args.username, args.name, roles=comma_list(args.roles) or [], email=args.email,
                               department=args.department)
    print(f"Added {person['username']} ({', '.join(person['roles']) or 'no role'}).")
    return 0


def cmd_people_roles(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        person = ws.people.set_roles(args.username, comma_list(args.roles) or [])
    print(f"{person['username']} now has the roles {', '.join(person['roles']) or 'none'}.")
    return 0


def cmd_people_accredit(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        person = ws.people.accredit(args.username, until=args.until, status=args.status)
    until = f" until {person['accredited_until']}" if person["accredited_until"] else ""
    print(f"{person['username']}: accreditation {person['accreditation']}{until}.")
    return 0


def cmd_people_train(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        frame = ws.people.record_training(args.username, args.course, completed=args.completed, expires=args.expires)
    print(f"Recorded {args.course} for {args.username}.")
    show(frame)
    return 0


# -- projects -------------------------------------------------------------------------------------------------
def cmd_projects_list(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        show(ws.projects(), args.format, empty="No projects yet.")
    return 0


def cmd_projects_show(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        project = ws.project(args.project_id)
        grants = project.grants()
        requests = project.requests()
    print(f"{project.title}  [{project.id}]\n\n{project.purpose}\n")
    for label, value in (("Mission", project.mission), ("Status", project.status + (" (ended)" if project.ended
                                                                                      else "")),
                         ("Dates", f"{project.start} to {project.end}"), ("Legal gateway", project.legal_gateway),
                         ("Members", ", ".join(f"{u} ({r})" for u, r in sorted(project.members.items())))):
        print(f"{label:>14}: {value}")
    print("\nGrants:")
    show(grants, columns=["id", "dataset_id", "columns", "expires", "state"], empty="  none")
    print("\nRequests:")
    show(requests, columns=["id", "dataset_id", "requested_by", "status", "requested_at"], empty="  none")
    return 0


def cmd_projects_status(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        project = ws.project(args.project_id).update(status=args.status, end=args.end)
    print(f"Project {project.id} is {project.status}, {project.start} to {project.end}.")
    return 0


def cmd_projects_member(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        project = ws.project(args.project_id)
        project = project.remove_member(args.username) if args.remove else project.add_member(args.username, args.role)
    print(f"Members of {project.id}: {', '.join(f'{u} ({r})' for u, r in sorted(project.members.items()))}.")
    return 0


# -- access ---------------------------------------------------------------------------------------------------
def cmd_access_request(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        request = ws.access.request(args.project_id, args.dataset_id, comma_list(args.columns),
                                    justification=args.justification)
    print(f"Request {request['id']} for {request['dataset_id']} is pending with its owner.")
    return 0


def cmd_access_mine(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        show(ws.access.mine(), args.format, ["id", "project_id", "dataset_id", "status", "decided_by", "reason",
                                             "expires"], empty="You have no access requests.")
    return 0


# -- owner ----------------------------------------------------------------------------------------------------
def cmd_owner_requests(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        frame = ws.owner.requests(None if args.all else "pending")
    show(frame, args.format, ["id", "project_id", "dataset_id", "requested_by", "columns", "justification",
                              "status"], empty="Nothing is waiting for your decision.")
    return 0


def cmd_owner_decide(args: argparse.Namespace) -> int:
    options: dict[str, Any] = {"reason": args.reason}
    if args.decision == "approve":
        options.update(columns=comma_list(args.columns), identifiers=comma_list(args.identifiers) or (),
                       expires=args.expires, conditions=args.conditions or "", version=args.version)
    with open_workspace(args) as ws:
        result = ws.owner.decide(args.request_id, args.decision, **options)
    grant = f" as grant {result['grant_id']} until {result['expires']}" if result["grant_id"] else ""
    print(f"Request {result['id']} {result['status']}{grant}.")
    return 0


def cmd_owner_usage(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        report = ws.owner.usage(args.dataset_id)
    if args.format == "json":
        print(json.dumps({name: json.loads(getattr(report, name).to_json(orient="records", date_format="iso"))
                          for name in ("versions", "grants", "loads", "derived", "releases", "privacy")}, indent=2))
        return 0
    print(f"Usage of {report.dataset_id} (owner {report.owner})")
    for title, frame, columns in (
            ("Versions", report.versions, ["version", "current", "registered_at", "rows", "loads", "grants"]),
            ("Grants", report.grants, ["project_id", "title", "legal_gateway", "expires", "state", "version",
                                       "pinned"]),
            ("Loads by project, month and version", report.loads, None),
            ("Derived project datasets", report.derived, ["project_id", "name", "version", "created_by"]),
            ("Released outputs", report.releases, None),
            ("Privacy budget spent (differential privacy)", report.privacy, None)):
        print(f"\n{title}:")
        show(frame, columns=columns, empty="  none")
    return 0


def cmd_owner_delegate(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        delegates = ws.owner.delegate(args.dataset_id, args.username, remove=args.remove)
    print(f"Delegates for {args.dataset_id}: {', '.join(delegates) or 'none'}.")
    return 0


def cmd_owner_pin(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        ws.owner.pin(args.grant_id, None if args.current else args.version)
    print(f"Grant {args.grant_id} " + ("follows the current version." if args.current
                                       else f"pinned to version {args.version}."))
    return 0


def cmd_owner_revoke(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        ws.owner.revoke(args.grant_id, reason=args.reason)
    print(f"Grant {args.grant_id} revoked.")
    return 0


# -- differential privacy ---------------------------------------------------------------------------------------
def cmd_dp_budget(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        result = ws.dp.set_budget(args.dataset_id, args.epsilon, project=args.project, delta=args.delta)
    print(f"Privacy budget of {result['dataset_id']} for {result['scope']}: ε = {result['epsilon']:g} "
          f"({result['spent']:.4g} spent, {result['remaining']:.4g} remaining).")
    return 0


def cmd_dp_twin_budget(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        result = ws.dp.set_twin_budget(args.dataset_id, args.epsilon, per_twin=args.per_twin)
    print(f"Twin budget of {result['dataset_id']}: ε = {result['epsilon']:g} in total, {result['per_twin']:g} per "
          f"twin ({result['spent']:.4g} spent on {result['twins']} twin{'s' if result['twins'] != 1 else ''}, "
          f"{result['remaining']:.4g} remaining).")
    return 0


def cmd_dp_budgets(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        frame = ws.dp.budgets(args.dataset_id)
    show(frame, args.format, empty=f"No privacy budget is set for {args.dataset_id}: no DP query may use it.")
    return 0


# -- audit ----------------------------------------------------------------------------------------------------
def cmd_audit_verify(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        check = ws.verify_audit()
    if check.ok:
        print(f"The audit log is intact: {check.events} events, hash chain verified.")
        return 0
    print(f"The audit log is broken at event {check.first_broken}: {check.reason}", file=sys.stderr)
    return 1


def register(commands: Any) -> None:
    """Add the governance commands to the top-level subparsers."""
    people = group(commands, "people", "register people, set roles, record accreditation and training (admins)")
    command(people, "list", "everyone registered", cmd_people_list, FORMATS)
    p = command(people, "add", "register a person", cmd_people_add)
    p.add_argument("username")
    p.add_argument("name", help="full name")
    p.add_argument("--roles", required=True, help="comma-separated: analyst,output_checker,data_owner,trainer,admin")
    p.add_argument("--email")
    p.add_argument("--department", help="slug or abbreviation, e.g. DHSC")
    p = command(people, "roles", "replace a person's roles", cmd_people_roles)
    p.add_argument("username")
    p.add_argument("roles", help="comma-separated roles")
    p = command(people, "accredit", "record researcher accreditation", cmd_people_accredit)
    p.add_argument("username")
    p.add_argument("--until", help="expiry date YYYY-MM-DD (needed when accrediting)")
    p.add_argument("--status", choices=["accredited", "suspended", "revoked", "none"], default="accredited")
    p = command(people, "train", "record a completed training course", cmd_people_train)
    p.add_argument("username")
    p.add_argument("course", help="course code, e.g. safe-researcher")
    p.add_argument("--completed", required=True, help="date completed, YYYY-MM-DD")
    p.add_argument("--expires", help="date it lapses (default: three years after completion)")

    projects = group(commands, "projects", "list, show and manage projects")
    command(projects, "list", "every project", cmd_projects_list, FORMATS)
    p = command(projects, "show", "one project with its grants and requests", cmd_projects_show)
    p.add_argument("project_id")
    p = command(projects, "status", "change a project's status or end date (admins)", cmd_projects_status)
    p.add_argument("project_id")
    p.add_argument("status", nargs="?", choices=["proposed", "active", "suspended", "closed"])
    p.add_argument("--end", help="new end date YYYY-MM-DD")
    p = command(projects, "member", "add, change or remove a member (admins)", cmd_projects_member)
    p.add_argument("project_id")
    p.add_argument("username")
    p.add_argument("--role", choices=["lead", "analyst", "reviewer"], default="analyst")
    p.add_argument("--remove", action="store_true")

    access = group(commands, "access", "request data for a project and follow your requests")
    p = command(access, "request", "ask a dataset's owner for access", cmd_access_request)
    p.add_argument("project_id")
    p.add_argument("dataset_id")
    p.add_argument("--columns", help="comma-separated columns (default: all)")
    p.add_argument("--justification", required=True)
    command(access, "mine", "where my requests are", cmd_access_mine, FORMATS)

    owner = group(commands, "owner", "decide requests for your datasets and see how they are used")
    p = command(owner, "requests", "requests waiting for your decision", cmd_owner_requests, FORMATS)
    p.add_argument("--all", action="store_true", help="every request on your datasets, decided or not")
    p = command(owner, "decide", "approve or refuse a request", cmd_owner_decide)
    p.add_argument("request_id", type=int)
    p.add_argument("decision", choices=["approve", "refuse"])
    p.add_argument("--columns", help="approve only these (comma-separated)")
    p.add_argument("--identifiers", help="direct identifiers to grant, ticked explicitly (comma-separated)")
    p.add_argument("--expires", help="grant expiry YYYY-MM-DD (default: the project's end)")
    p.add_argument("--conditions", help="conditions of use")
    p.add_argument("--reason", help="why (required when refusing)")
    p.add_argument("--version", type=int, help="pin the grant to this version of the data (default: the current "
                                               "one, whichever it is)")
    p = command(owner, "usage", "who holds grants, loads over time, derived data", cmd_owner_usage)
    p.add_argument("dataset_id")
    add_format(p, ["table", "json"])
    p = command(owner, "delegate", "let someone decide requests for a dataset", cmd_owner_delegate)
    p.add_argument("dataset_id")
    p.add_argument("username")
    p.add_argument("--remove", action="store_true")
    p = command(owner, "pin", "pin a grant to one version of the data, or let it follow the current one",
                cmd_owner_pin)
    p.add_argument("grant_id", type=int)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--version", type=int, help="the version to pin the grant to (the entry lists them)")
    which.add_argument("--current", action="store_true", help="let the grant follow the current version again")
    p = command(owner, "revoke", "end a grant now", cmd_owner_revoke)
    p.add_argument("grant_id", type=int)
    p.add_argument("--reason", required=True)

    dp = group(commands, "dp", "privacy budgets of datasets for differentially private queries (owners, admins)")
    p = command(dp, "budget", "set the ε budget of a dataset, across projects or for one", cmd_dp_budget)
    p.add_argument("dataset_id")
    p.add_argument("epsilon", type=float)
    p.add_argument("--project", help="the project this budget is for (default: across all projects)")
    p.add_argument("--delta", type=float, default=0.0)
    p = command(dp, "twin-budget", "set the ε a dataset's synthetic twins may spend, in total and per twin",
                cmd_dp_twin_budget)
    p.add_argument("dataset_id")
    p.add_argument("epsilon", type=float, help="in total over every twin made (0: no new twins)")
    p.add_argument("--per-twin", type=float, help="what each new twin spends (default: as set, or 0.25)")
    p = command(dp, "budgets", "every budget of a dataset (and its twins'): ε set, spent and remaining",
                cmd_dp_budgets, FORMATS)
    p.add_argument("dataset_id")

    audit = group(commands, "audit", "check the audit log (admins)")
    command(audit, "verify", "recompute the hash chain; exit 1 at the first broken event", cmd_audit_verify)

