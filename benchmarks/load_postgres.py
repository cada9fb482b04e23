"""PostgreSQL under load: simulated analysts use the real services at once for a fixed time, then the database
is checked for lost updates, overspent privacy budgets and a broken audit chain.

A small governed world is built in a fresh PostgreSQL schema (dropped at the end, whatever happens): an owner's
person-level dataset with declared categories and a person key, one project with ``--users`` accredited and
trained analysts, a grant, a DP budget small enough that the run exhausts it, and two output checkers. Each
analyst is a thread with its own embedded workspace; the analysts are spread over ``--processes`` processes (the
workspaces of one process share one engine, so several processes give real concurrency). For ``--seconds`` each
analyst repeats: catalogue search, ``project.load``, a DP crosstab or count, a disclosure-checked crosstab
submitted as an output request (with the DP output, when it got one), and ``ws.access.mine()``.

At the end: the ε spent (ledger sum) is within every budget and the project's budget is exhausted; every
``BudgetExceeded`` was clean (the ledger, the DP outputs and the ``dp.spend`` audit events count exactly the
queries that succeeded); every submitted request is in the database once, submitted, by its analyst, with
exactly the outputs it was submitted with, and there is no other; the audit chain verifies. Prints p50/p95/max
latency per operation and the throughput; exits non-zero if a check fails. Loopback only; stops by itself.

With ``--via service`` the analysts are kernels in service mode instead: the workspace is served by one
``workbench serve`` process on loopback, and each analyst calls it with their own API token through
``wb.connect(url=..., token=...)`` (DataFrames as Arrow IPC), so every operation also crosses HTTP.

    python benchmarks/load_postgres.py [--users 20] [--seconds 60] [--processes 4] [--database-url URL]
                                       [--via embedded|service] [--services N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
import traceback
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
DATASET, PROJECT = "load.episodes", "load-test"
ADMIN, OWNER, CHECKERS = "ada.admin", "olu.owner", ("chris.checker", "dee.checker")
REGIONS = ["North East", "North West", "Yorkshire and The Humber", "East Midlands", "West Midlands",
           "East of England", "London", "South East", "South West"]
SEXES = ["F", "M"]
ROWS, PEOPLE = 6000, 2500
# 30 queries of ε 0.05 fit in the project's budget: far fewer than 20 analysts ask for in a few seconds.
EPSILON, PROJECT_BUDGET, DATASET_BUDGET = 0.05, 1.5, 2.0
OPERATIONS = ["search", "load", "dp answered", "dp refused", "table+submit", "access.mine"]
CONTEXT = {"shown": "Episodes by region and sex", "population": "Synthetic episodes, England",
           "purpose": "Load test of output checking", "differences": "First release"}
_IDENTITY = threading.Lock()
VIA = ("embedded", "service")


def analyst(i: int) -> str:
    return f"analyst.{i:02d}"


def record() -> dict[str, Any]:
    return {
        "identifier": "https://data.example.invalid/load/episodes", "type": "dcat:Dataset",
        "title": "Load test hospital episodes", "summary": "Synthetic episodes for the load test.",
        "description": "Synthetic hospital episodes, several per person, for measuring the services under load.",
        "keyword": ["load", "hospital"],
        "licence": "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
        "version": "1", "accessRights": "INTERNAL", "securityClassification": "OFFICIAL",
        "contactPoint": {"contactName": "Load test", "email": "load@example.invalid"},
        "creator": ["department-of-health-and-social-care"], "publisher": "department-of-health-and-social-care",
        "issued": "2026-01-01", "modified": "2026-01-01", "updateFrequency": "freq:irregular",
        "localId": DATASET, "department": "department-of-health-and-social-care",
        "legalGateway": ["nhs-act-2006-s251"], "mission": [5], "dataOwner": OWNER, "personKey": "person_id",
        "columns": [
            {"name": "person_id", "type": "string", "role": "direct_identifier", "description": "Person"},
            {"name": "region", "type": "category", "role": "quasi_identifier", "description": "Region",
             "categories": REGIONS},
            {"name": "sex", "type": "category", "role": "quasi_identifier", "description": "Sex",
             "categories": SEXES},
            {"name": "length_of_stay", "type": "integer", "role": "sensitive", "description": "Nights"},
        ],
    }


def episodes(seed: int = 5):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "person_id": [f"P{p:06d}" for p in rng.integers(0, PEOPLE, ROWS)],
        "region": pd.Categorical(rng.choice(REGIONS, ROWS), categories=REGIONS),
        "sex": pd.Categorical(rng.choice(SEXES, ROWS), categories=SEXES),
        "length_of_stay": rng.poisson(3.0, ROWS),
    })


def connect_as(home: str, url: str, user: str, service: tuple[list[str], dict[str, str]] | None = None):
    """The analyst's workspace: embedded (the identity is read from the environment when a workspace opens: set
    it under a lock, for threads), or through the service with their token."""
    import workbench

    if service is not None:  # analyst i calls service i mod N, as a load balancer would spread them
        service_urls, tokens = service
        return workbench.connect(url=service_urls[int(user.rsplit(".", 1)[1]) % len(service_urls)],
                                 token=tokens[user])
    with _IDENTITY:
        os.environ["WORKBENCH_USER"] = user
        return workbench.connect(home, database_url=url)


def build_world(home: str, url: str, users: int) -> None:
    admin = connect_as(home, url, ADMIN)
    admin.people.add(ADMIN, "Ada Admin", roles=["admin"])
    admin.departments.add("department-of-health-and-social-care", "Department of Health and Social Care", "DHSC")
    admin.people.add(OWNER, "Olu Owner", roles=["data_owner"], department="DHSC")
    for checker in CHECKERS:
        admin.people.add(checker, checker.replace(".", " ").title(), roles=["output_checker"], department="DHSC")
    for i in range(users):
        admin.people.add(analyst(i), f"Analyst {i:02d}", roles=["analyst"], department="DHSC")
        admin.people.accredit(analyst(i), until="2099-12-31")
        admin.people.record_training(analyst(i), "safe-researcher", completed="2026-01-05")
    admin.create_project(PROJECT, "Load", "Services under load", mission=5, legal_gateway="nhs-act-2006-s251",
                         lead=analyst(0), start="2026-01-01", end="2099-12-31", status="active",
                         members={analyst(i): "analyst" for i in range(1, users)})
    owner = connect_as(home, url, OWNER)
    owner.catalogue.register(record(), episodes())
    lead = connect_as(home, url, analyst(0))
    request = lead.project(PROJECT).request_access(DATASET, ["region", "sex", "length_of_stay"],
                                                   justification="Load test")
    owner.owner.decide(request["id"], "approve")
    owner.dp.set_budget(DATASET, DATASET_BUDGET)
    owner.dp.set_budget(DATASET, PROJECT_BUDGET, project=PROJECT)
    for ws in (admin, owner, lead):
        ws.close()


def simulate(home: str, url: str, user: str, seconds: float, start_at: float,
             service: tuple[list[str], dict[str, str]] | None = None, until_refused: float = 0.0) -> dict[str, Any]:
    """One analyst's loop; returns latencies per operation, what it submitted and what it was refused. With
    ``until_refused``, an analyst not yet refused by the budget after ``seconds`` goes on until it is, for at most
    that many seconds more (a slow machine answers fewer queries in the same time)."""
    from workbench.errors import BudgetExceeded

    ws = connect_as(home, url, user, service)
    done: dict[str, Any] = {"latency": {op: [] for op in OPERATIONS}, "requests": [], "dp_ok": 0,
                            "dp_refused": 0, "tables": 0, "errors": []}
    try:
        project = ws.project(PROJECT)
        time.sleep(max(0.0, start_at - time.time()))
        stop, i, dp_output = start_at + seconds, 0, None
        last = stop + until_refused

        def timed(op: str, call):
            began = time.perf_counter()
            try:
                return call()
            finally:
                done["latency"][op].append(time.perf_counter() - began)

        while time.time() < stop or (not done["dp_refused"] and time.time() < last):
            i += 1
            try:
                timed("search", lambda: ws.catalogue.search_page("hospital", limit=20))
                frame = timed("load", lambda: project.load(DATASET))
                began = time.perf_counter()
                try:
                    if i % 2:
                        dp_output = project.dp.crosstab(DATASET, "region", "sex", epsilon=EPSILON)
                    else:
                        dp_output = project.dp.count(DATASET, epsilon=EPSILON)
                    done["dp_ok"] += 1
                    done["latency"]["dp answered"].append(time.perf_counter() - began)
                except BudgetExceeded:
                    done["dp_refused"] += 1
                    done["latency"]["dp refused"].append(time.perf_counter() - began)

                def table_and_submit(frame=frame, i=i):
                    nonlocal dp_output
                    table = project.tables.crosstab(frame, "region", "sex")
                    done["tables"] += 1
                    chosen = [table] + ([dp_output] if dp_output is not None else [])
                    dp_output = None
                    return project.outputs.submit(chosen, title=f"{user} request {i}", context=CONTEXT)

                request = timed("table+submit", table_and_submit)
                done["requests"].append((request.id, sorted(request.outputs)))
                timed("access.mine", ws.access.mine)
            except Exception as error:  # reported; any error fails the run
                done["errors"].append(f"{user}: {type(error).__name__}: {error}\n{traceback.format_exc(limit=3)}")
                if len(done["errors"]) > 3:
                    break
    finally:
        ws.close()
    return done


def run_process(home: str, url: str, users: list[str], seconds: float, start_at: float,
                service: tuple[list[str], dict[str, str]] | None = None,
                until_refused: float = 0.0) -> list[dict[str, Any]]:
    """The analysts of one process, each on its own thread and workspace."""
    with ThreadPoolExecutor(len(users)) as pool:
        return list(pool.map(lambda u: simulate(home, url, u, seconds, start_at, service, until_refused), users))


def check(home: str, url: str, results: list[dict[str, Any]]) -> list[tuple[str, bool, str]]:
    """The end-of-run checks: (name, passed, detail)."""
    from sqlalchemy import func, select

    from workbench.db.schema import audit_events, dp_budgets, dp_spends, output_request_items, output_requests, outputs

    admin = connect_as(home, url, ADMIN)
    try:
        with admin._ctx.db.read() as conn:
            spends = conn.execute(select(dp_spends.c.project_id, dp_spends.c.epsilon)).all()
            budgets = conn.execute(select(dp_budgets)).mappings().all()
            dp_outputs = conn.execute(select(func.count()).select_from(outputs)
                                      .where(outputs.c.kind == "dp")).scalar_one()
            table_outputs = conn.execute(select(func.count()).select_from(outputs)
                                         .where(outputs.c.kind == "table")).scalar_one()
            spend_events = conn.execute(select(func.count()).select_from(audit_events)
                                        .where(audit_events.c.action == "dp.spend")).scalar_one()
            stored = {r.id: r for r in conn.execute(select(output_requests)).all()}
            items: dict[int, list[int]] = {}
            for request_id, output_id in conn.execute(select(output_request_items.c.request_id,
                                                             output_request_items.c.output_id)):
                items.setdefault(request_id, []).append(output_id)
        audit = admin.verify_audit()
    finally:
        admin.close()
    dp_ok = sum(r["dp_ok"] for r in results)
    errors = [e for r in results for e in r["errors"]]
    submitted = [(user_result, request) for user_result in results for request in user_result["requests"]]
    by_user = {request_id: result["user"] for result in results for request_id, _ in result["requests"]}
    checks = []
    checks.append(("no operation failed", not errors, "; ".join(errors[:3]) or "0 errors"))
    for b in budgets:
        spent = sum(e for p, e in spends if b["project_id"] is None or p == b["project_id"])
        scope = b["project_id"] or "all projects"
        checks.append((f"ε spent within the budget ({scope})", spent <= b["epsilon"] + 1e-9,
                       f"{spent:.2f} of {b['epsilon']:.2f}"))
    project_spent = sum(e for p, e in spends if p == PROJECT)
    checks.append(("the run exhausted the project's budget", PROJECT_BUDGET - project_spent < EPSILON - 1e-9,
                   f"{max(0.0, PROJECT_BUDGET - project_spent):.2f} left, a query asks {EPSILON}"))
    refused = sum(r["dp_refused"] for r in results)
    checks.append(("every BudgetExceeded was clean (ledger = DP outputs = dp.spend events = successes)",
                   len(spends) == dp_outputs == spend_events == dp_ok,
                   f"{dp_ok} answered, {refused} refused; {len(spends)} ledger rows, {dp_outputs} DP outputs, "
                   f"{spend_events} dp.spend events"))
    ids = [request_id for _, (request_id, _) in submitted]
    mismatched = [request_id for _, (request_id, output_ids) in submitted
                  if request_id not in stored or sorted(items.get(request_id, [])) != output_ids
                  or stored[request_id].status != "submitted" or stored[request_id].created_by != by_user[request_id]]
    checks.append(("no lost update: every submitted request stored once, with its outputs, and no other",
                   len(ids) == len(set(ids)) == len(stored) and not mismatched
                   and table_outputs == sum(r["tables"] for r in results),
                   f"{len(ids)} submitted, {len(stored)} stored, {len(mismatched)} differing; "
                   f"{table_outputs} table outputs stored"))
    checks.append(("audit chain valid", bool(audit.ok), str(audit)[:200]))
    return checks


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


@contextmanager
def fresh_schema(url: str):
    """A PostgreSQL URL confined to a new schema, dropped on the way out (never the public schema)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    schema = f"wb_load_{uuid.uuid4().hex[:12]}"
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@contextmanager
def served(home: str, schema_url: str, users: int, via: str, services: int = 1):
    """None (embedded), or (URLs, token per analyst) of ``services`` ``workbench serve`` processes on the
    workspace (one PostgreSQL database, one vault: processes share them as embedded workspaces do)."""
    if via == "embedded":
        yield None
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from helpers import running  # the tests' way of starting and always stopping the service

    admin = connect_as(home, schema_url, ADMIN)
    try:
        tokens = {analyst(i): admin.tokens.create(analyst(i), label="load test")["token"] for i in range(users)}
    finally:
        admin.close()
    with ExitStack() as stack:
        urls = [stack.enter_context(running(Path(home), schema_url)) for _ in range(services)]
        yield urls, tokens


def run(url: str, users: int = 20, seconds: float = 60.0, processes: int = 4,
        home: str | None = None, via: str = "embedded", services: int = 1,
        until_refused: float = 0.0) -> dict[str, Any]:
    """Build the world, run the analysts, check the database; returns results, checks and the wall time.
    ``until_refused``: see ``simulate`` (tests use it so that a loaded machine still exhausts the budget)."""
    if via not in VIA:
        raise ValueError(f"via: {via!r} is not one of {', '.join(VIA)}")
    processes = max(1, min(processes, users))
    with fresh_schema(url) as schema_url, tempfile.TemporaryDirectory() as scratch:
        home = home or str(Path(scratch) / "ws")
        build_world(home, schema_url, users)
        names = [analyst(i) for i in range(users)]
        shares = [names[p::processes] for p in range(processes)]
        with served(home, schema_url, users, via, services) as service:
            start_at = time.time() + 3 + 2 * processes  # spawned processes need a few seconds to import
            with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as pool:
                futures = [pool.submit(run_process, home, schema_url, share, seconds, start_at, service,
                                       until_refused) for share in shares]
                results = []
                for share, future in zip(shares, futures, strict=True):
                    for user, result in zip(share, future.result(), strict=True):
                        results.append({**result, "user": user})
            wall = max(seconds, time.time() - start_at)
        return {"results": results, "checks": check(home, schema_url, results), "wall": wall}


def report(outcome: dict[str, Any], users: int, seconds: float, processes: int, via: str = "embedded",
           services: int = 1) -> str:
    from _machine import describe

    results, wall = outcome["results"], outcome["wall"]
    how = "embedded workspaces" if via == "embedded" else f"kernels calling {services} workbench serve process(es)"
    lines = [f"machine: {describe()}",
             f"{users} analysts ({how}) in {processes} processes for {seconds:g} s on PostgreSQL "
             f"(wall {wall:.1f} s)",
             f"{'operation':<14}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'per s':>8}"]
    total = 0
    for op in OPERATIONS:
        values = [v for r in results for v in r["latency"][op]]
        total += len(values)
        if values:
            lines.append(f"{op:<14}{len(values):>7}{statistics.median(values) * 1000:>9.0f}"
                         f"{percentile(values, 0.95) * 1000:>9.0f}{max(values) * 1000:>9.0f}"
                         f"{len(values) / wall:>8.1f}")
    lines.append(f"all operations: {total} in {wall:.1f} s = {total / wall:.1f} per s "
                 f"(DP: {sum(r['dp_ok'] for r in results)} answered, {sum(r['dp_refused'] for r in results)} "
                 f"refused by the budget)")
    lines += [f"[{'ok' if passed else 'FAILED'}] {name}: {detail}" for name, passed, detail in outcome["checks"]]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--database-url", default=os.environ.get("WORKBENCH_TEST_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--via", choices=VIA, default="embedded")
    parser.add_argument("--services", type=int, default=1, help="with --via service: how many service processes")
    args = parser.parse_args()
    outcome = run(args.database_url, args.users, args.seconds, args.processes, via=args.via, services=args.services)
    print(report(outcome, args.users, args.seconds, args.processes, args.via, args.services))
    return 0 if all(passed for _, passed, _ in outcome["checks"]) else 1


if __name__ == "__main__":
    sys.exit(main())
