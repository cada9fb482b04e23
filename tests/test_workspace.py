"""Opening a workspace: folder, secrets, database and migrations, identity — and refusals."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ADMIN
from sqlalchemy import text

import workbench
from workbench import config
from workbench.errors import Conflict, InvalidInput, WorkbenchError

pytestmark = pytest.mark.db  # also on PostgreSQL


def test_new_workspace_layout_and_permissions(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_USER", ADMIN)
    home = tmp_path / "ws"
    with workbench.connect(home) as ws:
        assert ws.home == home and ws.user == ADMIN and ws.roles == []
        with ws._ctx.db.read() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert (home / "workbench.db").exists() and (home / "vault" / "datasets").is_dir()
    assert stat.S_IMODE((home / "secrets.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE((home / "vault").stat().st_mode) & 0o077 == 0


def test_home_defaults_to_environment_then_dot_workbench(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert config.resolve_home() == tmp_path / ".workbench"
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "elsewhere"))
    assert config.resolve_home() == tmp_path / "elsewhere"
    assert config.resolve_home(tmp_path / "given") == tmp_path / "given"
    monkeypatch.setenv("WORKBENCH_HOME", "  ")
    with pytest.raises(InvalidInput):
        config.resolve_home()


def test_identity_precedence_and_validation(monkeypatch) -> None:
    import getpass

    monkeypatch.setattr(getpass, "getuser", lambda: "os.user")
    assert config.current_user() == "os.user"
    monkeypatch.setenv("WORKBENCH_USER", "wb.user")
    assert config.current_user() == "wb.user"
    monkeypatch.setenv("JUPYTERHUB_USER", "Hub.User")
    assert config.current_user() == "hub.user"
    monkeypatch.setenv("JUPYTERHUB_USER", "../root")
    with pytest.raises(InvalidInput, match="JUPYTERHUB_USER"):
        config.current_user()


def test_database_url_choices(tmp_path: Path, monkeypatch) -> None:
    assert config.resolve_database_url(tmp_path) == f"sqlite:///{tmp_path / 'workbench.db'}"
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", "postgresql://u:pw@db:5432/x")
    assert config.resolve_database_url(tmp_path) == "postgresql+psycopg://u:pw@db:5432/x"
    assert config.redact_url("postgresql+psycopg://u:pw@db/x") == "postgresql+psycopg://u:***@db/x"
    with pytest.raises(InvalidInput, match="Unsupported database URL 'mysql://u:\\*\\*\\*@h/x'"):
        config.resolve_database_url(tmp_path, "mysql://u:secret@h/x")


@pytest.mark.parametrize("where", ["under-a-file", "proc"])
def test_unwritable_folder_is_refused_clearly(tmp_path: Path, where: str, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_USER", ADMIN)
    if where == "under-a-file":
        (tmp_path / "file").write_text("x")
        home = tmp_path / "file" / "ws"
    else:
        home = Path("/proc/workbench-cannot-write-here")
    with pytest.raises(InvalidInput, match="not writable"):
        workbench.connect(home)
    assert not home.exists()


def test_read_only_folder_is_refused_for_non_root(tmp_path: Path, monkeypatch) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can write to read-only folders; covered by the /proc case")
    monkeypatch.setenv("WORKBENCH_USER", ADMIN)
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(InvalidInput, match="not writable"):
            workbench.connect(tmp_path / "ws")
    finally:
        tmp_path.chmod(0o700)


def test_a_file_as_home_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_USER", ADMIN)
    (tmp_path / "plain").write_text("x")
    with pytest.raises(InvalidInput, match="is a file"):
        workbench.connect(tmp_path / "plain")


def test_open_without_create_needs_a_workspace(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_USER", ADMIN)
    with pytest.raises(WorkbenchError, match="workbench init"):
        workbench.connect(tmp_path / "none", create=False)
    assert not (tmp_path / "none").exists()


def test_failed_creation_removes_the_new_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_USER", ADMIN)
    home = tmp_path / "ws"
    with pytest.raises(WorkbenchError, match="Cannot open the workspace database"):
        workbench.connect(home, database_url="postgresql://nobody@127.0.0.1:1/none")
    assert not home.exists()


def test_secrets_readable_by_others_are_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_USER", ADMIN)
    home = tmp_path / "ws"
    workbench.connect(home).close()
    secrets = home / "secrets.json"
    key = secrets.read_text()
    secrets.chmod(0o644)
    with pytest.raises(WorkbenchError, match="chmod 600"):
        workbench.connect(home)
    secrets.chmod(0o600)
    workbench.connect(home).close()
    assert secrets.read_text() == key  # the same key on every open


def test_reopening_keeps_data_and_migrations_are_idempotent(staffed, connect_as) -> None:
    from workbench.db import current_revision, head_revision

    ws = staffed(ADMIN)
    assert current_revision(ws._ctx.db) == head_revision()
    again = connect_as(ADMIN)
    assert again.roles == ["admin"] and len(again.people.list()) == 6


def test_database_newer_than_the_code_is_refused_and_left_alone(staffed, connect_as) -> None:
    ws = staffed(ADMIN)
    with ws._ctx.db.write() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(Conflict, match="newer workbench"):
        connect_as(ADMIN)
    with ws._ctx.db.read() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999_future"
        assert conn.execute(text("SELECT count(*) FROM people")).scalar() == 6


def test_migrations_match_the_table_definitions(connect_as) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from workbench.db.schema import metadata

    ws = connect_as(ADMIN)
    with ws._ctx.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    ignorable = {"datasets_fts", "datasets_fts_data", "datasets_fts_idx", "datasets_fts_docsize",
                 "datasets_fts_config", "ix_datasets_search_vector"}
    real = [d for d in diff if not any(name in repr(d) for name in ignorable)
            and not (d[0] == "remove_column" and d[3].name == "search_vector")]
    assert real == []


def test_first_open_by_two_processes_at_once(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    code = f"import workbench; workbench.connect({str(home)!r}).close()"
    env = {**os.environ, "WORKBENCH_USER": ADMIN}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE) for _ in range(3)]
    errors = [p.communicate()[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors


@pytest.mark.postgresql
@pytest.mark.parametrize("new_database", ["postgresql"], indirect=True)
def test_postgresql_workspace_from_environment(tmp_path: Path, monkeypatch, database_url) -> None:
    monkeypatch.setenv("WORKBENCH_USER", ADMIN)
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", database_url)
    with workbench.connect(tmp_path / "ws") as ws:
        assert ws._ctx.db.dialect == "postgresql"
    assert not (tmp_path / "ws" / "workbench.db").exists()



def test_damaged_secrets_are_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_USER", ADMIN)
    home = tmp_path / "ws"
    workbench.connect(home).close()
    (home / "secrets.json").write_text("{not json")
    with pytest.raises(WorkbenchError, match="damaged"):
        workbench.connect(home)


def test_vault_refuses_unknown_restricted_areas_and_bad_names(tmp_path: Path) -> None:
    from workbench.vault import Vault

    vault = Vault(tmp_path)
    with pytest.raises(InvalidInput, match="restricted area"):
        vault.restricted_path("everything", "x")
    with pytest.raises(InvalidInput, match="path separator"):
        vault.restricted_path("truth", "../../etc")
    with pytest.raises(InvalidInput, match="path separator"):
        vault.dataset_path("a/b")


def test_workspaces_on_one_database_share_one_connection_pool(staffed, connect_as) -> None:
    first = staffed(ADMIN)
    second = connect_as(ADMIN)
    assert second._ctx.db.engine is first._ctx.db.engine  # opening again does not double the connections
    second.close()
    second.close()  # closing twice is harmless
    assert len(first.people.list()) == 6  # the other workspace still works
    third = connect_as(ADMIN)
    assert third._ctx.db.engine is first._ctx.db.engine
