"""Shared fixtures: workspaces on SQLite and, for the tests marked ``db`` (the services' storage and migrations),
on PostgreSQL too (when WORKBENCH_TEST_DATABASE_URL is set); the demo workspace, built once per test process and
copied for each test that uses it, so no test sees another's changes. Constants and helpers: tests/helpers.py."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    ADMIN,
    ANALYST,
    CHECKER2,
    CHECKER3,
    DEMO_PERSONS,
    DEMO_USER,
    OTHER_OWNER,
    OTHER_PROJECT,
    OWNER,
    PG_SKIP,
    PG_URL,
    PROJECT,
    ROLE_OF,
    SECOND_ANALYST,
    TEST_USER_HEADER,
    Connect,
    Reply,
    grant,
    header_identity_provider,
    serving,
)

import workbench

# jp_fetch and friends for the REST handler tests (tests/server). The browser tests in tests/ui run in their own
# pytest call without this plugin, whose event loop would clash with Playwright's.
pytest_plugins = ["pytest_jupyter.jupyter_server"]
collect_ignore = ["ui"]

@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WORKBENCH_HOME", "WORKBENCH_DATABASE_URL", "JUPYTERHUB_USER", "WORKBENCH_USER", "WORKBENCH_URL",
                 "WORKBENCH_TOKEN", "JUPYTERHUB_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked ``slow`` (a Spark session, notebooks, fuzzing, servers) first, each group still in
    pytest-randomly's order (it shuffles before this hook): with the workers stealing work from each other
    (``--dist worksteal``), the run ends on short tests on every worker instead of waiting for a two-minute test
    that happened to be drawn last."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test on a workspace runs on SQLite; those marked ``db`` run on PostgreSQL too."""
    if "new_database" not in metafunc.fixturenames or any(
            "new_database" in str(mark.args[0]) for mark in metafunc.definition.iter_markers("parametrize")):
        return
    backends: list[Any] = ["sqlite"]
    if metafunc.definition.get_closest_marker("db"):
        backends.append(pytest.param("postgresql", marks=pytest.mark.postgresql))
    metafunc.parametrize("new_database", backends, indirect=True)


def _postgresql_admin() -> Any:
    from sqlalchemy import create_engine

    return create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")


def _database_url(name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgresql_template() -> Iterator[str]:
    """A PostgreSQL database migrated to head once per test process: each test's database is a copy of it
    (``CREATE DATABASE ... TEMPLATE``, milliseconds) instead of running every migration again (about a second)."""
    from sqlalchemy import text

    from workbench.db import Database, upgrade

    name = f"wb_template_{uuid.uuid4().hex[:12]}"
    engine = _postgresql_admin()
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        db = Database(_database_url(name))
        try:
            upgrade(db)
        finally:
            db.close()
            db.engine.dispose()  # a template may have no open connection while it is copied
        yield name
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture
def new_database(request: pytest.FixtureRequest) -> Iterator[Callable[[], str | None]]:
    """A factory of empty databases: None (SQLite inside each workspace folder) or the URL of a fresh PostgreSQL
    database migrated to head (a copy of ``postgresql_template``), dropped after the test."""
    if request.param == "sqlite":
        yield lambda: None
        return
    if not PG_URL:
        pytest.skip(PG_SKIP)
    from sqlalchemy import text

    template = request.getfixturevalue("postgresql_template")
    engine = _postgresql_admin()
    names: list[str] = []

    def make() -> str:
        name = f"wb_test_{uuid.uuid4().hex[:12]}"
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY'))
        names.append(name)
        return _database_url(name)

    try:
        yield make
    finally:
        with engine.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture
def database_url(new_database: Callable[[], str | None]) -> str | None:
    return new_database()


@pytest.fixture
def connect_as(tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Connect]:
    """connect_as(user) opens the test workspace as that user (the environment's identity)."""
    opened = []

    def _connect(user: str) -> workbench.workspace.Workspace:
        monkeypatch.setenv("WORKBENCH_USER", user)
        ws = workbench.connect(tmp_path / "ws", database_url=database_url)
        opened.append(ws)
        return ws

    yield _connect
    for ws in opened:
        ws.close()


def _staff(connect: Connect) -> None:
    admin = connect(ADMIN)
    admin.people.add(ADMIN, "Ada Admin", roles=["admin"])
    admin.departments.add("department-of-health-and-social-care", "Department of Health and Social Care", "DHSC")
    admin.departments.add("office-for-national-statistics", "Office for National Statistics", "ONS")
    for user, role in ROLE_OF.items():
        if user != ADMIN:
            admin.people.add(user, user.replace(".", " ").title(), roles=[role],
                             department="DHSC" if user != OTHER_OWNER else "ONS")


def _govern(connect: Connect) -> None:
    from factories import patient_record, patients

    connect(OWNER).catalogue.register(patient_record(), patients())
    admin = connect(ADMIN)
    admin.people.add(SECOND_ANALYST, "Bea Analyst", roles=["analyst"], department="DHSC")
    for user in (ANALYST, SECOND_ANALYST):
        admin.people.accredit(user, until="2099-12-31")
        admin.people.record_training(user, "safe-researcher", completed="2026-01-05")
    admin.create_project(PROJECT, "Alpha", "Admissions research", mission=5, legal_gateway="dea-2017-research",
                         lead=ANALYST, start="2026-01-01", end="2099-12-31", status="active")
    admin.create_project(OTHER_PROJECT, "Beta", "Service planning", mission=5,
                         legal_gateway="nhs-act-2006-s251", lead=ANALYST, start="2026-01-01", end="2099-12-31",
                         status="active", members={SECOND_ANALYST: "analyst"})


def _open_desk(connect: Connect) -> None:
    grant(connect)
    admin = connect(ADMIN)
    for user in (CHECKER2, CHECKER3):
        admin.people.add(user, user.replace(".", " ").title(), roles=["output_checker"], department="DHSC")


# each arranged workspace: the one it starts from and what is done to it
ARRANGED: dict[str, tuple[str | None, Callable[[Connect], None]]] = {
    "staffed": (None, _staff), "governed": ("staffed", _govern), "desk": ("governed", _open_desk)}


class WorkspaceTemplates:
    """The arranged SQLite workspaces, each built the first time a test of this process asks for it and then
    copied into that test's folder: arranging them through the services costs seconds, a copy milliseconds."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.built: dict[str, Path] = {}

    def copy(self, name: str, home: Path) -> None:
        source = self.build(name)
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(source, home)

    def build(self, name: str) -> Path:
        if name in self.built:
            return self.built[name]
        base, arrange = ARRANGED[name]
        home = self.root / name
        if base is not None:
            shutil.copytree(self.build(base), home)
        opened: list[workbench.workspace.Workspace] = []
        with pytest.MonkeyPatch.context() as env:
            for key in ("WORKBENCH_HOME", "WORKBENCH_DATABASE_URL", "JUPYTERHUB_USER"):
                env.delenv(key, raising=False)

            def connect(user: str) -> workbench.workspace.Workspace:
                env.setenv("WORKBENCH_USER", user)
                opened.append(workbench.connect(home))
                return opened[-1]

            try:
                arrange(connect)
            finally:
                for ws in opened:
                    ws.close()
        self.built[name] = home
        return home


@pytest.fixture(scope="session")
def workspace_templates(tmp_path_factory: pytest.TempPathFactory) -> WorkspaceTemplates:
    return WorkspaceTemplates(tmp_path_factory.mktemp("arranged"))


def _arranged(name: str, connect: Connect, request: pytest.FixtureRequest) -> Connect:
    """``connect`` with the workspace arranged as ``name``: a copy of the template on SQLite; on PostgreSQL,
    arranged through the services on top of what the fixture it builds on arranged."""
    if request.getfixturevalue("database_url") is None:
        request.getfixturevalue("workspace_templates").copy(name, request.getfixturevalue("tmp_path") / "ws")
    else:
        ARRANGED[name][1](connect)
    return connect


@pytest.fixture
def staffed(connect_as: Connect, request: pytest.FixtureRequest) -> Connect:
    """A workspace with two departments and one person of each role (plus a second owner)."""
    return _arranged("staffed", connect_as, request)


@pytest.fixture
def governed(staffed: Connect, request: pytest.FixtureRequest) -> Connect:
    """``staffed`` plus OWNER's patient-level dataset and two active projects led by ANALYST (accredited and
    trained): PROJECT under a research gateway, OTHER_PROJECT under one that permits identifiers, where
    SECOND_ANALYST (also accredited and trained) is an analyst. No request has been made yet."""
    return _arranged("governed", staffed, request)


@pytest.fixture
def desk(governed: Connect, request: pytest.FixtureRequest) -> Connect:
    """``governed`` plus a grant of DATASET to PROJECT and two more output checkers (CHECKER is the first), so
    that requests can have two independent reviews and a third checker to conclude."""
    return _arranged("desk", governed, request)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo workspace built once per test process (by DEMO_USER, its admin and trainer); never opened by
    a test, only copied (``demo_home``)."""
    from workbench.demo import build_demo

    home = tmp_path_factory.mktemp("demo") / "ws"
    saved = {k: os.environ.pop(k, None) for k in ("WORKBENCH_DATABASE_URL", "JUPYTERHUB_USER")}
    os.environ["WORKBENCH_USER"] = DEMO_USER
    try:
        build_demo(home, persons=DEMO_PERSONS, seed=11)
    finally:
        os.environ.pop("WORKBENCH_USER", None)
        for key, value in saved.items():
            if value is not None:
                os.environ[key] = value
    return home


@pytest.fixture
def demo_home(demo_template: Path, tmp_path: Path) -> Path:
    """This test's own copy of the demo workspace, as freshly built."""
    home = tmp_path / "demo"
    shutil.copytree(demo_template, home)
    return home


@pytest.fixture
def demo_as(demo_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Connect]:
    """demo_as(user) opens this test's copy of the demo workspace as that user."""
    opened = []

    def _connect(user: str) -> workbench.workspace.Workspace:
        monkeypatch.setenv("WORKBENCH_USER", user)
        ws = workbench.connect(demo_home, create=False)
        opened.append(ws)
        return ws

    yield _connect
    for ws in opened:
        ws.close()


# ----- the REST API (tests/server) ----------------------------------------------------------------------------
# A Jupyter server with the workbench extension on a test workspace; ``api(user, method, *path)`` calls it as
# anyone (helpers.header_identity_provider).
@pytest.fixture
def jp_serverapp(jp_serverapp: Any) -> Iterator[Any]:
    """pytest-jupyter's server, whose workspace (a database pool, opened on the first request) is closed when the
    test ends: jupyter_server gives module extensions no stop hook, and in production the process exits."""
    yield jp_serverapp
    holder = jp_serverapp.web_app.settings.get("workbench")
    if holder is not None:
        holder.close()


@pytest.fixture
def jp_server_config() -> Any:
    """The Jupyter server of the REST API tests: the workbench extension on, identity from a test header."""
    from traitlets.config import Config

    return Config({"ServerApp": {"jpserver_extensions": {"workbench.server": True},
                                 "identity_provider_class": header_identity_provider()}})


@pytest.fixture
def served(governed, tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch):
    """``governed``, with the server pointed at its workspace (opened on the first request)."""
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "ws"))
    if database_url:
        monkeypatch.setenv("WORKBENCH_DATABASE_URL", database_url)
    return governed


@pytest.fixture
def api(jp_fetch, served) -> Callable[..., Any]:
    """``await api(user, "GET", "catalogue", params=..., body=...)`` → Reply (errors too)."""

    async def call(user: str | None, method: str, *path: str, params: dict | None = None, body: Any = None,
                   raw: bytes | None = None, headers: dict | None = None) -> Reply:
        from tornado.httpclient import HTTPClientError

        sent = {**({TEST_USER_HEADER: user} if user else {}), **(headers or {})}
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if method == "POST" and data is None:
            data = b""
        try:
            response = await jp_fetch("workbench", "api", *path, method=method, params=params, headers=sent,
                                      body=data, allow_nonstandard_methods=True)
        except HTTPClientError as error:
            return Reply(error.code, error.response.body if error.response else b"")
        return Reply(response.code, response.body)

    return call


# ----- the kernel API contract (tests/contract) ---------------------------------------------------------------
@pytest.fixture(params=["embedded", pytest.param("remote", marks=pytest.mark.slow)])
def kernel(request: pytest.FixtureRequest, desk: Connect, tmp_path: Path,
           database_url: str | None) -> Iterator[Callable[[str], Any]]:
    """kernel(user): the workspace a notebook kernel gets as ``user`` — embedded (``desk``), or remote: the same
    workspace run by ``workbench serve`` and reached with the person's token. Tests arrange state directly on
    the workspace, as an admin would on the service host, and act through ``kernel``. Each remote test has its own
    service process on its own copy of ``desk`` (forked from a warm process: helpers.serving)."""
    if request.param == "embedded":
        yield desk
        return
    admin = desk(ADMIN)
    tokens: dict[str, str] = {}
    with serving(tmp_path / "ws", database_url) as url:

        def connect(user: str) -> Any:
            if user not in tokens:
                tokens[user] = admin.tokens.create(user, label="contract tests")["token"]
            return workbench.connect(url=url, token=tokens[user])

        yield connect
