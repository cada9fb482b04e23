"""Browser tests: JupyterLab on loopback over a small demo workspace, driven by Debian's Chromium.

Run in their own pytest call (``pytest tests/ui --confcutdir=tests/ui``): pytest-jupyter's event loop, which the
other tests load, clashes with Playwright's. The README's command runs them on two workers, a file per worker
(``-n 2 --dist loadfile``): each worker builds its own demo and starts its own labs (session fixtures), so the tests
of one file see what earlier tests of that file did, never another file's. Screenshots go to
``tests/ui/artefacts/`` (gitignored).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("WORKBENCH_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTEFACTS = Path(__file__).parent / "artefacts"
BUILT_EXTENSION = Path(__file__).resolve().parents[2] / "extensions" / "workbench-labextension" / "labextension"
DEMO_USER = "demo.builder"  # builds the demo, so is its admin, and an analyst in every mission project
DEMO_PERSONS = 1000

if not Path(CHROMIUM).exists():
    pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium; .ci/run installs it)",
                allow_module_level=True)


def build_demo(home: Path) -> Path:
    """The demo workspace built at ``home`` by the CLI, as a user would."""
    env = {k: v for k, v in os.environ.items() if k not in ("WORKBENCH_DATABASE_URL", "JUPYTERHUB_USER")}
    subprocess.run([sys.executable, "-m", "workbench.cli", "--home", str(home), "demo", "--scale",
                    str(DEMO_PERSONS), "--quiet"], env={**env, "WORKBENCH_USER": DEMO_USER}, check=True,
                   capture_output=True, timeout=600)
    return home


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo shared by the test files of a worker: tests that add to it (registering datasets) use their own."""
    return build_demo(tmp_path_factory.mktemp("ui") / "ws")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settings(folder: Path) -> Path:
    """Lab settings for a quiet test: no news prompt, every notebook cell rendered."""
    for plugin, values in (("@jupyterlab/apputils-extension/notification", {"fetchNews": "false"}),
                           ("@jupyterlab/notebook-extension/tracker", {"windowingMode": "none"})):
        path = folder / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    return folder


def _this_tree_s_extension(folder: Path) -> Path:
    """A Jupyter data folder that serves this tree's built lab extension, ahead of the copy installed in the
    environment (which an editable install of another checkout, or a wheel, put there)."""
    extensions = folder / "labextensions"
    extensions.mkdir(parents=True, exist_ok=True)
    if (BUILT_EXTENSION / "package.json").exists():
        (extensions / "workbench-labextension").symlink_to(BUILT_EXTENSION, target_is_directory=True)
    return folder


class Lab:
    def __init__(self, url: str, token: str, home: Path) -> None:
        self.url, self.token, self.home = url, token, home


def start_lab(home: Path, user: str, root: Path) -> tuple[Lab, subprocess.Popen]:
    """``jupyter lab`` on 127.0.0.1 over the workspace ``home``, signed in as ``user``, the way ``workbench lab``
    starts it; its files (settings, runtime, log) under ``root``. Returns once the server answers."""
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k not in ("WORKBENCH_DATABASE_URL", "JUPYTERHUB_USER")}
    env.update(WORKBENCH_HOME=str(home), WORKBENCH_USER=user, JUPYTER_RUNTIME_DIR=str(root / "runtime"),
               JUPYTER_PATH=os.pathsep.join(filter(None, [str(_this_tree_s_extension(root / "jupyter")),
                                                          env.get("JUPYTER_PATH")])))
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               "--ServerApp.identity_provider_class=workbench.server.identity.WorkspaceUserIdentityProvider",
               f"--LabApp.user_settings_dir={_settings(root / 'settings')}",
               f"--LabApp.workspaces_dir={root / 'workspaces'}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    with (root / "lab.log").open("w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            return Lab(url, token, home), process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                stop_lab(process, root, f"failed-{user}")
                raise RuntimeError("JupyterLab did not start:\n" + (root / "lab.log").read_text()[-4000:]) from None
            time.sleep(0.5)


def stop_lab(process: subprocess.Popen, root: Path, name: str) -> None:
    """Stop a lab from ``start_lab`` and keep its log as ``artefacts/lab-<name>.log`` (``lab-<name>-<worker>.log``
    when the browser tests run on several workers, each with its own demo and labs)."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=20)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    shutil.copy(root / "lab.log", _artefacts() / (f"lab-{name}-{worker}.log" if worker else f"lab-{name}.log"))


@pytest.fixture(scope="session")
def lab_as(demo_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Lab]]:
    """``lab_as(user)``: the demo workspace's lab signed in as ``user`` (one server per person, kept for the
    session)."""
    yield from labs_of(demo_home, tmp_path_factory)


def labs_of(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Lab]]:
    """Labs on the workspace at ``home``, started on first use per user and stopped at the end."""
    started: dict[str, tuple[Lab, subprocess.Popen, Path]] = {}

    def start(user: str) -> Lab:
        if user not in started:
            root = tmp_path_factory.mktemp("lab")
            started[user] = (*start_lab(home, user, root), root)
        return started[user][0]

    yield start
    for user, (_lab, process, root) in started.items():
        stop_lab(process, root, user)


@pytest.fixture(scope="session")
def lab(lab_as: Callable[[str], Lab]) -> Lab:
    """The lab of the demo user (an analyst in every mission project; its forms default to the first)."""
    return lab_as(DEMO_USER)


def _artefacts() -> Path:
    ARTEFACTS.mkdir(exist_ok=True)
    return ARTEFACTS


def put_notebook(lab: Lab, name: str, sources: tuple[str, ...]) -> None:
    """Save a notebook of code cells (``sources``, in order) into the lab's folder through the contents API."""
    cells = [{"cell_type": "code", "id": f"cell{i}", "metadata": {}, "source": source, "outputs": [],
              "execution_count": None} for i, source in enumerate(sources)]
    body = {"type": "notebook", "format": "json", "content": {
        "nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                         "language": "python"}},
        "cells": cells}}
    request = urllib.request.Request(f"{lab.url}/api/contents/{name}?token={lab.token}", method="PUT",
                                     data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=30)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_lab(browser, lab: Lab, workspace: str | None = None) -> object:
    """A fresh page on ``lab``, signed in with its token, the launcher shown: in the default workspace reset
    (panels another test left open are not restored), or in a new named ``workspace``."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    where = f"lab/workspaces/{workspace}?" if workspace else "lab?reset&"
    page.goto(f"{lab.url}/{where}token={lab.token}")
    page.wait_for_selector(".jp-Launcher", timeout=90_000)
    return page


@pytest.fixture
def page(browser, lab: Lab, request: pytest.FixtureRequest) -> Iterator[object]:
    """The demo user's lab in a fresh page; a screenshot is kept after the test."""
    page = open_lab(browser, lab)
    yield page
    page.screenshot(path=str(_artefacts() / f"{request.node.name}.png"), full_page=True)
    page.context.close()
