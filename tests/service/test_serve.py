"""``workbench serve`` as a real process over real HTTP: each person's token acts as that person, refused tokens
get the API's JSON 403, nothing but the workbench API is served, and the process starts and stops cleanly."""

from __future__ import annotations

import signal
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from helpers import ADMIN, ANALYST, DATASET, OTHER_PROJECT, OWNER, PROJECT, call, launch, service_env, stop_service
from sqlalchemy import select, update

from workbench.db.schema import api_tokens, audit_events
from workbench.governance.tokens import Tokens

pytestmark = [pytest.mark.slow, pytest.mark.db]

NOT_SERVED = [("GET", "api/contents"), ("GET", "api/contents/notebooks"), ("GET", "api/kernels"),
              ("POST", "api/kernels"), ("GET", "api/kernelspecs"), ("GET", "api/sessions"), ("POST", "api/sessions"),
              ("GET", "api/terminals"), ("POST", "api/terminals"), ("GET", "terminals/websocket/1"),
              ("GET", "api/config/notebook"), ("POST", "api/shutdown"), ("GET", "api/nbconvert"),
              ("GET", "lab"), ("GET", "lab/api/settings"), ("GET", "tree"), ("GET", "notebooks/x.ipynb"),
              ("GET", "files/workbench.db"), ("GET", "files/secrets.json"), ("GET", "view/x.html"),
              ("GET", "nbconvert/html/x.ipynb"), ("GET", "edit/x.py"), ("GET", "login"), ("GET", "logout"),
              ("GET", "lsp/status"), ("GET", "api/events/subscribe")]


def _wait(process: subprocess.Popen) -> int:
    try:
        return process.wait(timeout=180)
    finally:
        stop_service(process)


def test_each_person_is_served_as_themselves_and_the_service_stops_on_sigterm(
        governed, tmp_path: Path, database_url, service) -> None:
    analyst = governed(ANALYST)
    analyst.project(PROJECT).request_access(DATASET, justification="Admissions by region")
    tokens = Tokens(governed(ADMIN)._ctx)
    ann = tokens.create(ANALYST, label="kernel")["token"]
    olu = Tokens(governed(OWNER)._ctx).create(OWNER, label="own kernel")["token"]
    url, process = service(tmp_path / "ws", database_url)

    me = call(url, "api/me", token=ann)
    assert me.status == 200 and me.json["identity"]["username"] == ANALYST
    mine = call(url, "workbench/api/requests/mine", token=ann)
    assert mine.status == 200, mine
    assert [(r["dataset_id"], r["requested_by"]) for r in mine.json["requests"]] == [(DATASET, ANALYST)]
    assert call(url, "workbench/api/requests/mine", token=olu).json["requests"] == []
    to_decide = call(url, "workbench/api/requests/to-decide", token=olu)
    assert [r["dataset_id"] for r in to_decide.json["requests"]] == [DATASET]
    assert call(url, "workbench/api/requests/to-decide", token=ann).status == 403  # the policy still decides

    proxied = call(url, "workbench/api/requests/mine", token=ann, headers={"Host": "workbench.example.org"})
    assert proxied.status == 200  # behind a reverse proxy: the Host header is not the service's own
    projects = call(url, "workbench/api/projects", token=ann, scheme="Bearer")
    assert projects.status == 200
    assert {p["id"]: p["my_role"] for p in projects.json["projects"]} == {PROJECT: "lead", OTHER_PROJECT: "lead"}

    # a write with the token alone: no XSRF cookie is needed for token-authenticated API calls
    made = call(url, "workbench/api/requests", token=ann, method="POST",
                body={"project_id": OTHER_PROJECT, "dataset_id": DATASET, "justification": "Planning"})
    assert made.status == 201, made
    assert len(call(url, "workbench/api/requests/mine", token=ann).json["requests"]) == 2
    with analyst._ctx.db.read() as conn:
        actor = conn.execute(select(audit_events.c.actor).where(audit_events.c.action == "access.request")
                             .order_by(audit_events.c.seq.desc()).limit(1)).scalar_one()
    assert actor == ANALYST
    assert tokens.list(ANALYST)["last_used_at"].notna().all()

    assert stop_service(process) == 0
    assert "Workbench service stopped" in process.stdout_lines()
    assert "Workbench workspace closed" in process.log()


def test_refused_tokens_get_the_api_json_403(governed, tmp_path: Path, database_url, service) -> None:
    tokens = Tokens(governed(ADMIN)._ctx)
    good = tokens.create(ANALYST, label="kernel")
    doomed = tokens.create(ANALYST, label="to revoke")
    stale = tokens.create(ANALYST, label="to expire", expires=date.today() + timedelta(days=1))
    url, _process = service(tmp_path / "ws", database_url)
    path = "workbench/api/requests/mine"
    assert call(url, path, token=doomed["token"]).status == 200
    assert call(url, path, token=stale["token"]).status == 200

    tokens.revoke(doomed["id"], reason="Laptop lost")
    with governed(ADMIN)._ctx.db.write() as conn:  # as if its last day had passed
        conn.execute(update(api_tokens).where(api_tokens.c.id == stale["id"])
                     .values(expires=date.today() - timedelta(days=1)))
    refused = {
        "no token": call(url, path),
        "wrong token": call(url, path, token=good["token"][:-2] + "xx"),
        "not a workbench token": call(url, path, token="0123456789abcdef"),
        "revoked": call(url, path, token=doomed["token"]),
        "expired": call(url, path, token=stale["token"]),
        "in the URL": call(url, f"{path}?token={good['token']}"),
        "unknown scheme": call(url, path, token=good["token"], scheme="Basic"),
        "write without a token": call(url, "workbench/api/requests", method="POST",
                                      body={"project_id": PROJECT, "dataset_id": DATASET, "justification": "x"}),
    }
    for case, answer in refused.items():
        assert answer.status == 403, (case, answer)
        assert set(answer.json) == {"message", "field"} and "workbench token create" in answer.json["message"], \
            (case, answer)
    assert call(url, path, token=good["token"]).status == 200  # the good token still works


def test_nothing_but_the_workbench_api_is_served(governed, tmp_path: Path, database_url, service) -> None:
    token = Tokens(governed(ADMIN)._ctx).create(ADMIN, label="probe")["token"]
    url, process = service(tmp_path / "ws", database_url)
    for method, path in NOT_SERVED:
        answer = call(url, path, token=token, method=method)
        assert answer.status == 404, (method, path, answer)
    assert call(url, "workbench/api/no-such-route", token=token).status == 404
    assert call(url, "workbench/api/admin/audit/verify", token=token).json["ok"] is True
    assert process.poll() is None
    log = process.log()
    for extension in ("jupyterlab", "jupyter_server_terminals", "notebook_shim", "jupyter_lsp"):
        assert f"{extension} | extension was successfully loaded" not in log
    assert "workbench.server | extension was successfully loaded" in log
    process.send_signal(signal.SIGINT)  # Ctrl-C stops it at once too, with no question asked
    assert _wait(process) == 0
    assert "Workbench workspace closed" in process.log()


def test_no_workspace_is_refused_in_one_line_and_none_is_created(tmp_path: Path) -> None:
    home = tmp_path / "nothing-here"
    process = launch(["serve", "--port", "0", "--home", str(home)], service_env())
    assert _wait(process) == 1
    assert process.stdout_lines() == []
    lines = process.log().strip().splitlines()
    assert lines == [f"workbench: error: No workspace at {home}; the service never creates one: run "
                     "`workbench init` (or `workbench demo`) there first, or give --home."]
    assert not home.exists()


def test_an_unreachable_database_is_refused_in_one_line(staffed, tmp_path: Path) -> None:
    # a workspace made on SQLite, started with a PostgreSQL URL where nothing listens
    process = launch(["serve", "--port", "0", "--home", str(tmp_path / "ws")],
                     service_env("postgresql://postgres@127.0.0.1:9/test"))
    assert _wait(process) == 1
    lines = process.log().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("workbench: error: Cannot open the workspace database"), lines


def test_hub_mode_needs_the_hub_environment(staffed, tmp_path: Path) -> None:
    process = launch(["serve", "--hub", "--home", str(tmp_path / "ws")], service_env())
    assert _wait(process) == 1
    assert "JUPYTERHUB_API_TOKEN is not set" in process.log()
