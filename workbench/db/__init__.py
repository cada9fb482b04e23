"""The workspace database: one engine, read and write transactions, schema migrations on open.

SQLite runs in WAL mode with foreign keys on; write transactions take the write lock up front
(``BEGIN IMMEDIATE``) so that concurrent writers queue instead of failing half-way. PostgreSQL writers that
need a serial order (the audit chain) take an advisory lock inside their transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError

from workbench.config import redact_url
from workbench.errors import Conflict, WorkbenchError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

WRITE_LOCK_KEY = 0x574B42  # advisory lock id serialising audit-chain appends on PostgreSQL


# One engine (one connection pool) per database URL in a process, shared by every workspace opened on it and
# disposed when the last of them closes: opening a workspace twice does not double the connections held.
_ENGINES: dict[str, tuple[Engine, int]] = {}
_ENGINES_LOCK = threading.Lock()


class Database:
    """A connected workspace database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.on_audit_head: Callable[[int, str], None] | None = None  # told the last event of each commit
        self.dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
        with _ENGINES_LOCK:
            engine, users = _ENGINES.get(url) or (self._create_engine(), 0)
            _ENGINES[url] = (engine, users + 1)
        self.engine: Engine = engine
        self._closed = False

    def _create_engine(self) -> Engine:
        url = self.url
        if self.dialect == "sqlite":
            engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

            @event.listens_for(engine, "connect")
            def _sqlite_connect(dbapi_connection, _record) -> None:
                dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA busy_timeout=30000")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.close()

            @event.listens_for(engine, "begin")
            def _sqlite_begin(conn) -> None:
                mode = "IMMEDIATE" if conn.get_execution_options().get("workbench_write") else "DEFERRED"
                conn.exec_driver_sql(f"BEGIN {mode}")
        else:
            engine = create_engine(url, pool_pre_ping=True)
        return engine

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction (a consistent snapshot)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: all or nothing, serialised with other writers."""
        with self.engine.connect().execution_options(workbench_write=True) as conn:
            try:
                with conn.begin():
                    if self.dialect == "postgresql":
                        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})
                    yield conn
            finally:
                head = conn.info.pop("audit_head", None)
        if head is not None and self.on_audit_head is not None:  # reached only after a commit
            self.on_audit_head(*head)

    def check_reachable(self) -> None:
        """Refuse clearly when the database cannot be opened."""
        try:
            with self.read() as conn:
                conn.exec_driver_sql("SELECT 1")
        except SQLAlchemyError as exc:
            raise WorkbenchError(
                f"Cannot open the workspace database {redact_url(self.url)}: {exc.__class__.__name__}: "
                f"{str(exc).splitlines()[0]}. Check WORKBENCH_DATABASE_URL and that the server is running."
            ) from exc

    def close(self) -> None:
        """Let go of the shared engine; the last workspace on this database closes its connections."""
        if self._closed:
            return
        self._closed = True
        with _ENGINES_LOCK:
            engine, users = _ENGINES.get(self.url, (self.engine, 1))
            if engine is not self.engine:  # this engine was already replaced; it is ours alone
                self.engine.dispose()
            elif users <= 1:
                _ENGINES.pop(self.url, None)
                engine.dispose()
            else:
                _ENGINES[self.url] = (engine, users - 1)


def migrations_config():
    """The Alembic configuration pointing at the packaged migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return config


def head_revision() -> str:
    """The newest schema revision this code knows."""
    return _known_revisions()[1]


@lru_cache(maxsize=1)
def _known_revisions() -> tuple[frozenset[str], str]:
    """Every revision of the packaged migrations and the head, read once per process: the scripts are part of the
    code, and parsing them (~10 ms) on every open would be most of what opening a workspace costs."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrations_config())
    head = script.get_current_head()
    assert head is not None
    return frozenset(revision.revision for revision in script.walk_revisions()), head


def current_revision(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database) -> None:
    """Create or upgrade the schema to this code's head; refuse a database newer than the code."""
    from alembic import command

    known, head = _known_revisions()
    current = current_revision(db)
    if current is not None:
        if current not in known:
            raise Conflict(
                f"This workspace's database is at schema revision {current!r}, which this version of the "
                f"workbench does not know (it knows up to {head!r}): the workspace was "
                "made by a newer workbench. Upgrade the workbench (pip install -U workbench) and open it again; "
                "nothing was changed.")
        if current == head:
            return
    config = migrations_config()
    with db.write() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
