"""Opening a workspace: the folder, its secrets, its database (migrated) and who is acting.

``connect()`` is the kernel API's entry point. A new workspace folder is created with private permissions;
if anything fails while creating it, what was created is removed again.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets as secrets_module
import shutil
import stat
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench import config
from workbench.errors import Conflict, InvalidInput, WorkbenchError

if TYPE_CHECKING:
    import pandas as pd

    from workbench.context import Context
    from workbench.governance.access import Access, Owner
    from workbench.governance.people import People
    from workbench.governance.projects import Projects
    from workbench.governance.tokens import Tokens
    from workbench.outputs.mine import MyOutputs
    from workbench.person_index.service import PersonIndex
    from workbench.project import Project
    from workbench.widgets.catalogue import NotebookCatalogue
    from workbench.widgets.review import NotebookReview

SECRETS_FILE = "secrets.json"
MARKER_FILE = config.WORKSPACE_FILE


def _prepare_folder(home: Path) -> bool:
    """Make sure ``home`` is a writable folder; return True if this call created it."""
    if home.exists() and not home.is_dir():
        raise InvalidInput(f"The workspace path {home} is a file, not a folder; choose another WORKBENCH_HOME.",
                           field="home")
    created = not home.exists()
    try:
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        probe = home / f".write-probe-{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InvalidInput(f"The workspace folder {home} is not writable ({exc.strerror or exc}); choose a "
                           "folder you can write to with WORKBENCH_HOME or connect(home=...).",
                           field="home") from None
    return created


def _load_secrets(home: Path) -> dict[str, str]:
    """Read (or create, mode 0600) the workspace secrets; refuse a file others can read."""
    path = home / SECRETS_FILE
    if not path.exists():
        content = {"pseudonymisation_key": secrets_module.token_hex(32),
                   "service_token": secrets_module.token_urlsafe(32)}
        tmp = home / f".{SECRETS_FILE}.{uuid.uuid4().hex}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(content, handle)
        try:
            os.link(tmp, path)  # appears whole, and only if no other process made it first
            return content
        except FileExistsError:
            pass  # another process opening the new folder won: use its secrets
        finally:
            tmp.unlink()
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise WorkbenchError(f"The secrets file {path} can be read by others (mode {mode:04o}); "
                             f"run `chmod 600 {path}` and connect again.")
    try:
        return json.loads(path.read_text())
    except ValueError:
        raise WorkbenchError(f"The secrets file {path} is damaged; restore it from a backup.") from None


@contextlib.contextmanager
def _folder_lock(home: Path):
    """Serialise schema creation between processes opening the same folder at once."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        yield
        return
    with open(home / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Workspace:
    """A connected workspace: ``ws.catalogue``, ``ws.people``, ``ws.projects()``... as the acting user."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._services: dict[str, Any] = {}

    @property
    def home(self) -> Path:
        return self._ctx.home

    @property
    def user(self) -> str:
        return self._ctx.actor.username

    @property
    def roles(self) -> list[str]:
        return sorted(self._ctx.actor.roles)

    def _service(self, name: str, factory: Any) -> Any:
        if name not in self._services:
            self._services[name] = factory(self._ctx)
        return self._services[name]

    @property
    def catalogue(self) -> NotebookCatalogue:
        """Find, read, register and browse datasets: ``ws.catalogue.search(...)``, ``.browse()``."""
        from workbench.widgets.catalogue import NotebookCatalogue

        return self._service("catalogue", lambda ctx: NotebookCatalogue(ctx, self))

    @property
    def people(self) -> People:
        from workbench.governance.people import People

        return self._service("people", People)

    @property
    def departments(self) -> Any:
        from workbench.governance.people import Departments

        return self._service("departments", Departments)

    def projects(self) -> pd.DataFrame:
        """All projects, id first."""
        return self._projects.list()

    def project(self, project_id: str) -> Project:
        """One project: purpose, mission, legal gateway, lead and members."""
        from workbench.project import Project

        return Project(self._ctx, self._projects.get(project_id))

    def create_project(self, id: str, title: str, purpose: str, **fields: Any) -> Project:
        """Create a project (admins): see ``governance.projects.Projects.create`` for the fields."""
        from workbench.project import Project

        return Project(self._ctx, self._projects.create(id, title, purpose, **fields))

    @property
    def _projects(self) -> Projects:
        from workbench.governance.projects import Projects

        return self._service("projects", Projects)

    @property
    def access(self) -> Access:
        """Access requests as a requester: ``ws.access.mine()``; ``ws.access.settings()``."""
        from workbench.governance.access import Access

        return self._service("access", Access)

    @property
    def owner(self) -> Owner:
        """The data owner's desk: ``ws.owner.requests()``, ``.decide(...)``, ``.usage(dataset_id)``."""
        from workbench.governance.access import Owner

        return self._service("owner", Owner)

    @property
    def disclosure(self) -> Any:
        """Disclosure-control settings: ``ws.disclosure.settings()`` (anyone), ``.update_settings(...)`` (admins)."""
        from workbench.disclosure.service import Disclosure

        return self._service("disclosure", Disclosure)

    @property
    def review(self) -> NotebookReview:
        """Output checking: ``ws.review.queue()``, ``.show(id)``, ``.decide(...)``, ``.release(id)``, ``.widget()``."""
        from workbench.widgets.review import NotebookReview

        return self._service("review", NotebookReview)

    @property
    def my_outputs(self) -> MyOutputs:
        """My projects' output requests (``.requests()``) and their released packages (``.package(id)``)."""
        from workbench.outputs.mine import MyOutputs

        return self._service("my_outputs", MyOutputs)

    @property
    def dp(self) -> Any:
        """Privacy budgets: ``ws.dp.set_budget(dataset, epsilon, project=...)``, ``.budgets(dataset)`` (owners)."""
        from workbench.dp.budgets import Budgets

        return self._service("dp", Budgets)

    @property
    def training(self) -> Any:
        """Skills exercises (``ws.training.exercise("sdc-1")``) and, for trainers, cohorts and progress."""
        from workbench.widgets.training import NotebookTraining

        return self._service("training", NotebookTraining)

    @property
    def demo(self) -> Any:
        """The demo's restricted material (linkage truth) for admins and trainers."""
        from workbench.demo.material import DemoMaterial

        return self._service("demo", DemoMaterial)

    @property
    def person_index(self) -> PersonIndex:
        """The demographic person index across the catalogue's person-level datasets (admins and linkers build
        and read it: ``.build()``, ``.refresh()``, ``.status()``); ``.quality(dataset_id)`` for its owner too."""
        from workbench.demo.material import DemoMaterial
        from workbench.person_index.service import PersonIndex

        return self._service("person_index", lambda ctx: PersonIndex(ctx, truth=DemoMaterial(ctx)))

    @property
    def tokens(self) -> Tokens:
        """API tokens for the workbench service: ``ws.tokens.create(user, label=...)``, ``.list()``,
        ``.revoke(id, reason=...)``."""
        from workbench.governance.tokens import Tokens

        return self._service("tokens", Tokens)

    def verify_audit(self) -> Any:
        """Recompute the audit hash chain and report the first broken event, if any."""
        from workbench import audit

        self._ctx.require("audit.verify", "the audit log")
        with self._ctx.db.read() as conn:
            return audit.verify(conn, audit.Anchor(self.home / audit.ANCHOR_FILE))

    def close(self) -> None:
        """Release the workspace (its database connections; a remote workspace holds none)."""
        self._ctx.db.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<Workspace {self.home} as {self.user} ({', '.join(self.roles) or 'not registered'}) "
                f"on {self._ctx.db.dialect}>")


def session_for(workspace: Workspace, username: str) -> Workspace:
    """The same open workspace acting as ``username``, for interfaces that authenticate people themselves (the
    Jupyter server extension: one database, many users) and for the demo, which plays its people's parts."""
    from workbench.config import USERNAME_PATTERN
    from workbench.context import Context
    from workbench.governance.people import actor_for

    if not isinstance(username, str) or not USERNAME_PATTERN.match(username):
        raise InvalidInput(f"username: {username!r} is not a valid user name.", field="username")
    ctx = workspace._ctx
    with ctx.db.read() as conn:
        actor = actor_for(conn, username)
    return Workspace(Context(home=ctx.home, db=ctx.db, vault=ctx.vault, actor=actor, secrets=ctx.secrets,
                             service=ctx.service))


def exists(home: str | os.PathLike[str] | None = None) -> bool:
    """Whether a workspace has been created at ``home``."""
    return (config.resolve_home(home) / MARKER_FILE).exists()


def connect(home: str | os.PathLike[str] | None = None, *, database_url: str | None = None,
            create: bool = True) -> Workspace:
    """Open (creating if needed) the workspace at ``home`` as the user named by the environment."""
    from workbench.audit import ANCHOR_FILE, Anchor
    from workbench.context import Context
    from workbench.db import Database, upgrade
    from workbench.governance.people import actor_for
    from workbench.vault import Vault

    path = config.resolve_home(home)
    username = config.current_user()
    if not create and not (path / MARKER_FILE).exists():
        raise WorkbenchError(f"No workspace at {path}; run `workbench init` (or `workbench demo`) first.")
    created = _prepare_folder(path)
    db = None
    try:
        url = config.resolve_database_url(path, database_url)
        secrets = _load_secrets(path)
        vault = Vault(path / "vault")
        vault.ensure()
        db = Database(url)
        db.on_audit_head = Anchor(path / ANCHOR_FILE).record
        db.check_reachable()
        with _folder_lock(path):
            upgrade(db)
            marker = path / MARKER_FILE
            if not marker.exists():
                marker.write_text(json.dumps({"database": config.redact_url(url)}))
        with db.read() as conn:
            actor = actor_for(conn, username)
        return Workspace(Context(home=path, db=db, vault=vault, actor=actor, secrets=secrets))
    except BaseException:
        if db is not None:
            db.close()
        if created:
            shutil.rmtree(path, ignore_errors=True)
        raise


__all__ = ["Conflict", "Workspace", "connect", "exists", "session_for"]
