"""The workbench as a JupyterHub-managed service, end to end: a real hub on loopback started with
deploy/jupyterhub_config.py (set through its environment variables), two people signed in through /hub/login,
each with an API token made as a person makes one, each seeing through <hub>/services/workbench/ only what the
workbench lets them see. One person's server is spawned to show what kernels get: WORKBENCH_URL and a hub token
the service accepts, and none of the workspace's folder or database.

Needs configurable-http-proxy (npm) on PATH: `.ci/run` installs it with `npm install -g configurable-http-proxy`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ADMIN, DATASET, OTHER_PROJECT, OWNER, PROJECT, SECOND_ANALYST, Connect
from helpers import ANALYST as FIRST_ANALYST

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "jupyterhub_config.py"
PASSWORD = "a-shared-test-password"
SERVICE_API = "services/workbench/workbench/api/"
STARTUP_LIMIT = 300  # seconds: only so that a hub that never comes up ends the test instead of hanging it
SECRET_VARIABLES = ("WORKBENCH_HOME", "WORKBENCH_DATABASE_URL")


def _missing(what: str) -> None:
    """Skip for a person's machine without it; CI installs it, so there the test fails instead of skipping."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI must run this test: .ci/run installs it)")
    pytest.skip(what)


@pytest.fixture(scope="module", autouse=True)
def _tools() -> None:
    if shutil.which("configurable-http-proxy") is None:
        _missing("configurable-http-proxy is not on PATH: JupyterHub's proxy comes from npm; install it with "
                 "`npm install -g configurable-http-proxy` (.ci/run does)")
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        _missing("jupyterhub is not installed: `pip install -e '.[test]'` installs it")


@pytest.fixture
def database_url() -> None:
    """SQLite inside the workspace: the hub test needs a workspace, not a second database engine."""
    return None


@pytest.fixture
def workspace(staffed: Connect) -> Path:
    """Two accredited, trained analysts, each a member of a different project, each project granted the dataset,
    each analyst with their own (approved) access request."""
    from factories import patient_record, patients

    staffed(OWNER).catalogue.register(patient_record(), patients())
    admin = staffed(ADMIN)
    admin.people.add(SECOND_ANALYST, "Bea Analyst", roles=["analyst"], department="DHSC")
    for user in (FIRST_ANALYST, SECOND_ANALYST):
        admin.people.accredit(user, until="2099-12-31")
        admin.people.record_training(user, "safe-researcher", completed="2026-01-05")
    admin.create_project(PROJECT, "Alpha", "Admissions research", mission=5, legal_gateway="dea-2017-research",
                         lead=FIRST_ANALYST, start="2026-01-01", end="2099-12-31", status="active")
    admin.create_project(OTHER_PROJECT, "Beta", "Service planning", mission=5, legal_gateway="nhs-act-2006-s251",
                         lead=SECOND_ANALYST, start="2026-01-01", end="2099-12-31", status="active")
    for user, project in ((FIRST_ANALYST, PROJECT), (SECOND_ANALYST, OTHER_PROJECT)):
        request = staffed(user).project(project).request_access(DATASET, justification="Needed for it")
        staffed(OWNER).owner.decide(request["id"], "approve")
    return Path(admin.home)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hub:
    """A running JupyterHub with the example configuration; ``stop()`` ends it and everything it started."""

    def __init__(self, state: Path, home: Path) -> None:
        self.state, self.home = state, home
        self.url = f"http://127.0.0.1:{_free_port()}/"
        self.log = state / "jupyterhub.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKBENCH_", "JUPYTERHUB_"))}
        env.update({
            "WORKBENCH_HOME": str(home),
            "WORKBENCH_HUB_BIND_URL": self.url,
            "WORKBENCH_HUB_API_URL": f"http://127.0.0.1:{_free_port()}",
            "WORKBENCH_HUB_PROXY_API_URL": f"http://127.0.0.1:{_free_port()}",
            "WORKBENCH_SERVICE_URL": f"http://127.0.0.1:{_free_port()}",
            "WORKBENCH_HUB_STATE": str(state),
            "WORKBENCH_HUB_SHARED_PASSWORD": PASSWORD,
            "WORKBENCH_HUB_ALLOWED_USERS": f"{FIRST_ANALYST},{SECOND_ANALYST}",
            "WORKBENCH_HUB_USER_HOMES": str(state / "homes" / "{username}"),
        })
        with self.log.open("wb") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)], cwd=state,
                                            env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self.descendants: dict[int, Any] = {}

    def remember_descendants(self) -> None:
        import psutil

        with contextlib.suppress(psutil.NoSuchProcess):
            for child in psutil.Process(self.process.pid).children(recursive=True):
                self.descendants[child.pid] = child

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def wait_until(self, ready: Any, what: str) -> Any:
        deadline = time.monotonic() + STARTUP_LIMIT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"JupyterHub exited ({self.process.returncode}) before {what}:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                result = ready()
                if result:
                    self.remember_descendants()
                    return result
            time.sleep(0.5)
        pytest.fail(f"JupyterHub did not get to {what} in {STARTUP_LIMIT} s:\n{self.log_tail()}")

    def stop(self) -> None:
        import psutil

        self.remember_descendants()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the hub stops the proxy, the service and user servers
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        for child in self.descendants.values():
            with contextlib.suppress(psutil.NoSuchProcess, psutil.TimeoutExpired):
                if alive(child):
                    child.kill()
                    child.wait(timeout=10)


@pytest.fixture
def hub(workspace: Path, tmp_path: Path) -> Iterator[Hub]:
    import requests

    state = tmp_path / "hub"
    state.mkdir()
    running = Hub(state, workspace)
    try:
        running.wait_until(lambda: requests.get(running.url + "hub/api/", timeout=10).status_code == 200,
                           "answering on /hub/api/")

        def service_answers() -> bool:
            """The service itself refuses a request without a token (the proxy answers 503 while it is down)."""
            reply = requests.get(running.url + SERVICE_API + "requests/mine", timeout=10)
            return reply.status_code == 403 and reply.headers.get("Content-Type", "").startswith("application/json")

        running.wait_until(service_answers, "the workbench service answering")
        yield running
    finally:
        running.stop()
    assert not [p for p in running.descendants.values() if alive(p)], "a process the hub started is left"


def alive(process: Any) -> bool:
    import psutil

    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def sign_in(hub: Hub, name: str, password: str = PASSWORD) -> Any:
    """A browser's session on the hub: the login form with its _xsrf, as a person submits it."""
    import requests

    session = requests.Session()
    page = session.get(hub.url + "hub/login", timeout=30)
    assert page.status_code == 200
    xsrf = session.cookies.get("_xsrf")
    reply = session.post(hub.url + "hub/login", data={"username": name, "password": password, "_xsrf": xsrf},
                         allow_redirects=False, timeout=30)
    assert reply.status_code == 302, (reply.status_code, reply.text[:500])
    session.headers["X-XSRFToken"] = session.cookies.get("_xsrf", path="/hub/") or xsrf
    return session


def new_token(hub: Hub, session: Any, name: str, **options: Any) -> str:
    """An API token made as on the hub's token page (POST /hub/api/users/<name>/tokens with the login cookie)."""
    reply = session.post(hub.url + f"hub/api/users/{name}/tokens", json={"note": "workbench", **options}, timeout=30)
    assert reply.status_code == 201, (reply.status_code, reply.text)
    return reply.json()["token"]


def service(hub: Hub, token: str | None, method: str, path: str, body: Any = None) -> Any:
    import requests

    headers = {"Authorization": f"token {token}"} if token is not None else {}
    return requests.request(method, hub.url + SERVICE_API + path, headers=headers, json=body, timeout=60)


def test_each_person_sees_only_their_projects_through_the_hub_service(hub: Hub) -> None:
    first = sign_in(hub, FIRST_ANALYST)
    second = sign_in(hub, SECOND_ANALYST)
    tokens = {FIRST_ANALYST: new_token(hub, first, FIRST_ANALYST),
              SECOND_ANALYST: new_token(hub, second, SECOND_ANALYST)}
    their_project = {FIRST_ANALYST: PROJECT, SECOND_ANALYST: OTHER_PROJECT}
    seen_requests = {}
    for user, token in tokens.items():
        other = OTHER_PROJECT if their_project[user] == PROJECT else PROJECT
        own = service(hub, token, "GET", f"projects/{their_project[user]}/outputs")
        assert own.status_code == 200, (user, own.text)
        assert own.json() == {"outputs": []}
        refused = service(hub, token, "GET", f"projects/{other}/outputs")
        assert refused.status_code == 403, (user, refused.text)
        assert other in refused.json()["message"]
        mine = service(hub, token, "GET", "requests/mine")
        assert mine.status_code == 200, mine.text
        assert {(r["requested_by"], r["project_id"]) for r in mine.json()["requests"]} == {(user, their_project[user])}
        seen_requests[user] = {r["id"] for r in mine.json()["requests"]}
    assert not seen_requests[FIRST_ANALYST] & seen_requests[SECOND_ANALYST]

    # the service acts as the token's owner: a request made through it is theirs
    made = service(hub, tokens[SECOND_ANALYST], "POST", "requests",
                   {"project_id": OTHER_PROJECT, "dataset_id": DATASET, "justification": "Through the hub"})
    assert made.status_code == 201, made.text
    assert made.json()["requested_by"] == SECOND_ANALYST
    refused = service(hub, tokens[SECOND_ANALYST], "POST", "requests",
                      {"project_id": PROJECT, "dataset_id": DATASET, "justification": "Not my project"})
    assert refused.status_code == 403, refused.text

    # no token, a wrong one, and a real one of the person without the scope to access the service: nobody
    narrow = new_token(hub, first, FIRST_ANALYST, scopes=[f"read:users!user={FIRST_ANALYST}"])
    altered = tokens[FIRST_ANALYST][:-1] + ("a" if tokens[FIRST_ANALYST][-1] != "a" else "b")
    for token in (None, "not-a-token", altered, narrow):
        reply = service(hub, token, "GET", "requests/mine")
        assert reply.status_code == 403, (token, reply.text)
    # and the login cookie alone is not a credential of the service
    assert first.get(hub.url + SERVICE_API + "requests/mine", timeout=30).status_code == 403
    # Jupyter's own resources do not exist on the service, even for a person with access
    import requests

    kernels = requests.post(hub.url + "services/workbench/api/kernels", json={"name": "python3"}, timeout=60,
                            headers={"Authorization": f"token {tokens[FIRST_ANALYST]}"})
    assert kernels.status_code == 404, kernels.text
    # a wrong password signs nobody in
    page = requests.Session()
    page.get(hub.url + "hub/login", timeout=30)
    bad = page.post(hub.url + "hub/login", allow_redirects=False, timeout=30,
                    data={"username": FIRST_ANALYST, "password": "wrong-password", "_xsrf": page.cookies.get("_xsrf")})
    assert bad.status_code == 403 and "jupyterhub-session-id" not in page.cookies


def _environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads a process's environment from /proc")
def test_a_spawned_servers_kernels_get_the_service_url_and_a_token_it_accepts_but_no_workspace(hub: Hub) -> None:
    import psutil

    session = sign_in(hub, FIRST_ANALYST)
    token = new_token(hub, session, FIRST_ANALYST)
    auth = {"Authorization": f"token {token}"}
    started = session.post(hub.url + f"hub/api/users/{FIRST_ANALYST}/server", headers=auth, timeout=60)
    assert started.status_code in (201, 202), started.text

    def ready() -> bool:
        model = session.get(hub.url + f"hub/api/users/{FIRST_ANALYST}", headers=auth, timeout=30).json()
        return bool(model.get("servers", {}).get("", {}).get("ready"))

    hub.wait_until(ready, "the spawned server being ready")
    import requests

    kernel = requests.post(hub.url + f"user/{FIRST_ANALYST}/api/kernels", headers=auth, json={"name": "python3"},
                           timeout=60)
    assert kernel.status_code == 201, kernel.text
    hub.remember_descendants()
    kernels = [p for p in hub.descendants.values()
               if p.is_running() and "ipykernel_launcher" in " ".join(p.cmdline())]
    assert len(kernels) == 1, [p.cmdline() for p in hub.descendants.values()]
    env = _environment(kernels[0].pid)
    assert env["WORKBENCH_URL"] == hub.url + "services/workbench/"
    assert env["JUPYTERHUB_USER"] == FIRST_ANALYST
    for name in SECRET_VARIABLES:
        assert name not in env, name
    assert not [k for k, v in env.items() if str(hub.home) in v]
    # the kernel's own hub token (its server's) is enough to use the service, as that person
    server_token = env["JUPYTERHUB_API_TOKEN"]
    mine = requests.get(env["WORKBENCH_URL"] + "workbench/api/requests/mine",
                        headers={"Authorization": f"token {server_token}"}, timeout=60)
    assert mine.status_code == 200, mine.text
    assert {r["requested_by"] for r in mine.json()["requests"]} == {FIRST_ANALYST}
    refused = requests.get(env["WORKBENCH_URL"] + f"workbench/api/projects/{OTHER_PROJECT}/outputs",
                           headers={"Authorization": f"token {server_token}"}, timeout=60)
    assert refused.status_code == 403
    # and `wb.connect()` in that environment is the workspace the service runs, as that person
    code = """
import json, sys, workbench as wb
from workbench.errors import AccessDenied
project, other_project, dataset = sys.argv[1:]
ws = wb.connect()
frame = ws.project(project).load(dataset)
try:
    ws.project(other_project).load(dataset)
    refused = None
except AccessDenied as error:
    refused = str(error)
print(json.dumps({"kind": type(ws).__name__, "user": ws.user, "rows": len(frame), "columns": list(frame.columns),
                  "refused": refused}))
"""
    kernel_cwd = kernels[0].cwd()
    ran = subprocess.run([sys.executable, "-c", code, PROJECT, OTHER_PROJECT, DATASET], env=env, cwd=kernel_cwd,
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    answer = json.loads(ran.stdout.strip().splitlines()[-1])
    assert answer["kind"] == "RemoteWorkspace" and answer["user"] == FIRST_ANALYST
    assert answer["rows"] > 0 and "nhs_number" not in answer["columns"]  # granted, minimised, pseudonymised
    assert answer["refused"] and OTHER_PROJECT in answer["refused"]
    # while the service itself holds the workspace
    def is_service(process: Any) -> bool:
        command = process.cmdline() if process.is_running() else []
        return "serve" in command and "--hub" in command

    service_processes = [p for p in hub.descendants.values() if is_service(p)]
    assert len(service_processes) == 1
    assert _environment(service_processes[0].pid)["WORKBENCH_HOME"] == str(hub.home)
    assert psutil.pid_exists(kernels[0].pid)
