"""What the tests share besides fixtures: the people and names of the test workspace, arrangements made through
the services, and assertions on what a refusal leaves. Test modules import from here, never from each other (the
fixtures themselves are in conftest.py)."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import sqlalchemy as sa

if TYPE_CHECKING:
    from workbench.workspace import Workspace

PG_URL = os.environ.get("WORKBENCH_TEST_DATABASE_URL")
PG_SKIP = "PostgreSQL tests need WORKBENCH_TEST_DATABASE_URL (CI sets postgresql://postgres@127.0.0.1:5432/test)"
REFERENCE = Path(__file__).parent / "data" / "ukgov-metadata"

ADMIN, OWNER, OTHER_OWNER, ANALYST, CHECKER, TRAINER = (
    "ada.admin", "olu.owner", "priya.owner", "ann.analyst", "chris.checker", "tara.trainer")
ROLE_OF = {ADMIN: "admin", OWNER: "data_owner", OTHER_OWNER: "data_owner", ANALYST: "analyst",
           CHECKER: "output_checker", TRAINER: "trainer"}
SECOND_ANALYST = "bea.analyst"
DATASET, PROJECT, OTHER_PROJECT = "dhsc.patients", "p-alpha", "p-beta"
CHECKER2, CHECKER3 = "dee.checker", "eve.checker"

DEMO_USER = "demo.builder"
DEMO_PERSONS = 3000

Connect = Callable[..., "Workspace"]


def snapshot(ws) -> dict:
    """Every row of every table but the audit log: what a refusal must leave unchanged."""
    from sqlalchemy import select

    from workbench.db.schema import metadata

    with ws._ctx.db.read() as conn:
        return {t.name: sorted(map(repr, conn.execute(select(t)).all()))
                for t in metadata.sorted_tables if t.name != "audit_events"}


def events(ws) -> list[dict]:
    """The audit log, oldest first."""
    from sqlalchemy import select

    from workbench.db.schema import audit_events

    with ws._ctx.db.read() as conn:
        return [dict(r) for r in conn.execute(select(audit_events).order_by(audit_events.c.seq)).mappings()]


class Unchanged:
    """Asserts that nothing but refusals reached the audit log and no other table changed."""

    def __init__(self, ws) -> None:
        self.ws, self.before, self.seen = ws, snapshot(ws), len(events(ws))

    def check(self) -> None:
        assert snapshot(self.ws) == self.before
        assert all(e["outcome"] != "ok" for e in events(self.ws)[self.seen:])


def grant(staffed: Connect, project: str = PROJECT, columns: list[str] | None = None, **decision) -> dict:
    """ANALYST requests DATASET for ``project``; OWNER approves with ``decision`` options."""
    request = staffed(ANALYST).project(project).request_access(DATASET, columns, justification="Needed for it")
    return staffed(OWNER).owner.decide(request["id"], "approve", **decision)


def cli_runner(connect: Connect, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> Callable:
    """run(user, *words) -> (exit code, stdout, stderr) of `workbench --home <ws> ...` as ``user``, on the
    workspace ``connect`` opens (its PostgreSQL database too)."""
    from workbench.cli import main

    ws = connect(ADMIN)
    if ws._ctx.db.dialect == "postgresql":
        monkeypatch.setenv("WORKBENCH_DATABASE_URL", ws._ctx.db.url)

    def run(user: str, *words: str) -> tuple[int, str, str]:
        monkeypatch.setenv("WORKBENCH_USER", user)
        code = main(["--home", str(ws.home), *words])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


# ----- the real `workbench serve` process (tests/service, tests/remote) --------------------------------------------
# ``start_service(home, database_url)`` runs ``python -m workbench serve --port 0`` on a prepared workspace and
# returns ``(url, process)`` once the process has printed the address it listens on; ``stop_service`` ends it
# with SIGTERM; ``running`` does both; ``call`` is one HTTP request to it.
URL_PREFIX = "Workbench service at "
START_TIMEOUT = 180  # seconds: a safety net for a stuck start on a loaded machine, not a speed requirement
STOP_TIMEOUT = 60


class ServiceProcess(subprocess.Popen):
    """The service's process, with what it printed: ``lines`` (stdout, read as it comes) and ``log`` (stderr)."""

    lines: queue.Queue
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stdout_lines(self) -> list[str]:
        out = []
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                return out
            if line is not None:
                out.append(line)


_SCRATCH: list[Path] = []


def scratch() -> Path:
    """One folder per test run for the services' logs and Jupyter runtime files, removed at exit."""
    if not _SCRATCH:
        import atexit
        import shutil

        _SCRATCH.append(Path(tempfile.mkdtemp(prefix="workbench-service-tests-")))
        atexit.register(shutil.rmtree, _SCRATCH[0], True)
    return _SCRATCH[0]


def service_env(database_url: str | None = None, **extra: str) -> dict[str, str]:
    """The child's environment: this one without workbench or hub settings, plus ``database_url`` and ``extra``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WORKBENCH_", "JUPYTERHUB_", "JUPYTER_TOKEN"))}
    if database_url:
        env["WORKBENCH_DATABASE_URL"] = database_url
    env["JUPYTER_RUNTIME_DIR"] = str(scratch() / "runtime")
    env.update(extra)
    return env


def launch(args: list[str], env: dict[str, str], user: str | None = None) -> ServiceProcess:
    """``python -m workbench <args>`` (as OS ``user``, when given and we are root) with stdout read line by line
    in a thread and stderr kept in a file."""
    as_user: dict[str, Any] = {"user": user, "group": user, "extra_groups": [], "cwd": "/"} if user else {}
    with tempfile.NamedTemporaryFile(prefix="service-", suffix=".log", dir=scratch(), delete=False) as log:
        process = ServiceProcess([sys.executable, "-m", "workbench", *args], env=env, stdout=subprocess.PIPE,
                                 stderr=log, stdin=subprocess.DEVNULL, text=True, **as_user)
    process.log_path = Path(log.name)
    process.lines = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            process.lines.put(line.rstrip("\n"))
        process.lines.put(None)  # end of output: the process has exited

    threading.Thread(target=read, daemon=True).start()
    return process


def start_service(home: Path | str, database_url: str | None = None, *, args: tuple[str, ...] = (),
                  env: dict[str, str] | None = None, user: str | None = None) -> tuple[str, ServiceProcess]:
    """Start the service on ``home`` (and ``database_url``); return its URL (ending in /) and the process.

    Raises AssertionError with the service's log if it exits or prints no URL line in time; the process is
    ended in that case. Otherwise the caller ends it (``stop_service``; the ``service`` fixture does).
    """
    process = launch(["serve", "--port", "0", "--home", str(home), *args],
                     env if env is not None else service_env(database_url), user)
    try:
        line = process.lines.get(timeout=START_TIMEOUT)
    except queue.Empty:
        line = None
    if line is None or not line.startswith(URL_PREFIX):
        stop_service(process)
        raise AssertionError(f"the service did not start (first line {line!r}); its log:\n{process.log()}")
    return line[len(URL_PREFIX):], process


def stop_service(process: subprocess.Popen | ForkedService) -> int:
    """SIGTERM, wait, and SIGKILL only if it does not stop; returns the exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


@contextmanager
def running(home: Path | str, database_url: str | None = None, **options: Any) -> Iterator[str]:
    """``with running(home) as url:`` the service on ``home``, ended on the way out whatever happened."""
    url, process = start_service(home, database_url, **options)
    try:
        yield url
    finally:
        stop_service(process)


# ----- services forked from a warm process (the remote ``kernel``, tests/security, tests/server) ------------------
# Starting ``python -m workbench serve`` costs an interpreter, the Jupyter server's imports and, on the first
# request, pandas and pyarrow: 2 s on a quiet machine, 5-9 s on a busy one. Each test process keeps one "fork
# server" that has imported all that once and forks a fresh ``workbench serve`` (``workbench.cli.main``, the
# command's own code) for each test that asks: every test still gets its own service process on its own
# workspace, so no test sees another's state, for a fork (a service answers in about 0.2 s). The tests of the
# command itself (tests/service, tests/remote) start the real process (``start_service``).
PRELOAD = ("workbench.cli", "workbench.server", "workbench.server.service", "workbench.server.handlers",
           "workbench.server.kernel", "workbench.server.tokens", "workbench.workspace", "workbench.wire",
           "pandas", "pyarrow", "pyarrow.parquet", "sqlalchemy", "sqlalchemy.dialects.sqlite")


def fork_server() -> None:
    """The fork server's loop (``python tests/helpers.py --fork-server``): one JSON request a line on stdin
    (``{"args": [...], "env": {...}, "out": path, "err": path}``) is answered ``started <pid>``; a child that
    exits is reported ``exited <pid> <status>``. At the end of stdin the children left are ended and it exits."""
    import importlib
    import select
    import time

    for module in PRELOAD + (("psycopg",) if os.environ.get("WORKBENCH_DATABASE_PRELOAD") else ()):
        importlib.import_module(module)
    children: set[int] = set()

    def say(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def reap() -> None:
        for pid in list(children):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                children.discard(pid)
                say(f"exited {pid} {os.waitstatus_to_exitcode(status)}")

    stdin = sys.stdin.buffer
    pending = b""
    while True:
        ready, _, _ = select.select([stdin], [], [], 0.05)
        reap()
        if not ready:
            continue
        chunk = os.read(stdin.fileno(), 65536)
        if not chunk:
            break
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            request = json.loads(line)
            pid = os.fork()
            if pid == 0:
                _forked_service(request)  # never returns
            children.add(pid)
            say(f"started {pid}")
    for pid in children:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while children and time.monotonic() < deadline:
        reap()
        time.sleep(0.05)
    for pid in children:
        os.kill(pid, signal.SIGKILL)


def _forked_service(request: dict[str, Any]) -> None:
    """In the forked child: its own output files and environment, then the ``workbench`` command; never returns."""
    code = 1
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for fd, path in ((1, request["out"]), (2, request["err"])):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), fd)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        with suppress(OSError, AttributeError):  # Linux: end with the fork server, however it ends
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        os.environ.clear()
        os.environ.update(request["env"])
        from workbench.cli import main

        code = main(request["args"])
    except BaseException:  # whatever happens, the child says why on its stderr and exits here
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with suppress(Exception):  # a closed stream: nothing left to say
                stream.flush()
        os._exit(code if isinstance(code, int) else 1)


class ForkServer:
    """This test process's fork server (started on first use, ended at exit) and its children's exit statuses."""

    def __init__(self) -> None:
        env = service_env()
        if PG_URL:
            env["WORKBENCH_DATABASE_PRELOAD"] = "1"
        self.process = subprocess.Popen([sys.executable, __file__, "--fork-server"], env=env, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.lock = threading.Lock()
        self.changed = threading.Condition()
        self.started: queue.Queue = queue.Queue()
        self.exited: dict[int, int] = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            word, *rest = line.split()
            if word == "started":
                self.started.put(int(rest[0]))
            elif word == "exited":
                with self.changed:
                    self.exited[int(rest[0])] = int(rest[1])
                    self.changed.notify_all()
        self.started.put(None)
        with self.changed:
            self.changed.notify_all()

    def fork(self, args: list[str], env: dict[str, str], out: Path, err: Path) -> int:
        """A child running ``workbench <args>`` with ``env``, its stdout and stderr in ``out`` and ``err``."""
        assert self.process.stdin is not None
        with self.lock:
            self.process.stdin.write(json.dumps({"args": args, "env": env, "out": str(out), "err": str(err)}) + "\n")
            self.process.stdin.flush()
            pid = self.started.get(timeout=START_TIMEOUT)
        if pid is None:
            raise AssertionError("the fork server of the services has exited")
        return pid

    def wait(self, pid: int, timeout: float | None) -> int | None:
        """``pid``'s exit status once it exits, or None after ``timeout`` seconds or if the fork server died."""
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        with self.changed:
            while pid not in self.exited and self.process.poll() is None:
                left = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
                if left <= 0:
                    break
                self.changed.wait(left)
            return self.exited.get(pid)

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(timeout=STOP_TIMEOUT + 10)
            except subprocess.TimeoutExpired:
                self.process.kill()


_FORK_SERVER: list[ForkServer] = []


def fork_server_process() -> ForkServer:
    if not _FORK_SERVER or _FORK_SERVER[0].process.poll() is not None:
        import atexit

        _FORK_SERVER[:] = [ForkServer()]
        atexit.register(_FORK_SERVER[0].close)
    return _FORK_SERVER[0]


class ForkedService:
    """A service forked by the fork server: what ``stop_service`` needs of a Popen, and its log."""

    def __init__(self, server: ForkServer, pid: int, out: Path, err: Path) -> None:
        self.server, self.pid, self.out, self.log_path = server, pid, out, err
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.server.wait(self.pid, 0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = self.server.wait(self.pid, timeout)
            if self.returncode is None and self.server.process.poll() is not None:
                self.returncode = -signal.SIGKILL  # the fork server died; it took its children with it
            if self.returncode is None:
                raise subprocess.TimeoutExpired(f"workbench serve (pid {self.pid})", timeout or 0)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            with suppress(ProcessLookupError):  # it has just exited
                os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def first_line(self, timeout: float) -> str | None:
        """The first line the service printed (its address), or None if it exited or said nothing in time."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.out.read_text(errors="replace") if self.out.exists() else ""
            if "\n" in text:
                return text.split("\n", 1)[0]
            if self.poll() is not None:
                return None
            time.sleep(0.02)
        return None


def start_forked_service(home: Path | str, database_url: str | None = None, *,
                         args: tuple[str, ...] = ()) -> tuple[str, ForkedService]:
    """``start_service`` by a fork of the warm fork server: the same command, started in milliseconds."""
    with tempfile.NamedTemporaryFile(prefix="service-", suffix=".out", dir=scratch(), delete=False) as out:
        pass
    err = Path(out.name).with_suffix(".log")
    server = fork_server_process()
    command = ["serve", "--port", "0", "--home", str(home), *args]
    process = ForkedService(server, server.fork(command, service_env(database_url), Path(out.name), err),
                            Path(out.name), err)
    line = process.first_line(START_TIMEOUT)
    if line is None or not line.startswith(URL_PREFIX):
        stop_service(process)
        raise AssertionError(f"the service did not start (first line {line!r}); its log:\n{process.log()}")
    return line[len(URL_PREFIX):], process


@contextmanager
def serving(home: Path | str, database_url: str | None = None, *, args: tuple[str, ...] = ()) -> Iterator[str]:
    """``with serving(home) as url:`` this test's own ``workbench serve`` on ``home`` (forked), ended on the way
    out whatever happened."""
    url, process = start_forked_service(home, database_url, args=args)
    try:
        yield url
    finally:
        stop_service(process)


class Answer:
    """An HTTP answer: status, headers, body text and (when JSON) the parsed body."""

    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.text = body.decode("utf-8", errors="replace")
        try:
            self.json = json.loads(self.text) if self.text else None
        except ValueError:
            self.json = None

    def __repr__(self) -> str:
        return f"<Answer {self.status} {self.text[:200]!r}>"


def call(url: str, path: str, *, token: str | None = None, method: str = "GET", body: Any = None,
         scheme: str = "token", headers: dict[str, str] | None = None) -> Answer:
    """One real HTTP request to the service (errors are answers too)."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"{scheme} {token}"
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    if data is not None:
        sent.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url + path, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read())


# ----- the REST API (tests/server) ----------------------------------------------------------------------------
# Identity: a test-only identity provider accepts the server's token as usual and takes the person's name from
# the ``X-Workbench-Test-User`` header, so one server can be asked by every role in turn.
TEST_USER_HEADER = "X-Workbench-Test-User"


def header_identity_provider() -> type:
    from jupyter_server.auth.identity import IdentityProvider, User

    class HeaderIdentityProvider(IdentityProvider):
        """Token authentication as usual; the username comes from a request header (tests only)."""

        async def get_user(self, handler: Any) -> User | None:  # type: ignore[override]
            user = await super().get_user(handler)
            name = handler.request.headers.get(TEST_USER_HEADER)
            if user is None or not name:
                return user
            return User(username=name)

    return HeaderIdentityProvider


class Reply:
    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self.json = json.loads(body) if body else None

    def __repr__(self) -> str:
        return f"<Reply {self.status} {self.json!r}>"


# service operation (tests/test_security_matrix.py) → roles allowed to perform it; the kernel route's
# matrix (tests/server/test_kernel_matrix.py) is compared with it
SERVICE_EXPECTED = {
    "search catalogue": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "read entry": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "export catalogue": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "register own dataset": {"admin", "data_owner"},
    "change another owner's dataset": {"admin"},
    "draft entry from a file": {"admin", "data_owner"},
    "register own dataset from a file": {"admin", "data_owner"},
    "import distribution": {"admin", "data_owner"},
    # a distribution belongs to the owner who registered it (OTHER_OWNER); admins may correct it
    "overwrite another owner's distribution": {"admin"},
    "list people": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "add person": {"admin"},
    "add department": {"admin"},
    "create project": {"admin"},
    "list projects": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "read linkage truth": {"admin", "trainer"},
    # the person index: built and read by admins (and linkers); a dataset's quality by its owner too
    "build person index": {"admin"},
    "read person index status": {"admin"},
    "read person-index quality": {"admin", "data_owner"},
    "read person-index review pairs": {"admin"},  # with the records' identifying fields: never an owner's
    "decide person-index review pair": {"admin"},  # admins and linkers; owners see the quality record only
    "verify audit": {"admin"},
    # governed access (ANALYST leads both projects; OWNER owns DATASET)
    "set roles": {"admin"},
    "accredit person": {"admin"},
    "record training": {"admin", "trainer"},
    "change project": {"admin"},
    "add project member": {"admin"},
    "remove project member": {"admin"},
    "read training records": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "list project requests": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "request access": {"analyst"},
    "list my requests": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "list project grants": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "list requests to decide": {"admin", "data_owner"},
    "decide request": {"data_owner"},
    # separation of duties: OWNER and ADMIN are analysts in GAMMA, whose lead asked for DATASET
    "decide request of a project one is a member of": set(),
    "name delegate": {"admin", "data_owner"},
    "name oneself a delegate": set(),
    "load granted data": {"analyst"},
    "derive a frame": {"analyst"},
    "table by spec": {"analyst"},
    "save to project": {"analyst"},
    "list saved data": {"analyst"},
    "read saved data": {"analyst"},
    "owner usage report": {"admin", "data_owner"},
    "list my datasets": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "read synthetic twin": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "read access settings": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "change access settings": {"admin"},
    "record output": {"analyst"},
    "list outputs": {"analyst"},
    "export outputs": {"analyst"},
    "read disclosure settings": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "change disclosure settings": {"admin"},
    "pin grant to a version": {"admin", "data_owner"},
    "revoke grant": {"admin", "data_owner"},
    # output checking (CHECKER belongs to no project; ANALYST authored every output)
    "create output request": {"analyst"},
    "list output requests": {"analyst"},
    "submit output request": {"analyst"},
    "withdraw output request": {"analyst"},
    "output-checking queue": {"output_checker"},
    "output-checking history": {"output_checker"},
    "show request for review": {"output_checker"},
    "review an output": {"output_checker"},
    "conclude output request": {"output_checker"},
    "release output request": {"output_checker"},
    "read release manifest": {"output_checker"},
    "download release package": {"analyst", "data_owner"},  # a member; the owner of its dataset
    "download a released file": {"analyst", "data_owner"},
    "read output-checking settings": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "change output-checking settings": {"admin"},
    "set privacy budget": {"admin", "data_owner"},
    "list privacy budgets": {"admin", "data_owner"},
    "set twin budget": {"admin", "data_owner"},
    "read project privacy budget": {"analyst"},
    "preview dp query": {"analyst"},
    "run dp query": {"analyst"},
    "catalogue filters": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "catalogue coverage": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "open catalogue browser": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "explore dp accuracy": {"analyst"},
    "attempt exercise": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "create training cohort": {"admin", "trainer"},
    "read training progress": {"admin", "trainer"},
    "read exercise solution": {"admin", "trainer"},
    "link datasets": {"analyst"},
    "list linkage runs": {"analyst"},
    # API tokens for the workbench service: everyone manages their own, admins anyone's
    "create own API token": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "create another's API token": {"admin"},
    "list own API tokens": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "list another's API tokens": {"admin"},
    "revoke own API token": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "revoke another's API token": {"admin"},
}


if __name__ == "__main__" and sys.argv[1:] == ["--fork-server"]:
    fork_server()


def grid_equations(grid: Any, unknown: Any) -> tuple[list[tuple[int, int]], list, list]:
    """An attacker's equations for a table whose last row and column are totals: the unknown cells (in order),
    and ``A x = b`` saying every row and column adds up given the published cells — for linear-programming
    attacks on suppression."""
    n_rows, n_cols = grid.shape[0] - 1, grid.shape[1] - 1
    cells = [tuple(int(v) for v in c) for c in np.argwhere(unknown)]
    var = {cell: k for k, cell in enumerate(cells)}
    lines = ([[(i, j) for j in range(n_cols)] + [(i, n_cols)] for i in range(n_rows + 1)]
             + [[(i, j) for i in range(n_rows)] + [(n_rows, j)] for j in range(n_cols + 1)])
    a_eq, b_eq = [], []
    for line in lines:  # the parts minus their total is zero
        row, rhs = np.zeros(len(cells)), 0.0
        for k, cell in enumerate(line):
            sign = -1.0 if k == len(line) - 1 else 1.0
            if cell in var:
                row[var[cell]] += sign
            else:
                rhs -= sign * grid[cell]
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    return cells, a_eq, b_eq


@contextmanager
def pg_scratch_schema(prefix: str) -> Iterator[tuple[str, str, sa.Engine]]:
    """A throwaway schema on the test PostgreSQL server, for data a test reads as a source: (URL, schema, engine),
    dropped with everything in it afterwards. Skips, saying why, when no server is configured."""
    url = os.environ.get("WORKBENCH_TEST_DATABASE_URL")
    if not url:
        pytest.skip("no PostgreSQL source (WORKBENCH_TEST_DATABASE_URL)")
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield url, schema, engine
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()
