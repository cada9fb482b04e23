"""``workbench demo``: builds a workspace holding a synthetic public sector, as a client of the workbench.

The synthetic world (departments, people, datasets with realistic identifier corruption, projects) comes
from ``workbench.demo.world``; this module registers it through the public API as its people would (admins,
owners, analysts, through ``session_for``), so the demo is built exactly as a real workspace would be. Its true
entity ids go to ``ws.demo`` (``workbench.demo.material``), readable only by admins and trainers.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from typing import Any

from workbench.config import resolve_home
from workbench.demo import _world_access as story
from workbench.demo._world_catalogue import search_terms
from workbench.demo.world import build_world
from workbench.errors import Conflict
from workbench.person_index.service import deferred_linking
from workbench.progress import bar
from workbench.workspace import connect, exists, session_for


def build_demo(home: Any = None, *, persons: int = 200_000, seed: int = 2026, force: bool = False,
               progress: Callable[[str], None] | None = None) -> str:
    """Build the demo workspace at ``home``; returns a one-line summary.

    An existing demo with the same size and seed is kept as it is; ``force`` rebuilds it. A folder holding
    a workspace that is not a demo is never touched.
    """
    say = progress or (lambda _message: None)
    path = resolve_home(home)
    if exists(path):
        with connect(path) as ws:
            previous = ws.demo.built()
        if previous is None:
            raise Conflict(f"{path} holds a workspace that is not a demo; choose another --home for the demo.")
        if not force:
            if previous.get("persons") == persons and previous.get("seed") == seed:
                return (f"The demo workspace at {path} is already built ({persons:,} persons, seed {seed}); "
                        "use --force to rebuild it.")
            raise Conflict(f"The demo workspace at {path} was built with {previous.get('persons'):,} persons and "
                           f"seed {previous.get('seed')}; use --force to rebuild it with {persons:,}/{seed}.")
        if os.environ.get("WORKBENCH_DATABASE_URL"):
            raise Conflict("--force rebuilds only embedded (SQLite) demo workspaces; empty the database named by "
                           "WORKBENCH_DATABASE_URL yourself, or unset it.")
        say(f"Removing the old demo workspace at {path}")
        shutil.rmtree(path)
    started = time.perf_counter()
    say(f"Generating a synthetic public sector of {persons:,} persons (seed {seed})")
    # a bar where nobody prints the steps (a notebook calling build_demo); the CLI prints them as lines
    with bar(3, "Building the demo", worth_showing=progress is None) as steps:
        steps.set_postfix_str("generating the population")
        world = build_world(persons=persons, seed=seed)
        steps.update(1)
        ws = connect(path)
        try:
            with ws:
                steps.set_postfix_str("registering datasets")
                ws.people.add(ws.user, ws.user, roles=["admin", "analyst", "trainer"])
                # the truth is kept first, so that the person index is measured against it as it is built
                ws.demo.record_build({**world.truth, "population": world.population}, persons=persons, seed=seed,
                                     datasets=len(world.datasets))
                steps.update(1)
                _register_world(ws, world, say)
                steps.update(1)
        except BaseException:
            if not os.environ.get("WORKBENCH_DATABASE_URL"):
                shutil.rmtree(path, ignore_errors=True)  # nothing half-built stays behind
            raise
    seconds = time.perf_counter() - started
    return (f"Built the demo workspace at {path}: {len(world.departments)} departments, {len(world.people)} "
            f"people, {len(world.datasets)} datasets, {len(world.projects)} projects from {persons:,} synthetic "
            f"persons in {seconds:.0f} s. You ({ws.user}) are its admin and trainer, and an "
            "analyst in every mission project.")


def _register_world(ws: Any, world: Any, say: Callable[[str], None]) -> None:
    for department in world.departments:
        ws.departments.add(department["slug"], department["name"], department.get("abbreviation"))
    for person in world.people:
        if person["username"] == ws.user:
            continue
        ws.people.add(person["username"], person["name"], roles=person["roles"], email=person.get("email"),
                      department=person.get("department"))
    with deferred_linking():  # one build of the person index after all of them, not one update each
        for dataset_id, entry in world.entries.items():
            say(f"Registering {dataset_id} ({len(world.datasets[dataset_id]):,} rows)")
            ws.catalogue.register(entry, world.datasets[dataset_id])
    say("Linking the person-level datasets into the person index")
    ws.person_index.build()
    for term, meaning in search_terms():
        ws.catalogue.terms.add(term, meaning)
    for project in world.projects:
        ws.create_project(
            project["id"], project["title"], project["purpose"], mission=project["mission"],
            legal_gateway=project["legalGateway"], lead=project["lead"], start=project["start"],
            end=project["end"], status="active",
            members={m["username"]: m["role"] for m in project["members"]},
            intended_outputs=project.get("intendedOutputs", []), intended_datasets=project.get("datasets", []))
    say("Recording accreditation, training, access requests and owner decisions")
    _play_access_story(ws, world)


def _as(ws: Any, username: str) -> Any:
    """The same workspace acting as ``username`` (the demo plays its people's parts)."""
    return session_for(ws, username)


def _offered(columns: list[str] | None, offered: set[str]) -> list[str] | None:
    """The columns of a request or decision, without the person id where the dataset shows none (it is not in
    the person index)."""
    return None if columns is None else [c for c in columns if c != story.PERSON_ID or c in offered]


def _play_access_story(ws: Any, world: Any) -> None:
    analysts = [p["username"] for p in world.people if "analyst" in p["roles"]]
    for username in [*analysts, ws.user]:
        ws.people.accredit(username, until=story.ACCREDITED_UNTIL)
        if username != story.LAPSED[0]:
            ws.people.record_training(username, story.TRAINING[0], completed=story.TRAINING[1])
    user, course, completed, expired = story.LAPSED
    ws.people.record_training(user, course, completed=completed, expires=expired)
    first = world.projects[0]["id"]
    for project in world.projects:  # so the demo's own user can work every mission notebook
        ws.project(project["id"]).add_member(ws.user, "analyst")
    owners = {dataset_id: entry["dataOwner"] for dataset_id, entry in world.entries.items()}
    for dataset_id, delegate in story.DELEGATES:
        _as(ws, owners[dataset_id]).owner.delegate(dataset_id, delegate)
    for project_id, requester, dataset_id, columns, justification, decision in story.REQUESTS:
        offered = set(ws.catalogue.get(dataset_id).schema["name"])
        request = _as(ws, requester).project(project_id).request_access(dataset_id, _offered(columns, offered),
                                                                        justification=justification)
        if decision is None:
            continue
        verdict, options = decision
        if isinstance(options, dict) and "columns" in options:
            options = {**options, "columns": _offered(options["columns"], offered)}
        owner = _as(ws, owners[dataset_id]).owner
        if verdict == "refuse":
            owner.decide(request["id"], "refuse", reason=options)
        else:
            owner.decide(request["id"], "approve", **options)
    for project_id, person, dataset_id in story.LOADS:
        _as(ws, person).project(project_id).load(dataset_id)
    project = _as(ws, "sanjay.patel").project(first)
    lfs = project.load("ons.lfs", ["region", "ilo_status", "long_term_health_condition", "survey_weight"])
    table = lfs.groupby(["region", "ilo_status"], observed=True)["survey_weight"].sum().reset_index()
    project.save(table, "weighted_status_by_region", derived_from=["ons.lfs"])
    title, index, columns, context = story.OUTPUT_REQUEST
    # by spec: the workbench reads the dataset and computes the table, so the checkers see a computed output
    checked = project.tables.crosstab("ons.lfs", index=index, columns=columns, name=title)
    project.outputs.submit([checked], title=title, context=context)  # waits for the output checkers
    granted = ws.access.grants()
    for dataset_id in sorted(set(granted["dataset_id"])):
        budgets = _as(ws, owners[dataset_id]).dp
        budgets.set_budget(dataset_id, story.DP_BUDGET_ALL_PROJECTS)
        for project_id in sorted(set(granted.loc[granted["dataset_id"] == dataset_id, "project_id"])):
            budgets.set_budget(dataset_id, story.DP_BUDGET_PER_PROJECT, project=project_id)
    for project_id, person, dataset_id, index, columns, epsilon in story.DP_QUERIES:
        _as(ws, person).project(project_id).dp.crosstab(dataset_id, index, columns, epsilon=epsilon)
