"""``workbench review queue|show|decide|conclude|release``: output checking from a terminal.

The same services as ``ws.review`` in a notebook, as the user named by the environment.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from workbench.cli.common import FORMATS, add_format, command, group, open_workspace, show
from workbench.outputs.provenance_view import blocked_lines, provenance_lines
from workbench.outputs.released import output_text, request_text


def cmd_review_queue(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        frame = ws.review.queue()
    show(frame, args.format, empty="Nothing is waiting for output checking.")
    return 0


def _number(value: Any) -> str:
    return "–" if value is None else f"{value:,.4g}"


def cmd_review_show(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        detail = ws.review.show(args.request_id)
    if args.format == "json":
        print(json.dumps(detail, indent=2, default=str))
        return 0
    request, needed = detail["request"], detail["reviews_required"]
    print(f"{request['title']}  [request {request['id']}, project {request['project_id']}, {request['status']}]\n")
    for line in blocked_lines(detail.get("blocked")):
        print(line)
    for key, value in request["context"].items():
        print(f"{key:>12}: {value}")
    for problem in detail["text_check"]:
        print(f"TEXT SCREENING: {problem}")
    print("\nReleased with the request:\n" + request_text(detail["released"]))
    for output in detail["outputs"]:
        print(f"\nOutput {output['id']}: {output['name']} ({output['kind']}, {output['method']}, by "
              f"{output['author']}) — {output['summary']}")
        for line in provenance_lines(output.get("provenance")):
            print(f"  {line}")
        aids = output["aids"]
        if aids:
            share = aids["share_divisible_by_5"]
            print(f"  min {_number(aids['min'])} · min excluding zero {_number(aids['min_excluding_zero'])} · max "
                  f"{_number(aids['max'])} · sum {_number(aids['sum'])} · share divisible by 5 "
                  + ("–" if share is None else f"{share:.0%}"))
        for line in output["explain"].splitlines()[1:]:
            print(f"  {line}")
        for warning in output["warnings"]:
            print(f"  WARNING: {warning}")
        if output["files"]:
            print(f"  files: {', '.join(output['files'])}")
        print(f"  reviews: {output['reviews_in']} of {needed}" + ("" if output["reviews_in"] >= needed
                                                                 else " (others' are hidden until all are in)"))
        for review in output["reviews"]:
            print(f"    {review['reviewer']}: {review['decision']}" + (f" — {review['comment']}"
                                                                       if review["comment"] else ""))
        for problem in output["text_check"]:
            print(f"  TEXT SCREENING: {problem}")
        print("  Released with this output (every field of results.json and manifest.json):")
        print("\n".join(f"    {line}" for line in output_text(output["released"]).splitlines()))
        if not output["can_review"]:
            print(f"  you cannot review it: {output['why_not']}")
    return 0


def cmd_review_decide(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        request = ws.review.decide(args.request_id, args.output_id, args.decision, args.comment)
    print(f"Recorded {args.decision} for output {args.output_id}; request {request['id']} is "
          f"{request['status'].replace('_', ' ')}.")
    return 0


def cmd_review_conclude(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        request = ws.review.conclude(args.request_id, args.outcome, args.comment)
    print(f"Request {request['id']} is {request['status']}.")
    return 0


def cmd_review_release(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        released = ws.review.release(args.request_id)
    print(f"Request {released['request_id']} released to {released['package']}\n"
          f"manifest SHA-256 {released['manifest_sha256']}")
    if released["problems"]:
        print("The package no longer matches its manifest: " + "; ".join(released["problems"]))
        return 1
    return 0


def register(commands: Any) -> None:
    """Add ``review`` and its subcommands to the top-level subparsers."""
    sub = group(commands, "review", "output checking: queue, show, decide, conclude, release")
    command(sub, "queue", "requests waiting for output checking (of projects you are not in)", cmd_review_queue,
            FORMATS)
    p = command(sub, "show", "one request: context, checks, aids, warnings, reviews", cmd_review_show)
    p.add_argument("request_id", type=int)
    add_format(p, ["text", "json"])
    p = command(sub, "decide", "your review of one output: approve, changes or reject", cmd_review_decide)
    p.add_argument("request_id", type=int)
    p.add_argument("output_id", type=int)
    p.add_argument("decision", choices=["approve", "changes", "reject"])
    p.add_argument("--comment", help="needed when going against the automatic check, and to ask for changes")
    p = command(sub, "conclude", "conclude a reviewed request: approve, return or reject", cmd_review_conclude)
    p.add_argument("request_id", type=int)
    p.add_argument("outcome", choices=["approve", "return", "reject"])
    p.add_argument("--comment", help="needed to return or reject (the analyst reads it)")
    p = command(sub, "release", "write an approved request's release package", cmd_review_release)
    p.add_argument("request_id", type=int)
