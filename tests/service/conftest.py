"""Starting the real ``workbench serve`` process for tests, and calling it over HTTP.

``start_service(home, database_url)`` runs ``python -m workbench serve --port 0`` on a prepared workspace and
returns ``(url, process)`` once the process has printed the address it listens on; ``stop_service`` ends it
with SIGTERM. The ``service`` fixture does both and always ends what it started, whatever the test did.
(This folder is a package so that this conftest does not shadow ``tests/conftest.py`` for ``from conftest
import ...``.)
"""

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

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


def stop_service(process: subprocess.Popen) -> int:
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


@pytest.fixture
def service() -> Iterator[Callable[..., tuple[str, ServiceProcess]]]:
    """``service(home, database_url=None)`` → (url, process); every process started is ended afterwards."""
    started: list[ServiceProcess] = []

    def start(home: Path | str, database_url: str | None = None, **options: Any) -> tuple[str, ServiceProcess]:
        url, process = start_service(home, database_url, **options)
        started.append(process)
        return url, process

    yield start
    for process in started:
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
