"""The admin's, requester's and owner's commands, end to end on one workspace."""

from __future__ import annotations

import json

import pytest
from helpers import ADMIN, ANALYST, CHECKER, DATASET, OWNER, PROJECT, cli_runner


@pytest.fixture
def run(governed, monkeypatch, capsys):
    """run(user, *words) -> (exit code, stdout, stderr) of `workbench --home <ws> ...` as ``user``."""
    return cli_runner(governed, monkeypatch, capsys)


def test_people_commands(run) -> None:
    assert run(ADMIN, "people", "add", "dan.new", "Dan New", "--roles", "analyst", "--department", "DHSC")[0] == 0
    code, out, _ = run(ADMIN, "people", "accredit", "dan.new", "--until", "2030-01-31")
    assert code == 0 and "accredited until 2030-01-31" in out
    code, out, _ = run(ADMIN, "people", "train", "dan.new", "safe-researcher", "--completed", "2026-02-01")
    assert code == 0 and "safe-researcher" in out
    assert "analyst, output_checker" in run(ADMIN, "people", "roles", "dan.new", "analyst,output_checker")[1]
    code, out, _ = run(ANALYST, "people", "list", "--format", "json")
    assert code == 0 and {p["username"] for p in json.loads(out)} >= {"dan.new", ADMIN}
    code, _, err = run(ANALYST, "people", "accredit", "dan.new", "--until", "2030-01-31")
    assert code == 1 and err.startswith("workbench: error:") and "may not accredit" in err
    code, _, err = run(ADMIN, "people", "accredit", "dan.new", "--until", "tomorrow")
    assert code == 1 and "not a date" in err


def test_request_decide_usage_commands(run) -> None:
    code, out, _ = run(ANALYST, "access", "request", PROJECT, DATASET, "--columns", "age_band,cost",
                       "--justification", "Costs by age band")
    assert code == 0 and "pending" in out
    code, out, _ = run(OWNER, "owner", "requests")
    assert code == 0 and "Costs by age band" in out
    code, out, _ = run(OWNER, "owner", "decide", "1", "approve", "--columns", "cost", "--conditions", "No cells < 10")
    assert code == 0 and "approved as grant 1" in out
    assert "Nothing is waiting" in run(OWNER, "owner", "requests")[1]
    assert "approved" in run(ANALYST, "access", "mine")[1]
    code, out, _ = run(ANALYST, "projects", "show", PROJECT)
    assert code == 0 and "Alpha" in out and "current" in out
    code, out, _ = run(OWNER, "owner", "usage", DATASET, "--format", "json")
    assert code == 0 and json.loads(out)["grants"][0]["project_id"] == PROJECT
    assert "Usage of dhsc.patients" in run(OWNER, "owner", "usage", DATASET)[1]
    assert CHECKER in run(OWNER, "owner", "delegate", DATASET, CHECKER)[1]
    assert run(OWNER, "owner", "revoke", "1", "--reason", "Review")[0] == 0
    code, _, err = run(ANALYST, "owner", "usage", DATASET)
    assert code == 1 and "may not see the usage report" in err
    code, _, err = run(OWNER, "owner", "decide", "1", "refuse")
    assert code == 1 and "already approved" in err
    assert run(ANALYST, "access", "request", PROJECT, DATASET, "--justification", "Again")[0] == 0
    code, _, err = run(OWNER, "owner", "decide", "2", "refuse")
    assert code == 1 and "give the reason for refusing" in err


def test_project_commands(run) -> None:
    code, out, _ = run(ANALYST, "projects", "list", "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("id,title")
    assert "closed" in run(ADMIN, "projects", "status", PROJECT, "closed")[1]
    assert f"{CHECKER} (reviewer)" in run(ADMIN, "projects", "member", PROJECT, CHECKER, "--role", "reviewer")[1]
    assert CHECKER not in run(ADMIN, "projects", "member", PROJECT, CHECKER, "--remove")[1]
    code, _, err = run(ANALYST, "access", "request", PROJECT, DATASET, "--justification", "More")
    assert code == 1 and "is closed and can only be read" in err
    code, _, err = run(ADMIN, "projects", "show", "p-nothing")
    assert code == 1 and "No project 'p-nothing'" in err


def test_dp_budget_commands(run) -> None:
    code, out, _ = run(OWNER, "dp", "budget", DATASET, "2.5")
    assert code == 0 and "ε = 2.5" in out and "all projects" in out
    code, out, _ = run(OWNER, "dp", "budget", DATASET, "1", "--project", PROJECT)
    assert code == 0 and PROJECT in out
    code, out, _ = run(OWNER, "dp", "budgets", DATASET, "--format", "json")
    assert code == 0 and {b["scope"] for b in json.loads(out)} == {"all projects", PROJECT, "synthetic twins"}
    code, out, _ = run(OWNER, "dp", "twin-budget", DATASET, "0.5", "--per-twin", "0.1")
    assert code == 0 and "ε = 0.5 in total, 0.1 per twin (0 spent on 0 twins, 0.5 remaining)" in out
    code, _, err = run(ANALYST, "dp", "twin-budget", DATASET, "5")
    assert code == 1 and "may not set twin budget" in err
    code, _, err = run(OWNER, "dp", "twin-budget", DATASET, "0.5", "--per-twin", "0")
    assert code == 1 and "per_twin" in err
    code, _, err = run(ANALYST, "dp", "budget", DATASET, "100")
    assert code == 1 and "may not set" in err
    code, _, err = run(OWNER, "dp", "budget", DATASET, "-1")
    assert code == 1 and "epsilon" in err
    code, out, _ = run(OWNER, "owner", "usage", DATASET, "--format", "json")
    assert code == 0 and json.loads(out)["privacy"][0]["epsilon_budget"] == 2.5
